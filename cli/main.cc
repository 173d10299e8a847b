// musterctl: the command line of muster. Parses the verb, then either runs it
// offline (`check`) or sends it to musterd as one request (request.h).
#include <pwd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "cli/check.h"
#include "cli/exit_code.h"
#include "cli/request.h"
#include "cli/socket_choice.h"
#include "config/config.h"
#include "ipc/control_protocol.h"
#include "ipc/duplicate_keys.h"

namespace {

namespace cli = muster::cli;
namespace config = muster::config;
namespace json = boost::json;

// Everything the command line can say; each verb reads the fields it owns.
struct Args {
  std::string socket;
  std::string daemon_uid;  // digits, after daemon_user() resolved a name
  bool json = false;
  bool raw = false;
  bool no_wait = false;
  std::uint64_t lines = 100;
  std::string app;
  std::uint64_t count = 0;
  std::uint64_t id = 0;
  std::string signal = "SIGTERM";
  std::string file;
  std::string target;   // send: a worker id or an app name
  std::string message;  // send: JSON text, checked by json_text()
  bool follow = false;
  bool allow_empty = false;  // reload-config
  std::string help_verb;  // help: whose help to show
};

std::string help_footer(const cli::SocketChoice& socket) {
  return "Control socket:\n"
         "  -s PATH, else $MUSTER_SOCKET, else daemon.control_socket of the config file\n"
         "  ($MUSTER_CONFIG, else /etc/muster/muster.toml) if readable, else musterd's\n"
         "  default: $RUNTIME_DIRECTORY/muster.sock; for root /run/muster/muster.sock\n"
         "  (/tmp/muster-0/ when /run is not writable); for others\n"
         "  $XDG_RUNTIME_DIR/muster.sock, else /tmp/muster-<uid>/muster.sock\n"
         "  (/run/muster-<uid>/ when /tmp is not writable). A default directory must be\n"
         "  yours and writable by you alone, or musterctl refuses it.\n"
         "  Here: " + socket.path + ", " + socket.origin + ".\n"
         "  musterctl talks only to a musterd running as root or as you (SO_PEERCRED,\n"
         "  checked before anything is sent); --daemon-uid trusts one more uid.\n"
         "\n"
         "Exit codes:\n"
         "  0  ok; for `events --follow` and `logs --follow` also when musterd closes the\n"
         "     connection or on Ctrl-C\n"
         "  1  musterd reported a failure (reason on stderr), or it dropped a --follow\n"
         "     that did not keep up (how many lines were lost, on stderr)\n"
         "  2  usage error (such as invalid JSON for `send`), or `check` found config errors\n"
         "  3  musterd could not be reached, or the connection was lost before a reply;\n"
         "     also when the socket is served by a uid not trusted, or the default\n"
         "     directory is not yours\n";
}

// --signal: anything config::parse_signal accepts ("TERM", "15", "sigusr2"),
// rewritten to the canonical name the daemon expects ("SIGTERM").
CLI::Validator signal_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto signo = config::parse_signal(text);
        if (!signo) return "unknown signal '" + text + "'";
        text = config::signal_name(*signo);
        return {};
      },
      "");
}

// --daemon-uid: a uid, or a user name turned into its uid.
CLI::Validator daemon_user() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (!text.empty() && text.size() <= 10 &&
            text.find_first_not_of("0123456789") == std::string::npos &&
            std::stoull(text) < std::uint64_t(static_cast<uid_t>(-1)))
          return {};
        if (const passwd* user = ::getpwnam(text.c_str())) {
          text = std::to_string(user->pw_uid);
          return {};
        }
        return "expected a uid or a user name, got '" + text + "'";
      },
      "");
}

// Checked before conversion: CLI11 would wrap "-1" into a huge unsigned number.
CLI::Validator whole_number(std::uint64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 18 &&
                            text.find_first_not_of("0123456789") == std::string::npos;
        if (digits && std::stoull(text) >= min) return {};
        std::string expected = "a whole number";
        if (min > 0) expected += " of at least " + std::to_string(min);
        return "expected " + expected + ", got '" + text + "'";
      },
      "");
}

// A worker id is digits only (what whole_number(1) accepts); anything else names an app.
bool is_worker_id(const std::string& target) {
  return !target.empty() && target.find_first_not_of("0123456789") == std::string::npos;
}

