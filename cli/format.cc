#include "cli/format.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "base/version.h"
#include "config/config.h"

namespace muster::cli {

namespace json = boost::json;

namespace {

const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

std::optional<std::int64_t> integer_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  boost::system::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

// A field as table text: strings as they are, anything else as JSON.
std::string text_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr) return "-";
  if (const json::string* s = v->if_string()) return std::string(*s);
  return json::serialize(*v);
}

std::string duration_of(const json::object& o, std::string_view key) {
  auto ms = integer_of(o, key);
  return ms ? format_duration(*ms) : "-";
}

std::string bytes_of(const json::object& o, std::string_view key) {
  auto bytes = integer_of(o, key);
  return (bytes && *bytes >= 0) ? format_bytes(static_cast<std::uint64_t>(*bytes)) : "-";
}

const json::array* array_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v ? v->if_array() : nullptr;
}

// "5 (config 3)" after a runtime scale, so that it is not mistaken for what
// the config file will give at the next start.
std::string instances_text(const json::object& app) {
  std::string now = text_of(app, "instances");
  if (!field(app, "config_instances")) return now;
  std::string configured = text_of(app, "config_instances");
  return configured == now ? now : now + " (config " + configured + ")";
}

// A worker the kernel reports stopped (SIGSTOP, SIGTSTP or a debugger).
bool stopped(const json::object& worker) {
  const json::value* v = field(worker, "stopped");
  return v && v->is_bool() && v->get_bool();
}

// One line per stopped worker, under its app's table: the STATE column
// cannot say why, nor what to do.
std::string stopped_notes(const json::array& workers) {
  std::string out;
  for (const json::value& item : workers) {
    const json::object* w = item.if_object();
    if (w == nullptr || !stopped(*w)) continue;
    out += "  worker " + text_of(*w, "id") +
           " is stopped by a signal (SIGSTOP, SIGTSTP) or a "
           "debugger and runs nothing: not ready until it gets SIGCONT (kill -CONT " +
           text_of(*w, "pid") + ")\n";
  }
  return out;
}

// inspect: an INSPECTOR column, before STATUS, when any worker has one.
bool any_inspector(const json::array& workers) {
  return std::any_of(workers.begin(), workers.end(), [](const json::value& item) {
    const json::object* w = item.if_object();
    return w && field(*w, "inspector");
  });
}

std::string worker_table(const json::array& workers) {
  const bool inspectors = any_inspector(workers);
  std::vector<Row> rows{
      {"ID", "INSTANCE", "PID", "STATE", "READY", "UPTIME", "RESTARTS", "CONNS", "RSS", "STATUS"}};
  if (inspectors) rows.front().insert(rows.front().end() - 1, "INSPECTOR");
  for (const json::value& item : workers) {
    const json::object* w = item.if_object();
    if (w == nullptr) continue;
    const json::value* ready = field(*w, "ready");
    std::string state = text_of(*w, "state");
    if (stopped(*w)) state += " (stopped)";
    rows.push_back({text_of(*w, "id"), text_of(*w, "instance"), text_of(*w, "pid"), state,
                    ready && ready->is_bool() ? (ready->get_bool() ? "yes" : "no") : "-",
                    duration_of(*w, "uptime_ms"), text_of(*w, "restarts"),
                    text_of(*w, "connections"), bytes_of(*w, "rss_bytes"),
                    field(*w, "status") ? text_of(*w, "status") : ""});
    if (inspectors)
      rows.back().insert(rows.back().end() - 1,
                         field(*w, "inspector") ? text_of(*w, "inspector") : "-");
  }
  return format_table(rows, "  ");
}

// A value on an event line: a string as it is if it reads as one word, else
// (and anything but a string) as JSON.
std::string word_of(const json::value& v) {
  if (const json::string* s = v.if_string()) {
    const bool plain = !s->empty() && std::none_of(s->begin(), s->end(), [](char c) {
      return c == '"' || c == '\\' || static_cast<unsigned char>(c) <= ' ';
    });
    if (plain) return std::string(*s);
  }
  return json::serialize(v);
}

std::string signal_text(const json::value& v) {
  boost::system::error_code ec;
  auto signo = v.to_number<int>(ec);
  return ec ? word_of(v) : config::signal_name(signo);
}

}  // namespace

