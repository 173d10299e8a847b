#include "cli/request.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string_view>

#include "cli/client.h"
#include "cli/exit_code.h"
#include "cli/format.h"
#include "config/socket_dir.h"
#include "ipc/verbs.h"

namespace muster::cli {

namespace json = boost::json;

namespace {

// Verbs answered only when done (ipc/verbs.h: slow) can take as long as the
// apps' readiness and stop timeouts allow; the rest are answered at once.
std::chrono::milliseconds reply_timeout(const json::object& request) {
  const json::value* v = request.if_contains("verb");
  const json::string* verb = v ? v->if_string() : nullptr;
  const ipc::Verb* declared = verb ? ipc::find_verb(*verb) : nullptr;
  return declared && declared->slow ? std::chrono::minutes(10) : std::chrono::minutes(1);
}

int unreachable(const TransportError& e) {
  std::cerr << "musterctl: " << e.message << '\n';
  return kExitUnreachable;
}

void report_garbled(const std::string& line, const TerminalText& terminal,
                    std::string_view what = "reply") {
  constexpr std::size_t kShown = 200;
  std::cerr << "musterctl: malformed " << what << " from musterd: "
            << terminal.for_stderr(line.size() > kShown ? line.substr(0, kShown) + "..." : line)
            << '\n';
}

void report_failure(const json::object& reply, const TerminalText& terminal) {
  std::cerr << "musterctl: " << terminal.for_stderr(error_of(reply)) << '\n';
}

// An ok reply's "warning": what the operator should know about the answer
// (such as older log lines left out of a reply).
void report_warning(const json::object& reply, const TerminalText& terminal) {
  const json::value* warning = reply.if_contains("warning");
  if (warning && warning->is_string())
    std::cerr << "musterctl: " << terminal.for_stderr(std::string(warning->get_string())) << '\n';
}

// Ctrl-C ends a follow normally. Every line printed has been flushed already,
// so there is nothing left to write.
extern "C" void exit_on_interrupt(int) { ::_exit(kExitOk); }

// Left alone if SIGINT is ignored (started in the background by a shell).
void install_interrupt_exit() {
  struct sigaction action {};
  if (::sigaction(SIGINT, nullptr, &action) == 0 && action.sa_handler == SIG_IGN) return;
  action = {};
  action.sa_handler = exit_on_interrupt;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
}

// Prints `text` and flushes it, so a pipe reader sees each event at once.
// False if stdout is gone.
bool print_now(const std::string& text) {
  std::cout << text << std::flush;
  return static_cast<bool>(std::cout);
}

// What to print for an ok reply: status renders its own escaping (and
// colour), every other verb's text is escaped whole.
std::string rendered(const json::object& request, const json::object& reply,
                     const TerminalText& terminal) {
  const json::value* verb = request.if_contains("verb");
  if (verb && verb->is_string() && verb->get_string() == "status") {
    Style style{[&terminal](std::string text) { return terminal.for_stdout(std::move(text)); },
                terminal.colour()};
    return format_status(reply, &style);
  }
  return terminal.for_stdout(format_reply(request, reply));
}

}  // namespace

std::optional<ControlClient> connect_to(const SocketChoice& socket) {
  // musterd's default lives in a directory of this user's own; one that
  // others can write to may hold anyone's socket (an impostor's).
  if (!socket.private_dir.empty()) {
    if (auto problem = config::socket_dir_problem(socket.private_dir,
                                                  config::SocketDirRule::private_to_owner)) {
      std::cerr << "musterctl: refusing " << socket.path << ": " << *problem << '\n'
                << "musterctl: that path is " << socket.origin << '\n';
      return std::nullopt;
    }
  }
  auto connected = ControlClient::connect(socket.path, socket.daemon_uid);
  if (auto* e = std::get_if<TransportError>(&connected)) {
    unreachable(*e);
    std::cerr << "musterctl: that path is " << socket.origin << '\n';
    return std::nullopt;
  }
  return std::move(std::get<ControlClient>(connected));
}

std::optional<json::object> parse_reply(const std::string& line) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object() || !v.as_object().contains("ok") || !v.as_object().at("ok").is_bool()) {
    return std::nullopt;
  }
  return std::move(v.as_object());
}