// The TARGET of send and restart: a worker id (at least 1) or a non-empty app name.
CLI::Validator worker_or_app() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty()) return "expected a worker id or an app name, got ''";
        if (is_worker_id(text)) return whole_number(1)(text);
        return {};
      },
      "");
}

// Whether every number in `v` is finite: Boost.JSON reads 1e400 as infinity,
// which it would then write out as a non-JSON "Infinity".
bool all_finite(const json::value& v) {
  if (const double* d = v.if_double()) return std::isfinite(*d);
  if (const json::array* a = v.if_array()) return std::all_of(a->begin(), a->end(), all_finite);
  if (const json::object* o = v.if_object()) {
    return std::all_of(o->begin(), o->end(), [](const auto& kv) { return all_finite(kv.value()); });
  }
  return true;
}

// send's JSON: parsed here, so a typo is caught before it reaches musterd.
// "-" reads it from stdin: one argument is limited to 128 KiB by the kernel
// (MAX_ARG_STRLEN), a message to 1 MiB.
CLI::Validator json_text() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});
        boost::system::error_code ec;
        json::value v = json::parse(text, ec);
        std::string problem = ec ? ec.message() : all_finite(v) ? "" : "number out of range";
        // musterd refuses duplicate keys; parsing here would silently keep the last.
        if (problem.empty()) problem = muster::ipc::find_duplicate_key(text).value_or("");
        if (problem.empty()) return muster::ipc::message_size_error(v).value_or("");
        if (text.size() > 200) text = text.substr(0, 200) + "...";
        return "not valid JSON (" + problem + "): " + text +
               "\n(give one JSON value, quoted for the shell: '{\"hello\":1}', '\"text\"', 42;"
               " or - to read it from stdin)";
      },
      "");
}

