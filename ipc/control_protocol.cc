#include "ipc/control_protocol.h"

#include "ipc/duplicate_keys.h"
#include "ipc/finite_json.h"
#include "ipc/verbs.h"

namespace muster::ipc {
namespace {

// A field the request lacks: wrong only if the verb requires it.
Result<void> absent(std::string_view key, Need need) {
  if (need == Need::required) return Error{"missing '" + std::string(key) + "'"};
  return {};
}

Error unexpected(std::string_view key) {
  return Error{"unexpected field '" + std::string(key) + "'"};
}

// Reads an optional field of the given kind, or says what is wrong with it.
Result<void> take_string(const boost::json::object& obj, std::string_view key, Need need,
                         std::optional<std::string>& out) {
  auto* v = obj.if_contains(key);
  if (!v) return absent(key, need);
  if (need == Need::no) return unexpected(key);
  if (!v->is_string() || v->as_string().empty())
    return Error{"'" + std::string(key) + "' must be a non-empty string"};
  out = std::string(v->as_string());
  return {};
}

Result<void> take_count(const boost::json::object& obj, std::string_view key, Need need,
                        std::optional<std::int64_t>& out) {
  auto* v = obj.if_contains(key);
  if (!v) return absent(key, need);
  if (need == Need::no) return unexpected(key);
  std::int64_t n = -1;
  if (v->is_int64())
    n = v->as_int64();
  else if (v->is_uint64() && v->as_uint64() <= 1'000'000)
    n = static_cast<std::int64_t>(v->as_uint64());
  if (n < 0 || n > 1'000'000)
    return Error{"'" + std::string(key) + "' must be a non-negative integer"};
  out = n;
  return {};
}

// upgrade's binary: musterd executes it, so it names one file whatever
// musterd's working directory is, and execve() can take it.
Result<void> take_path(const boost::json::object& obj, std::string_view key, Need need,
                       std::optional<std::string>& out) {
  if (auto taken = take_string(obj, key, need, out); !taken || !out) return taken;
  const std::string name = "'" + std::string(key) + "'";
  if (out->front() != '/') return Error{name + " must be an absolute path"};
  if (out->find('\0') != std::string::npos) return Error{name + " must not contain a NUL"};
  if (out->size() > kMaxBinaryPath)
    return Error{name + " must be at most " + std::to_string(kMaxBinaryPath) + " bytes"};
  return {};
}

// A boolean field: left as it is when absent (no verb requires one).
Result<void> take_bool(const boost::json::object& obj, std::string_view key, Need need, bool& out) {
  auto* v = obj.if_contains(key);
  if (!v) return {};
  if (need == Need::no) return unexpected(key);
  if (!v->is_bool()) return Error{"'" + std::string(key) + "' must be true or false"};
  out = v->as_bool();
  return {};
}

}  // namespace

Result<Request> parse_request(std::string_view line) {
  if (line.size() > kMaxControlLine) return Error{"request line too long"};
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(line, ec);
  if (ec) return Error{"malformed JSON: " + ec.message()};
  if (!doc.is_object()) return Error{"a request must be a JSON object"};
  if (auto duplicate = find_duplicate_key(line)) return Error{*duplicate};
  const auto& obj = doc.as_object();
  auto* verb = obj.if_contains("verb");
  if (!verb || !verb->is_string()) return Error{"missing string field 'verb'"};
  const Verb* spec = find_verb(verb->as_string());
  if (!spec) return Error{"unknown verb '" + std::string(verb->as_string()) + "'"};

  Request req;
  req.verb = std::string(spec->name);
  for (const auto& [key, _] : obj) {
    if (key != "verb" && key != "app" && key != "id" && key != "count" && key != "signal" &&
        key != "message" && key != "follow" && key != "wait" && key != "allow_empty" &&
        key != "show_env" && key != "binary")
      return Error{"unexpected field '" + std::string(key) + "'"};
  }
  if (auto* m = obj.if_contains("message")) {
    if (spec->message == Need::no) return Error{"unexpected field 'message'"};
    req.message = *m;
    null_non_finite(*req.message);
    if (auto too_large = message_size_error(*req.message)) return Error{*too_large};
  } else if (spec->message == Need::required) {
    return Error{"missing 'message'"};
  }
  for (const auto& taken :
       {take_bool(obj, "follow", spec->follow, req.follow),
        take_string(obj, "app", spec->app, req.app), take_count(obj, "id", spec->id, req.id),
        take_count(obj, "count", spec->count, req.count),
        take_string(obj, "signal", spec->signal, req.signal),
        take_bool(obj, "wait", spec->wait, req.wait),
        take_bool(obj, "allow_empty", spec->allow_empty, req.allow_empty),
        take_bool(obj, "show_env", spec->show_env, req.show_env),
        take_path(obj, "binary", spec->binary, req.binary)}) {
    if (!taken) return taken.error();
  }
  if (spec->app_or_id && req.app.has_value() == req.id.has_value())
    return Error{req.verb + " takes either 'app' or 'id'"};
  return req;
}

std::optional<std::string> message_size_error(const boost::json::value& message) {
  std::size_t bytes = boost::json::serialize(message).size();
  if (bytes <= kMaxMessage) return std::nullopt;
  return "the message is " + std::to_string(bytes) + " bytes as JSON; at most " +
         std::to_string(kMaxMessage) + " (1 MiB) can be sent to a worker";
}

std::string ok_reply(boost::json::object fields) {
  boost::json::object reply;
  reply["ok"] = true;
  for (auto& [k, v] : fields) reply[k] = std::move(v);
  std::string line = boost::json::serialize(reply);
  line += '\n';
  return line;
}

std::string error_reply(std::string_view message) {
  boost::json::object reply;
  reply["ok"] = false;
  reply["error"] = message;
  std::string line = boost::json::serialize(reply);
  line += '\n';
  return line;
}

}  // namespace muster::ipc
