// Supervisor: the answer to each signal sent to musterd (the table is
// daemon/common/signals.cc). None of them may end musterd by surprise: every one
// whose default would is caught here, acted on or logged, and ignored.
#include <spdlog/spdlog.h>

#include "daemon/common/memory_reserve.h"
#include "daemon/common/signals.h"
#include "daemon/wiring/supervisor.h"

namespace muster::daemon {

void Supervisor::catch_signals() {
  std::vector<int> signals = caught_signals();
  for (int signo : signals) {
    boost::system::error_code ec;
    signals_.add(signo, ec);
    if (ec)
      spdlog::warn("cannot catch {}: {}; it keeps its default action", config::signal_name(signo),
                   ec.message());
  }
  restart_interrupted_calls(signals);
}

void Supervisor::wait_signals() {
  signals_.async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    try {
      on_signal(signo);
    } catch (const std::exception& e) {
      // Out of memory in a SIGHUP reload, say: that one action failed, and
      // signals are still handled.
      memory_reserve::release_if_out_of_memory(e);
      spdlog::error("{}: handling it failed: {}", config::signal_name(signo), e.what());
    }
    wait_signals();
  });
}

void Supervisor::on_signal(int signo) {
  const std::string name = config::signal_name(signo);
  switch (signal_action(signo)) {
    case SignalAction::stop:
      if (!shutting_down_) {
        shutdown(name.c_str());
      } else if (!finished_) {
        // A second SIGTERM/SIGINT (a pod's grace period ending, an impatient
        // Ctrl-C): stop now, as the shutdown_timeout deadline would.
        spdlog::warn("{} during the graceful shutdown: killing the remaining workers now", name);
        stop_apps();
        for (auto& app : apps_) app->kill_all();
      }
      return;
    case SignalAction::reload:
      spdlog::info("{}: reloading the config", name);
      if (!shutting_down_) reload_config(nullptr);
      return;
    case SignalAction::reopen: reopen_output_files(); return;
    case SignalAction::upgrade:
      spdlog::info("{}: upgrading in place to {}", name, start_path_);
      upgrade("", std::nullopt);
      return;
    case SignalAction::ignored:
    case SignalAction::discarded:
    case SignalAction::fault:
    case SignalAction::left_alone:
      spdlog::warn("{} received: musterd gives it no meaning; ignored", name);
      return;
  }
}

// SIGUSR1, as logrotate's postrotate sends it: each app's output_file is
// closed and opened again by its path. A file logrotate renamed (without
// copytruncate) is then left to it, and a new one starts at the path.
void Supervisor::reopen_output_files() {
  std::size_t files = 0;
  for (auto& app : apps_)
    if (app->output().reopen()) ++files;
  spdlog::info("SIGUSR1: reopened {} output file(s)", files);
}

}  // namespace muster::daemon