void add_verbs(CLI::App& app, Args& args) {
  app.add_subcommand("ping", "Check that musterd is running and answering.");
  app.add_subcommand("version", "Print the versions of musterctl and of the running musterd.");

  auto* status = app.add_subcommand(
      "status", "Show apps and their workers: id, instance, pid, state, uptime, "
                "restarts, connections handed, RSS (sampled every 2 s).");
  status->add_option("APP", args.app, "Show only this app.");

  auto* start = app.add_subcommand(
      "start", "Start an app's workers (clearing a crash loop or `failed` state); returns once "
               "every slot has a ready worker, and fails (exit 1, with the reason) if a worker "
               "exits before it is ready.");
  start->add_option("APP", args.app, "The app to start, or all.")->required();
  start->add_flag("--no-wait", args.no_wait, "Return as soon as the workers are being started.");
  auto* stop = app.add_subcommand(
      "stop", "Gracefully disconnect all of an app's workers (its sockets stay open); "
              "returns once every worker has exited.");
  stop->add_option("APP", args.app, "The app to stop, or all.")->required();
  auto* restart = app.add_subcommand(
      "restart", "Stop an app, then start it again; returns once every slot has a ready "
                 "worker (exit 1 with the reason if one exits before it is ready). With a worker "
                 "ID: replace that one worker gracefully (a new worker first, as in a reload); "
                 "returns once the new one is ready, fails (exit 1) if it cannot get ready, "
                 "leaving the old one serving.");
  restart->add_option("TARGET", args.target,
                      "An app (or all), or a worker id (digits only), as shown by status.")
      ->required()
      ->check(worker_or_app());
  restart->add_flag("--no-wait", args.no_wait,
                    "For an app: return once it has stopped and its workers are being started.");

  auto* reload = app.add_subcommand(
      "reload", "Rolling, zero-downtime replacement of every worker of an app: per slot a new "
                "worker starts and the old one leaves once the new one is ready. Returns when "
                "done; fails (exit 1) if a new worker cannot get ready, leaving the old ones "
                "serving.");
  reload->add_option("APP", args.app, "The app to reload, or all.")->required();
  reload->add_flag("--no-wait", args.no_wait, "Return as soon as the reload has started.");

  auto* reload_config = app.add_subcommand(
      "reload-config",
      "Re-read musterd's config file and apply the difference (same as SIGHUP): new apps "
      "start, removed apps stop, apps whose worker settings changed are reloaded rolling, "
      "policy changes apply in place. A file with errors changes nothing; every error is "
      "printed. An empty file, and a file with no apps while musterd has some, are refused "
      "(exit 1, nothing changed): a config caught mid-write looks like that, so edit a "
      "temporary file and rename it over the config. Returns once the rolling reloads and "
      "new apps' starts are over; if one fails (exit 1, with the reason), that app keeps "
      "its previous settings.");
  reload_config->add_flag("--allow-empty", args.allow_empty,
                          "Apply a file with no apps even though it removes every app "
                          "(SIGHUP never does). An empty file is refused all the same.");

  auto* logs = app.add_subcommand(
      "logs", "Show an app's recent worker output (from musterd's in-memory tail), each line "
              "with the worker that wrote it; --follow keeps printing new lines.");
  logs->add_option("APP", args.app,
                   "The app whose output to show; all (the default): every app's, merged "
                   "by the time musterd read each line.");
  logs->add_option("-n,--lines", args.lines,
                   "How many recent lines (default 100, at most 1000; at most 4 MiB of them: "
                   "how many older ones were left out is said on stderr).")
      ->check(whole_number(0));
  logs->add_flag("-f,--follow", args.follow,
                 "Keep printing lines as workers write them (exit 1, saying how many lines "
                 "were lost, if musterd drops a follower that falls 8 MiB behind).");

  auto* scale = app.add_subcommand(
      "scale", "Change the number of an app's instances at runtime only: the config file is "
               "not changed, so a musterd restart goes back to its count.");
  scale->add_option("APP", args.app, "The app to scale.")->required();
  scale->add_option("N", args.count, "The new number of instances.")
      ->required()
      ->check(whole_number(0));

  auto* kill = app.add_subcommand(
      "kill", "Send a signal to one worker, by id (Node's worker.kill()). Its exit is "
              "voluntary (refilled at once, no crash counted) if it died of a signal sent so, "
              "or exited within stop_timeout of a SIGTERM, SIGINT, SIGQUIT or stop_signal sent "
              "so; any other exit is a crash.");
  kill->add_option("ID", args.id, "The worker's id, as shown by status.")
      ->required()
      ->check(whole_number(1));
  kill->add_option("--signal", args.signal, "Signal to send: a name or number.")
      ->transform(signal_validator())
      ->type_name("SIG")
      ->capture_default_str();

  auto* disconnect = app.add_subcommand(
      "disconnect", "Gracefully disconnect one worker, by id (Node's worker.disconnect()): it "
                    "closes its servers and leaves, killed after stop_timeout; returns at once.");
  disconnect->add_option("ID", args.id, "The worker's id, as shown by status.")
      ->required()
      ->check(whole_number(1));

  auto* send = app.add_subcommand(
      "send", "Send a JSON message to one worker or to all of an app's workers "
              "(Node's worker.send()); only node-protocol workers receive it.");
  send->add_option("TARGET", args.target,
                   "A worker id (digits only), as shown by status, else an app name.")
      ->required()
      ->check(worker_or_app());
  send->add_option("JSON", args.message,
                   "The message: one JSON value, e.g. '{\"hello\":1}' (quoted for the shell), "
                   "or - to read it from stdin. At most 1 MiB as JSON.")
      ->required()
      ->transform(json_text());  // transform: "-" becomes the text read

  auto* events = app.add_subcommand(
      "events", "Show recent cluster events (up to 1000, oldest first): fork, online, "
                "listening, disconnect, exit, message, restart, failed.");
  events->add_flag("-f,--follow", args.follow,
                   "Then keep printing events as they happen, until musterd closes the "
                   "connection or Ctrl-C (exit 1, saying how many events were lost, if musterd "
                   "drops a follower that falls 8 MiB behind).");

  app.add_subcommand("shutdown", "Shut musterd down gracefully, as on SIGTERM.");

  auto* help = app.add_subcommand(
      "help", "Show this help, or with VERB that verb's (the same as --help, VERB --help).");
  help->add_option("VERB", args.help_verb, "The verb to explain.");

  auto* check = app.add_subcommand(
      "check", "Validate a config file without contacting musterd; prints every error. Users, "
               "programs and directories it names are looked up on this host, as this user.");
  check->add_option("FILE", args.file,
                    "Config file (default: $MUSTER_CONFIG, else /etc/muster/muster.toml).");
}

