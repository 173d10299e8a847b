// musterctl top's loop: one status request per interval on one connection,
// drawn on the live screen or printed as a plain table.
#include "cli/top.h"

#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>
#include <thread>

#include "cli/client.h"
#include "cli/exit_code.h"
#include "cli/request.h"
#include "cli/top_frame.h"
#include "cli/top_screen.h"

namespace muster::cli {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// How top ends: an exit code and what to say on stderr, or a signal to die of.
struct Ending {
  int code = kExitOk;
  std::string message;
  int signo = 0;
};

// One status reply, or why there is none.
struct Fetched {
  std::optional<json::object> status;
  Ending failure;
};

Fetched fetch_status(ControlClient& client, const json::object& request) {
  auto answered = client.exchange(json::serialize(request), std::chrono::seconds(10));
  if (auto* e = std::get_if<TransportError>(&answered))
    return {std::nullopt, {kExitUnreachable, e->message}};
  const std::string& line = std::get<std::string>(answered);
  std::optional<json::object> reply = parse_reply(line);
  if (!reply)
    return {std::nullopt, {kExitFailed, "malformed reply from musterd: " + line.substr(0, 200)}};
  if (!reply->at("ok").get_bool()) return {std::nullopt, {kExitFailed, error_of(*reply)}};
  return {std::move(reply), {}};
}

// The time now as strftime `format` gives it, in UTC or local time.
std::string clock_text(const char* format, bool utc) {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  if (utc)
    ::gmtime_r(&now, &parts);
  else
    ::localtime_r(&now, &parts);
  char text[64];
  return std::string(text, std::strftime(text, sizeof(text), format, &parts));
}

std::chrono::milliseconds until(Clock::time_point deadline) {
  return std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
}

// The live view, until q, Ctrl-C, `count` frames, a signal or a failure.
Ending live(ControlClient& client, const json::object& request, const TopArgs& args, TopSort sort,
            const TerminalText& terminal) {
  const Style style{[&terminal](std::string text) { return terminal.for_stdout(std::move(text)); },
                    terminal.colour()};
  const auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.interval));
  // The first reply before the screen: a refusal (an unknown app) leaves
  // the terminal untouched.
  Fetched fetched = fetch_status(client, request);
  if (!fetched.status) return fetched.failure;
  json::object status = std::move(*fetched.status);
  std::uint64_t frames = 1;
  Clock::time_point next = Clock::now() + interval;
  TopScreen screen;
  auto redraw = [&] {
    const TopScreen::Size size = screen.size();
    return screen.draw(
        top_frame(status, {sort, size.columns, size.rows, &style}, clock_text("%H:%M:%S", false)));
  };
  if (!redraw()) return {kExitFailed, "cannot write to stdout"};
  for (;;) {
    if (Clock::now() >= next) {
      if (args.count > 0 && frames == args.count) return {};
      fetched = fetch_status(client, request);
      if (!fetched.status) return fetched.failure;
      status = std::move(*fetched.status);
      ++frames;
      next = Clock::now() + interval;
      if (!redraw()) return {kExitFailed, "cannot write to stdout"};
    }
    const TopScreen::Input input = screen.wait(until(next));
    if (input.kind == TopScreen::Input::Kind::signal) return {kExitOk, "", input.signo};
    if (input.kind == TopScreen::Input::Kind::key && (input.key == 'q' || input.key == '\x03'))
      return {};
    std::optional<TopSort> chosen;
    if (input.kind == TopScreen::Input::Kind::key) chosen = top_sort_for_key(input.key);
    if (chosen) sort = *chosen;
    if ((chosen || input.kind == TopScreen::Input::Kind::resize) && !redraw())
      return {kExitFailed, "cannot write to stdout"};
  }
}

// The plain table under a timestamp line, each interval, `count` times.
Ending plain(ControlClient& client, const json::object& request, const TopArgs& args, TopSort sort,
             const TerminalText& terminal) {
  const Style style{[&terminal](std::string text) { return terminal.for_stdout(std::move(text)); },
                    false};
  const auto interval = std::chrono::duration<double>(args.interval);
  for (std::uint64_t frame = 1;; ++frame) {
    const Clock::time_point next =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(interval);
    Fetched fetched = fetch_status(client, request);
    if (!fetched.status) return fetched.failure;
    std::string text = clock_text("%Y-%m-%dT%H:%M:%SZ", true) + "\n";
    for (const std::string& line : top_table(*fetched.status, {sort, 0, 0, &style}))
      text += line + "\n";
    std::cout << text << '\n' << std::flush;
    if (!std::cout) return {kExitFailed, "cannot write to stdout"};
    if (args.count > 0 && frame == args.count) return {};
    std::this_thread::sleep_until(next);
  }
}

}  // namespace

int run_top(const SocketChoice& socket, const TopArgs& args, const TerminalText& terminal) {
  const std::optional<TopSort> sort = top_sort_named(args.sort);
  if (!sort) {
    std::cerr << "musterctl: top: unknown sort '" << args.sort << "'\n";
    return kExitUsage;
  }
  std::optional<ControlClient> client = connect_to(socket);
  if (!client) return kExitUnreachable;
  json::object request{{"verb", "status"}};
  if (!args.app.empty()) request["app"] = args.app;

  // Without a terminal there is nothing to restore, and no keys to read.
  const Ending ending = ::isatty(STDOUT_FILENO) == 1
                            ? live(*client, request, args, *sort, terminal)
                            : plain(*client, request, args, *sort, terminal);
  if (ending.signo != 0) {
    // The screen is restored; now end as that signal would have.
    ::signal(ending.signo, SIG_DFL);
    ::raise(ending.signo);
  }
  if (!ending.message.empty())
    std::cerr << "musterctl: " << terminal.for_stderr(ending.message) << '\n';
  return ending.code;
}

}  // namespace muster::cli
