// Worker: an upgrade in place (issue 25). The musterd that execs writes each
// worker down (record()); the new one makes a fresh Worker that life again
// (adopt()): the same process, channel and pipes, no spawn, no restart.
// What the records hold and which states are refused: handover_records.h.
#include <spdlog/spdlog.h>

#include "daemon/common/credentials.h"
#include "daemon/launch/launcher.h"
#include "daemon/network/listen_socket.h"
#include "daemon/output/output_pipe.h"
#include "daemon/supervision/handover_records.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {
namespace {

std::optional<WorkerState> state_named(const std::string& name) {
  for (auto s : {WorkerState::spawning, WorkerState::online, WorkerState::listening,
                 WorkerState::disconnecting, WorkerState::dead})
    if (name == to_string(s)) return s;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Worker::busy_for_handover() const {
  const std::string who = identity_.app + "[" + std::to_string(identity_.id) + "]";
  switch (life_.state) {
    case WorkerState::spawning: return who + " is spawning";
    case WorkerState::disconnecting: return who + " is stopping";
    case WorkerState::dead: return who + " has exited";
    case WorkerState::online:
    case WorkerState::listening: break;
  }
  // Each of these ends in a timer or a reply of this life, which the new
  // musterd would not have.
  if (life_.stop_asked || life_.left_on_its_own || life_.forced) return who + " is stopping";
  if (!life_.ready) return who + " is not ready yet";
  if (life_.draining) return who + " is draining its own disconnect";
  if (!newconns_.empty()) return who + " has a connection awaiting its answer";
  if (queries_in_flight_ > 0) return who + " waits for a server to be bound for it";
  if (!parked_.empty()) return who + " has connections it left unanswered";
  if (channel_ && !channel_->quiet()) return who + "'s Node channel is mid-message";
  return std::nullopt;
}

WorkerRecord Worker::record() const {
  WorkerRecord r;
  r.app = identity_.app;
  r.id = identity_.id;
  r.instance = identity_.instance;
  r.restarts = identity_.restarts;
  r.pid = pid_;
  r.uptime_ms = uptime().count();
  r.state = to_string(life_.state);
  r.ready = life_.ready;
  r.asked_server = life_.asked_server;
  r.after_disconnect = life_.after_disconnect;
  r.connections = connections_;
  r.seq = seq_;
  r.server_keys = server_keys_;
  for (const auto& [handle, key] : servers_) {
    auto rr = handle.lock();
    if (!rr) continue;  // a retired socket's is gone
    r.servers.push_back(key);
    r.server_sockets.push_back(rr->socket_name());
  }
  r.status_text = status_text_;
  r.inspector = inspector_;
  r.inspector_signal = inspector_signal_ok_;
  r.must_listen = must_listen_;
  r.reloading = reloading_;
  r.channel = has_channel();
  r.serialization = advanced_channel() ? "advanced" : "json";
  return r;
}

Result<WorkerRecord> Worker::hand_over(std::vector<ipc::UniqueFd>& keep) {
  WorkerRecord r = record();
  if (channel_) {
    auto channel = channel_->hand_over();
    if (!channel) return channel.error().prefixed(r.app + "[" + std::to_string(r.id) + "]: ");
    r.channel_fd = channel->fd.get();
    r.channel_unread = std::move(channel->unread);
    keep.push_back(std::move(channel->fd));
  }
  // A pipe's hand-over fails only once it has ended: then the worker's
  // output goes nowhere after the upgrade, as it would have without one.
  auto pipe = [&keep](const std::shared_ptr<OutputPipe>& from, int& fd, std::string& partial) {
    if (!from) return;
    auto handed = from->hand_over();
    if (!handed) return;
    fd = handed->fd.get();
    partial = std::move(handed->partial_line);
    keep.push_back(std::move(handed->fd));
  };
  pipe(stdout_pipe_, r.stdout_fd, r.stdout_partial);
  pipe(stderr_pipe_, r.stderr_fd, r.stderr_partial);
  return r;
}

Result<void> Worker::adopt(const WorkerRecord& r, Adopted adopted) {
  const std::string who = r.app + "[" + std::to_string(r.id) + "]";
  auto state = state_named(r.state);
  if (!state || (*state != WorkerState::online && *state != WorkerState::listening) || !r.ready)
    return Error{who + ": '" + r.state + "' is no state a worker is handed over in"};
  if (r.channel && !adopted.channel) return Error{who + ": its Node channel was not handed over"};
  if (pid_ != 0) return Error{who + ": this Worker has a process already"};
  if (auto owned = context_.launcher.adopt(r.pid); !owned)
    return owned.error().prefixed(who + ": pid " + std::to_string(r.pid) + ": ");
  identity_ = {r.app, r.id, r.instance, r.restarts};
  pid_ = r.pid;
  started_ = Clock::now() - Duration{r.uptime_ms};
  // The life comes from the record, not from decide(): the table's cells led
  // the old musterd's Worker from its spawn to this state, and the record
  // says where that path ended.
  life_ = WorkerLife{};
  life_.state = *state;
  life_.ready = r.ready;
  life_.asked_server = r.asked_server;
  life_.after_disconnect = r.after_disconnect;
  connections_ = r.connections;
  seq_ = r.seq;
  server_keys_ = r.server_keys;
  status_text_ = r.status_text;
  inspector_ = r.inspector;
  inspector_signal_ok_ = r.inspector_signal;
  if (app_.inspect && config::inspector_address(app_, identity_.instance))
    inspector_port_ = static_cast<std::uint16_t>(app_.inspect->port + identity_.instance);
  must_listen_ = r.must_listen;
  reloading_ = r.reloading;
  if (auto creds = resolve_credentials(app_); creds && *creds) credentials_ = **creds;
  channel_ = std::move(adopted.channel);
  stdout_pipe_ = std::move(adopted.out);
  stderr_pipe_ = std::move(adopted.err);
  // What the `spawned` cell does for a new process, except announcing it.
  wait_for_exit();
  read_output();
  if (channel_) start_channel();
  for (std::size_t i = 0; i < r.servers.size(); ++i) {
    const std::string& key = r.servers[i];
    const std::string name = i < r.server_sockets.size() ? r.server_sockets[i] : key;
    ListenSocket* socket = adopted.find_socket ? adopted.find_socket(name) : nullptr;
    if (socket)
      join_round_robin(*socket, key);
    else
      spdlog::warn("{} listened on {} ({}), which is gone after the upgrade", who, name, key);
  }
  arm_watchdog();
  sample_usage();
  spdlog::info("{} adopted, pid {}, instance {}", who, pid_, identity_.instance);
  return {};
}

}  // namespace muster::daemon
