// The sd_notify datagram parser (ipc/notify_message): any worker can send any
// bytes, up to the daemon's receive buffer.
//
// Checked: STATUS is bounded and printable (it reaches terminals and JSON),
// ERRNO is never negative, and READY=1 anywhere in the datagram counts.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ipc/notify_message.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "notify_fuzz: %s\n", what);
  std::abort();
}

bool has_line(std::string_view datagram, std::string_view wanted) {
  while (!datagram.empty()) {
    auto nl = datagram.find('\n');
    if (datagram.substr(0, nl) == wanted) return true;
    if (nl == std::string_view::npos) break;
    datagram.remove_prefix(nl + 1);
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > muster::ipc::kMaxNotifyDatagram) return 0;
  std::string_view datagram(reinterpret_cast<const char*>(data), size);
  muster::ipc::NotifyMessage m = muster::ipc::parse_notify(datagram);
  if (m.status) {
    if (m.status->size() > muster::ipc::kMaxStatus) fail("STATUS over its bound");
    for (char c : *m.status)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail("STATUS not printable");
  }
  if (m.errno_value && *m.errno_value < 0) fail("negative ERRNO");
  if (m.ready != has_line(datagram, "READY=1")) fail("READY=1 misread");
  if (m.stopping != has_line(datagram, "STOPPING=1")) fail("STOPPING=1 misread");
  if (m.watchdog_trigger != has_line(datagram, "WATCHDOG=trigger"))
    fail("WATCHDOG=trigger misread");
  return 0;
}
