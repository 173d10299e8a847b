// What a worker's environment takes from musterd's (PATH, env_inherit), and
// finding an app's program along that PATH.
#include "config/executable.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>

namespace muster::config {
namespace {

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string worker_path(const AppConfig& app) {
  if (auto it = app.env.find("PATH"); it != app.env.end()) return it->second;
  const char* daemon_path = std::getenv("PATH");
  return daemon_path && *daemon_path ? daemon_path : "/usr/local/bin:/usr/bin:/bin";
}

bool set_by_muster(std::string_view name) {
  static constexpr std::string_view kSet[] = {
      "NODE_CHANNEL_FD", "NODE_UNIQUE_ID", "NODE_CHANNEL_SERIALIZATION_MODE",
      "LISTEN_FDS",      "LISTEN_FDNAMES", "LISTEN_PID",
      "NOTIFY_SOCKET",   "WATCHDOG_USEC",  "WATCHDOG_PID"};
  return name.starts_with("MUSTER_") ||
         std::find(std::begin(kSet), std::end(kSet), name) != std::end(kSet);
}

std::vector<std::string> inherited_environment(const AppConfig& app, char* const* environ) {
  const auto& wanted = app.env_inherit;
  bool all = std::find(wanted.begin(), wanted.end(), "*") != wanted.end();
  std::vector<std::string> out;
  for (char* const* entry = environ; entry && *entry; ++entry) {
    std::string_view text = *entry;
    std::string_view name = text.substr(0, text.find('='));
    if (name.size() == text.size() || name == "PATH" || set_by_muster(name) ||
        app.env.contains(std::string(name)))
      continue;
    if (all || std::find(wanted.begin(), wanted.end(), name) != wanted.end())
      out.emplace_back(text);
  }
  return out;
}

Result<std::string> resolve_executable(const std::string& exec, const std::string& cwd,
                                       const std::string& path) {
  auto not_found = [&](const std::string& why) {
    return Error{"cannot run '" + exec + "': " + why};
  };
  if (exec.find('/') != std::string::npos) {
    std::string full = exec.front() == '/' ? exec : cwd + "/" + exec;
    if (is_executable_file(full)) return full;
    return not_found(::access(full.c_str(), F_OK) == 0 ? "not an executable file" : "no such file");
  }
  std::size_t begin = 0;
  while (begin <= path.size()) {
    std::size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(begin, end - begin);
    if (dir.empty()) dir = ".";
    std::string full = (dir.front() == '/' ? dir : cwd + "/" + dir) + "/" + exec;
    if (is_executable_file(full)) return full;
    begin = end + 1;
  }
  return not_found("not found in PATH (" + path + ")");
}

}  // namespace muster::config
