// The config module's small value parsers (durations, sizes, signals, listen
// addresses), which also parse user input outside config files.
//
// Checked: what parses formats back to itself (durations, signals), and a
// parsed listen address is complete for its family.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "config/config.h"

namespace {

namespace config = muster::config;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_values_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);

  if (auto d = config::parse_duration(text)) {
    if (d->count() < 0) fail("negative duration", text);
    std::string shown = config::format_duration(*d);
    auto back = config::parse_duration(shown);
    if (!back || *back != *d) fail("duration does not read back", text + " -> " + shown);
  }
  config::format_duration(config::Duration(static_cast<long long>(std::hash<std::string>{}(text))));
  config::parse_size(text);
  if (auto signo = config::parse_signal(text)) {
    if (*signo < 1 || *signo > SIGRTMAX) fail("signal out of range", text);
    std::string name = config::signal_name(*signo);
    auto back = config::parse_signal(name);
    if (!back || *back != *signo) fail("signal does not read back", text + " -> " + name);
  }
  auto listen = config::parse_listen(text, "/srv/fuzz");
  if (listen) {
    const config::SocketConfig* socket = &*listen;
    using Family = config::SocketConfig::Family;
    if (socket->family == Family::unix_path && (socket->path.empty() || socket->path[0] != '/'))
      fail("unix path not absolute", text);
    if (socket->family != Family::unix_path && socket->host.empty()) fail("no host", text);
  }
  return 0;
}
