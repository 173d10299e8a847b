#include "daemon/network/on_demand.h"

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstdio>

#include "daemon/network/on_demand_entry.h"
#include "daemon/network/rr_handle.h"
#include "daemon/network/unix_bind.h"

namespace muster::daemon {
using config::SocketConfig;
using SteadyClock = std::chrono::steady_clock;

namespace {
// A refusal other than the limit is logged as a warning at most this often
// per app and reason (the rest at debug, counted in the next warning and in
// muster_on_demand_refused_total): a worker asking again and again must not
// fill the log.
constexpr auto kWarnEvery = std::chrono::minutes(1);
constexpr std::size_t kRefusalCount = std::size(OnDemandSockets::kRefusals);
}  // namespace

const char* to_string(OnDemandSockets::Refusal reason) {
  switch (reason) {
    case OnDemandSockets::Refusal::disabled: return "disabled";
    case OnDemandSockets::Refusal::limit: return "limit";
    case OnDemandSockets::Refusal::privileged: return "privileged";
    case OnDemandSockets::Refusal::failed: return "failed";
  }
  return "?";
}

int unprivileged_port_start() {
  int start = 1024;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re")) {
    if (std::fscanf(f, "%d", &start) != 1) start = 1024;
    std::fclose(f);
  }
  return start;
}

struct OnDemandSockets::AppState {
  bool enabled = true;
  unsigned max = 64;
  config::Duration grace = std::chrono::seconds(10);
  // The limit is warned about once per episode: until the app's count drops
  // below max_on_demand_sockets again.
  bool limit_warned = false;
  std::uint64_t refused[kRefusalCount] = {};
  std::optional<SteadyClock::time_point> warned_at[kRefusalCount];
  std::uint64_t unwarned[kRefusalCount] = {};
  // Unix paths are bound one at a time per app, each in a child process.
  struct UnixBind {
    Key key;
    SocketConfig socket;
    std::optional<Credentials> credentials;
  };
  std::deque<UnixBind> unix_queue;
  bool unix_busy = false;
};

OnDemandSockets::OnDemandSockets(boost::asio::io_context& io) : io_(io) {}
OnDemandSockets::~OnDemandSockets() = default;

OnDemandSockets::AppState& OnDemandSockets::state(const std::string& app) {
  auto& slot = apps_[app];
  if (!slot) slot = std::make_unique<AppState>();
  return *slot;
}

void OnDemandSockets::configure(const config::AppConfig& app) {
  AppState& a = state(app.name);
  a.enabled = app.on_demand;
  a.max = app.max_on_demand_sockets;
  a.grace = app.on_demand_grace;
}

std::size_t OnDemandSockets::count(const std::string& app) const {
  std::size_t n = 0;
  for (auto it = entries_.lower_bound({app, ""}); it != entries_.end() && it->first.first == app;
       ++it)
    ++n;
  return n;
}

void OnDemandSockets::refuse(AppState& a, const std::string& app, Refusal reason,
                             const std::string& what) {
  auto i = static_cast<std::size_t>(reason);
  ++a.refused[i];
  auto now = SteadyClock::now();
  bool warn = reason == Refusal::limit ? !a.limit_warned
                                       : !a.warned_at[i] || now - *a.warned_at[i] >= kWarnEvery;
  if (!warn) {
    ++a.unwarned[i];
    spdlog::debug("{}: refused a worker's listen() on {}", app, what);
    return;
  }
  std::string more = a.unwarned[i] ? " (and " + std::to_string(a.unwarned[i]) +
                                         " more refused since the last warning)"
                                   : "";
  a.unwarned[i] = 0;
  a.warned_at[i] = now;
  switch (reason) {
    case Refusal::disabled:
      spdlog::warn(
          "{}: refused a worker's listen() on {}: no declared socket answers it and "
          "on_demand = false (EACCES){}",
          app, what, more);
      break;
    case Refusal::limit:
      a.limit_warned = true;
      spdlog::warn(
          "{}: refused a worker's listen() on {}: the app holds max_on_demand_sockets "
          "({}) sockets bound on demand; more are refused (EMFILE) until one closes{}",
          app, what, a.max, more);
      break;
    case Refusal::privileged:
      spdlog::warn(
          "{}: refused a worker's listen() on {}: a port below {} needs root, and the "
          "worker does not run as root (declare the socket in the config) (EACCES){}",
          app, what, unprivileged_port_start(), more);
      break;
    case Refusal::failed:
      spdlog::warn("{}: a worker's listen() could not be bound: {}{}", app, what, more);
      break;
  }
}