std::string error_of(const json::object& reply) {
  const json::value* error = reply.if_contains("error");
  if (error && error->is_string()) return std::string(error->get_string());
  return "musterd reported a failure without a reason";
}

int send_request(const SocketChoice& socket, const json::object& request, bool as_json,
                 const TerminalText& terminal) {
  std::optional<ControlClient> connected = connect_to(socket);
  if (!connected) return kExitUnreachable;
  ControlClient& client = *connected;

  auto answered = client.exchange(json::serialize(request), reply_timeout(request));
  if (auto* e = std::get_if<TransportError>(&answered)) return unreachable(*e);
  const std::string& line = std::get<std::string>(answered);

  std::optional<json::object> reply = parse_reply(line);
  const bool ok = reply && reply->at("ok").get_bool();
  if (as_json) {
    std::cout << line << '\n';
    if (!reply) report_garbled(line, terminal);
    return ok ? kExitOk : kExitFailed;
  }
  if (!reply) {
    report_garbled(line, terminal);
    return kExitFailed;
  }
  if (!ok) {
    report_failure(*reply, terminal);
    return kExitFailed;
  }
  std::cout << rendered(request, *reply, terminal);
  report_warning(*reply, terminal);
  return kExitOk;
}

int follow_events(const SocketChoice& socket, const json::object& request, bool as_json,
                  const TerminalText& terminal) {
  install_interrupt_exit();
  std::optional<ControlClient> connected = connect_to(socket);
  if (!connected) return kExitUnreachable;
  ControlClient& client = *connected;

  // The first reply only acknowledges; it comes at once.
  auto answered = client.exchange(json::serialize(request), reply_timeout(request));
  if (auto* e = std::get_if<TransportError>(&answered)) return unreachable(*e);
  const std::string& first = std::get<std::string>(answered);
  std::optional<json::object> reply = parse_reply(first);
  const bool ok = reply && reply->at("ok").get_bool();
  if (as_json && !print_now(first + "\n")) return kExitFailed;
  if (!reply) {
    report_garbled(first, terminal);
    return kExitFailed;
  }
  if (!ok) {
    if (!as_json) report_failure(*reply, terminal);
    return kExitFailed;
  }
  // `logs --follow` starts with the recent tail.
  if (!as_json && reply->contains("lines")) {
    if (!print_now(terminal.for_stdout(format_reply(request, *reply)))) return kExitFailed;
    report_warning(*reply, terminal);
  }

  for (;;) {
    auto next = client.read_line();
    if (auto* e = std::get_if<TransportError>(&next)) {
      return e->closed ? kExitOk : unreachable(*e);  // closing is how a follow ends
    }
    const std::string& line = std::get<std::string>(next);
    boost::system::error_code ec;
    json::value item = json::parse(line, ec);
    if (as_json && !print_now(line + "\n")) return kExitFailed;
    if (ec || !item.is_object()) {
      if (!as_json) report_garbled(line, terminal, "event");
      continue;
    }
    const json::object& object = item.as_object();
    // Stream lines are events and output lines; an {"ok": false} among them
    // is musterd's last word: it dropped us (docs/control-protocol.md).
    if (const json::value* ok_field = object.if_contains("ok")) {
      if (ok_field->is_bool() && !ok_field->get_bool()) {
        report_failure(object, terminal);
        return kExitFailed;
      }
    }
    if (as_json) continue;
    std::string text = object.contains("line") ? format_log_line(object) : format_event(object);
    if (!print_now(terminal.for_stdout(std::move(text)))) return kExitFailed;
  }
}

}  // namespace muster::cli
