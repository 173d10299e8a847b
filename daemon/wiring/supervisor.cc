#include "daemon/wiring/supervisor.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/version.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/observe/health.h"
#include "daemon/observe/metrics.h"
#include "daemon/wiring/commands.h"

namespace muster::daemon {
namespace asio = boost::asio;

Supervisor::Supervisor(asio::io_context& io, config::Config config, Launcher& launcher)
    : io_(io),
      config_(std::move(config)),
      on_demand_(io),
      context_{launcher, sockets_, on_demand_, events_, {}, nullptr, {}},
      start_order_(events_, [this](const std::string& name) { return find_app(name); }),
      watches_(io, events_, [this](const std::string& name) { return find_app(name); }),
      control_(io, config_.daemon,
               [this](const ipc::Request& r, ControlServer::Respond respond) {
                 handle_request(r, std::move(respond));
               }),
      notify_(io, [this](pid_t pid, const ipc::NotifyMessage& m) { on_notify(pid, m); }),
      metrics_(io,
               [this](std::string_view path, std::string_view query) {
                 return route_http([this] { return snapshot(); }, path, query);
               }),
      systemd_(io),
      systemd_timer_(io),
      signals_(io),
      shutdown_timer_(io),
      hand_over_timer_(io),
      upgrade_timer_(io) {
  catch_signals();
  context_.socket_configs = &config_.sockets;
  context_.spawned = [this](Worker& w) {
    for (const auto& message : early_notify_.take(w.pid(), Clock::now())) w.on_notify(message);
  };
  // Owned by this Supervisor, like the workers that call it.
  context_.user_message = [this](Worker& from, const boost::json::value& message) {
    if (App* app = find_app(from.identity().app))
      app->relay().message(app->config().relay, from, app->workers(), message, events_);
  };
  // Coalesced: many workers may become ready in one turn of the loop.
  context_.start_order_changed = [this] {
    if (start_order_posted_) return;
    start_order_posted_ = true;
    asio::post(io_, [this] {
      start_order_posted_ = false;
      if (!shutting_down_) start_order_.recheck();
    });
  };
  for (const auto& app : config_.apps)
    apps_.push_back(
        std::make_unique<App>(io_, context_, app, [this] { return ++last_worker_id_; }));
}

Result<void> Supervisor::start() {
  if (auto opened = control_.open(); !opened) return opened;
  std::vector<std::string> per_slot;
  for (const auto& app : config_.apps) {
    if (app.scheduling == config::Scheduling::reuseport)
      per_slot.insert(per_slot.end(), app.sockets.begin(), app.sockets.end());
  }
  connect_fd_store();
  if (auto bound = sockets_.bind_declared(config_.sockets, per_slot); !bound) {
    control_.close();
    return bound;
  }
  if (auto opened = open_notify_socket(config_); !opened) {
    control_.close();
    return opened;
  }
  if (config_.daemon.metrics) {
    if (auto opened = metrics_.open(*config_.daemon.metrics); !opened) {
      control_.close();
      return opened;
    }
  }
  wait_signals();
  spdlog::info("musterd {} running with {} app(s) from {}", muster::version(), apps_.size(),
               config_.path);
  for (App* app : apps_in_start_order()) {
    if (app->config().autostart)
      start_order_.start(*app);
    else
      spdlog::info("{}: autostart = false: not started until 'musterctl start {}'", app->name(),
                   app->name());
  }
  watches_.follow(config_);
  // Stored or passed sockets the config no longer names: let them go.
  for (const auto& name : sockets_.drop_unused_inherited()) {
    spdlog::warn("systemd passed a socket named {}, which the config does not name; closed", name);
    systemd_.remove_fds(name);
  }
  started_at_ = Clock::now();
  systemd_.start_watchdog();
  report_to_systemd();
  return {};
}

// Opened for the first systemd-protocol app, at start or when a config
// reload adds one, and then kept for the daemon's life: a worker of a removed
// app may still be stopping and sending STOPPING=1, and an idle datagram
// socket costs nothing.
Result<void> Supervisor::open_notify_socket(const config::Config& config) {
  if (notify_.is_open()) return {};
  bool any_systemd = std::any_of(config.apps.begin(), config.apps.end(), [](const auto& app) {
    return app.protocol == config::Protocol::systemd;
  });
  if (!any_systemd) return {};
  if (auto opened = notify_.open(); !opened) return opened;
  context_.notify_address = notify_.address();
  return {};
}

void Supervisor::reload_config(ReloadDone done, bool allow_empty) {
  systemd_.reloading();
  apply_config_file(
      [this, done = std::move(done)](ReloadResult result) {
        // Over, one way or the other (before the first READY=1,
        // report_to_systemd() still sends it).
        if (announced_ready_ && !shutting_down_) systemd_.ready();
        config_reloads_.last_ok = result.errors.empty() && result.failures.empty();
        ++(result.errors.empty() ? config_reloads_.applied : config_reloads_.rejected);
        if (!result.failures.empty()) ++config_reloads_.failed;
        if (done) done(std::move(result));
      },
      allow_empty);
}

// A worker takes a connection handed to it within milliseconds; held ones
// nobody took by then are closed with musterd.
constexpr auto kHandOverLimit = std::chrono::seconds(1);

void Supervisor::shutdown(const char* why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  spdlog::info("shutting down ({}): stopping all workers", why);
  systemd_.stopping();
  systemd_timer_.cancel();
  watches_.stop_all();
  shutdown_timer_.expires_after(config_.daemon.shutdown_timeout);
  shutdown_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || finished_) return;
    spdlog::warn("shutdown_timeout reached: killing the remaining workers");
    stop_apps();
    // Every app at once now, not layer by layer (`after`).
    for (auto& app : apps_) app->stop(nullptr);
    for (auto& app : apps_) app->kill_all();
  });
  // musterd accepts no more first, and its workers get every connection it
  // already accepted before they are asked to go, so a stop drops none of
  // them; new ones wait in the kernel's queue (on a restart, for the next
  // musterd: systemd's fd store keeps the socket).
  hand_over_timer_.expires_after(
      std::min<Duration>(kHandOverLimit, config_.daemon.shutdown_timeout / 2));
  hand_over_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) stop_apps();
  });
  sockets_.stop_accepting([this] { stop_apps(); });
}

