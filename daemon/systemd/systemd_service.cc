#include "daemon/systemd/systemd_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <spdlog/spdlog.h>
#include <cstdlib>
#include <cstring>

#include "daemon/network/listen_socket.h"

namespace muster::daemon {
namespace {

// Two fds of one open socket: sockets have an inode of their own in sockfs.
bool same_socket(int a, int b) {
  struct stat sa {
  }, sb{};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

Result<InheritedFds> take_systemd_sockets() {
  char** names = nullptr;
  int n = sd_listen_fds_with_names(1, &names);  // 1: unset LISTEN_* (workers must not see them)
  if (n < 0) return Error{std::string("LISTEN_FDS: ") + std::strerror(-n), -n};
  InheritedFds fds;
  std::string error;
  for (int i = 0; i < n; ++i) {
    int fd = SD_LISTEN_FDS_START + i;
    ipc::UniqueFd owned(fd);
    // sd_listen_fds sets close-on-exec. systemd passes sockets blocking unless
    // NonBlocking=yes: musterd's own accept (rr) needs them non-blocking, and
    // systemd-protocol workers get the mode their [sockets.NAME] says at spawn.
    set_nonblocking(fd, true);
    std::string name = names && names[i] ? names[i] : "unknown";
    if (name == "unknown" || name.empty()) {
      error = "systemd passed a socket without a name (fd " + std::to_string(fd) +
              "); give its ListenStream= a FileDescriptorName= naming one of [sockets.NAME]";
    } else if (auto first = fds.find(name); first != fds.end()) {
      // The same name twice: a .socket unit's socket that musterd also put
      // in the fd store comes once from each (systemd passes the unit's
      // first), every restart. The same socket twice is no news; two
      // different ones (a stale stored copy) are worth a warning.
      if (same_socket(first->second.get(), fd))
        spdlog::debug("systemd passed socket {} twice (its unit and the fd store)", name);
      else
        spdlog::warn("systemd passed two different sockets named {}; using the first", name);
    } else {
      fds.emplace(std::move(name), std::move(owned));
    }
  }
  if (names) {
    for (int i = 0; i < n; ++i) std::free(names[i]);
    std::free(names);
  }
  if (!error.empty()) return Error{error};
  return fds;
}

SystemdService::SystemdService(boost::asio::io_context& io)
    : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr), watchdog_timer_(io) {}

void SystemdService::notify(const std::string& state, const int* fds, unsigned n_fds) {
  if (!enabled_) return;
  int r =
      n_fds ? sd_pid_notify_with_fds(0, 0, state.c_str(), fds, n_fds) : sd_notify(0, state.c_str());
  if (r < 0)
    spdlog::warn("systemd notify ({}): {}", state.substr(0, state.find('\n')), std::strerror(-r));
}

void SystemdService::ready() { notify("READY=1"); }

void SystemdService::status(const std::string& text) {
  if (text == last_status_) return;
  last_status_ = text;
  notify("STATUS=" + text);
}

void SystemdService::reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  auto usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
              static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void SystemdService::stopping() {
  notify("STOPPING=1");
  watchdog_timer_.cancel();
}

void SystemdService::start_watchdog() {
  std::uint64_t usec = 0;
  if (!enabled_ || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  watchdog_interval_ = std::chrono::microseconds(usec / 2);
  spdlog::info("systemd watchdog: WATCHDOG=1 every {}ms", watchdog_interval_.count() / 1000);
  ping_watchdog();
}

// The ping runs on the io_context: if the loop hangs, systemd notices.
void SystemdService::ping_watchdog() {
  notify("WATCHDOG=1");
  watchdog_timer_.expires_after(watchdog_interval_);
  watchdog_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) ping_watchdog();
  });
}

void SystemdService::store_fd(const std::string& name, int fd) {
  if (!enabled_) return;
  stored_any_ = true;
  notify("FDSTORE=1\nFDNAME=" + name, &fd, 1);
}

void SystemdService::remove_fds(const std::string& name) {
  if (!enabled_) return;
  notify("FDSTOREREMOVE=1\nFDNAME=" + name);
}

}  // namespace muster::daemon
