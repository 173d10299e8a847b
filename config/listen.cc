// A socket's listen address: "HOST:PORT", "[IPV6]:PORT" or "unix:PATH".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <string_view>

#include "config/section.h"

namespace muster::config {
namespace {

using detail::quote;

constexpr std::string_view kForms = R"("HOST:PORT", "[IPV6]:PORT" or "unix:PATH")";

Error expected(std::string_view what, std::string_view got) {
  return Error{"expected " + std::string(what) + ", got " + quote(got)};
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + unsigned(c - '0');
    if (port > 65535) return std::nullopt;
  }
  return static_cast<std::uint16_t>(port);
}

// The canonical text of a numeric address ("::0:1" -> "::1"), so that equal
// addresses compare equal; nullopt if `text` is not one. No name lookup.
std::optional<std::string> numeric_host(int family, const std::string& text) {
  unsigned char address[sizeof(in6_addr)];
  if (inet_pton(family, text.c_str(), address) != 1) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN];
  if (inet_ntop(family, address, buffer, sizeof buffer) == nullptr) return std::nullopt;
  return std::string(buffer);
}

Result<SocketConfig> parse_unix(std::string_view path, const std::string& base_dir,
                                SocketConfig socket) {
  if (path.empty()) return expected(R"(a path after "unix:")", socket.listen);
  socket.family = SocketConfig::Family::unix_path;
  socket.path = detail::resolve_path(base_dir, path);
  if (auto too_long = detail::unix_path_too_long(socket.path)) return Error{*too_long};
  return socket;
}

Result<SocketConfig> parse_ipv6(std::string_view text, SocketConfig socket) {
  std::size_t close = text.find(']');
  if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
    return expected(R"("[IPV6]:PORT" like "[::1]:8000")", text);
  }
  std::optional<std::string> host = numeric_host(AF_INET6, std::string(text.substr(1, close - 1)));
  if (!host) {
    return expected("a numeric IPv6 address between the brackets", text.substr(0, close + 1));
  }
  std::optional<std::uint16_t> port = parse_port(text.substr(close + 2));
  if (!port) return expected("a port from 0 to 65535 after ':'", text.substr(close + 2));
  socket.family = SocketConfig::Family::ipv6;
  socket.host = *host;
  socket.port = *port;
  return socket;
}

Result<SocketConfig> parse_ipv4(std::string_view text, SocketConfig socket) {
  std::size_t colon = text.rfind(':');
  std::string_view host_text = text.substr(0, colon);
  if (host_text.find(':') != std::string_view::npos) {
    return expected(std::string(kForms) + " (IPv6 addresses go in brackets)", text);
  }
  std::optional<std::string> host =
      host_text == "localhost" ? "127.0.0.1" : numeric_host(AF_INET, std::string(host_text));
  if (!host) {
    return expected(
        R"(a numeric IPv4 address or "localhost" before the port (names are not resolved))",
        host_text);
  }
  std::optional<std::uint16_t> port = parse_port(text.substr(colon + 1));
  if (!port) return expected("a port from 0 to 65535 after ':'", text.substr(colon + 1));
  socket.family = SocketConfig::Family::ipv4;
  socket.host = *host;
  socket.port = *port;
  return socket;
}

}  // namespace

namespace detail {

std::optional<std::string> unix_path_too_long(std::string_view path) {
  // sun_path holds the path and its terminating NUL.
  constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;
  if (path.size() <= kMaxUnixPath) return std::nullopt;
  return "expected a unix socket path of at most " + std::to_string(kMaxUnixPath) + " bytes, got " +
         std::to_string(path.size()) + " bytes: " + quote(path);
}

}  // namespace detail

Result<SocketConfig> parse_listen(const std::string& text, const std::string& base_dir) {
  SocketConfig socket;
  socket.listen = text;
  std::string_view view = text;
  // A NUL would silently cut the address short when handed to the kernel.
  if (view.find('\0') != std::string_view::npos) return expected(kForms, text);
  if (view.starts_with("unix:")) return parse_unix(view.substr(5), base_dir, socket);
  if (view.starts_with("[")) return parse_ipv6(view, socket);
  if (view.find(':') != std::string_view::npos) return parse_ipv4(view, socket);
  return expected(kForms, text);
}

}  // namespace muster::config
