#include "cli/request.h"

#include <chrono>
#include <iostream>
#include <optional>

#include "cli/client.h"
#include "cli/exit_code.h"
#include "cli/format.h"

namespace muster::cli {

namespace json = boost::json;

namespace {

// start/stop/restart are answered only when done, which can take as long as
// the apps' readiness and stop timeouts allow; the rest are answered at once.
std::chrono::milliseconds reply_timeout(const json::object& request) {
  const json::value* v = request.if_contains("verb");
  const json::string* verb = v ? v->if_string() : nullptr;
  const bool slow = verb && (*verb == "start" || *verb == "stop" || *verb == "restart");
  return slow ? std::chrono::minutes(10) : std::chrono::minutes(1);
}

int unreachable(const TransportError& e) {
  std::cerr << "musterctl: " << e.message << '\n';
  return kExitUnreachable;
}

// The reply as an object with a boolean "ok", or nullopt if it is not one.
std::optional<json::object> parse_reply(const std::string& line) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object() || !v.as_object().contains("ok") ||
      !v.as_object().at("ok").is_bool()) {
    return std::nullopt;
  }
  return std::move(v.as_object());
}

std::string error_of(const json::object& reply) {
  const json::value* error = reply.if_contains("error");
  if (error && error->is_string()) return std::string(error->get_string());
  return "musterd reported a failure without a reason";
}

void report_garbled(const std::string& line) {
  constexpr std::size_t kShown = 200;
  std::cerr << "musterctl: malformed reply from musterd: "
            << (line.size() > kShown ? line.substr(0, kShown) + "..." : line) << '\n';
}

}  // namespace

int send_request(const std::string& socket_path, const json::object& request,
                 bool as_json) {
  auto connected = ControlClient::connect(socket_path);
  if (auto* e = std::get_if<TransportError>(&connected)) return unreachable(*e);
  auto& client = std::get<ControlClient>(connected);

  auto answered = client.exchange(json::serialize(request), reply_timeout(request));
  if (auto* e = std::get_if<TransportError>(&answered)) return unreachable(*e);
  const std::string& line = std::get<std::string>(answered);

  std::optional<json::object> reply = parse_reply(line);
  const bool ok = reply && reply->at("ok").get_bool();
  if (as_json) {
    std::cout << line << '\n';
    if (!reply) report_garbled(line);
    return ok ? kExitOk : kExitFailed;
  }
  if (!reply) {
    report_garbled(line);
    return kExitFailed;
  }
  if (!ok) {
    std::cerr << "musterctl: " << error_of(*reply) << '\n';
    return kExitFailed;
  }
  std::cout << format_reply(request, *reply);
  return kExitOk;
}

}  // namespace muster::cli
