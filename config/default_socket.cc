#include "config/default_socket.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "config/config.h"

namespace muster::config {
std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

namespace {

DefaultSocket in(const std::string& dir, std::string why) {
  return {dir + "/muster.sock", dir, std::move(why)};
}

// Exists (whatever it is: musterd judges it), or its parent takes a new entry.
bool usable_here(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) return true;
  std::string parent = dir.substr(0, dir.rfind('/'));
  return ::access(parent.empty() ? "/" : parent.c_str(), W_OK | X_OK) == 0;
}

}  // namespace

DefaultSocket choose_default_socket(const DefaultSocketInputs& inputs) {
  // systemd joins several RuntimeDirectory= entries with ':'; use the first.
  if (inputs.runtime_directory) {
    const std::string& dirs = *inputs.runtime_directory;
    return in(dirs.substr(0, dirs.find(':')), "$RUNTIME_DIRECTORY/muster.sock");
  }
  const std::string uid = std::to_string(inputs.uid);
  std::vector<DefaultSocket> candidates;
  if (inputs.uid == 0) {
    candidates.push_back(in("/run/muster", "root's own /run/muster"));
    candidates.push_back(in("/tmp/muster-0", "root's own /tmp/muster-0, as /run is not writable"));
  } else {
    if (inputs.xdg_runtime_dir) return in(*inputs.xdg_runtime_dir, "$XDG_RUNTIME_DIR/muster.sock");
    candidates.push_back(in("/tmp/muster-" + uid,
                            "your own /tmp/muster-" + uid + ", as $XDG_RUNTIME_DIR is not set"));
    candidates.push_back(in("/run/muster-" + uid, "your own /run/muster-" + uid +
                                                      ", as $XDG_RUNTIME_DIR is not set and "
                                                      "/tmp is not writable"));
  }
  for (const auto& candidate : candidates)
    if (inputs.usable && inputs.usable(candidate.directory)) return candidate;
  return candidates.front();  // musterd's error then names the usual one
}

DefaultSocket default_socket() {
  return choose_default_socket(
      {::geteuid(), env_value("RUNTIME_DIRECTORY"), env_value("XDG_RUNTIME_DIR"), usable_here});
}

std::string default_control_socket() { return default_socket().path; }

}  // namespace muster::config
