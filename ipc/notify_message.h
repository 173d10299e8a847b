// The sd_notify(3) datagram format: newline-separated VAR=VALUE assignments.
// Parsing is total: anything unknown or malformed is ignored, never an error,
// since any worker can send anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muster::ipc {

struct NotifyMessage {
  bool ready = false;                 // READY=1
  bool stopping = false;              // STOPPING=1
  bool reloading = false;             // RELOADING=1
  bool watchdog = false;              // WATCHDOG=1
  bool watchdog_trigger = false;      // WATCHDOG=trigger
  std::optional<std::string> status;  // STATUS=... (at most kMaxStatus bytes kept)
  std::optional<int> errno_value;     // ERRNO=n
  // EXTEND_TIMEOUT_USEC=n: the start-up or stop deadline moves to at least n µs from now.
  std::optional<std::uint64_t> extend_timeout_usec;
  // Understood only to be refused (see the README): FDSTORE=1, MAINPID=n.
  bool fdstore = false;
  std::optional<std::uint64_t> main_pid;
};

inline constexpr std::size_t kMaxNotifyDatagram = 4096;
inline constexpr std::size_t kMaxStatus = 256;

NotifyMessage parse_notify(std::string_view datagram);

}  // namespace muster::ipc
