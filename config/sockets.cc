// The [sockets.NAME] tables: daemon-owned listening sockets.
#include "config/sockets.h"

#include <algorithm>
#include <string_view>

namespace muster::config::detail {
namespace fs = std::filesystem;
namespace {

// One socket as read, with where its address was written (nullptr when
// `listen` is missing or bad) for errors about the address.
struct ReadSocket {
  SocketConfig socket;
  const toml::node* listen = nullptr;
};

// Reads the required `listen` key into `read`.
void read_listen(Section& s, const fs::path& dir, ReadSocket& read) {
  const toml::node* node = s.find("listen");
  if (node == nullptr) {
    s.errors().add(
        s.table().source(), s.path_of("listen"),
        R"(required key is missing: the address to listen on, like listen = "0.0.0.0:8000")");
    return;
  }
  const toml::value<std::string>* text = node->as_string();
  if (text == nullptr) {
    s.wrong_type(*node, "listen", R"(an address like "0.0.0.0:8000" or "unix:/run/web.sock")");
    return;
  }
  auto parsed = parse_listen(text->get(), dir.string());
  if (!parsed) {
    s.error(*node, "listen", parsed.error().message);
    return;
  }
  const SocketConfig& address = *parsed;
  read.socket.listen = address.listen;
  read.socket.family = address.family;
  read.socket.host = address.host;
  read.socket.port = address.port;
  read.socket.path = address.path;
  read.listen = node;
}

// The socket file's mode, owner and group ("" keeps musterd's); a TCP socket
// has no file. Whether the owner and group exist is asked of the host later
// (host_checks.cc).
void read_file_keys(Section& s, ReadSocket& read) {
  SocketConfig& socket = read.socket;
  bool tcp = read.listen != nullptr && socket.family != SocketConfig::Family::unix_path;
  auto check = [&](std::string_view key, bool read_ok) {
    const toml::node* node = s.find(key);
    if (node == nullptr || !read_ok || !tcp) return;
    s.error(*node, key, "only used with unix sockets, but listen is " + quote(socket.listen));
  };
  check("mode", s.read_mode("mode", socket.mode));
  check("owner", s.read_string("owner", socket.owner));
  check("group", s.read_string("group", socket.group));
}

ReadSocket read_socket(Section& s, const std::string& name, const fs::path& dir) {
  ReadSocket read;
  read.socket.name = name;
  read_listen(s, dir, read);

  std::int64_t backlog = read.socket.backlog;
  if (s.read_integer("backlog", 1, 65535, "an integer from 1 to 65535", backlog)) {
    read.socket.backlog = static_cast<int>(backlog);
  }

  s.read_bool("reuseport", read.socket.reuseport);
  s.read_bool("nonblocking", read.socket.nonblocking);
  read_file_keys(s, read);
  s.report_unknown_keys();
  return read;
}

// Port 0 asks the kernel for a fresh port at each bind, so those never clash.
bool same_address(const SocketConfig& a, const SocketConfig& b) {
  if (a.family != b.family) return false;
  if (a.family == SocketConfig::Family::unix_path) return a.path == b.path;
  return a.port != 0 && a.port == b.port && a.host == b.host;
}

// The second of two sockets on one address is reported, naming the first.
void check_addresses(const std::vector<ReadSocket>& read, ErrorList& errors) {
  for (std::size_t i = 0; i < read.size(); ++i) {
    if (read[i].listen == nullptr) continue;
    for (std::size_t j = 0; j < i; ++j) {
      if (read[j].listen == nullptr || !same_address(read[i].socket, read[j].socket)) continue;
      errors.add(read[i].listen->source(), "sockets." + read[i].socket.name + ".listen",
                 "same address as sockets." + read[j].socket.name + " (" +
                     quote(read[j].socket.listen) + ")");
      break;
    }
  }
}

}  // namespace

void read_sockets(const toml::node& sockets, const fs::path& dir, ErrorList& errors,
                  std::vector<SocketConfig>& out) {
  const toml::table* table = sockets.as_table();
  if (table == nullptr) {
    errors.add(
        sockets.source(), "sockets",
        std::string("expected a table of sockets like [sockets.web], got ") + type_name(sockets));
    return;
  }
  std::vector<ReadSocket> read;
  for (const auto& [key, node] : in_file_order(*table)) {
    std::string name(key->str());
    std::string path = "sockets." + name;
    const toml::table* socket_table = node->as_table();
    if (socket_table == nullptr) {
      errors.add(node->source(), path, std::string("expected a table, got ") + type_name(*node));
      read.emplace_back().socket.name = name;
      continue;
    }
    if (!valid_name(name)) {
      errors.add(key->source(), path,
                 "expected a socket name of letters, digits, '_', '.' and '-', got " + quote(name));
    }
    Section section(*socket_table, path, errors);
    read.push_back(read_socket(section, name, dir));
  }
  check_addresses(read, errors);
  for (ReadSocket& socket : read) out.push_back(std::move(socket.socket));
}

namespace {

// The index of `socket` in the app's sockets; app.sockets.size() if absent.
std::size_t index_of(const AppConfig& app, const std::string& socket) {
  return static_cast<std::size_t>(std::find(app.sockets.begin(), app.sockets.end(), socket) -
                                  app.sockets.begin());
}

}  // namespace

void check_blocking_sockets(const toml::table& root, const Config& config, ErrorList& errors) {
  for (const SocketConfig& socket : config.sockets) {
    if (socket.nonblocking) continue;
    auto blocking = std::find_if(config.apps.begin(), config.apps.end(), [&](const AppConfig& app) {
      return app.protocol == Protocol::systemd && index_of(app, socket.name) < app.sockets.size();
    });
    if (blocking == config.apps.end()) continue;
    for (const AppConfig& app : config.apps) {
      std::size_t index = index_of(app, socket.name);
      if (app.protocol != Protocol::node || index == app.sockets.size()) continue;
      const toml::node* at = root["apps"][app.name]["sockets"][index].node();
      if (at == nullptr) continue;
      errors.add(at->source(), "apps." + app.name + ".sockets[" + std::to_string(index) + "]",
                 "sockets." + socket.name + " is also used by apps." + blocking->name +
                     R"( (protocol "systemd"), whose workers get it blocking, but node workers )"
                     "need it non-blocking (musterd accepts on it for scheduling \"rr\", libuv "
                     "otherwise), and O_NONBLOCK is shared by every holder of a socket: set "
                     "nonblocking = true in [sockets." +
                     socket.name +
                     "] (systemd's "
                     "NonBlocking=yes) or give the apps separate sockets");
    }
  }
}

}  // namespace muster::config::detail