void OnDemandSockets::acquire(const std::string& app, const ListenQuery& q, unsigned worker,
                              const Credentials* credentials, Done done) {
  Key key{app, q.key};
  if (auto it = entries_.find(key); it != entries_.end()) {
    Entry& e = *it->second;
    if (!e.socket)
      e.waiting.emplace_back(worker, std::move(done));
    else if (done(e.socket.get()))
      use(e, worker);
    return;
  }
  auto binds = on_demand_binds(q, on_demand_name(q));
  if (!binds) {
    done(binds.error());
    return;
  }
  auto& candidates = *binds;
  const std::string& what = candidates.front().listen;
  AppState& a = state(app);
  if (!a.enabled) {
    refuse(a, app, Refusal::disabled, what);
    done(errno_error(EACCES, "on_demand = false"));
    return;
  }
  if (count(app) >= a.max) {
    refuse(a, app, Refusal::limit, what);
    done(errno_error(EMFILE, "max_on_demand_sockets reached"));
    return;
  }
  bool unix_path = candidates.front().family == SocketConfig::Family::unix_path;
  // CAP_NET_BIND_SERVICE is what musterd has and the worker has not. Every
  // other rule of an IP bind is the same for any uid.
  if (!unix_path && credentials && credentials->uid != 0 && q.port > 0 &&
      q.port < unprivileged_port_start()) {
    refuse(a, app, Refusal::privileged, what);
    done(errno_error(EACCES, "a privileged port"));
    return;
  }
  auto entry = std::make_unique<Entry>(io_);
  entry->waiting.emplace_back(worker, std::move(done));
  entries_.emplace(key, std::move(entry));
  if (!unix_path) return bind_ip(key, std::move(candidates));
  std::optional<Credentials> copy;
  if (credentials) copy = *credentials;
  a.unix_queue.push_back({key, std::move(candidates.front()), std::move(copy)});
  pump_unix(app);
}

// In order, the first that binds (Node's fallback from "::" to "0.0.0.0").
void OnDemandSockets::bind_ip(const Key& key, std::vector<SocketConfig> binds) {
  Error last{"nothing to bind", EINVAL};
  for (SocketConfig& s : binds) {
    auto result = bind_listen(s);
    if (!result) {
      last = result.error();
      continue;
    }
    auto socket = std::make_unique<ListenSocket>(std::move(s), std::move(result).value(), true);
    return bound(key, std::move(socket));
  }
  bound(key, std::move(last));
}

void OnDemandSockets::pump_unix(const std::string& app) {
  AppState& a = state(app);
  if (a.unix_busy || a.unix_queue.empty()) return;
  a.unix_busy = true;
  auto job = std::move(a.unix_queue.front());
  a.unix_queue.pop_front();
  SocketConfig socket = job.socket;
  bind_unix_as(io_, socket, job.credentials ? &*job.credentials : nullptr,
               [this, alive = std::weak_ptr<bool>(alive_), key = job.key,
                socket](UnixBindResult result) mutable {
                 if (!alive.lock()) return;
                 state(key.first).unix_busy = false;
                 if (!result) {
                   bound(key, result.error());
                 } else {
                   auto& ok = *result;
                   // The file is removed with the socket, through the
                   // directory the child bound in (SocketFile::remove).
                   auto listening = std::make_unique<ListenSocket>(
                       std::move(socket), BoundSocket{std::move(ok.fd), std::move(ok.file)}, true);
                   bound(key, std::move(listening));
                 }
                 pump_unix(key.first);
               });
}

