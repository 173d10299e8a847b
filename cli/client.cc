#include "cli/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "config/dir_trust.h"

namespace muster::cli {

namespace {

// A reply is one JSON document; status of a big deployment is large, but
// anything past this is not musterd talking.
constexpr std::size_t kMaxReplyLine = 16 * 1024 * 1024;

std::string errno_text(int err) { return std::strerror(err); }

// Why the listener on `fd` is not one to talk to, or nullopt if it is.
std::optional<std::string> untrusted_peer(int fd, const std::string& path,
                                          std::optional<uid_t> daemon_uid) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return "cannot tell who serves " + path + ": " + errno_text(errno);
  if (cred.uid == 0 || cred.uid == ::getuid() || cred.uid == ::geteuid() || cred.uid == daemon_uid)
    return std::nullopt;
  return "refusing to talk to " + path + ": it is served by " + config::describe_uid(cred.uid) +
         ", not by root or you (" + config::describe_uid(::geteuid()) +
         "); if that is the musterd you mean, say so with --daemon-uid " + std::to_string(cred.uid);
}

}  // namespace

Transported<ControlClient> ControlClient::connect(const std::string& path,
                                                  std::optional<uid_t> daemon_uid) {
  auto unreachable = [&](int err) {
    return TransportError{"cannot reach musterd at " + path + ": " + errno_text(err)};
  };
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return unreachable(ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.data(), path.size());

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unreachable(errno);
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    ::close(fd);
    return unreachable(err);
  }
  if (auto why = untrusted_peer(fd, path, daemon_uid)) {
    ::close(fd);
    return TransportError{*why};
  }
  return ControlClient(fd, path);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)) {}

ControlClient& ControlClient::operator=(ControlClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

TransportError ControlClient::error(const std::string& what) const {
  return TransportError{"lost connection to musterd at " + path_ + ": " + what};
}

Transported<std::monostate> ControlClient::send_line(std::string_view line) {
  std::string data(line);
  data += '\n';
  std::size_t sent = 0;
  while (sent < data.size()) {
    // MSG_NOSIGNAL: a daemon that hangs up must not kill us with SIGPIPE.
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error(errno_text(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
  return std::monostate{};
}

Transported<std::string> ControlClient::read_line(std::chrono::milliseconds timeout) {
  return read_line_within(timeout);
}

Transported<std::string> ControlClient::read_line() { return read_line_within(std::nullopt); }

Transported<std::string> ControlClient::read_line_within(
    std::optional<std::chrono::milliseconds> timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = timeout ? std::optional(Clock::now() + *timeout) : std::nullopt;
  std::size_t scanned = 0;  // buffer_ prefix already known to hold no '\n'
  for (;;) {
    auto nl = buffer_.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    scanned = buffer_.size();
    if (buffer_.size() > kMaxReplyLine) return error("reply line longer than 16 MiB");

    int wait_ms = -1;  // no deadline: wait for as long as it takes
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(*timeout).count();
        return TransportError{"no reply from musterd at " + path_ + " within " +
                              std::to_string(secs) + "s"};
      }
      wait_ms = static_cast<int>(left.count());
    }
    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return error(errno_text(errno));
    }
    if (ready == 0) continue;  // deadline check above reports the timeout

    char chunk[65536];
    ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return error(errno_text(errno));
    }
    if (n == 0) {
      TransportError closed = error("connection closed before a reply");
      closed.closed = true;
      return closed;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Transported<std::string> ControlClient::exchange(std::string_view request,
                                                 std::chrono::milliseconds timeout) {
  auto sent = send_line(request);
  auto reply = read_line(timeout);
  if (std::holds_alternative<TransportError>(sent) &&
      std::holds_alternative<TransportError>(reply)) {
    return std::get<TransportError>(sent);  // the first failure explains best
  }
  return reply;
}

}  // namespace muster::cli
