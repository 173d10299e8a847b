#include "daemon/network/listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "daemon/network/rr_handle.h"

namespace muster::daemon {
using config::SocketConfig;

bool set_nonblocking(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  return wanted == flags || ::fcntl(fd, F_SETFL, wanted) == 0;
}

namespace {

Error bind_error(const SocketConfig& s, const char* step) {
  int e = errno;
  return Error{std::string("cannot ") + step + " " + s.listen + ": " + std::strerror(e), e};
}

// The owner and group `s` names, -1 for "unchanged".
Result<std::pair<uid_t, gid_t>> owner_of(const SocketConfig& s) {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!s.owner.empty()) {
    struct passwd* pw = ::getpwnam(s.owner.c_str());
    if (!pw) {
      errno = ENOENT;
      return bind_error(s, "find the owner of");
    }
    uid = pw->pw_uid;
  }
  if (!s.group.empty()) {
    struct group* gr = ::getgrnam(s.group.c_str());
    if (!gr) {
      errno = ENOENT;
      return bind_error(s, "find the group of");
    }
    gid = gr->gr_gid;
  }
  return std::pair{uid, gid};
}

Result<SocketFile> bind_unix(const SocketConfig& s, int fd) {
  auto owner = owner_of(s);
  if (!owner) return owner.error();
  auto [uid, gid] = *owner;
  auto file = SocketFile::bind(fd, s.path, s.mode & 0777, uid, gid);
  if (!file) return file.error().prefixed("cannot bind " + s.listen + ": ");
  return std::move(file).value();
}

}  // namespace

Result<BoundSocket> bind_listen(const SocketConfig& s) {
  int domain = s.family == SocketConfig::Family::ipv4   ? AF_INET
               : s.family == SocketConfig::Family::ipv6 ? AF_INET6
                                                        : AF_UNIX;
  int type = s.datagram ? SOCK_DGRAM : SOCK_STREAM;
  BoundSocket bound{ipc::UniqueFd(::socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)), {}};
  const int fd = bound.fd.get();
  if (fd < 0) return bind_error(s, "create a socket for");
  if (domain == AF_UNIX) {
    auto file = bind_unix(s, fd);
    if (!file) return file.error();
    bound.file = std::move(file).value();
  } else {
    sockaddr_storage addr{};
    socklen_t len = 0;
    int one = 1;
    // libuv sets SO_REUSEADDR on every TCP server, on UDP only when asked
    // (UV_UDP_REUSEADDR, dgram's reuseAddr).
    if (!s.datagram || s.reuseaddr) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s.reuseport && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
      return bind_error(s, "set SO_REUSEPORT on");
    if (domain == AF_INET6) {
      // "[::]:PORT" takes IPv4 too (dual stack); any other IPv6 address only
      // itself. Sockets bound for Node workers say it themselves.
      int v6only = s.ipv6_only.value_or(s.host != "::") ? 1 : 0;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (domain == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      in->sin_family = AF_INET;
      in->sin_port = htons(s.port);
      if (::inet_pton(AF_INET, s.host.c_str(), &in->sin_addr) != 1) {
        errno = EINVAL;
        return bind_error(s, "parse the address of");
      }
      len = sizeof(sockaddr_in);
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(s.port);
      if (::inet_pton(AF_INET6, s.host.c_str(), &in6->sin6_addr) != 1) {
        errno = EINVAL;
        return bind_error(s, "parse the address of");
      }
      len = sizeof(sockaddr_in6);
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) return bind_error(s, "bind");
  }
  if (!s.datagram && ::listen(fd, s.backlog) < 0) {
    Error err = bind_error(s, "listen on");
    if (bound.file) bound.file->remove();
    return err;
  }
  return bound;
}

std::string bound_address(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) return "?";
  char host[INET6_ADDRSTRLEN] = {};
  switch (addr.ss_family) {
    case AF_INET: {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
      return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
    }
    case AF_INET6: {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
      return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    case AF_UNIX: return std::string("unix:") + reinterpret_cast<sockaddr_un*>(&addr)->sun_path;
    default: return "?";
  }
}

ListenSocket::ListenSocket(SocketConfig config, BoundSocket bound, bool on_demand)
    : config_(std::move(config)),
      fd_(std::move(bound.fd)),
      file_(std::move(bound.file)),
      bound_(bound_address(fd_.get())),
      on_demand_(on_demand) {
  // A unix socket bound on demand is bound relative to its directory
  // (unix_bind.cc), so the kernel knows only its name; the path is the config's.
  if (config_.family == SocketConfig::Family::unix_path) bound_ = "unix:" + config_.path;
  if (auto colon = bound_.rfind(':');
      colon != std::string::npos && config_.family != SocketConfig::Family::unix_path)
    port_ = static_cast<std::uint16_t>(std::stoi(bound_.substr(colon + 1)));
}

