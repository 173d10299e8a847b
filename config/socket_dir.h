// Whether a directory may hold musterd's control socket, decided without
// trusting a path: a walk from / (config/pinned_dir.h) that follows a
// symbolic link only when root or the caller's own uid made it, and a
// verdict on the directory it ends on by who owns it and who may write to it
// (config/dir_trust.h). The directory it ends on is what musterd binds,
// chowns and unlinks relative to, so a directory renamed or swapped for a
// link afterwards changes nothing musterd does (daemon/control/control_socket_file.cc).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "base/result.h"
#include "config/pinned_dir.h"

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

// Opens `dir` (absolute) for a socket to be bound in it, or says why not.
// What is missing is created: the last directory with `create_mode` (for
// the private rule exactly that, whatever the umask), and for the
// `configured` rule the directories above it too, 0755.
// The Error carries the errno where one is behind it.
Result<PinnedDir> open_socket_dir(const std::string& dir, SocketDirRule rule, mode_t create_mode);

// The same judgement without creating or keeping anything: nullopt if `dir`
// passes, does not exist yet (musterd would create it), or cannot be searched
// by this user (a check run by another user than musterd's).
std::optional<std::string> socket_dir_problem(const std::string& dir, SocketDirRule rule);

// The rule's verdict on one directory's stat, named `shown` in the message.
std::optional<std::string> dir_rule_problem(SocketDirRule rule, const std::string& shown,
                                            const struct stat& st);

}  // namespace muster::config
