// muster/worker_types.hpp: the values the worker library (muster/worker.hpp)
// takes and returns. Included by muster/worker.hpp; include that one.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "json.hpp"

namespace muster {

// Node's internal messages have a string `cmd` longer than "NODE_" that starts with it.
inline bool is_internal(const json::Value& m) {
  const json::Value* cmd = m.get("cmd");
  return cmd && cmd->is(json::Value::Type::string) && cmd->s.size() > 5 &&
         cmd->s.compare(0, 5, "NODE_") == 0;
}

struct Error {
  int code = 0;  // a negative errno from the primary (bind errors), else 0
  std::string message;
};

// std::expected stand-in for C++17.
template <class T>
class Expected {
 public:
  Expected(T v) : v_(std::move(v)) {}
  Expected(Error e) : e_(std::move(e)) {}
  explicit operator bool() const { return v_.has_value(); }
  T& operator*() { return *v_; }
  T* operator->() { return &*v_; }
  const Error& error() const { return e_; }

 private:
  std::optional<T> v_;
  Error e_;
};

// What Node's server.listen() asks for. An empty address is Node's listen(port): any
// address. An address containing '/' (or port < 0) is a unix socket path. Give IP
// literals, not host names (Node resolves names before asking; this library does not).
struct ListenRequest {
  std::string address;
  int port = 0;
  int backlog = 511;
  int address_type = 0;  // 4, 6 or -1 (unix); 0 = infer from address and port
};

// One server the primary granted. Round-robin: listen_fd is -1 and connections arrive
// through the channel. Shared: listen_fd is the (non-blocking) listening socket, owned
// by the Worker (closed on disconnect or close_server).
struct Server {
  std::string key;  // the primary's handle key, as JSON text
  int listen_fd = -1;
  int port = 0;
  bool round_robin() const { return listen_fd < 0; }
};

}  // namespace muster
