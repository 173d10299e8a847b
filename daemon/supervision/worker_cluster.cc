// The primary's side of Node's cluster conversation with one worker
// (lib/internal/cluster/primary.js; the wire rules are in ipc/node_channel).
#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "daemon/common/events.h"
#include "daemon/network/listen_socket.h"
#include "daemon/network/on_demand.h"
#include "daemon/network/rr_handle.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {
namespace json = boost::json;

namespace {

std::string_view string_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// A number to echo back (a seq we answer with an ack): as the worker sent it,
// or 0 if it sent none.
json::value seq_field(const json::object& o) {
  auto* v = o.if_contains("seq");
  return v && v->is_number() ? *v : json::value(0);
}

}  // namespace

std::uint64_t Worker::send_cluster(json::object message, int fd) {
  std::uint64_t seq = seq_++;
  message["cmd"] = "NODE_CLUSTER";
  message["seq"] = seq;
  if (channel_) channel_->send(message, fd);
  return seq;
}

bool Worker::send_message(const json::value& message) {
  return has_channel() && channel_->send(message);
}

Worker::Relayed Worker::send_relayed(const std::string& line, const std::string& v8_payload,
                                     std::size_t max_backlog) {
  if (!has_channel()) return Relayed::closed;
  if (channel_->queued_bytes() > max_backlog) return Relayed::backlog;
  // Between two advanced workers the bytes go as they came (byte-exact).
  if (!v8_payload.empty() && advanced_channel())
    return channel_->send_v8(v8_payload) ? Relayed::sent : Relayed::closed;
  return channel_->send_serialized(line) ? Relayed::sent : Relayed::closed;
}

const std::string& Worker::channel_payload() const {
  static const std::string none;
  return channel_ ? channel_->v8_payload() : none;
}

bool Worker::send_newconn(const std::string& prefix, int fd, std::weak_ptr<RrHandle> handle) {
  if (!has_channel() || life_.state == WorkerState::disconnecting) return false;
  std::uint64_t seq = seq_++;
  std::string line;
  line.reserve(prefix.size() + 24);  // one allocation: the seq, "}}" and the channel's newline
  line += prefix;
  line += std::to_string(seq);
  line += "}}";
  // No copy: the RoundRobin keeps the connection until the worker answers,
  // which a Node worker does only after its ACK.
  if (!channel_->lend(std::move(line), fd)) return false;
  newconns_[seq] = {std::move(handle), fd};
  return true;
}

void Worker::on_channel_message(json::value message, ipc::UniqueFd fd) {
  if (auto* obj = message.if_object()) {
    std::string_view cmd = string_field(*obj, "cmd");
    if (cmd == "NODE_CLUSTER") return on_cluster_message(*obj);
    if (cmd.substr(0, 5) == "NODE_") return;  // Node-internal, not for the primary
  }
  json::object event{{"id", identity_.id}, {"pid", pid_}, {"message", std::move(message)}};
  if (fd) {
    // process.send(msg, handle): Node's primary wraps the handle in a
    // net.Socket / net.Server / dgram.Socket for its 'message' listeners, and
    // with none it keeps it open for good (a sent connection hangs). musterd
    // runs no code to use it: it closes its copy at once and says so.
    spdlog::debug("{}[{}] sent a handle ({}); closed", identity_.app, identity_.id,
                  channel_->handle_type());
    event["handle"] = {{"type", channel_->handle_type()}, {"closed", true}};
    fd.reset();
  }
  if (context_.user_message) context_.user_message(*this, event.at("message"));
  context_.events.publish("message", identity_.app, std::move(event));
}

void Worker::on_channel_closed(const std::string& error) {
  if (error.empty()) return on(Event::channel_closed);
  spdlog::warn("{}[{}] broke the IPC protocol ({})", identity_.app, identity_.id, error);
  on(Event::channel_broken);
}

