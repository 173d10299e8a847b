// musterctl: the command line of muster. Parses the verb, then either runs it
// offline (`check`, `import`) or sends it to musterd as one request (request.h).
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
#include "cli/import_verb.h"
#include "cli/request.h"
#include "cli/socket_choice.h"
#include "cli/top.h"
#include "cli/verbs.h"
#include "config/config.h"

namespace {

namespace cli = muster::cli;
namespace config = muster::config;
namespace json = boost::json;

std::string help_footer(const cli::SocketChoice& socket) {
  return "Control socket, the first that applies:\n"
         "  -s PATH; $MUSTER_SOCKET; daemon.control_socket of the config file, read from\n"
         "  $MUSTER_CONFIG, else /etc/muster/muster.toml (for a musterd started with -c on\n"
         "  another file, give -s, $MUSTER_SOCKET or $MUSTER_CONFIG); else musterd's default:\n"
         "  $RUNTIME_DIRECTORY/muster.sock; for root /run/muster/muster.sock, or\n"
         "  /tmp/muster-0/muster.sock when /run is not writable; for others\n"
         "  $XDG_RUNTIME_DIR/muster.sock, else /tmp/muster-<uid>/muster.sock, or\n"
         "  /run/muster-<uid>/muster.sock when /tmp is not writable. A default directory\n"
         "  must be yours and writable by you alone, or musterctl refuses it.\n"
         "  Here: " +
         socket.path + ": " + socket.origin +
         ".\n"
         "  musterctl talks only to a musterd running as root or as you (SO_PEERCRED,\n"
         "  checked before anything is sent); --daemon-uid trusts one more uid.\n"
         "\n"
         "Exit codes:\n"
         "  0  ok; for `events --follow` and `logs --follow` also when musterd closes the\n"
         "     connection or on Ctrl-C; for `top` on q or Ctrl-C\n"
         "  1  musterd reported a failure (reason on stderr), or it dropped a --follow\n"
         "     that did not keep up (how many lines were lost, on stderr); `import` could\n"
         "     not read, parse or evaluate a file (FILE:LINE on stderr where known)\n"
         "  2  usage error (such as invalid JSON for `send`), or `check` found config errors\n"
         "  3  musterd could not be reached, or the connection was lost before a reply;\n"
         "     also when the socket is served by a uid not trusted, or the default\n"
         "     directory is not yours\n";
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

// top --interval: seconds, a decimal fraction allowed, within bounds (NaN is not).
CLI::Validator interval_seconds() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double seconds = std::strtod(text.c_str(), &end);
        if (!text.empty() && *end == '\0' && seconds >= cli::kTopIntervalMin &&
            seconds <= cli::kTopIntervalMax)
          return {};
        return "expected seconds from 0.1 to 3600, got '" + text + "'";
      },
      "");
}

void add_top(CLI::App& app, cli::TopArgs& top) {
  auto* verb = app.add_subcommand(
      "top",
      "Show every app and worker (state, CPU %, RSS, uptime, restarts, connections), "
      "refreshed every second: on a terminal a live view (keys: a app order, c CPU, m memory, "
      "n name; q or Ctrl-C quits); otherwise the table again each interval, under a "
      "timestamp line.");
  verb->add_option("APP", top.app, "Show only this app.");
  verb->add_option("--interval", top.interval, "Seconds between refreshes (0.1 to 3600).")
      ->check(interval_seconds())
      ->type_name("SECONDS")
      ->capture_default_str();
  verb->add_option("--count", top.count, "Show this many refreshes, then exit (default: until q).")
      ->check(cli::whole_number(1))
      ->type_name("N");
  verb->add_option("--sort", top.sort,
                   "The first order: app (as in the config), cpu, memory, name.")
      ->check(CLI::IsMember({"app", "cpu", "memory", "name"}))
      ->type_name("ORDER")
      ->capture_default_str();
}

// The verbs that are musterctl's own, after the daemon's.
void add_local_verbs(CLI::App& app, cli::Args& args, cli::TopArgs& top, cli::ImportArgs& imports) {
  auto* help = app.add_subcommand(
      "help", "Show this help, or with VERB that verb's (the same as --help, VERB --help).");
  help->add_option("VERB", args.help_verb, "The verb to explain.");

  auto* check = app.add_subcommand(
      "check",
      "Validate a config file without contacting musterd; prints every error. Users, "
      "programs and directories it names are looked up on this host, as this user.");
  check->add_option("FILE", args.file,
                    "Config file (default: $MUSTER_CONFIG, else /etc/muster/muster.toml).");
  check->add_option("--environment", args.environment,
                    "Check with this environment's overlays applied, as musterd --environment "
                    "does (default: $MUSTER_ENVIRONMENT, else [daemon] environment).");
  check->add_flag("--print", args.print,
                  "Print the effective config (overlays applied, environments left out) as "
                  "TOML on stdout, which musterd loads as it is; the verdict goes to stderr.");
  add_top(app, top);
  cli::add_import_verb(app, imports);
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

// `top`, which has no --json: a status reply each second is `status`'s.
int top_verb(const cli::SocketChoice& socket, const cli::TopArgs& top, bool json,
             const cli::TerminalText& terminal) {
  if (json) {
    std::cerr << "musterctl: top has no --json; `musterctl --json status` gives the same "
                 "figures\n";
    return cli::kExitUsage;
  }
  return cli::run_top(socket, top, terminal);
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args;
  cli::TopArgs top;
  cli::ImportArgs import_args;
  cli::SocketChoice socket = cli::socket_from_environment();
  args.socket = socket.path;

  CLI::App app{"musterctl: control a running musterd, the muster process supervisor.", "musterctl"};
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
  app.add_flag("--no-color", args.no_colour,
               "Never colour status (it is coloured on a terminal unless NO_COLOR is set).");
  cli::add_daemon_verbs(app, args);
  add_local_verbs(app, args, top, import_args);

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
                          cli::CheckOptions{args.json, args.environment, args.print});
  }
  if (verb == "import") return cli::run_import_verb(import_args);
  if (socket_option->count() > 0) socket = cli::socket_from_option(args.socket);
  if (!args.daemon_uid.empty()) socket.daemon_uid = static_cast<uid_t>(std::stoul(args.daemon_uid));
  const json::object request = cli::build_request(verb, args);
  const cli::TerminalText terminal(args.raw, args.no_colour);
  if (verb == "top") return top_verb(socket, top, args.json, terminal);
  if ((verb == "events" || verb == "logs") && args.follow)
    return cli::follow_events(socket, request, args.json, terminal);
  return cli::send_request(socket, request, args.json, terminal);
}