// `help [VERB]`: the text --help or VERB --help prints, on stdout.
int print_help(const CLI::App& app, const std::string& verb) {
  if (verb.empty()) {
    // Not app.help(): that delegates to the verb parsed, `help` itself.
    std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
    return cli::kExitOk;
  }
  const CLI::App* sub = nullptr;
  for (const CLI::App* candidate : app.get_subcommands({}))
    if (candidate->check_name(verb)) sub = candidate;
  if (sub == nullptr) {
    std::cerr << "musterctl: no verb '" << verb << "'; `musterctl help` lists them\n";
    return cli::kExitUsage;
  }
  std::cout << sub->help(app.get_name());
  return cli::kExitOk;
}

// A TARGET checked by worker_or_app(): "id" if it is digits, else "app".
void add_target(json::object& request, const std::string& target) {
  if (is_worker_id(target)) {
    request["id"] = std::stoull(target);  // worker_or_app() checked the range
  } else {
    request["app"] = target;
  }
}

// The request line for a daemon verb (docs/control-protocol.md).
json::object build_request(const std::string& verb, const Args& args) {
  json::object request{{"verb", verb}};
  if (verb == "status") {
    if (!args.app.empty()) request["app"] = args.app;
  } else if (verb == "start") {
    request["app"] = args.app;
    if (args.no_wait) request["wait"] = false;
  } else if (verb == "stop") {
    request["app"] = args.app;
  } else if (verb == "restart") {
    add_target(request, args.target);
    if (args.no_wait && !is_worker_id(args.target)) request["wait"] = false;
  } else if (verb == "logs") {
    request["app"] = args.app.empty() ? "all" : args.app;
    request["count"] = args.lines;
    if (args.follow) request["follow"] = true;
  } else if (verb == "reload") {
    request["app"] = args.app;
    if (args.no_wait) request["wait"] = false;
  } else if (verb == "scale") {
    request["app"] = args.app;
    request["count"] = args.count;
  } else if (verb == "kill") {
    request["id"] = args.id;
    request["signal"] = args.signal;
  } else if (verb == "disconnect") {
    request["id"] = args.id;
  } else if (verb == "send") {
    add_target(request, args.target);
    request["message"] = json::parse(args.message);  // json_text() checked it
  } else if (verb == "events") {
    if (args.follow) request["follow"] = true;
  } else if (verb == "reload-config") {
    if (args.allow_empty) request["allow_empty"] = true;
  }
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  cli::SocketChoice socket = cli::socket_from_environment();
  args.socket = socket.path;

  CLI::App app{"musterctl: control a running musterd, the muster process supervisor.",
               "musterctl"};
  app.footer(help_footer(socket));
  app.fallthrough();  // lets -s/--json follow the verb too
  app.require_subcommand(0, 1);
  CLI::Option* socket_option =
      app.add_option("-s,--socket", args.socket, "musterd's control socket (see below).")
          ->type_name("PATH");
  app.add_option("--daemon-uid", args.daemon_uid,
                 "Also talk to a musterd running as this uid (or user name); without it "
                 "musterctl refuses a socket served by anyone but root or you.")
      ->envname("MUSTER_DAEMON_UID")
      ->type_name("UID")
      ->transform(daemon_user());
  app.add_flag("--json", args.json,
               "Print musterd's reply as it came: one JSON document (events --follow: "
               "then each event's line).");
  app.add_flag("--raw", args.raw,
               "Write worker output, status texts and event payloads to a terminal as they "
               "are. Without it, on a terminal their control characters (but tab) are "
               "escaped: ESC as \\x1b. A pipe or file always gets them as they are.");
  add_verbs(app, args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (106, ...) are not ours: --help is 0, anything else usage.
    return app.exit(e) == 0 ? cli::kExitOk : cli::kExitUsage;
  }

  const auto verbs = app.get_subcommands();
  if (verbs.empty()) {
    std::cerr << app.help();
    return cli::kExitUsage;
  }
  const std::string verb = verbs.front()->get_name();
  if (verb == "help") return print_help(app, args.help_verb);
  if (verb == "check") {
    return cli::run_check(args.file.empty() ? config::default_config_path() : args.file,
                          args.json);
  }
  if (socket_option->count() > 0) socket = cli::socket_from_option(args.socket);
  if (!args.daemon_uid.empty()) socket.daemon_uid = static_cast<uid_t>(std::stoul(args.daemon_uid));
  const json::object request = build_request(verb, args);
  const cli::TerminalText terminal(args.raw);
  if ((verb == "events" || verb == "logs") && args.follow)
    return cli::follow_events(socket, request, args.json, terminal);
  return cli::send_request(socket, request, args.json, terminal);
}