void Worker::on_cluster_message(const json::object& m) {
  std::string_view act = string_field(m, "act");
  if (act.empty()) {
    // A reply to one of ours: a newconn's {accepted}, or an ack we ignore.
    auto* ack = m.if_contains("ack");
    if (!ack || !m.contains("accepted")) return;
    auto seq = exact_integer(*ack, 0, INT64_MAX);
    auto it = seq ? newconns_.find(static_cast<std::uint64_t>(*seq)) : newconns_.end();
    if (it == newconns_.end()) return;
    auto handle = it->second.handle.lock();
    int fd = it->second.fd;
    newconns_.erase(it);
    // An answer before the ACK (a worker that lies, or knows the seq): the
    // RoundRobin closes or re-queues its connection now, so the channel, which
    // may still have to send or resend it, takes a copy first.
    if (channel_ && !channel_->keep(fd)) return;
    bool accepted = m.at("accepted").is_bool() && m.at("accepted").get_bool();
    if (accepted) ++connections_;
    if (handle) handle->reply(identity_.id, accepted);
    return;
  }
  if (act == "online") return on(Event::online);
  if (act == "queryServer") {
    on(Event::server_requested);
    return query_server(m);
  }
  if (act == "listening") {
    context_.events.publish(
        "listening", identity_.app,
        {{"id", identity_.id},
         {"pid", pid_},
         {"address", m.contains("address") ? m.at("address") : nullptr},
         {"port", m.contains("port") ? m.at("port") : nullptr},
         {"addressType", m.contains("addressType") ? m.at("addressType") : nullptr}});
    return on(Event::listening);
  }
  if (act == "close") {
    std::string key(string_field(m, "key"));
    close_server(key);
    auto it = std::find(server_keys_.begin(), server_keys_.end(), key);
    if (it == server_keys_.end()) return;
    server_keys_.erase(it);
    if (server_keys_.empty()) on(Event::servers_closed);
    return;
  }
  if (act == "exitedAfterDisconnect") {
    // The worker's own disconnect is done (lib/internal/cluster/child.js
    // sends this once its servers have closed, then drops the channel).
    send_cluster({{"ack", seq_field(m)}});
    return on(Event::left_on_its_own);
  }
  spdlog::debug("{}[{}] unknown cluster act '{}'", identity_.app, identity_.id, act);
}

struct Worker::ServerQuery {
  ListenQuery q;
  json::value seq;   // echoed back exactly as the worker sent it
  std::string key;   // Node's key for the server (node_key)
  json::value data;  // the worker's (TLS ticket keys), if it sent any
  bool exclusive = false;
};

void Worker::query_server(const json::object& m) {
  ServerQuery query;
  query.seq = seq_field(m);
  query.key = node_key(m);
  auto parsed = parse_listen_query(m);
  if (!parsed) {
    spdlog::warn(
        "{}[{}] asked to listen with a value musterd refuses (an fd of its own, or "
        "a number that is no integer in range): answered EINVAL",
        identity_.app, identity_.id);
    return refuse_server(query, -parsed.error().errno_value);  // Node's answer: a negative errno
  }
  query.q = std::move(parsed).value();
  const ListenQuery& q = query.q;
  if (auto* d = m.if_contains("data")) query.data = *d;
  query.exclusive =
      m.contains("exclusive") && m.at("exclusive").is_bool() && m.at("exclusive").get_bool();
  if (server_keys_.size() + queries_in_flight_ >= kMaxServers) {
    spdlog::debug("{}[{}] holds {} servers already; refused another", identity_.app, identity_.id,
                  kMaxServers);
    return refuse_server(query, -EMFILE);
  }
  auto declared =
      context_.sockets.resolve_declared(app_, q, identity_.instance, *context_.socket_configs);
  if (!declared) return refuse_server(query, -declared.error().errno_value);
  // For scheduling = "reuseport" this is the slot's own SO_REUSEPORT socket,
  // which outlives the worker.
  if (ListenSocket* socket = *declared) {
    answer_server(query, *socket);
    return;
  }
  // None declared: bound on demand, now or (a unix path) once a child has.
  ++queries_in_flight_;
  ListenQuery asked = q;  // `query` moves into the callback below
  context_.on_demand.acquire(
      identity_.app, asked, identity_.id, credentials_ ? &*credentials_ : nullptr,
      [weak = weak_from_this(), query = std::move(query)](OnDemandSockets::Answer answer) {
        auto self = weak.lock();
        if (!self) return false;
        --self->queries_in_flight_;
        if (!answer) {
          self->refuse_server(query, -answer.error().errno_value);  // Node's: a negative errno
          return false;
        }
        return self->answer_server(query, **answer);
      });
}