std::string format_event(const json::object& event) {
  std::string out =
      text_of(event, "time") + " " + text_of(event, "event") + " " + text_of(event, "app");
  if (field(event, "id")) out += "[" + text_of(event, "id") + "]";
  if (field(event, "pid")) out += " pid " + text_of(event, "pid");
  // The instance says which slot a fork fills; without a worker id (restart)
  // it is the only name the slot has.
  const bool slot_named = text_of(event, "event") == "fork" || !field(event, "id");
  if (const json::value* v = field(event, "instance"); v && slot_named) {
    out += " instance=" + word_of(*v);
  }
  if (const json::value* v = field(event, "code")) out += " code=" + word_of(*v);
  if (const json::value* v = field(event, "signal")) out += " signal=" + signal_text(*v);
  if (const json::value* v = field(event, "reason")) out += " reason=" + word_of(*v);
  if (const json::value* v = field(event, "delay_ms")) out += " delay_ms=" + word_of(*v);
  // Fields this version does not know, so that nothing the daemon says is lost.
  static const std::string_view kShown[] = {"time",   "event",    "app",    "id",
                                            "pid",    "instance", "code",   "signal",
                                            "reason", "delay_ms", "message"};
  for (const auto& [key, value] : event) {
    if (value.is_null() ||
        std::find(std::begin(kShown), std::end(kShown), key) != std::end(kShown)) {
      continue;
    }
    out += " " + std::string(key) + "=" + word_of(value);
  }
  // The payload may legitimately be null, so it is looked up, not field()ed.
  if (const json::value* v = event.if_contains("message")) out += " " + json::serialize(*v);
  return out + "\n";
}

// For a failed app and for slots without a worker: the last exit, and when
// the next try is.
static std::string why_empty(const json::object& app) {
  std::string out;
  if (text_of(app, "state") == "failed") {
    out += "  failed: every slot is in a crash loop; ";
    out += field(app, "retry_in_ms") ? "started again in " + duration_of(app, "retry_in_ms")
                                     : std::string("no retry (failed_retry = \"0s\")");
    out += "\n";
  }
  const json::array* empty = array_of(app, "empty_slots");
  if (empty == nullptr) return out;
  for (const json::value& item : *empty) {
    const json::object* slot = item.if_object();
    if (slot == nullptr) continue;
    out += "  slot " + text_of(*slot, "instance") + ": ";
    out += field(*slot, "last_exit") ? text_of(*slot, "last_exit") : std::string("not started");
    const json::value* loop = field(*slot, "crash_loop");
    if (loop && loop->is_bool() && loop->as_bool()) out += " (crash loop)";
    if (field(*slot, "next_try_ms"))
      out += "; next try in " + duration_of(*slot, "next_try_ms");
    else if (text_of(app, "state") != "failed")
      out += "; not restarted";
    out += "\n";
  }
  return out;
}

std::string format_status(const json::object& reply) {
  const json::array* apps = array_of(reply, "apps");
  if (apps == nullptr || apps->empty()) return "no apps\n";

  std::vector<Row> rows{{"NAME", "STATE", "PROTOCOL", "INSTANCES", "RESTARTS"}};
  for (const json::value& item : *apps) {
    if (const json::object* app = item.if_object()) {
      rows.push_back({text_of(*app, "name"), text_of(*app, "state"), text_of(*app, "protocol"),
                      instances_text(*app), text_of(*app, "restarts")});
    }
  }
  std::string out = format_table(rows);

  for (const json::value& item : *apps) {
    const json::object* app = item.if_object();
    if (app == nullptr) continue;
    const json::array* workers = array_of(*app, "workers");
    out += '\n';
    if (workers == nullptr || workers->empty()) {
      out += text_of(*app, "name") + ": no workers\n";
    } else {
      out += text_of(*app, "name") + ":\n" + worker_table(*workers) + stopped_notes(*workers);
    }
    out += why_empty(*app);
  }

  if (const json::array* sockets = array_of(reply, "sockets"); sockets && !sockets->empty()) {
    std::vector<Row> socket_rows{{"SOCKET", "PROTO", "LISTEN", "BOUND"}};
    for (const json::value& item : *sockets) {
      if (const json::object* s = item.if_object()) {
        socket_rows.push_back({text_of(*s, "name"), text_of(*s, "protocol"), text_of(*s, "listen"),
                               text_of(*s, "bound")});
      }
    }
    out += '\n' + format_table(socket_rows);
  }
  return out;
}

std::string format_log_line(const json::object& line) {
  return text_of(line, "time") + " " + text_of(line, "app") + "[" + text_of(line, "id") + "] " +
         text_of(line, "line") + "\n";
}

