#include "ipc/notify_message.h"

#include <charconv>

namespace muster::ipc {

NotifyMessage parse_notify(std::string_view datagram) {
  NotifyMessage m;
  while (!datagram.empty()) {
    auto nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram = nl == std::string_view::npos ? std::string_view() : datagram.substr(nl + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "READY") m.ready = m.ready || value == "1";
    else if (key == "STOPPING") m.stopping = m.stopping || value == "1";
    else if (key == "RELOADING") m.reloading = m.reloading || value == "1";
    else if (key == "WATCHDOG") {
      if (value == "1") m.watchdog = true;
      else if (value == "trigger") m.watchdog_trigger = true;
    } else if (key == "STATUS") {
      std::string status(value.substr(0, kMaxStatus));
      // Keep it printable: status ends up in terminals and JSON.
      for (char& c : status)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
      m.status = std::move(status);
    } else if (key == "ERRNO") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && end == value.data() + value.size() && n >= 0) m.errno_value = n;
    }
    // MAINPID=, FDSTORE=, EXTEND_TIMEOUT_USEC= and the rest: ignored on purpose.
  }
  return m;
}

}  // namespace muster::ipc
