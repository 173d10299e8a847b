// A blocking client for musterd's control socket (docs/control-protocol.md):
// one connection, request lines out, reply lines in. Synchronous on purpose:
// musterctl sends a request, waits for its answer and exits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace muster::cli {

// Why no reply could be had from the daemon: it could not be reached, went
// away before answering, or did not answer in time (exit code 3).
struct TransportError {
  std::string message;  // e.g. "cannot reach musterd at /x.sock: Connection refused"
  bool closed = false;  // the daemon closed the connection (end of file)
};

template <typename T>
using Transported = std::variant<T, TransportError>;

class ControlClient {
 public:
  // Connects to the control socket at `path`, and checks who serves it before
  // anything is sent: the listener's uid (SO_PEERCRED) must be root's, this
  // user's, or `daemon_uid`. Anyone else could have bound the path first
  // (squatting a name musterd meant to use) and would learn every request
  // and answer them with lies; such a peer is an error naming its uid.
  static Transported<ControlClient> connect(const std::string& path,
                                            std::optional<uid_t> daemon_uid);

  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&& other) noexcept;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;
  ~ControlClient();

  // Sends one request line; `line` must not contain '\n' (one is appended).
  Transported<std::monostate> send_line(std::string_view line);

  // Blocks until the next complete line arrives (returned without its '\n'),
  // the connection closes, or `timeout` passes.
  Transported<std::string> read_line(std::chrono::milliseconds timeout);
  // The same without a time limit (events --follow).
  Transported<std::string> read_line();

  // Sends `request` and waits for its reply line. If sending fails, a reply
  // that is already waiting is still returned: a daemon that refuses a peer
  // writes one error line and closes, possibly before reading our request.
  Transported<std::string> exchange(std::string_view request, std::chrono::milliseconds timeout);

 private:
  ControlClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  TransportError error(const std::string& what) const;
  // read_line's loop; no deadline if `timeout` is empty.
  Transported<std::string> read_line_within(std::optional<std::chrono::milliseconds> timeout);

  int fd_ = -1;
  std::string path_;
  std::string buffer_;  // bytes read past the last returned line
};

}  // namespace muster::cli
