// The identity of a file musterd created, and its removal only while the
// name still leads to that very file: a file another user put in its place,
// or reached through a directory swapped meanwhile, is never removed. Names
// are looked up relative to a directory resolved once without following a
// link (config/pinned_dir.h). Used by unix socket files (daemon/network/socket_file.h).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace muster::daemon {

// What a name must still lead to before musterd removes it. The inode number
// alone is not enough (a file system reuses a freed one at once), so the
// type and the change time count too: only a file of the same type given the
// same inode within the same clock tick would pass.
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
