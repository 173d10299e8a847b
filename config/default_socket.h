// Where musterd's control socket goes when the config does not say, and why
// there. The default is never a name in a directory others can write to (where
// anyone could bind it first and answer in musterd's place): it is always
// muster.sock in a directory of the daemon's own uid, judged by
// SocketDirRule::private_to_owner (config/socket_dir.h) by musterd before it
// binds and by musterctl before it connects.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

namespace muster::config {

struct DefaultSocket {
  std::string path;       // ".../muster.sock"
  std::string directory;  // its directory: private to the daemon's uid
  std::string why;        // how it was chosen, e.g. "$XDG_RUNTIME_DIR/muster.sock"
};

// The environment the choice depends on; `usable(dir)` says whether `dir`
// exists or could be created (its parent is writable).
struct DefaultSocketInputs {
  uid_t uid = 0;
  std::optional<std::string> runtime_directory;  // $RUNTIME_DIRECTORY (systemd)
  std::optional<std::string> xdg_runtime_dir;    // $XDG_RUNTIME_DIR
  std::function<bool(const std::string&)> usable;
};

// The choice, as a pure function of its inputs:
// - $RUNTIME_DIRECTORY (its first entry): systemd made it for this service;
// - root: /run/muster; when /run is not usable (a container with a read-only
//   /run) /tmp/muster-0;
// - other users: $XDG_RUNTIME_DIR, else /tmp/muster-UID, else /run/muster-UID
//   when only /run is usable (a read-only /tmp).
DefaultSocket choose_default_socket(const DefaultSocketInputs& inputs);

// choose_default_socket for this process (euid, environment, file system).
DefaultSocket default_socket();

// An environment variable's value, or nullopt when unset or empty.
std::optional<std::string> env_value(const char* name);

}  // namespace muster::config
