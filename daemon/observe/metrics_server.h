// metrics_listen: a small HTTP/1.1 server (Boost.Beast) answering GET and HEAD
// for the paths its Route knows: /metrics (the Prometheus text of
// collect_metrics()), /healthz and /readyz (health.h). Bounded: request
// headers 8 KiB, no bodies, 10 s per request, 32 connections at once; anything
// else gets 400/404/405 or the connection closed. Answered on the event loop,
// so a stuck loop fails the liveness probe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "daemon/network/accept_pause.h"

namespace muster::daemon {

class MetricsServer {
 public:
  struct Reply {
    unsigned status = 200;  // 200, 404, 503...
    std::string body;
    bool prometheus = false;  // the Prometheus text content type, else plain text
  };
  // The answer for a GET of `path` (without the query) with `query` (after '?').
  using Route = std::function<Reply(std::string_view path, std::string_view query)>;

  MetricsServer(boost::asio::io_context& io, Route route);
  ~MetricsServer();

  // Binds `address` and starts serving; the error on failure.
  Result<void> open(const config::SocketConfig& address);
  // Stops accepting and closes every connection.
  void close();
  // An in-place upgrade: the listening fd kept open across the exec (its
  // connections are closed), or -1; and the new musterd's side.
  int hand_over();
  Result<void> adopt(const config::SocketConfig& address, int fd);
  // "127.0.0.1:9464" once open (the real port if 0 was asked).
  const std::string& bound() const { return bound_; }

  struct Shared;  // what connections need, alive as long as any of them

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  AcceptPause pause_;  // after a failed accept (EMFILE): no busy loop
  std::shared_ptr<Shared> shared_;
  std::string bound_;
};

}  // namespace muster::daemon