ListenSocket::~ListenSocket() {
  rr_.reset();
  if (file_ && fd_ && !keep_file_) file_->remove();
}

std::shared_ptr<RrHandle> ListenSocket::round_robin(boost::asio::io_context& io,
                                                    const config::AppConfig& app) {
  if (!rr_) {
    rr_ = std::make_shared<RrHandle>(io, *this, app);
    rr_->start();
  }
  return rr_;
}

Result<BoundSocket> SocketTable::open_socket(const SocketConfig& config) {
  auto it = inherited_.find(config.name);
  if (it == inherited_.end()) return bind_listen(config);
  auto fd = std::move(it->second);
  inherited_.erase(it);
  auto adopted = adopt_listen(config, std::move(fd));
  if (!adopted) return Error{adopted.error().message, EINVAL};
  return BoundSocket{std::move(adopted).value(), std::nullopt};
}

void SocketTable::opened(ListenSocket& socket) {
  if (on_open) on_open(socket);
}

Result<void> SocketTable::bind_declared(const std::vector<SocketConfig>& sockets,
                                        const std::vector<std::string>& per_slot_only) {
  std::vector<std::unique_ptr<ListenSocket>> bound;
  for (const auto& s : sockets) {
    if (std::find(per_slot_only.begin(), per_slot_only.end(), s.name) != per_slot_only.end())
      continue;
    bool inherited = inherited_.count(s.name) > 0;
    auto result = open_socket(s);
    if (!result) return result.error().prefixed("sockets." + s.name + ": ");
    bound.push_back(std::make_unique<ListenSocket>(s, std::move(result).value(), false));
    if (inherited) bound.back()->keep_file();
    spdlog::info("socket {} listening on {}{}", s.name, bound.back()->bound(),
                 inherited ? " (from " + inherited_from_ + ")" : "");
  }
  sockets_ = std::move(bound);
  for (auto& socket : sockets_) opened(*socket);
  return {};
}

void SocketTable::add(std::unique_ptr<ListenSocket> socket) {
  sockets_.push_back(std::move(socket));
  opened(*sockets_.back());
}

std::vector<std::string> SocketTable::drop_unused_inherited() {
  std::vector<std::string> names;
  for (auto& [name, fd] : inherited_) names.push_back(name);
  inherited_.clear();
  return names;
}

void SocketTable::keep_files() {
  for (auto& s : sockets_) s->keep_file();
  for (auto& s : retired_) s->keep_file();
}

void SocketTable::stop_accepting(std::function<void()> settled) {
  auto left = std::make_shared<std::size_t>(1);
  auto one_settled = [left, settled = std::move(settled)] {
    if (--*left == 0) settled();
  };
  for (auto* list : {&sockets_, &retired_})
    for (auto& s : *list)
      if (RrHandle* rr = s->round_robin_if_any()) {
        ++*left;
        rr->stop_accepting(one_settled);
      }
  one_settled();
}

void SocketTable::resume_accepting() {
  for (auto* list : {&sockets_, &retired_})
    for (auto& s : *list)
      if (RrHandle* rr = s->round_robin_if_any()) rr->resume_accepting();
}

std::map<std::string, int> SocketTable::handover_fds() const {
  std::map<std::string, int> out;
  for (const auto& s : sockets_) out[s->config().name] = s->fd();
  return out;
}

std::string SocketTable::retired_in_use() const {
  return retired_.empty() ? std::string() : retired_.front()->config().name;
}

namespace {

// The address `fd` listens on equals what `s` asks for.
std::optional<std::string> address_mismatch(const SocketConfig& s, int fd) {
  int type = 0, listening = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
    return "it is not a stream socket";
  len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
    return "it is not listening";
  std::string bound = bound_address(fd);
  std::string wanted;
  switch (s.family) {
    case SocketConfig::Family::unix_path: wanted = "unix:" + s.path; break;
    case SocketConfig::Family::ipv4: wanted = s.host + ":"; break;
    case SocketConfig::Family::ipv6: wanted = "[" + s.host + "]:"; break;
  }
  if (s.family != SocketConfig::Family::unix_path && s.port != 0) wanted += std::to_string(s.port);
  bool same = s.family == SocketConfig::Family::unix_path || s.port != 0
                  ? bound == wanted
                  : bound.rfind(wanted, 0) == 0 && bound.size() > wanted.size();
  if (!same) return "it listens on " + bound + ", but the config says " + s.listen;
  return std::nullopt;
}

}  // namespace