namespace {

// Prefer what the daemon says; the request stands in for a field it omits.
std::string said(const json::object& request, const json::object& reply, std::string_view reply_key,
                 std::string_view request_key) {
  return field(reply, reply_key) ? text_of(reply, reply_key) : text_of(request, request_key);
}

// For `all` the reply may list the apps acted on ("apps") instead of one "app".
std::string apps_said(const json::object& request, const json::object& reply) {
  const json::array* apps = array_of(reply, "apps");
  if (apps == nullptr) return said(request, reply, "app", "app");
  if (apps->empty()) return "no apps";
  std::string names;
  for (const json::value& name : *apps) names += (names.empty() ? "" : ", ") + word_of(name);
  return names;
}

std::string format_restart(const json::object& request, const json::object& reply) {
  if (field(request, "id")) {
    return "worker " + said(request, reply, "id", "id") + " of " + text_of(reply, "app") +
           " replaced by worker " + text_of(reply, "replaced_by") + " (pid " +
           text_of(reply, "pid") + ")\n";
  }
  return apps_said(request, reply) + ": restarted\n";
}

std::string format_logs(const json::object&, const json::object& reply) {
  std::string out;
  if (const json::array* lines = array_of(reply, "lines"))
    for (const json::value& item : *lines)
      if (const json::object* l = item.if_object()) out += format_log_line(*l);
  return out;
}

std::string format_reload_config(const json::object&, const json::object& reply) {
  std::string out;
  for (const char* key : {"apps_added", "apps_removed", "apps_reloaded", "apps_updated",
                          "sockets_added", "sockets_removed", "sockets_rebound", "warnings"}) {
    const auto* list = reply.if_contains(key);
    if (!list || !list->is_array() || list->as_array().empty()) continue;
    out += std::string(key) + ":";
    for (const auto& v : list->as_array())
      out += " " + (v.is_string() ? std::string(v.as_string()) : json::serialize(v));
    out += "\n";
  }
  return out.empty() ? "config reloaded: no changes\n" : "config reloaded\n" + out;
}

std::string format_scale(const json::object& request, const json::object& reply) {
  std::string out = said(request, reply, "app", "app") + ": scaled to " +
                    said(request, reply, "instances", "count") + "\n";
  if (field(reply, "note")) out += "(" + text_of(reply, "note") + ")\n";
  return out;
}

std::string format_kill(const json::object& request, const json::object& reply) {
  std::string signal = said(request, reply, "signal", "signal");
  if (auto signo = integer_of(reply, "signal")) signal = config::signal_name(int(*signo));
  if (signal == "-") signal = "SIGTERM";  // the protocol's default
  return "sent " + signal + " to worker " + said(request, reply, "id", "id") + " (pid " +
         text_of(reply, "pid") + ")\n";
}

std::string format_events(const json::object&, const json::object& reply) {
  const json::array* events = array_of(reply, "events");
  if (events == nullptr || events->empty()) return "no events\n";
  std::string out;
  for (const json::value& item : *events) {
    if (const json::object* event = item.if_object()) {
      out += format_event(*event);
    } else {
      out += json::serialize(item) + "\n";
    }
  }
  return out;
}

using Formatter = std::string (*)(const json::object& request, const json::object& reply);

// One per verb declared in ipc/verbs.h (tests/unit/verbs_test.cc).
const std::pair<std::string_view, Formatter> kFormatters[] = {
    {"ping", [](const json::object&, const json::object&) -> std::string { return "pong\n"; }},
    {"version",
     [](const json::object&, const json::object& reply) {
       return std::string("musterctl ") + muster::version() + " / musterd " +
              text_of(reply, "version") + "\n";
     }},
    {"status", [](const json::object&, const json::object& reply) { return format_status(reply); }},
    {"start",
     [](const json::object& q, const json::object& r) { return apps_said(q, r) + ": started\n"; }},
    {"stop",
     [](const json::object& q, const json::object& r) { return apps_said(q, r) + ": stopped\n"; }},
    {"restart", format_restart},
    {"logs", format_logs},
    {"reload-config", format_reload_config},
    {"reload",
     [](const json::object& q, const json::object& r) {
       if (const auto* started = r.if_contains("started"); started && started->is_bool())
         return apps_said(q, r) + ": reload started\n";
       return apps_said(q, r) + ": reloaded\n";
     }},
    {"scale", format_scale},
    {"reset",
     [](const json::object& q, const json::object& r) {
       return apps_said(q, r) + ": restart counts and crash history reset\n";
     }},
    {"kill", format_kill},
    {"shutdown",
     [](const json::object&, const json::object&) -> std::string {
       return "musterd is shutting down\n";
     }},
    {"disconnect",
     [](const json::object& q, const json::object& r) {
       return "disconnecting worker " + said(q, r, "id", "id") + " (pid " + text_of(r, "pid") +
              ")\n";
     }},
    {"send",
     [](const json::object&, const json::object& r) {
       return "sent to " + text_of(r, "sent") + " worker(s)\n";
     }},
    {"events", format_events},
};

Formatter formatter_for(std::string_view verb) {
  for (const auto& [name, formatter] : kFormatters)
    if (name == verb) return formatter;
  return nullptr;
}

}  // namespace

bool has_reply_formatter(std::string_view verb) { return formatter_for(verb) != nullptr; }

std::string format_reply(const json::object& request, const json::object& reply) {
  if (Formatter formatter = formatter_for(text_of(request, "verb")))
    return formatter(request, reply);
  return json::serialize(reply) + "\n";  // a verb without a rendering of its own
}

}  // namespace muster::cli
