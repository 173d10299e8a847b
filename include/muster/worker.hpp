// muster/worker.hpp: the worker side of Node's cluster IPC ('json' mode), so a C++
// program can be a musterd worker exactly as a Node `cluster` worker is.
// Header-only, C++17, POSIX + standard library only. Wire protocol:
// docs in node-ipc-protocol.md; behaviour mirrors Node's lib/internal/cluster/child.js
// and lib/internal/child_process.js (setupChannel).
//
//   auto w = muster::Worker::from_env();          // NODE_CHANNEL_FD, NODE_UNIQUE_ID
//   if (!w) { fprintf(stderr, "%s\n", w.error().message.c_str()); return 2; }
//   w->on_connection([](int fd) { /* serve fd (non-blocking, close-on-exec), close it */ });
//   w->on_message([&](const std::string& json) { w->send_raw("{\"echo\":" + json + "}"); });
//   w->on_disconnect([] { /* servers are closed: finish in-flight work, then exit */ });
//   w->online();
//   auto s = w->listen({"127.0.0.1", 8000});      // Node's server.listen(8000, "127.0.0.1")
//   if (!s) { /* s.error().code is a negative errno, e.g. -EADDRINUSE */ }
//   w->run();                                      // or poll w->watch_fds() in your own loop
//                                                  // and call w->on_readable(fd)
// Round-robin: musterd accepts and connections arrive through the channel; shared
// ("none" scheduling): s->listen_fd() is the listening socket and run()/on_readable()
// accept on it. Either way on_connection gets each connection. If the channel closes
// without a disconnect, the worker exits with status 0 as Node's does, unless
// on_primary_gone is set; a protocol violation by the primary prints a message and
// exits 1 (Node: SyntaxError), unless on_protocol_error is set. Single-threaded: call
// everything from one thread. Callbacks may call send_raw() and disconnect().
// (The values it takes and returns are in worker_types.hpp, its socket calls in
// worker_socket.hpp; this header includes both.)
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json.hpp"
#include "worker_socket.hpp"
#include "worker_types.hpp"

namespace muster {

class Worker {
 public:
  static constexpr size_t kMaxLine = 1 << 20;

  static Expected<Worker> from_env() {
    auto channel = detail::channel_from_env();
    if (!channel) return channel.error();
    return from_fd(channel->first, channel->second);
  }
  // Adopts an already connected channel end (tests, embedding).
  static Worker from_fd(int fd, int id) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return Worker(fd, id);
  }

