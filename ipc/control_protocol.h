// The control-socket request format (docs/control-protocol.md): one JSON object
// per line with a "verb" and verb-specific fields. Parsing checks the fields each
// verb takes (as ipc/verbs.h declares them), so handlers receive only
// well-formed requests.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace muster::ipc {

// The largest user message, serialised, in either direction: one line of the
// worker channel (NodeChannel::kMaxLine). A request line leaves room for a
// `send` carrying one, and no more: a session holds at most one line.
inline constexpr std::size_t kMaxMessage = 1 << 20;
inline constexpr std::size_t kMaxControlLine = kMaxMessage + 64 * 1024;
// upgrade's binary: a path execve() takes (PATH_MAX, its NUL included).
inline constexpr std::size_t kMaxBinaryPath = 4095;

struct Request {
  std::string verb;
  std::optional<std::string> app;
  std::optional<std::int64_t> id;
  std::optional<std::int64_t> count;
  std::optional<std::string> signal;
  std::optional<boost::json::value> message;  // send: any JSON value
  bool follow = false;                        // events: stream until closed
  bool wait = true;                   // start, restart, reload, reload-config: answer when finished
  bool allow_empty = false;           // reload-config: a file with no apps may remove every app
  bool show_env = false;              // describe: send secret-looking environment values too
  std::optional<std::string> binary;  // upgrade: absolute; absent: the one musterd started from
};

// A parsed request, or the error message to send back.
Result<Request> parse_request(std::string_view line);

// Why `message` (a send's) cannot be sent, if it is over kMaxMessage.
std::optional<std::string> message_size_error(const boost::json::value& message);

// Serialises a reply line (with its trailing '\n').
std::string ok_reply(boost::json::object fields = {});
std::string error_reply(std::string_view message);

}  // namespace muster::ipc
