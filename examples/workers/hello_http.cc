// muster-hello: a small HTTP/1.1 server on muster's C++ worker library
// (include/muster/worker.hpp). Every request gets "Hello from worker <id>\n".
//
//   muster-hello [PORT [HOST]]      defaults: $PORT or 8000, $HOST or any address
//
// Run it under musterd (protocol = "node"); alone it explains that and exits 2.
// It serves many connections at once on non-blocking sockets and one poll() loop,
// keeps connections alive (HTTP/1.1 default, HTTP/1.0 with "Connection: keep-alive"),
// and honours "Connection: close". User messages are answered with {"echo": msg};
// the message "disconnect" makes the worker leave on its own (Node's
// cluster.worker.disconnect()). On disconnect it stops taking connections, answers
// the requests in flight with "Connection: close", closes idle connections, and exits 0.
#include <muster/worker.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr size_t kMaxHead = 64 * 1024;
constexpr auto kFreshGrace =
    std::chrono::seconds(2);  // draining: time for a new connection's first request

struct Connection {
  std::string in, out;
  bool close_after = false;  // close once `out` is written
  int served = 0;
};

// A header's value in a lower-cased request head, or "".
std::string header(const std::string& head, const std::string& name) {
  size_t at = head.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t from = at + name.size() + 3, to = head.find("\r\n", from);
  return head.substr(from, to == std::string::npos ? std::string::npos : to - from);
}

std::string response(const std::string& status, const std::string& body, bool close) {
  return "HTTP/1.1 " + status +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + body;
}

// Answers every complete request in c.in (pipelining included).
void serve_requests(Connection& c, const std::string& body, bool draining) {
  while (!c.close_after) {
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c.in.size() > kMaxHead)
        c.out += response("431 Request Header Fields Too Large", "", true), c.close_after = true;
      return;
    }
    std::string head = c.in.substr(0, end);
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    size_t line_end = head.find("\r\n");
    bool http10 = head.substr(0, line_end).find("http/1.0") != std::string::npos;
    std::string connection = header(head, "connection");
    bool keep_alive = http10 ? connection.find("keep-alive") != std::string::npos
                             : connection.find("close") == std::string::npos;
    if (!header(head, "transfer-encoding").empty()) {
      c.out += response("501 Not Implemented", "chunked request bodies are not supported\n", true);
      c.close_after = true;
      return;
    }
    size_t length = std::strtoul(header(head, "content-length").c_str(), nullptr, 10);
    if (c.in.size() < end + 4 + length) return;  // the body is still coming
    c.in.erase(0, end + 4 + length);
    c.close_after = !keep_alive || draining;
    c.out += response("200 OK", body, c.close_after);
    ++c.served;
  }
}

// Reads what the peer sent and writes what we can; false = close the connection.
bool pump(int fd, Connection& c, short revents, const std::string& body, bool draining) {
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    char buf[16384];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) c.in.append(buf, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    serve_requests(c, body, draining);
    if (n == 0) c.close_after = true;  // the peer half-closed: answer what it asked, then close
  }
  while (!c.out.empty()) {
    ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.out.erase(0, static_cast<size_t>(n));
  }
  return !c.close_after;
}

// While draining: idle keep-alive connections go now; new ones get a moment
// for their request.
void close_idle(std::map<int, Connection>& connections,
                std::chrono::steady_clock::time_point drain_start) {
  bool late = std::chrono::steady_clock::now() - drain_start > kFreshGrace;
  for (auto it = connections.begin(); it != connections.end();) {
    bool idle = it->second.in.empty() && it->second.out.empty() && (it->second.served > 0 || late);
    if (idle) close(it->first);
    it = idle ? connections.erase(it) : std::next(it);
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto w = muster::Worker::from_env();
  if (!w) {
    std::fprintf(stderr, "muster-hello: %s\n", w.error().message.c_str());
    return 2;
  }
  const char* port_env = std::getenv("PORT");
  const char* host_env = std::getenv("HOST");
  int port = std::atoi(argc > 1 ? argv[1] : port_env ? port_env : "8000");
  std::string host = argc > 2 ? argv[2] : host_env ? host_env : "";
  std::string body = "Hello from worker " + std::to_string(w->id()) + "\n";

  std::map<int, Connection> connections;
  bool draining = false;
  auto drain_start = std::chrono::steady_clock::now();
  w->on_connection([&](int fd) { connections[fd]; });
  w->on_message([&](const std::string& m) {
    if (m == "\"disconnect\"")
      w->disconnect();
    else
      w->send_raw("{\"echo\":" + m + "}");
  });
  w->on_disconnect([&] {
    draining = true;
    drain_start = std::chrono::steady_clock::now();
  });
  w->online();
  auto server = w->listen({host, port});
  if (!server) {
    std::fprintf(stderr, "muster-hello: %s\n", server.error().message.c_str());
    return 1;
  }

  std::vector<pollfd> fds;
  while (w->connected() || !connections.empty()) {
    if (draining) close_idle(connections, drain_start);
    fds.clear();
    for (int fd : w->watch_fds()) fds.push_back(pollfd{fd, POLLIN, 0});
    size_t first_connection = fds.size();
    for (auto& [fd, c] : connections)
      fds.push_back(pollfd{fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
    if (poll(fds.data(), fds.size(), draining ? 250 : -1) < 0 && errno != EINTR) return 1;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      if (i < first_connection) {
        w->on_readable(fds[i].fd);
        continue;
      }
      auto it = connections.find(fds[i].fd);
      if (it != connections.end() && !pump(it->first, it->second, fds[i].revents, body, draining)) {
        close(it->first);
        connections.erase(it);
      }
    }
  }
  return 0;
}
