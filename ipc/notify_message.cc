#include "ipc/notify_message.h"

#include <charconv>
#include <cstdint>

namespace muster::ipc {
namespace {

// A decimal number of digits only (no sign, no spaces), as systemd's safe_atou64 wants.
std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

}  // namespace

NotifyMessage parse_notify(std::string_view datagram) {
  NotifyMessage m;
  while (!datagram.empty()) {
    auto nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram = nl == std::string_view::npos ? std::string_view() : datagram.substr(nl + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "READY")
      m.ready = m.ready || value == "1";
    else if (key == "STOPPING")
      m.stopping = m.stopping || value == "1";
    else if (key == "RELOADING")
      m.reloading = m.reloading || value == "1";
    else if (key == "WATCHDOG") {
      if (value == "1")
        m.watchdog = true;
      else if (value == "trigger")
        m.watchdog_trigger = true;
    } else if (key == "STATUS") {
      std::string status(value.substr(0, kMaxStatus));
      // Keep it printable: status ends up in terminals and JSON.
      for (char& c : status)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
      m.status = std::move(status);
    } else if (key == "ERRNO") {
      if (auto n = whole_number(value); n && *n <= INT32_MAX) m.errno_value = static_cast<int>(*n);
    } else if (key == "EXTEND_TIMEOUT_USEC") {
      m.extend_timeout_usec = whole_number(value);
    } else if (key == "MAINPID") {
      m.main_pid = whole_number(value);
    } else if (key == "FDSTORE") {
      m.fdstore = m.fdstore || value == "1";
    }
    // FDNAME=, FDSTOREREMOVE=, MONOTONIC_USEC=, BUSERROR= and the rest: ignored on purpose.
  }
  return m;
}

}  // namespace muster::ipc
