#include "cli/verbs.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <iterator>
#include <stdexcept>

#include "config/config.h"
#include "ipc/control_protocol.h"
#include "ipc/duplicate_keys.h"
#include "ipc/verbs.h"

namespace muster::cli {

namespace json = boost::json;

namespace {

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

// upgrade --binary: musterd runs it from its own working directory, not
// musterctl's, so a relative path would name another file (or none) there.
CLI::Validator absolute_path() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (!text.empty() && text.front() == '/') return {};
        return "expected an absolute path (musterd does not run in this directory), got '" + text +
               "'";
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

// A TARGET checked by worker_or_app(): "id" if it is digits, else "app".
void add_target(json::object& request, const std::string& target) {
  if (is_worker_id(target)) {
    request["id"] = std::stoull(target);  // worker_or_app() checked the range
  } else {
    request["app"] = target;
  }
}

// Per verb: its flags and positional arguments, and the request fields they
// make (beside "verb").
struct CliVerb {
  std::string_view name;
  void (*options)(CLI::App& verb, Args& args);
  void (*request)(const Args& args, json::object& request);
};

void no_options(CLI::App&, Args&) {}
void no_fields(const Args&, json::object&) {}

void app_field(const Args& args, json::object& request) { request["app"] = args.app; }

// start, reload: --no-wait answers before the work is done.
void app_and_wait(const Args& args, json::object& request) {
  request["app"] = args.app;
  if (args.no_wait) request["wait"] = false;
}

void id_field(const Args& args, json::object& request) { request["id"] = args.id; }

// The worker id a verb acts on.
void id_option(CLI::App& verb, Args& args) {
  verb.add_option("ID", args.id, "The worker's id, as shown by status.")
      ->required()
      ->check(whole_number(1));
}

const CliVerb kCliVerbs[] = {
    {"ping", no_options, no_fields},
    {"version", no_options, no_fields},
    {"status",
     [](CLI::App& v, Args& a) { v.add_option("APP", a.app, "Show only this app (or group)."); },
     [](const Args& a, json::object& r) {
       if (!a.app.empty()) r["app"] = a.app;
     }},
    {"describe",
     [](CLI::App& v, Args& a) {
       v.add_option("APP", a.app, "The app to describe.")->required();
       v.add_flag("--show-env", a.show_env,
                  "Show the values of environment variables whose names look secret "
                  "(masked as ******** otherwise; musterd sends them only when asked).");
     },
     [](const Args& a, json::object& r) {
       r["app"] = a.app;
       if (a.show_env) r["show_env"] = true;
     }},
    {"start",
     [](CLI::App& v, Args& a) {
       v.add_option("APP", a.app, "The app to start, a group, or all.")->required();
       v.add_flag("--no-wait", a.no_wait, "Return as soon as the workers are being started.");
     },
     app_and_wait},
    {"stop",
     [](CLI::App& v, Args& a) {
       v.add_option("APP", a.app, "The app to stop, a group, or all.")->required();
     },
     app_field},
    {"restart",
     [](CLI::App& v, Args& a) {
       v.add_option("TARGET", a.target,
                    "An app (a group, or all), or a worker id (digits only), as shown by status.")
           ->required()
           ->check(worker_or_app());
       v.add_flag("--no-wait", a.no_wait,
                  "For an app: return once it has stopped and its workers are being started.");
     },
     [](const Args& a, json::object& r) {
       add_target(r, a.target);
       if (a.no_wait && !is_worker_id(a.target)) r["wait"] = false;
     }},
    {"reload",
     [](CLI::App& v, Args& a) {
       v.add_option("APP", a.app, "The app to reload, a group, or all.")->required();
       v.add_flag("--no-wait", a.no_wait, "Return as soon as the reload has started.");
     },
     app_and_wait},
    {"reload-config",
     [](CLI::App& v, Args& a) {
       v.add_flag("--allow-empty", a.allow_empty,
                  "Apply a file with no apps even though it removes every app "
                  "(SIGHUP never does). An empty file is refused all the same.");
     },
     [](const Args& a, json::object& r) {
       if (a.allow_empty) r["allow_empty"] = true;
     }},
    {"logs",
     [](CLI::App& v, Args& a) {
       v.add_option(
           "APP", a.app,
           "The app (or group) whose output to show; all (the default): every app's, merged "
           "by the time musterd read each line.");
       v.add_option("-n,--lines", a.lines,
                    "How many recent lines (default 100, at most 1000; at most 4 MiB of them: "
                    "how many older ones were left out is said on stderr).")
           ->check(whole_number(0));
       v.add_flag("-f,--follow", a.follow,
                  "Keep printing lines as workers write them (exit 1, saying how many lines "
                  "were lost, if musterd drops a follower that falls 8 MiB behind).");
     },
     [](const Args& a, json::object& r) {
       r["app"] = a.app.empty() ? "all" : a.app;
       r["count"] = a.lines;
       if (a.follow) r["follow"] = true;
     }},
    {"scale",
     [](CLI::App& v, Args& a) {
       v.add_option("APP", a.app, "The app to scale.")->required();
       v.add_option("N", a.count, "The new number of instances.")
           ->required()
           ->check(whole_number(0));
     },
     [](const Args& a, json::object& r) {
       r["app"] = a.app;
       r["count"] = a.count;
     }},
    {"reset",
     [](CLI::App& v, Args& a) {
       v.add_option("APP", a.app, "The app whose history to reset, a group, or all.")->required();
     },
     app_field},
    {"kill",
     [](CLI::App& v, Args& a) {
       id_option(v, a);
       v.add_option("--signal", a.signal, "Signal to send: a name or number.")
           ->transform(signal_validator())
           ->type_name("SIG")
           ->capture_default_str();
     },
     [](const Args& a, json::object& r) {
       r["id"] = a.id;
       r["signal"] = a.signal;
     }},
    {"disconnect", id_option, id_field},
    {"send",
     [](CLI::App& v, Args& a) {
       v.add_option("TARGET", a.target,
                    "A worker id (digits only), as shown by status, else an app or group name.")
           ->required()
           ->check(worker_or_app());
       v.add_option("JSON", a.message,
                    "The message: one JSON value, e.g. '{\"hello\":1}' (quoted for the shell), "
                    "or - to read it from stdin. At most 1 MiB as JSON. To an app with "
                    "serialization = \"advanced\", {\"$buffer\":\"base64\"}, {\"$bigint\":\"1\"}, "
                    "{\"$map\":[[k,v]]}... stand for what JSON cannot hold "
                    "(docs/compatibility.md).")
           ->required()
           ->transform(json_text());  // transform: "-" becomes the text read
     },
     [](const Args& a, json::object& r) {
       add_target(r, a.target);
       r["message"] = json::parse(a.message);  // json_text() checked it
     }},
    {"events",
     [](CLI::App& v, Args& a) {
       v.add_flag("-f,--follow", a.follow,
                  "Then keep printing events as they happen, until musterd closes the "
                  "connection or Ctrl-C (exit 1, saying how many events were lost, if musterd "
                  "drops a follower that falls 8 MiB behind).");
     },
     [](const Args& a, json::object& r) {
       if (a.follow) r["follow"] = true;
     }},
    {"shutdown", no_options, no_fields},
    {"upgrade",
     [](CLI::App& v, Args& a) {
       v.add_option("--binary", a.binary,
                    "The new musterd, an absolute path (default: the path musterd was started "
                    "from; after a package replaced that file, the new one).")
           ->check(absolute_path())
           ->type_name("PATH");
     },
     [](const Args& a, json::object& r) {
       if (!a.binary.empty()) r["binary"] = a.binary;
     }},
};

const CliVerb* find_cli_verb(std::string_view name) {
  for (const CliVerb& verb : kCliVerbs)
    if (verb.name == name) return &verb;
  return nullptr;
}

}  // namespace

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

void add_daemon_verbs(CLI::App& app, Args& args) {
  for (const ipc::Verb& verb : ipc::kVerbs) {
    const CliVerb* cli = find_cli_verb(verb.name);
    if (cli == nullptr) throw std::logic_error("musterctl has no verb " + std::string(verb.name));
    cli->options(*app.add_subcommand(std::string(verb.name), std::string(verb.help)), args);
  }
}

bool has_cli_verb(std::string_view name) { return find_cli_verb(name) != nullptr; }

json::object build_request(const std::string& verb, const Args& args) {
  json::object request{{"verb", verb}};
  if (const CliVerb* cli = find_cli_verb(verb)) cli->request(args, request);
  return request;
}

}  // namespace muster::cli