  Worker(Worker&& o) noexcept { *this = std::move(o); }
  Worker& operator=(Worker&& o) noexcept {
    std::swap(fd_, o.fd_), std::swap(id_, o.id_), std::swap(seq_, o.seq_), std::swap(in_, o.in_),
        std::swap(pos_, o.pos_);
    std::swap(fds_, o.fds_), std::swap(servers_, o.servers_), std::swap(indexes_, o.indexes_),
        std::swap(leaving_, o.leaving_);
    std::swap(lingering_channel_, o.lingering_channel_);
    std::swap(on_connection_, o.on_connection_), std::swap(on_message_, o.on_message_),
        std::swap(on_disconnect_, o.on_disconnect_);
    std::swap(on_primary_gone_, o.on_primary_gone_),
        std::swap(on_protocol_error_, o.on_protocol_error_);
    return *this;
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() {
    shut();
    if (lingering_channel_ >= 0) close(lingering_channel_);
  }

  int id() const { return id_; }
  bool connected() const { return fd_ >= 0; }
  int channel_fd() const { return fd_; }

  void on_connection(std::function<void(int fd)> cb) { on_connection_ = std::move(cb); }
  void on_message(std::function<void(const std::string& json)> cb) { on_message_ = std::move(cb); }
  void on_disconnect(std::function<void()> cb) { on_disconnect_ = std::move(cb); }
  void on_primary_gone(std::function<void()> cb) { on_primary_gone_ = std::move(cb); }
  void on_protocol_error(std::function<void(const std::string&)> cb) {
    on_protocol_error_ = std::move(cb);
  }

  void online() { send_cluster("\"act\":\"online\""); }

  // Node's server.listen(): asks the primary and waits (serving the channel) for the answer.
  Expected<Server> listen(ListenRequest r) {
    detail::complete_listen_request(r);
    std::string addr = r.address.empty() ? "null" : json::quote(r.address);
    int index =
        indexes_[addr + ":" + std::to_string(r.port) + ":" + std::to_string(r.address_type)]++;
    std::string fields =
        "\"index\":" + std::to_string(index) + ",\"data\":null,\"address\":" + addr + ",\"port\":";
    std::string tail = ",\"addressType\":" + std::to_string(r.address_type) +
                       ",\"flags\":0,\"backlog\":" + std::to_string(r.backlog);
    int fd = -1;
    std::optional<json::Value> reply =
        request("\"act\":\"queryServer\"," + fields + std::to_string(r.port) + tail, fd);
    if (!reply) return Error{0, "the channel closed before the primary answered queryServer"};
    Server s;
    const json::Value* err = reply->get("errno");
    const json::Value* key = reply->get("key");
    s.key = key ? json::dump(*key) : "null";
    s.listen_fd = fd;
    s.port = r.port;
    int code = err ? static_cast<int>(err->as_int()) : 0;
    if (fd >= 0 && !code &&
        (::listen(fd, r.backlog) < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0))
      code = -errno;  // the primary may hand over a bound socket that is not yet listening
    if (fd >= 0 && !code) s.port = detail::local_port(fd, r.port);
    const json::Value* name = reply->get("sockname");
    const json::Value* p = name ? name->get("port") : nullptr;
    if (fd < 0 && p) s.port = static_cast<int>(p->as_int());
    if (fd < 0 && !code && r.port > 0 && p && s.port != r.port)
      code = -EADDRINUSE;  // Node's checkBindError
    if (code) {
      if (fd >= 0) close(fd);
      dispatch_buffered();
      std::string where =
          r.address.empty() ? std::to_string(r.port) : r.address + ":" + std::to_string(r.port);
      return Error{code, "listen " + where + ": " + std::strerror(-code) + " (" +
                             std::to_string(code) + ")"};
    }
    servers_.push_back(s);
    send_cluster("\"act\":\"listening\"," + fields + std::to_string(s.port) + tail);
    dispatch_buffered();  // e.g. a newconn that came right behind the reply
    return s;
  }

  // Node's server.close() for one server.
  void close_server(const Server& s) {
    for (size_t i = 0; i < servers_.size(); ++i)
      if (servers_[i].key == s.key && servers_[i].listen_fd == s.listen_fd) {
        send_cluster("\"act\":\"close\",\"key\":" + servers_[i].key);
        if (servers_[i].listen_fd >= 0) close(servers_[i].listen_fd);
        servers_.erase(servers_.begin() + static_cast<long>(i));
        return;
      }
  }

  // Node's process.send(): any JSON value except internal NODE_* messages. False if the
  // text is not valid JSON or the channel is closed.
  bool send_raw(std::string_view json_text) {
    std::optional<std::string> line = json::minify(json_text);
    if (!line || is_internal(*json::parse(*line))) return false;
    return write_line(*line);
  }

  // Node's cluster.worker.disconnect(): close servers, tell the primary this exit is
  // voluntary, wait for its ack, close the channel, then on_disconnect.
  void disconnect() {
    if (!connected() || leaving_) return;
    leaving_ = true;
    close_servers();
    int unused = -1;
    request("\"act\":\"exitedAfterDisconnect\"", unused);
    finish_disconnect();
  }

  // For an app's own poll loop: poll these fds for POLLIN; call on_readable(fd) when one is.
  std::vector<int> watch_fds() const {
    std::vector<int> out;
    if (fd_ < 0) return out;
    out.push_back(fd_);
    for (auto& s : servers_)
      if (s.listen_fd >= 0 && on_connection_) out.push_back(s.listen_fd);
    return out;
  }
  void on_readable(int fd) {
    if (fd == fd_) return process_channel();
    for (auto& s : servers_)
      if (s.listen_fd == fd) return accept_on(fd);
  }

  // Reads what the channel has (non-blocking) and dispatches every complete message.
  void process_channel() {
    if (fd_ < 0) return;
    ssize_t n = detail::receive(fd_, in_, fds_);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) return channel_lost();
    dispatch_buffered();
  }