Result<ipc::UniqueFd> adopt_listen(const SocketConfig& s, ipc::UniqueFd fd) {
  if (auto why = address_mismatch(s, fd.get()))
    return Error{"systemd passed a socket named " + s.name +
                 " (LISTEN_FDNAMES) that musterd "
                 "cannot use: " +
                 *why};
  return fd;
}

namespace {
std::string slot_name(const std::string& name, unsigned slot) {
  return name + "#" + std::to_string(slot);
}
}  // namespace

Result<ListenSocket*> SocketTable::slot_socket(const SocketConfig& config, unsigned slot) {
  std::string name = slot_name(config.name, slot);
  if (ListenSocket* s = find(name)) return s;
  SocketConfig c = config;
  c.name = name;
  c.reuseport = true;
  // An ephemeral port is chosen by the first slot's bind; the others join it,
  // now and after any scale to zero.
  if (c.port == 0)
    if (auto it = slot_ports_.find(config.name); it != slot_ports_.end()) c.port = it->second;
  bool inherited = inherited_.count(name) > 0;
  auto result = open_socket(c);
  if (!result) return result.error();
  sockets_.push_back(std::make_unique<ListenSocket>(c, std::move(result).value(), false));
  if (inherited) sockets_.back()->keep_file();
  slot_ports_.emplace(config.name, sockets_.back()->port());
  spdlog::info("socket {} listening on {} (SO_REUSEPORT{})", name, sockets_.back()->bound(),
               inherited ? ", from " + inherited_from_ : "");
  opened(*sockets_.back());
  return sockets_.back().get();
}

void SocketTable::release_slot(const std::string& name, unsigned slot) {
  std::string full = slot_name(name, slot);
  if (on_drop && find(full)) on_drop(full);
  sockets_.erase(std::remove_if(sockets_.begin(), sockets_.end(),
                                [&](auto& s) { return s->config().name == full; }),
                 sockets_.end());
}

void SocketTable::retire(const std::string& name) {
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    const std::string& n = (*it)->config().name;
    if (n == name || n.rfind(name + "#", 0) == 0) {
      if (on_drop) on_drop(n);
      retired_.push_back(std::move(*it));
      it = sockets_.erase(it);
    } else {
      ++it;
    }
  }
}

void SocketTable::sweep_retired() {
  std::erase_if(retired_, [](auto& s) {
    RrHandle* rr = s->round_robin_if_any();
    // Connections still held for a retired address have nowhere to go.
    return !rr || rr->workers() == 0;
  });
}

ListenSocket* SocketTable::find(const std::string& name) {
  for (auto& s : sockets_)
    if (s->config().name == name) return s.get();
  return nullptr;
}

Result<ListenSocket*> SocketTable::resolve_declared(const config::AppConfig& app,
                                                    const ListenQuery& q, unsigned slot,
                                                    const std::vector<SocketConfig>& declared) {
  if (app.scheduling == config::Scheduling::reuseport) {
    for (const auto& name : app.sockets) {
      auto it = std::find_if(declared.begin(), declared.end(),
                             [&](const SocketConfig& c) { return c.name == name; });
      if (it == declared.end()) continue;
      auto port = slot_ports_.find(name);
      if (!declared_answers(*it, port == slot_ports_.end() ? 0 : port->second, q)) continue;
      auto own = slot_socket(*it, slot);
      if (!own) spdlog::warn("{}: {}", app.name, own.error().message);
      return own;
    }
  }
  for (const auto& name : app.sockets)
    if (ListenSocket* s = find(name); s && declared_answers(s->config(), s->port(), q)) return s;
  return nullptr;
}

namespace {
const char* protocol(const SocketConfig& s) {
  if (s.family == SocketConfig::Family::unix_path) return "unix";
  return s.datagram ? "udp" : "tcp";
}
}  // namespace

SocketSnapshot socket_snapshot(const ListenSocket& s) {
  return {s.config().name, s.config().listen, s.bound(), protocol(s.config()), s.on_demand(), ""};
}

std::vector<SocketSnapshot> SocketTable::snapshot() const {
  std::vector<SocketSnapshot> out;
  for (const auto& s : sockets_) out.push_back(socket_snapshot(*s));
  return out;
}

}  // namespace muster::daemon
