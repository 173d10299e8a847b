// The control socket's request path (ipc/line_buffer + ipc/control_protocol):
// bytes arrive in arbitrary pieces, are split into lines, parsed, and answered.
//
// Input: the first byte picks the read size (1..256 bytes per append); the rest
// is the stream a client sends.
//
// Checked: a parsed request obeys its verb's rules (what handlers rely on), an
// error reply is one line of valid JSON, and the line splitter neither loses
// nor invents bytes (also in its chunking mode, used for worker output).
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ipc/control_protocol.h"
#include "ipc/line_buffer.h"

namespace {

using muster::ipc::LineBuffer;
using muster::ipc::Request;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "control_protocol_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check_reply_line(const std::string& reply) {
  if (reply.empty() || reply.back() != '\n' || reply.find('\n') != reply.size() - 1)
    fail("reply is not one line", reply);
  boost::system::error_code ec;
  boost::json::value v =
      boost::json::parse(std::string_view(reply).substr(0, reply.size() - 1), ec);
  if (ec || !v.is_object()) fail("reply is not a JSON object", reply);
}

void check_request(const Request& r, std::string_view line) {
  static constexpr std::string_view kVerbs[] = {
      "ping",     "version",    "status", "start",  "stop",          "restart", "scale", "kill",
      "shutdown", "disconnect", "send",   "events", "reload-config", "logs",    "reload"};
  bool known = false;
  for (auto v : kVerbs) known = known || r.verb == v;
  if (!known) fail("unknown verb accepted", line);
  if (r.app && r.app->empty()) fail("empty app accepted", line);
  if (r.signal && r.signal->empty()) fail("empty signal accepted", line);
  if (r.id && (*r.id < 0 || *r.id > 1'000'000)) fail("id out of range", line);
  if (r.count && (*r.count < 0 || *r.count > 1'000'000)) fail("count out of range", line);
  bool needs_app = r.verb == "start" || r.verb == "stop" || r.verb == "scale" || r.verb == "logs" ||
                   r.verb == "reload";
  if (needs_app && !r.app) fail("app missing", line);
  if ((r.verb == "kill" || r.verb == "disconnect") && !r.id) fail("id missing", line);
  if (r.verb == "scale" && !r.count) fail("count missing", line);
  if (r.verb == "send" && (r.app.has_value() == r.id.has_value() || !r.message))
    fail("send without exactly one target or a message", line);
  if (r.verb == "restart" && r.app.has_value() == r.id.has_value())
    fail("restart without exactly one of app and id", line);
  if (r.verb != "send" && r.message) fail("message on a verb other than send", line);
  // The daemon echoes names back in replies: they must serialise.
  boost::json::object fields;
  if (r.app) fields["app"] = *r.app;
  if (r.message) fields["message"] = *r.message;
  check_reply_line(muster::ipc::ok_reply(std::move(fields)));
}

std::string without_newlines(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '\n') out += c;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::size_t step = data[0] + 1;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  // As the control session reads it.
  LineBuffer lines(muster::ipc::kMaxControlLine);
  for (std::size_t at = 0; at < stream.size() && !lines.overflowed(); at += step) {
    lines.append(stream.substr(at, step));
    while (auto line = lines.next_line()) {
      if (line->find('\n') != std::string::npos) fail("line holds a newline", *line);
      auto parsed = muster::ipc::parse_request(*line);
      if (parsed) {
        check_request(*parsed, *line);
      } else {
        check_reply_line(muster::ipc::error_reply(parsed.error().message));
      }
    }
  }

  // As worker output is read: small max_line so that chunking happens.
  std::size_t max_line = data[0] % 64 + 1;
  LineBuffer output(max_line);
  std::string seen;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    output.append(stream.substr(at, step));
    while (auto piece = output.next_line_or_chunk()) {
      if (piece->size() > max_line) fail("chunk over max_line", *piece);
      if (piece->find('\n') != std::string::npos) fail("chunk holds a newline", *piece);
      seen += *piece;
    }
    if (output.overflowed()) fail("chunking mode overflowed");
  }
  seen += output.take_rest();
  if (seen != without_newlines(stream)) fail("line splitter lost or invented bytes");
  return 0;
}
