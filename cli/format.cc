#include "cli/format.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "base/version.h"
#include "cli/json_fields.h"
#include "config/config.h"

namespace muster::cli {

namespace json = boost::json;
using namespace fields;

namespace {

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
    {"describe",
     [](const json::object&, const json::object& reply) { return format_describe(reply); }},
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
    {"upgrade",
     [](const json::object&, const json::object& r) {
       return "upgraded from " + text_of(r, "from") + " to " + text_of(r, "to") + " (pid " +
              text_of(r, "pid") + ")\n";
     }},
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
