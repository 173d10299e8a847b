// musterctl: the command line of muster. Parses the verb, then either runs it
// offline (`check`) or sends it to musterd as one request (request.h).
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/check.h"
#include "cli/exit_code.h"
#include "cli/request.h"
#include "config/config.h"

namespace {

namespace cli = muster::cli;
namespace config = muster::config;
namespace json = boost::json;

// Everything the command line can say; each verb reads the fields it owns.
struct Args {
  std::string socket;
  bool json = false;
  std::string app;
  std::uint64_t count = 0;
  std::uint64_t id = 0;
  std::string signal = "SIGTERM";
  std::string file;
};

std::string socket_from_environment() {
  const char* env = std::getenv("MUSTER_SOCKET");
  return (env != nullptr && *env != '\0') ? env : config::default_control_socket();
}

std::string help_footer(const std::string& socket) {
  return "Control socket:\n"
         "  -s PATH, else $MUSTER_SOCKET, else musterd's default: "
         "$RUNTIME_DIRECTORY/muster.sock,\n"
         "  else $XDG_RUNTIME_DIR/muster.sock, else /tmp/muster-<uid>.sock.\n"
         "  Here that is " + socket + ".\n"
         "  If musterd's config sets daemon.control_socket, pass the same path with -s\n"
         "  or $MUSTER_SOCKET.\n"
         "\n"
         "Exit codes:\n"
         "  0  ok\n"
         "  1  musterd reported a failure (reason on stderr)\n"
         "  2  usage error, or `check` found config errors\n"
         "  3  musterd could not be reached, or the connection was lost before a reply\n";
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

void add_verbs(CLI::App& app, Args& args) {
  app.add_subcommand("ping", "Check that musterd is running and answering.");
  app.add_subcommand("version", "Print the versions of musterctl and of the running musterd.");

  auto* status = app.add_subcommand(
      "status", "Show apps and their workers: id, instance, pid, state, uptime, "
                "restarts, connections handed, RSS.");
  status->add_option("APP", args.app, "Show only this app.");

  auto* start = app.add_subcommand(
      "start", "Start an app's workers; returns once they are spawned.");
  start->add_option("APP", args.app, "The app to start.")->required();
  auto* stop = app.add_subcommand(
      "stop", "Gracefully disconnect all of an app's workers (its sockets stay open); "
              "returns once every worker has exited.");
  stop->add_option("APP", args.app, "The app to stop.")->required();
  auto* restart = app.add_subcommand(
      "restart", "Stop an app, then start it again; returns once it is started.");
  restart->add_option("APP", args.app, "The app to restart.")->required();

  auto* scale = app.add_subcommand(
      "scale", "Change the number of an app's instances at runtime.");
  scale->add_option("APP", args.app, "The app to scale.")->required();
  scale->add_option("N", args.count, "The new number of instances.")
      ->required()
      ->check(whole_number(0));

  auto* kill = app.add_subcommand(
      "kill", "Send a signal to one worker, by id (Node's worker.kill()).");
  kill->add_option("ID", args.id, "The worker's id, as shown by status.")
      ->required()
      ->check(whole_number(1));
  kill->add_option("--signal", args.signal, "Signal to send: a name or number.")
      ->transform(signal_validator())
      ->type_name("SIG")
      ->capture_default_str();

  app.add_subcommand("shutdown", "Shut musterd down gracefully, as on SIGTERM.");

  auto* check = app.add_subcommand(
      "check", "Validate a config file without contacting musterd; prints every error.");
  check->add_option("FILE", args.file,
                    "Config file (default: $MUSTER_CONFIG, else /etc/muster/muster.toml).");
}

// The request line for a daemon verb (docs/control-protocol.md).
json::object build_request(const std::string& verb, const Args& args) {
  json::object request{{"verb", verb}};
  if (verb == "status") {
    if (!args.app.empty()) request["app"] = args.app;
  } else if (verb == "start" || verb == "stop" || verb == "restart") {
    request["app"] = args.app;
  } else if (verb == "scale") {
    request["app"] = args.app;
    request["count"] = args.count;
  } else if (verb == "kill") {
    request["id"] = args.id;
    request["signal"] = args.signal;
  }
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  args.socket = socket_from_environment();

  CLI::App app{"musterctl: control a running musterd, the muster process supervisor.",
               "musterctl"};
  app.footer(help_footer(args.socket));
  app.fallthrough();  // lets -s/--json follow the verb too
  app.require_subcommand(0, 1);
  app.add_option("-s,--socket", args.socket, "musterd's control socket (see below).")
      ->type_name("PATH");
  app.add_flag("--json", args.json,
               "Print musterd's reply as it came: one JSON document.");
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
  if (verb == "check") {
    return cli::run_check(args.file.empty() ? config::default_config_path() : args.file,
                          args.json);
  }
  return cli::send_request(args.socket, build_request(verb, args), args.json);
}
