#include "cli/socket_choice.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "config/config.h"
#include "config/default_socket.h"

namespace muster::cli {

namespace {

// "/etc/muster/muster.toml", or "$MUSTER_CONFIG=PATH" when that chose it. No
// parentheses here or below: these phrases end up side by side in one line.
std::string config_named(const std::string& path) {
  const char* env = std::getenv("MUSTER_CONFIG");
  return (env != nullptr && *env != '\0') ? "$MUSTER_CONFIG=" + path : path;
}

}  // namespace

SocketChoice socket_from_environment() {
  const char* env = std::getenv("MUSTER_SOCKET");
  if (env != nullptr && *env != '\0') return {env, "from $MUSTER_SOCKET"};
  std::string path = config::default_config_path();
  std::string why_not;
  if (::access(path.c_str(), R_OK) != 0) {
    why_not = errno == ENOENT ? "there is no " + config_named(path)
                              : config_named(path) + " is not readable: " + std::strerror(errno);
  } else if (auto loaded = config::load_file(path, config::HostChecks::skip); !loaded.config) {
    why_not = config_named(path) + " has errors";
  } else if (!loaded.config->daemon.control_socket_default) {
    return {loaded.config->daemon.control_socket, "the control_socket of " + config_named(path)};
  } else {
    why_not = config_named(path) + " does not set control_socket";
  }
  config::DefaultSocket chosen = config::default_socket();
  return {chosen.path, "musterd's default, " + chosen.why + "; " + why_not, chosen.directory};
}

SocketChoice socket_from_option(std::string path) { return {std::move(path), "given with -s"}; }

}  // namespace muster::cli
