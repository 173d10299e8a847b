// The new musterd's side of an in-place upgrade (issue 25): instead of
// start(), take over the sockets, the control socket, the apps and their
// running workers from the state the old musterd wrote, and answer the
// client that asked. Nothing here spawns or binds anew what the state names.
#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <cstdlib>

#include "base/version.h"
#include "daemon/output/output_pipe.h"
#include "daemon/wiring/supervisor.h"
#include "ipc/json_number.h"

namespace muster::daemon {
namespace json = boost::json;
namespace {

using ipc::json_number;

int fd_field(const json::object& o, std::string_view key) {
  return json_number<int>(o.if_contains(key)).value_or(-1);
}

std::string string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Writes `line` to the connection the upgrade was asked on, and closes it.
// The client waits for it, so a short blocking write is fine here.
void answer(int fd, const std::string& line) {
  if (fd < 0) return;
  std::string all = line;
  if (all.empty() || all.back() != '\n') all += '\n';
  std::size_t off = 0;
  while (off < all.size()) {
    ssize_t n = ::send(fd, all.data() + off, all.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

Worker::Adopted adopted_fds(boost::asio::io_context& io, const WorkerRecord& r) {
  Worker::Adopted a;
  if (r.channel && r.channel_fd >= 0)
    a.channel = std::make_shared<ipc::NodeChannel>(
        io, ipc::NodeChannel::Handover{ipc::UniqueFd(r.channel_fd),
                                       r.serialization == "advanced" ? ipc::Serialization::advanced
                                                                     : ipc::Serialization::json,
                                       r.channel_unread});
  if (r.stdout_fd >= 0)
    a.out = std::make_shared<OutputPipe>(
        io, OutputPipe::Handover{ipc::UniqueFd(r.stdout_fd), r.stdout_partial});
  if (r.stderr_fd >= 0)
    a.err = std::make_shared<OutputPipe>(
        io, OutputPipe::Handover{ipc::UniqueFd(r.stderr_fd), r.stderr_partial});
  return a;
}

}  // namespace

Result<void> Supervisor::restore(const json::object& body, const std::string& failed) {
  const json::value* fds = body.if_contains("fds");
  if (!fds || !fds->is_object()) return Error{"the state has no 'fds'"};
  if (auto done = restore_fds(fds->as_object()); !done) return done;
  if (const json::value* od = body.if_contains("on_demand"); od && od->is_array())
    if (auto adopted = on_demand_.adopt(od->as_array()); !adopted) return adopted;
  if (auto done = restore_apps(body); !done) return done;
  finish_restore(body, failed);
  return {};
}

Result<void> Supervisor::restore_fds(const json::object& fds) {
  restored_client_ = fd_field(fds, "client");
  std::map<std::string, ipc::UniqueFd> sockets;
  if (const json::value* s = fds.if_contains("sockets"); s && s->is_object())
    for (const auto& [name, fd] : s->as_object())
      if (auto n = json_number<int>(&fd)) sockets.emplace(std::string(name), ipc::UniqueFd(*n));
  std::vector<std::string> names;
  for (const auto& [name, fd] : sockets) names.push_back(name);
  sockets_.set_inherited(std::move(sockets), "the previous musterd");
  connect_fd_store();
  std::vector<std::string> per_slot;
  for (const auto& app : config_.apps)
    if (app.scheduling == config::Scheduling::reuseport)
      per_slot.insert(per_slot.end(), app.sockets.begin(), app.sockets.end());
  if (auto bound = sockets_.bind_declared(config_.sockets, per_slot); !bound) return bound;
  // A reuseport slot's socket (NAME#SLOT) is opened when its slot's worker
  // starts; the adopted workers started before the exec: take theirs now.
  for (const auto& name : names) {
    auto hash = name.rfind('#');
    const config::SocketConfig* socket =
        hash == std::string::npos ? nullptr : config_.find_socket(name.substr(0, hash));
    if (!socket) continue;
    unsigned slot = static_cast<unsigned>(std::strtoul(name.c_str() + hash + 1, nullptr, 10));
    if (auto taken = sockets_.slot_socket(*socket, slot); !taken) return taken.error();
  }
  if (int fd = fd_field(fds, "control"); fd >= 0) {
    if (auto adopted = control_.adopt(fd); !adopted) return adopted;
  } else if (auto opened = control_.open(); !opened) {
    return opened;
  }
  if (int fd = fd_field(fds, "notify"); fd >= 0) {
    if (auto adopted = notify_.adopt(fd); !adopted) return adopted;
    context_.notify_address = notify_.address();
  } else if (auto opened = open_notify_socket(config_); !opened) {
    return opened;
  }
  if (int fd = fd_field(fds, "metrics"); fd >= 0 && config_.daemon.metrics) {
    if (auto adopted = metrics_.adopt(*config_.daemon.metrics, fd); !adopted) return adopted;
  } else if (config_.daemon.metrics) {
    if (auto opened = metrics_.open(*config_.daemon.metrics); !opened) return opened;
  }
  return {};
}

Result<void> Supervisor::restore_apps(const json::object& body) {
  const json::value* apps = body.if_contains("apps");
  const json::value* workers = body.if_contains("workers");
  if (!apps || !apps->is_array() || !workers || !workers->is_array())
    return Error{"the state has no 'apps' or 'workers' list"};
  std::vector<WorkerRecord> records;
  for (const auto& w : workers->as_array()) {
    auto r = from_json<WorkerRecord>(w);
    if (!r) return r.error();
    records.push_back(std::move(r).value());
  }
  if (auto id = json_number<unsigned>(body.if_contains("last_worker_id"))) last_worker_id_ = *id;
  for (const auto& a : apps->as_array()) {
    auto record = from_json<AppRecord>(a);
    if (!record) return record.error();
    App* app = find_app(record->name);
    if (!app) return Error{"app " + record->name + " is not in the config it ran with"};
    std::vector<App::AdoptedWorker> adopted;
    for (const auto& r : records) {
      if (r.app != record->name) continue;
      adopted.push_back({r, adopted_fds(io_, r)});
      adopted.back().adopted.find_socket = [this, app = r.app](const std::string& name) {
        ListenSocket* declared = sockets_.find(name);
        return declared ? declared : on_demand_.find(app, name);
      };
    }
    if (auto done = app->adopt(*record, std::move(adopted)); !done)
      return done.error().prefixed(record->name + ": ");
  }
  return {};
}

void Supervisor::finish_restore(const json::object& body, const std::string& failed) {
  if (const json::value* e = body.if_contains("events"); e && e->is_array())
    events_.restore(e->as_array());
  if (const json::value* t = body.if_contains("output_tails"); t && t->is_object())
    for (const auto& [name, lines] : t->as_object())
      if (App* app = find_app(std::string(name)); app && lines.is_array())
        app->output().restore_tail(lines.as_array());
  if (const json::value* r = body.if_contains("reloads"); r && r->is_object()) {
    const json::object& o = r->as_object();
    auto count = [&o](std::string_view k) {
      return json_number<std::uint64_t>(o.if_contains(k)).value_or(0);
    };
    config_reloads_.applied = count("applied");
    config_reloads_.rejected = count("rejected");
    config_reloads_.failed = count("failed");
    if (const json::value* ok = o.if_contains("last_ok"); ok && ok->is_bool())
      config_reloads_.last_ok = ok->as_bool();
  }
  std::int64_t uptime = json_number<std::int64_t>(body.if_contains("uptime_ms")).value_or(0);
  started_at_ = Clock::now() - std::chrono::milliseconds(uptime);
  if (const json::value* a = body.if_contains("announced_ready"); a && a->is_bool())
    announced_ready_ = a->as_bool();
  wait_signals();
  watches_.follow(config_);
  for (const auto& name : sockets_.drop_unused_inherited())
    spdlog::warn("the state held a socket named {}, which the config does not name; closed", name);
  const json::object* up = nullptr;
  if (const json::value* u = body.if_contains("upgrade"); u && u->is_object()) up = &u->as_object();
  std::string from = up ? string_field(*up, "from") : std::string();
  std::string to = up ? string_field(*up, "to") : std::string();
  if (failed.empty()) {
    std::string line = "upgraded from " + from + " to " + muster::version();
    spdlog::info("{} (pid {}, {} app(s))", line, ::getpid(), apps_.size());
    events_.publish("upgraded", "", {{"from", from}, {"to", muster::version()}});
    answer(restored_client_,
           ipc::ok_reply({{"from", from}, {"to", muster::version()}, {"pid", ::getpid()}}));
    systemd_.status(line);
  } else {
    std::string why = "upgrade failed: " + failed + "; musterd " + muster::version() + " resumed";
    spdlog::error("{}", why);
    events_.publish("upgrade_failed", "", {{"to", to}, {"error", failed}});
    answer(restored_client_, ipc::error_reply(why));
  }
  restored_client_ = -1;
  sockets_.resume_accepting();
  systemd_.start_watchdog();
  if (announced_ready_) systemd_.ready();
  report_to_systemd();
}

}  // namespace muster::daemon
