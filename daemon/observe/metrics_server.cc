#include "daemon/observe/metrics_server.h"

#include <fcntl.h>

#include <spdlog/spdlog.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>

#include "base/version.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/network/listen_socket.h"

namespace muster::daemon {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kMaxConnections = 32;
constexpr std::size_t kMaxHeader = 8 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
// What a scraper shed at the fd limit reads (AcceptPause).
constexpr std::string_view kOutOfFds =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 35\r\n"
    "Connection: close\r\n\r\nmusterd is out of file descriptors\n";
}  // namespace

struct MetricsServer::Shared {
  Route route;
  std::set<std::shared_ptr<class MetricsConnection>> connections;
};

// One HTTP connection: read a request, answer it, repeat while keep-alive.
class MetricsConnection : public std::enable_shared_from_this<MetricsConnection> {
 public:
  MetricsConnection(tcp::socket socket, std::weak_ptr<MetricsServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeader);
    parser_->body_limit(0);
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       try {
                         self->on_read(ec);
                       } catch (const std::exception& e) {
                         memory_reserve::release_if_out_of_memory(e);
                         // Out of memory, say: this request fails, not musterd.
                         spdlog::error("metrics: answering a request failed: {}", e.what());
                         self->finish();
                       }
                     });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::eof)
      return finish();
    if (ec) {
      // Malformed, too large, or with a body: say so once and close.
      respond(http::status::bad_request, "bad request: " + ec.message() + "\n", false, 11);
      return;
    }
    const auto& request = parser_->get();
    bool keep_alive = request.keep_alive();
    std::string_view target(request.target().data(), request.target().size());
    std::size_t question = target.find('?');
    std::string_view path = target.substr(0, question);
    std::string_view query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    auto shared = shared_.lock();
    if (!shared) return finish();
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      respond(http::status::method_not_allowed, "only GET and HEAD\n", keep_alive,
              request.version());
      return;
    }
    MetricsServer::Reply reply;
    try {
      reply = shared->route(path, query);
    } catch (const std::exception& e) {
      memory_reserve::release_if_out_of_memory(e);
      spdlog::error("metrics: answering {} failed: {}", path, e.what());
      reply = {500, std::string("internal error: ") + e.what() + "\n", false};
    }
    respond(static_cast<http::status>(reply.status), std::move(reply.body), keep_alive,
            request.version(), request.method() == http::verb::head, reply.prometheus);
  }

  void respond(http::status status, std::string body, bool keep_alive, unsigned version,
               bool head = false, bool prometheus = false) {
    auto response = std::make_shared<http::response<http::string_body>>(status, version);
    response->set(http::field::server, std::string("musterd/") + muster::version());
    response->set(http::field::content_type,
                  prometheus ? kContentType : "text/plain; charset=utf-8");
    // Probes and scrapers must see the state now, never a cached answer.
    response->set(http::field::cache_control, "no-store");
    if (status == http::status::method_not_allowed) response->set(http::field::allow, "GET, HEAD");
    response->keep_alive(keep_alive);
    response->body() = std::move(body);
    response->prepare_payload();
    if (head) response->body().clear();  // Content-Length stays that of GET
    stream_.expires_after(kRequestTimeout);
    http::async_write(
        stream_, *response,
        [self = shared_from_this(), response, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) return self->finish();
          self->read();
        });
  }

  void finish() {
    close();
    if (auto shared = shared_.lock()) shared->connections.erase(shared_from_this());
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{kMaxHeader};
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::weak_ptr<MetricsServer::Shared> shared_;
};

MetricsServer::MetricsServer(asio::io_context& io, Route route)
    : acceptor_(io),
      pause_(io, Listener::metrics, "metrics", [this] { accept(); }),
      shared_(std::make_shared<Shared>()) {
  shared_->route = std::move(route);
}

MetricsServer::~MetricsServer() { close(); }

Result<void> MetricsServer::open(const config::SocketConfig& address) {
  auto result = bind_listen(address);
  if (!result) return result.error().prefixed("metrics_listen: ");
  if (auto adopted = adopt(address, result->fd.release()); !adopted) return adopted;
  spdlog::info("metrics at http://{}/metrics", bound_);
  return {};
}

int MetricsServer::hand_over() {
  if (!acceptor_.is_open()) return -1;
  pause_.cancel();
  int fd = acceptor_.release();
  close();
  return fd;
}

Result<void> MetricsServer::adopt(const config::SocketConfig& address, int fd) {
  bound_ = bound_address(fd);
  auto protocol = address.family == config::SocketConfig::Family::ipv6 ? tcp::v6() : tcp::v4();
  boost::system::error_code ec;
  acceptor_.assign(protocol, fd, ec);
  if (ec) return Error{"metrics_listen: " + ec.message(), ec.value()};
  accept();
  return {};
}

void MetricsServer::close() {
  pause_.cancel();
  if (acceptor_.is_open()) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  auto connections = std::move(shared_->connections);
  shared_->connections.clear();
  for (const auto& c : connections) c->close();
}

void MetricsServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      if (!pause_.failed(ec.value(), acceptor_.native_handle(), kOutOfFds)) accept();
      return;
    }
    pause_.accepted();
    if (shared_->connections.size() >= kMaxConnections) {
      spdlog::warn("metrics: {} connections open; refusing another", kMaxConnections);
    } else {
      try {
        // Asio's accept() does not set close-on-exec; workers must not inherit it.
        ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
        auto connection = std::make_shared<MetricsConnection>(std::move(socket), shared_);
        shared_->connections.insert(connection);
        connection->read();
      } catch (const std::exception& e) {
        memory_reserve::release_if_out_of_memory(e);
        spdlog::error("metrics: cannot take a new connection: {}", e.what());
      }
    }
    accept();
  });
}

}  // namespace muster::daemon
