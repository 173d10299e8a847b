// musterd as a systemd service (libsystemd's sd-daemon): readiness, status,
// reload and stop notifications, the watchdog, the sockets systemd passes in
// (LISTEN_FDS: a .socket unit or the fd store) and the fd store itself, which
// keeps the listening sockets open while musterd restarts.
// Without NOTIFY_SOCKET every notification is off; without LISTEN_FDS nothing
// is inherited. See README "Run as a systemd service".
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <string>

#include "base/result.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

// The sockets systemd passed, by name (LISTEN_FDNAMES), taken once at start;
// LISTEN_* are removed from the environment. An error if systemd
// passed sockets without names (FileDescriptorName= missing).
using InheritedFds = std::map<std::string, ipc::UniqueFd>;
Result<InheritedFds> take_systemd_sockets();

class SystemdService {
 public:
  explicit SystemdService(boost::asio::io_context& io);

  // NOTIFY_SOCKET is set: notifications and the fd store are on.
  bool enabled() const { return enabled_; }

  void ready();                          // READY=1 (once; again after a reload)
  void status(const std::string& text);  // STATUS=..., sent only when it changed
  void reloading();                      // RELOADING=1 + MONOTONIC_USEC
  void stopping();                       // STOPPING=1; the watchdog stops too
  // Starts WATCHDOG=1 pings at half of WATCHDOG_USEC, if systemd asked for them.
  void start_watchdog();

  // FDSTORE=1 with FDNAME=name / FDSTOREREMOVE=1 for every fd of that name.
  void store_fd(const std::string& name, int fd);
  void remove_fds(const std::string& name);
  // Sockets stored in the fd store must keep their unix socket files at exit.
  bool fd_store_used() const { return stored_any_; }

 private:
  void notify(const std::string& state, const int* fds = nullptr, unsigned n_fds = 0);
  void ping_watchdog();

  bool enabled_ = false;
  bool stored_any_ = false;
  std::string last_status_;
  std::chrono::microseconds watchdog_interval_{0};
  boost::asio::steady_timer watchdog_timer_;
};

}  // namespace muster::daemon
