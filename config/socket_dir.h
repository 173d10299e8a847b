// Whether a directory may hold musterd's control socket, decided without
// trusting a path: a walk from / opens each directory relative to the one
// before it with O_NOFOLLOW, follows a symbolic link only when root or the
// caller's own uid made it, and judges the directory it ends on by who owns it
// and who may write to it. The fd it ends on is what musterd binds, chowns and
// unlinks relative to, so a directory renamed or swapped for a link afterwards
// changes nothing musterd does (daemon/control_socket_file.cc).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "config/dir_trust.h"

namespace muster::config {

enum class SocketDirRule {
  // A directory the config names: owned by root or the caller's euid, and
  // writable by nobody else (other users, or a group other than root's and
  // the caller's) unless it has the sticky bit, as /tmp has: there others
  // cannot rename or remove an entry they do not own.
  configured,
  // The directory of musterd's default socket (/run/muster, /tmp/muster-UID,
  // $XDG_RUNTIME_DIR, $RUNTIME_DIRECTORY): a directory itself (not a link),
  // owned by the caller's euid and writable by that uid alone. Read and
  // search bits for others are allowed: connecting takes write permission on
  // the socket file, and musterd checks every peer's uid.
  private_to_owner,
};

struct SocketDir {
  int fd = -1;           // the directory, O_CLOEXEC; the caller owns and closes it
  // (Without create_mode) the walk stopped early: a directory on the way does
  // not exist yet, or (socket_dir_problem) this user may not search it.
  bool missing = false;
  bool created = false;  // the walk created the directory it ends on
};

// Opens `dir` (absolute) for a socket to be bound in it, or says why not.
// With `create_mode`, what is missing is created: the last directory with
// that mode (set exactly, whatever the umask), and for the `configured` rule
// the directories above it too, 0755. Without, a missing directory gives
// `missing` and no fd. Under the private rule the fd is O_RDONLY (fchmod
// works on it), else O_PATH.
std::variant<SocketDir, std::string> open_socket_dir(const std::string& dir, SocketDirRule rule,
                                                     std::optional<mode_t> create_mode);

// The same judgement without creating or keeping anything: nullopt if `dir`
// passes, does not exist yet (musterd would create it), or cannot be searched
// by this user (a check run by another user than musterd's).
std::optional<std::string> socket_dir_problem(const std::string& dir, SocketDirRule rule);

// The rule's verdict on one directory's stat, named `shown` in the message.
std::optional<std::string> dir_rule_problem(SocketDirRule rule, const std::string& shown,
                                            const struct stat& st);

}  // namespace muster::config
