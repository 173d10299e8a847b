// Paths musterd creates, renames or removes files in, often as root, where
// another user may have planted a symbolic link or swapped a directory for
// one. A directory is resolved once, one component at a time without
// following any link (PinnedDir), and every later call is made relative to
// the directory that resolution found, whatever is renamed or swapped on the
// way to it afterwards. A file musterd created is removed only while its name
// still leads to that very inode (FileId). Used by output files
// (daemon/output_file.h) and unix socket files (daemon/socket_file.h).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "ipc/unique_fd.h"

namespace muster::daemon {

struct PathError {
  int errno_value;
  std::string message;  // strerror, or a sentence naming the link on the way
};

class PinnedDir {
 public:
  PinnedDir() = default;

  // Opens `path` (absolute; a relative one starts at the working directory)
  // with O_PATH, each component with O_NOFOLLOW|O_DIRECTORY relative to the
  // one before: a symbolic link anywhere on the way is an error (ELOOP) that
  // names it. A walk of openat() rather than openat2(RESOLVE_NO_SYMLINKS):
  // the same guarantee, the failing component known, and no dependence on
  // a syscall that some seccomp profiles refuse.
  static std::variant<PinnedDir, PathError> open(const std::string& path);
  // A directory someone else resolved (a child binding with a worker's
  // credentials, daemon/unix_bind.h), taken as it is: `fd` is that directory,
  // `path` its name for messages.
  static PinnedDir adopt(ipc::UniqueFd fd, std::string path);

  explicit operator bool() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // The first directory on the way (as of open) that a uid other than root
  // and musterd's own could change (config::changeable_by_others), or
  // nullopt. Only root's callers act on it: an unprivileged musterd can only
  // be fooled into what its own uid may do anyway.
  const std::optional<std::string>& changeable() const { return changeable_; }

 private:
  ipc::UniqueFd fd_;
  std::string path_;
  std::optional<std::string> changeable_;
};

// The identity of a file: what a name must still lead to before musterd
// removes it. The inode number alone is not enough (a file system reuses a
// freed one at once), so the type and the change time count too: only a file
// of the same type given the same inode within the same clock tick would pass.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;  // st_mode & S_IFMT
  std::int64_t ctime_sec = 0;
  std::int64_t ctime_nsec = 0;
  bool operator==(const FileId&) const = default;
};

FileId file_id(const struct stat& st);

// The identity of `name` in the directory `dir` itself (a link is not
// followed); nullopt (errno set) if there is none.
std::optional<FileId> file_id_at(int dir, const std::string& name);

// Removes `name` from `dir` if it is still the file `id`; false (errno set,
// EEXIST for another file by that name) otherwise.
bool unlink_if_same(int dir, const std::string& name, FileId id);

}  // namespace muster::daemon
