// A directory musterd creates, binds, renames or removes files in, often as
// root, where another user may have planted a symbolic link or may swap a
// directory for one. It is resolved once, one component at a time, each
// opened with O_PATH|O_DIRECTORY|O_NOFOLLOW relative to the one before (a
// walk of openat() rather than openat2(RESOLVE_NO_SYMLINKS): the same
// guarantee, the failing component known for the message, and no dependence
// on a syscall that some seccomp profiles refuse), and every later call is
// made relative to the directory it ends on, whatever is renamed or swapped
// on the way afterwards.
//
// Used by output files (daemon/output/output_file.h), unix socket files
// (daemon/network/socket_file.h) and the control socket's directory
// (config/socket_dir.h). It lives in config/ because the checks that refuse
// a config before musterd acts on it (config/file_safety.h, run by `check`)
// and musterctl's check of the default socket's directory must walk exactly
// as musterd does; it is plain fd code and knows nothing of the config.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "base/result.h"
#include "ipc/unique_fd.h"

namespace muster::config {

// An Error (message, errno) that also says what stopped a directory walk and
// where, which config/socket_dir.cc and daemon/network/socket_file.cc turn
// into words. Returned as Result<T, PathError>.
struct PathError : Error {
  // What stopped the walk (or what failed in a caller's own step).
  enum class Kind {
    named,   // `message` names what failed and where
    bare,    // opening a directory on the way failed: `message` is its
             // strerror alone, for the caller to put in context
    link,    // a symbolic link the walk does not follow (ELOOP), named
    judged,  // a directory the walk's judge refused (EACCES): its verdict
  };
  PathError(int errno_value, std::string message, Kind kind = Kind::named, std::string where = {})
      : Error{std::move(message), errno_value}, kind(kind), where(std::move(where)) {}

  Kind kind;
  std::string where;  // the path, as walked, of what stopped the walk
};

// What the walk does with a symbolic link on its way.
enum class Links {
  // Refuse every one, named: the directories of output files and unix
  // sockets. No link is needed there, and which link is trusted would
  // depend on who could change the directory holding it.
  refuse,
  // Follow one owned by root or musterd's own uid, anywhere (as the kernel
  // would: a relative target from where the link is, an absolute one from
  // /); refuse another user's: a configured control socket's directory,
  // which may be reached through /var/run -> /run.
  follow_trusted,
  // As follow_trusted above the last component, which must be a directory
  // itself: musterd's own default directory (config/default_socket.h).
  follow_trusted_above,
};

struct WalkRules {
  Links links = Links::refuse;
  // Created when missing: the last directory with this mode (through the
  // umask, as mkdir does), and with create_parents those above it, 0755.
  std::optional<mode_t> create = std::nullopt;
  bool create_parents = false;
  // Asked about each directory the walk enters, from the first ("/", or
  // "." for a relative path), as it is shown in messages; a verdict stops
  // the walk there (Kind::judged).
  std::function<std::optional<std::string>(const std::string& shown, const struct stat& st)> judge =
      nullptr;
};

class PinnedDir {
 public:
  PinnedDir() = default;

  // Resolves `path` (absolute, or relative to the working directory) by the
  // rules to an O_PATH descriptor of the directory it names.
  static Result<PinnedDir, PathError> open(const std::string& path, const WalkRules& rules = {});
  // A directory someone else resolved (a child binding with a worker's
  // credentials, daemon/network/unix_bind.h), taken as it is: `fd` is that directory,
  // `path` its name for messages.
  static PinnedDir adopt(ipc::UniqueFd fd, std::string path);

  explicit operator bool() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }  // as given
  // The directory the walk ended on, links followed: what a verdict names.
  const std::string& reached() const { return reached_; }
  bool created() const { return created_; }  // the walk made it

  // Sets the directory's mode, through a descriptor of its own opened for
  // the purpose (fchmod refuses an O_PATH one). 0, or -1 and errno.
  int chmod(mode_t mode) const;

 private:
  ipc::UniqueFd fd_;
  std::string path_;
  std::string reached_;
  bool created_ = false;
};

}  // namespace muster::config
