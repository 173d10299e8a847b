// Supervisor's side of running under systemd: the fd store follows the
// socket table, READY=1 once the first workers are ready, STATUS= a summary.
#include <spdlog/spdlog.h>
#include <algorithm>

#include "daemon/wiring/supervisor.h"

namespace muster::daemon {
namespace {
constexpr auto kStartingCheck = std::chrono::milliseconds(200);
constexpr auto kRunningCheck = std::chrono::seconds(2);
}  // namespace

void Supervisor::connect_fd_store() {
  if (!systemd_.enabled()) return;
  sockets_.on_open = [this](ListenSocket& socket) {
    systemd_.store_fd(socket.config().name, socket.fd());
  };
  sockets_.on_drop = [this](const std::string& name) { systemd_.remove_fds(name); };
}

// Every app that should run has a ready worker in each slot, or has failed.
bool Supervisor::all_ready() {
  return std::all_of(apps_.begin(), apps_.end(), [](const auto& app) {
    if (!app->wanted_up()) return true;
    std::size_t ready = 0;
    for (Worker* w : app->workers()) ready += w->ready() ? 1 : 0;
    return ready >= app->config().instances;
  });
}

// "web: 4/4 ready; jobs: failed" (STATUS= and the systemctl status line).
std::string Supervisor::summary() {
  std::string out;
  for (const auto& app : apps_) {
    if (app->removed()) continue;
    if (!out.empty()) out += "; ";
    out += app->name() + ": ";
    if (!app->wanted_up()) {
      out += to_string(app->state());
      continue;
    }
    std::size_t ready = 0;
    for (Worker* w : app->workers()) ready += w->ready() ? 1 : 0;
    out += std::to_string(ready) + "/" + std::to_string(app->config().instances) + " ready";
    if (app->state() == AppState::reloading) out += ", reloading";
  }
  return out.empty() ? "no apps" : out;
}

// READY=1 when all_ready(), or when the longest ready_timeout of the apps
// has passed (their unready workers are being replaced by then; systemd must
// not wait forever for an app that cannot start). STATUS= when it changes.
void Supervisor::report_to_systemd() {
  if (!systemd_.enabled() || shutting_down_) return;
  systemd_.status(summary());
  if (!announced_ready_) {
    Duration longest{0};
    for (const auto& app : apps_) longest = std::max(longest, app->config().ready_timeout);
    bool late = Clock::now() - started_at_ >= longest;
    if (all_ready() || late) {
      if (!all_ready())
        spdlog::warn("not every worker is ready after {}ms; telling systemd READY=1 anyway",
                     longest.count());
      systemd_.ready();
      announced_ready_ = true;
      spdlog::info("systemd: READY=1 ({})", summary());
    }
  }
  systemd_timer_.expires_after(announced_ready_ ? kRunningCheck : kStartingCheck);
  systemd_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) report_to_systemd();
  });
}

}  // namespace muster::daemon
