// The daemon's top: owns the apps, the control server and the signal handling,
// and runs the graceful shutdown. Everything runs on one io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/common/events.h"
#include "daemon/control/control_server.h"
#include "daemon/network/early_notify.h"
#include "daemon/network/listen_socket.h"
#include "daemon/network/notify_socket.h"
#include "daemon/network/on_demand.h"
#include "daemon/observe/metrics_server.h"
#include "daemon/observe/snapshot.h"
#include "daemon/supervision/app.h"
#include "daemon/supervision/start_order.h"
#include "daemon/systemd/systemd_service.h"
#include "daemon/wiring/app_watches.h"

namespace muster::daemon {

struct ConfigDiff;

class Supervisor {
 public:
  // `launcher` starts and watches every worker process; it outlives the Supervisor.
  Supervisor(boost::asio::io_context& io, config::Config config, Launcher& launcher);
  ~Supervisor();  // supervisor_upgrade.cc, where Upgrade is whole

  // Sockets systemd passed (take_systemd_sockets()), used instead of binding.
  void inherit_sockets(InheritedFds fds) { sockets_.set_inherited(std::move(fds)); }
  // Opens the control socket and starts every app. The error on failure.
  Result<void> start();
  // Graceful shutdown: stop all apps, bounded by shutdown_timeout; then the
  // io_context runs out of work and the daemon exits.
  void shutdown(const char* why);

  struct ReloadResult {
    std::vector<std::string> errors;  // non-empty: the file was refused, nothing changed
    boost::json::object changes;
    // The file was applied, but these apps' rolling reload (or first start)
    // failed: "app: reason". An app whose reload failed kept its old settings.
    std::vector<std::string> failures;
    // The file is valid, but applying it would have removed every app (see
    // reload_config's allow_empty): `errors` says so.
    bool refused_empty = false;
  };
  using ReloadDone = std::function<void(ReloadResult)>;
  // reload-config / SIGHUP: apply_config_file(); `done` runs once the
  // rolling reloads and starts it caused are over. Counted for /metrics.
  // A file with no apps while apps run is refused unless `allow_empty`
  // (reload-config's allow_empty; SIGHUP never): a file caught mid-write
  // can look like one.
  void reload_config(ReloadDone done, bool allow_empty = false);
  using ConfigReloads = ConfigReloadCounts;
  const ConfigReloads& config_reloads() const { return config_reloads_; }
  // Plain values of the apps, workers, sockets and counters, now: what
  // status, /metrics and /readyz render (daemon/observe/snapshot.h).
  DaemonSnapshot snapshot() const;

  // The config file as musterd last loaded it (at start or reload-config);
  // runtime changes (scale) are not in it.
  const config::Config& config() const { return config_; }
  App* find_app(const std::string& name);
  Worker* find_worker(unsigned id);
  std::vector<std::unique_ptr<App>>& apps() { return apps_; }
  EventBus& events() { return events_; }
  SocketTable& sockets() { return sockets_; }
  OnDemandSockets& on_demand() { return on_demand_; }
  // `after`: apps waiting for others, and stops in layers.
  StartOrder& start_order() { return start_order_; }
  // The apps not removed, each after those it names in `after`.
  std::vector<App*> apps_in_start_order();
  bool shutting_down() const { return shutting_down_; }

  // In-place upgrade (supervisor_upgrade.cc): `musterctl upgrade` and
  // SIGUSR2 (no `respond`: the outcome is only logged). `binary` empty: the
  // path musterd was started from.
  void upgrade(std::string binary, std::optional<Responder> respond);
  // musterd's arguments (without the hidden ones an upgrade adds) and the
  // path it was started from: what an upgrade runs again.
  void set_command_line(std::vector<std::string> args, std::string start_path);
  // supervisor_restore.cc: instead of start(), in the new musterd: takes
  // over what `body` (the state file's) names. `failed`: the upgrade failed
  // (the new binary could not restore) and this is the old binary again; it
  // says so to whoever asked. The error leaves this Supervisor half built:
  // the caller execs the previous binary or ends.
  Result<void> restore(const boost::json::object& body, const std::string& failed);

 private:
  struct Upgrade;
  void refuse_upgrade(const std::string& why);
  std::optional<std::string> busy_for_upgrade() const;
  void wait_until_quiet();
  boost::json::object daemon_state() const;
  void exec_upgrade();
  ipc::UniqueFd write_state(boost::json::object& body);
  [[noreturn]] void exec_with_fallback(int state_fd, std::vector<int> keep);
  Result<void> restore_fds(const boost::json::object& fds);
  Result<void> restore_apps(const boost::json::object& body);
  void finish_restore(const boost::json::object& body, const std::string& failed);

  void handle_request(const ipc::Request& request, ControlServer::Respond respond);
  // supervisor_signals.cc: the answer to each signal (daemon/common/signals.h).
  void catch_signals();
  void wait_signals();
  void on_signal(int signo);
  void reopen_output_files();
  // Shutdown, after the sockets have handed over what they hold: stop every app.
  void stop_apps();
  void finish_shutdown();
  void on_notify(pid_t sender, const ipc::NotifyMessage& message);
  // Opens the NOTIFY_SOCKET of systemd-protocol workers if `config` has such
  // an app and it is not open yet; the error on failure.
  Result<void> open_notify_socket(const config::Config& config);
  // Validates and applies the config file (config_reload.cc); `done` as for
  // reload_config().
  void apply_config_file(ReloadDone done, bool allow_empty);
  // Its steps once nothing can fail: the reply waits in a PendingReload for
  // every first start and rolling reload they cause.
  struct PendingReload;
  void remove_apps(const std::vector<std::string>& names);
  void apply_app_changes(const ConfigDiff& diff, std::vector<std::unique_ptr<App>>& added,
                         const config::Config& old, const std::shared_ptr<PendingReload>& waiting);
  void start_added_app(App& app, const std::shared_ptr<PendingReload>& waiting);
  void update_app(const config::AppConfig& app_config, const config::AppConfig& previous,
                  bool rolling, const std::shared_ptr<PendingReload>& waiting);
  // supervisor_systemd.cc: READY once the first workers are ready, STATUS.
  void connect_fd_store();
  void report_to_systemd();
  std::string summary();
  bool all_ready();

  boost::asio::io_context& io_;
  config::Config config_;
  SocketTable sockets_;
  OnDemandSockets on_demand_;  // after sockets_ and before the apps: outlives the workers
  EventBus events_;
  WorkerContext context_;
  std::vector<std::unique_ptr<App>> apps_;
  StartOrder start_order_;
  bool start_order_posted_ = false;
  AppWatches watches_;  // development: `watch` reloads apps (app_watches.h)
  ControlServer control_;
  NotifySocket notify_;
  EarlyNotify early_notify_;  // datagrams from pids not yet known as workers
  MetricsServer metrics_;
  ConfigReloads config_reloads_;
  SystemdService systemd_;
  boost::asio::steady_timer systemd_timer_;
  Clock::time_point started_at_{};
  bool announced_ready_ = false;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer shutdown_timer_;
  boost::asio::steady_timer hand_over_timer_;
  bool stopping_apps_ = false;
  unsigned last_worker_id_ = 0;
  bool shutting_down_ = false;
  bool finished_ = false;
  std::vector<std::string> args_;
  std::string start_path_;
  std::unique_ptr<Upgrade> upgrade_;
  boost::asio::steady_timer upgrade_timer_;
  int restored_client_ = -1;  // restore(): the connection to answer on
};

}  // namespace muster::daemon