void Supervisor::stop_apps() {
  if (stopping_apps_) return;
  stopping_apps_ = true;
  hand_over_timer_.cancel();
  // Dependents first (`after`), removed apps still stopping among them.
  std::vector<App*> apps;
  for (auto& app : apps_) apps.push_back(app.get());
  start_order_.stop(apps, [this] { finish_shutdown(); });
}

std::vector<App*> Supervisor::apps_in_start_order() {
  std::vector<App*> apps;
  for (auto& app : apps_)
    if (!app->removed()) apps.push_back(app.get());
  return StartOrder::in_start_order(std::move(apps));
}

void Supervisor::finish_shutdown() {
  finished_ = true;
  shutdown_timer_.cancel();
  signals_.cancel();
  control_.close();
  metrics_.close();
  // The fd store keeps the sockets for the next musterd: so must their files.
  if (systemd_.fd_store_used()) sockets_.keep_files();
  spdlog::info("all workers stopped; bye");
  // Anything still pending (e.g. output of a stray grandchild) must not keep us.
  asio::post(io_, [this] { io_.stop(); });
}

void Supervisor::on_notify(pid_t sender, const ipc::NotifyMessage& message) {
  for (auto& app : apps_)
    for (Worker* w : app->workers())
      if (w->pid() == sender) return w->on_notify(message);
  // Perhaps a worker whose start the loop has not heard of yet: kept for
  // it (Worker's `spawned`), a while.
  spdlog::debug("notify: datagram from pid {}, which is no worker (yet); kept for {} s", sender,
                std::chrono::duration_cast<std::chrono::seconds>(EarlyNotify::kMaxAge).count());
  early_notify_.keep(sender, message, Clock::now());
}

App* Supervisor::find_app(const std::string& name) {
  for (auto& app : apps_)
    if (app->name() == name && !app->removed()) return app.get();
  return nullptr;
}

Worker* Supervisor::find_worker(unsigned id) {
  for (auto& app : apps_)
    if (auto* w = app->find_worker(id)) return w;
  return nullptr;
}

DaemonSnapshot Supervisor::snapshot() const {
  DaemonSnapshot out;
  for (const auto& app : apps_) {
    out.apps.push_back(app->snapshot());
    if (const config::AppConfig* c = config_.find_app(app->name()))
      out.apps.back().config_instances = c->instances;
    out.apps.back().waiting_for = start_order_.waiting_for(*app);
  }
  out.sockets = sockets_.snapshot();
  for (auto& socket : on_demand_.snapshot()) out.sockets.push_back(std::move(socket));
  out.shutting_down = shutting_down_;
  out.config_reloads = config_reloads_;
  out.events_dropped = events_.dropped();
  return out;
}

void Supervisor::handle_request(const ipc::Request& request, ControlServer::Respond respond) {
  if (shutting_down_ && request.verb != "ping" && request.verb != "version" &&
      request.verb != "status") {
    respond(ipc::error_reply("musterd is shutting down"));
    return;
  }
  run_command(*this, request, std::move(respond));
}

}  // namespace muster::daemon