void OnDemandSockets::bound(const Key& key, Result<std::unique_ptr<ListenSocket>> result) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  auto waiting = std::move(e.waiting);
  e.waiting.clear();
  if (!result) {
    entries_.erase(it);
    refuse(state(key.first), key.first, Refusal::failed, result.error().message);
    for (auto& [worker, done] : waiting) done(result.error());
    return;
  }
  e.socket = std::move(result).value();
  const SocketConfig& c = e.socket->config();
  spdlog::info("socket {} bound on demand for {} on {}{}", c.name, key.first, e.socket->bound(),
               c.datagram ? " (UDP)" : "");
  // Entries are erased only by their grace timer (never inside a `done`),
  // so `e` outlives these calls.
  for (auto& [worker, done] : waiting)
    if (done(e.socket.get())) use(e, worker);
  if (e.users.empty()) arm_grace(key, e);
}

void OnDemandSockets::use(Entry& e, unsigned worker) {
  e.users.insert(worker);
  e.grace.cancel();
}

void OnDemandSockets::unused(const Key& key, Entry& e, unsigned worker) {
  e.users.erase(worker);
  if (e.users.empty() && e.socket) arm_grace(key, e);
}

// Closing always goes through the timer (also for a grace of 0s), so no
// entry is erased while a caller holds it.
void OnDemandSockets::arm_grace(const Key& key, Entry& e) {
  e.grace.expires_after(state(key.first).grace);
  e.grace.async_wait([this, key](boost::system::error_code ec) {
    if (ec) return;  // used again, or the entry is gone
    close(key);
  });
}

void OnDemandSockets::close(const Key& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second->users.empty() || !it->second->socket) return;
  AppState& a = state(key.first);
  spdlog::info("socket {} of {} ({}) closed: no worker has used it for {}",
               it->second->socket->config().name, key.first, it->second->socket->bound(),
               config::format_duration(a.grace));
  entries_.erase(it);  // the socket closes, then its file (if any) is removed
  if (a.limit_warned && count(key.first) < a.max) a.limit_warned = false;
}

void OnDemandSockets::release(const std::string& app, const std::string& key, unsigned worker) {
  if (auto it = entries_.find({app, key}); it != entries_.end() && it->second->users.count(worker))
    unused(it->first, *it->second, worker);
}

void OnDemandSockets::release_all(const std::string& app, unsigned worker) {
  for (auto it = entries_.lower_bound({app, ""}); it != entries_.end() && it->first.first == app;
       ++it)
    if (it->second->users.count(worker)) unused(it->first, *it->second, worker);
}

std::vector<SocketSnapshot> OnDemandSockets::snapshot() const {
  std::vector<SocketSnapshot> out;
  for (const auto& [key, e] : entries_) {
    if (!e->socket) continue;
    out.push_back(socket_snapshot(*e->socket));
    out.back().app = key.first;
  }
  return out;
}

std::vector<RrHandle*> OnDemandSockets::round_robins(const std::string& app) const {
  std::vector<RrHandle*> out;
  for (auto it = entries_.lower_bound({app, ""}); it != entries_.end() && it->first.first == app;
       ++it)
    if (it->second->socket)
      if (RrHandle* rr = it->second->socket->round_robin_if_any()) out.push_back(rr);
  return out;
}

std::uint64_t OnDemandSockets::refused(const std::string& app, Refusal reason) const {
  auto it = apps_.find(app);
  return it == apps_.end() ? 0 : it->second->refused[static_cast<std::size_t>(reason)];
}

}  // namespace muster::daemon