  // A blocking loop for simple workers: serves the channel (and shared listening
  // sockets) until the channel closes.
  void run() {
    while (connected()) {
      std::vector<pollfd> p;
      for (int fd : watch_fds()) p.push_back(pollfd{fd, POLLIN, 0});
      if (poll(p.data(), p.size(), -1) < 0 && errno != EINTR) return;
      for (auto& x : p)
        if (x.revents) on_readable(x.fd);
    }
  }

 private:
  Worker(int fd, int id) : fd_(fd), id_(id) {}

  int fd_ = -1;
  int id_ = 0;
  long long seq_ = 0;  // Node's per-sender NODE_CLUSTER sequence number
  std::string in_;
  size_t pos_ = 0;
  std::deque<int> fds_;
  std::vector<Server> servers_;
  std::map<std::string, int> indexes_;
  bool leaving_ = false;
  int lingering_channel_ = -1;  // the channel after the primary's disconnect, closed at exit
  long long awaited_ = -1;
  std::optional<json::Value> reply_;
  int reply_fd_ = -1;
  std::function<void(int)> on_connection_;
  std::function<void(const std::string&)> on_message_;
  std::function<void()> on_disconnect_, on_primary_gone_;
  std::function<void(const std::string&)> on_protocol_error_;

  bool write_line(std::string line) {
    line += '\n';
    return detail::write_all(fd_, line);
  }
  long long send_cluster(const std::string& fields) {
    long long seq = seq_++;
    write_line("{\"cmd\":\"NODE_CLUSTER\"," + fields + ",\"seq\":" + std::to_string(seq) + "}");
    return seq;
  }
  // Sends a NODE_CLUSTER message and serves the channel until the reply acking it.
  std::optional<json::Value> request(const std::string& fields, int& fd) {
    awaited_ = send_cluster(fields);
    reply_.reset();
    dispatch_buffered();  // called from a callback, the reply may be read already
    while (!reply_ && fd_ >= 0) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
      process_channel();
    }
    awaited_ = -1;
    fd = reply_ ? reply_fd_ : -1;
    return std::exchange(reply_, std::nullopt);
  }

  // Dispatches the complete lines read so far. Stops once an awaited reply is in, so that
  // listen() registers its server before a newconn read in the same chunk is looked at
  // (Node handles each message only after the previous one's callback ran).
  void dispatch_buffered() {
    size_t nl;
    while (fd_ >= 0 && !reply_ && (nl = in_.find('\n', pos_)) != std::string::npos) {
      if (nl - pos_ > kMaxLine)
        return protocol_error("message longer than " + std::to_string(kMaxLine) + " bytes");
      std::string line = in_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      dispatch(line);  // may re-enter process_channel() (disconnect from a callback)
    }
    if (fd_ < 0) return;
    in_.erase(0, pos_);
    pos_ = 0;
    if (in_.size() > kMaxLine)
      protocol_error("message longer than " + std::to_string(kMaxLine) + " bytes");
  }

  void dispatch(const std::string& line) {
    std::optional<json::Value> m = json::parse(line);
    if (!m) return protocol_error("invalid JSON on the channel: " + line.substr(0, 200));
    if (!is_internal(*m)) {
      if (on_message_) on_message_(line);
      return;
    }
    const std::string& cmd = m->get("cmd")->s;
    if (cmd == "NODE_CLUSTER") return cluster_message(*m, -1);
    if (cmd != "NODE_HANDLE") return;  // ACK/NACK: we never send handles
    if (fds_.empty()) {
      write_line("{\"cmd\":\"NODE_HANDLE_NACK\"}");  // Node: the handle got lost, send it again
      return;
    }
    int fd = fds_.front();
    fds_.pop_front();
    write_line("{\"cmd\":\"NODE_HANDLE_ACK\"}");  // always, before the inner message
    const json::Value* inner = m->get("msg");
    const json::Value* icmd = inner ? inner->get("cmd") : nullptr;
    if (icmd && icmd->s == "NODE_CLUSTER")
      cluster_message(*inner, fd);
    else
      close(fd);
  }

  void cluster_message(const json::Value& m, int fd) {
    const json::Value* ack = m.get("ack");
    const json::Value* act = m.get("act");
    if (ack && awaited_ >= 0 && ack->as_int(-1) == awaited_) {
      reply_ = m;
      reply_fd_ = fd;
    } else if (act && act->s == "newconn") {
      newconn(m, fd);
    } else if (act && act->s == "disconnect") {
      if (fd >= 0) close(fd);
      if (!leaving_) {
        leaving_ = true;
        close_servers();
        // As Node's child.js: the channel closes once the work in flight is
        // done (here: at exit), since the primary sends stop_signal when it
        // closes. connected() is false from now on.
        lingering_channel_ = fd_;
        fd_ = -1;
        finish_disconnect();
      }
    } else if (fd >= 0) {
      close(fd);
    }
  }

  // Node's onconnection() in child.js: acks before handing the connection on.
  void newconn(const json::Value& m, int fd) {
    const json::Value* key = m.get("key");
    const json::Value* seq = m.get("seq");
    std::string k = key ? json::dump(*key) : "";
    bool accepted = fd >= 0 && on_connection_ && !leaving_;
    bool known = false;
    for (auto& s : servers_) known = known || (s.round_robin() && s.key == k);
    accepted = accepted && known;
    send_cluster("\"ack\":" + (seq ? json::dump(*seq) : "null") +
                 ",\"accepted\":" + (accepted ? "true" : "false"));
    if (!accepted) {
      if (fd >= 0) close(fd);
      return;
    }
    int fl = fcntl(fd, F_GETFL);
    if (!(fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    on_connection_(fd);
  }

  void accept_on(int lfd) {
    for (int i = 0; i < 64 && on_connection_; ++i) {  // bounded, so the channel is not starved
      int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;  // EAGAIN: another worker took it (shared sockets wake everyone)
      on_connection_(c);
    }
  }

  void close_servers() {
    for (auto& s : servers_) {
      send_cluster("\"act\":\"close\",\"key\":" + s.key);
      if (s.listen_fd >= 0) close(s.listen_fd);
    }
    servers_.clear();
  }
  void finish_disconnect() {
    shut();
    if (on_disconnect_) on_disconnect_();
  }
  void channel_lost() {
    bool expected = leaving_;
    shut();
    if (expected) return;
    if (on_primary_gone_) return on_primary_gone_();
    std::exit(0);  // Node: "primary went away", exit at once with success
  }
  void protocol_error(const std::string& what) {
    shut();
    if (on_protocol_error_) return on_protocol_error_(what);
    std::fprintf(stderr, "muster worker %d: protocol error: %s\n", id_, what.c_str());
    std::exit(1);
  }
  void shut() {
    for (auto& s : servers_)
      if (s.listen_fd >= 0) close(s.listen_fd);
    servers_.clear();
    for (int fd : fds_) close(fd);
    fds_.clear();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    in_.clear();
    pos_ = 0;
  }
};

}  // namespace muster
