// Every kind of event musterd publishes (`musterctl events`), in the order the
// docs list them. `musterctl events --help`, README's verb table,
// musterctl(1) and docs/control-protocol.md show this list, and the unit
// test "[events]" (tests/unit/event_kinds_test.cc) fails when one of them, or
// a publish() in daemon/, strays from it.
#pragma once

#include <array>
#include <string_view>

namespace muster::ipc {

inline constexpr std::array<std::string_view, 22> kEventKinds = {
    "fork",     "online",     "listening", "disconnect",    "exit",    "message",
    "restart",  "crash_loop", "failed",    "retry",         "waiting", "ready_timeout",
    "watchdog", "reload",     "setup",     "memory",        "output",  "relay_dropped",
    "watch",    "upgrading",  "upgraded",  "upgrade_failed"};

}  // namespace muster::ipc