void Worker::refuse_server(const ServerQuery& query, int err) {
  send_cluster({{"errno", err}, {"key", query.key}, {"ack", query.seq}, {"data", nullptr}});
}

bool Worker::answer_server(const ServerQuery& query, ListenSocket& socket) {
  // Gone while its socket was being bound: nobody to give it to.
  if (!has_channel() || life_.state == WorkerState::dead) return false;
  const ListenQuery& q = query.q;
  server_keys_.push_back(q.key);
  json::object reply{{"errno", nullptr}, {"key", q.key}, {"ack", query.seq}, {"data", nullptr}};
  // TLS servers send their ticket keys: every worker of a socket gets the first's.
  if (socket.data().is_null() && !query.data.is_null()) socket.data() = query.data;
  reply["data"] = socket.data();
  if (q.datagram) {
    // UDP is always a shared handle (primary.js: nothing to balance without
    // connections), sent as Node sends a UDP handle: "dgram.Native"
    // (lib/internal/child_process.js handleConversion).
    reply["cmd"] = "NODE_CLUSTER";
    reply["seq"] = seq_++;
    std::string line = R"({"cmd":"NODE_HANDLE","type":"dgram.Native","msg":)";
    line += json::serialize(reply);
    line += '}';
    ipc::UniqueFd copy = ipc::duplicate(socket.fd());
    if (!copy)
      spdlog::warn("{}[{}] cannot pass its UDP socket: {}", identity_.app, identity_.id,
                   std::strerror(errno));
    else if (channel_)
      channel_->send_serialized(std::move(line), std::move(copy));
    return true;
  }
  if (app_.scheduling != config::Scheduling::rr || query.exclusive) {
    send_cluster(std::move(reply), socket.fd());  // shared handle: the worker accepts
    return true;
  }
  if (socket.config().family != config::SocketConfig::Family::unix_path) {
    std::string bound = socket.bound();
    std::string host = bound.substr(0, bound.rfind(':'));
    if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
    bool v6 = socket.config().family == config::SocketConfig::Family::ipv6;
    // The worker checks that this port is the one it asked for (net.js).
    reply["sockname"] = {{"address", host},
                         {"family", v6 ? "IPv6" : "IPv4"},
                         {"port", q.port > 0 ? q.port : socket.port()}};
  }
  send_cluster(std::move(reply));
  join_round_robin(socket, q.key);
  return true;
}

void Worker::join_round_robin(ListenSocket& socket, const std::string& key) {
  auto handle = socket.round_robin(io_, app_);
  servers_.emplace_back(handle, key);
  handle->add(weak_from_this(), identity_.id, identity_.instance, key, app_.instances);
}

void Worker::close_server(const std::string& key) {
  for (auto it = servers_.begin(); it != servers_.end(); ++it) {
    if (it->second != key) continue;
    auto handle = it->first.lock();
    servers_.erase(it);
    if (!handle) break;
    // Only leave the handle if no other server of ours uses it.
    bool still = false;
    for (auto& s : servers_) still = still || s.first.lock() == handle;
    if (!still) {
      if (auto taken = handle->remove(identity_.id)) parked_.push_back(std::move(taken));
      // Its unanswered newconns are the handle's no more (their connection
      // is parked above; the handle may be closed before they are answered:
      // an on-demand socket): a late answer has nothing to tell it.
      std::erase_if(newconns_, [&](const auto& n) { return n.second.handle.lock() == handle; });
    }
    break;
  }
  context_.on_demand.release(identity_.app, key, identity_.id);
}

void Worker::leave_sockets() {
  auto servers = std::move(servers_);
  servers_.clear();
  newconns_.clear();
  // Without a channel nobody can still receive what was sent on it: a
  // connection in flight that the worker never touched goes to another one.
  bool channel_gone = !has_channel();
  for (auto& [weak, key] : servers) {
    auto handle = weak.lock();
    if (!handle) continue;
    if (auto taken = handle->remove(identity_.id, channel_gone))
      parked_.push_back(std::move(taken));
  }
  if (channel_gone) parked_.clear();
  context_.on_demand.release_all(identity_.app, identity_.id);
}

}  // namespace muster::daemon
