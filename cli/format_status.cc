// musterctl status as people read it: the apps table, each app's workers,
// why slots are empty, the sockets; coloured and escaped for a terminal when
// a Style says so.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/format.h"
#include "cli/json_fields.h"

namespace muster::cli {

namespace json = boost::json;
using namespace fields;

namespace {

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

constexpr std::string_view kGreen = "\x1b[32m", kYellow = "\x1b[33m", kRed = "\x1b[31m";

// "12.5%", or "-" before a worker has two CPU samples.
std::string percent_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr || !v->is_number()) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%%", v->to_number<double>());
  return text;
}

bool is_true(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v && v->is_bool() && v->get_bool();
}

// Every cell through `style`'s escape, if any.
void escape_rows(std::vector<Row>& rows, const Style* style) {
  if (style == nullptr || !style->escape) return;
  for (Row& row : rows)
    for (std::string& cell : row) cell = style->escape(std::move(cell));
}

std::string worker_table(const json::array& workers, const Style* style) {
  const bool inspectors = any_inspector(workers);
  std::vector<Row> rows{{"ID", "INSTANCE", "PID", "STATE", "READY", "UPTIME", "RESTARTS", "CONNS",
                         "CPU", "RSS", "STATUS"}};
  if (inspectors) rows.front().insert(rows.front().end() - 1, "INSPECTOR");
  std::vector<std::string_view> colours{""};
  for (const json::value& item : workers) {
    const json::object* w = item.if_object();
    if (w == nullptr) continue;
    const json::value* ready = field(*w, "ready");
    std::string state = text_of(*w, "state");
    if (stopped(*w)) state += " (stopped)";
    rows.push_back({text_of(*w, "id"), text_of(*w, "instance"), text_of(*w, "pid"), state,
                    ready && ready->is_bool() ? (ready->get_bool() ? "yes" : "no") : "-",
                    duration_of(*w, "uptime_ms"), text_of(*w, "restarts"),
                    text_of(*w, "connections"), percent_of(*w, "cpu_percent"),
                    bytes_of(*w, "rss_bytes"), field(*w, "status") ? text_of(*w, "status") : ""});
    if (inspectors)
      rows.back().insert(rows.back().end() - 1,
                         field(*w, "inspector") ? text_of(*w, "inspector") : "-");
    colours.push_back(worker_state_colour(*w));
  }
  escape_rows(rows, style);
  if (style == nullptr || !style->colour) return format_table(rows, "  ");
  return format_table(rows, "  ", [&](std::size_t row, std::size_t column) {
    return column == 3 ? colours[row] : std::string_view();
  });
}

}  // namespace

std::string_view worker_state_colour(const json::object& w) {
  if (stopped(w) || text_of(w, "state") == "dead") return kRed;
  return is_true(w, "ready") ? kGreen : kYellow;
}

std::string_view app_state_colour(const json::object& app) {
  const std::string state = text_of(app, "state");
  if (state == "running") return kGreen;
  if (state == "failed") return kRed;
  return state == "reloading" || state == "waiting" ? kYellow : "";
}

namespace {

// For a waiting app, what it waits for; for a failed app and for slots
// without a worker: the last exit, and when the next try is.
std::string why_empty(const json::object& app) {
  std::string out;
  if (const json::array* names = array_of(app, "waiting_for")) {
    std::string list;
    for (const json::value& name : *names)
      if (name.is_string()) list += (list.empty() ? "" : ", ") + std::string(name.get_string());
    out += "  waiting for " + list + " (after): starts once each has a ready worker\n";
  }
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

// "2/3": ready workers of the app's instances.
std::string ready_text(const json::object& app) {
  return text_of(app, "ready") + "/" + text_of(app, "instances");
}

}  // namespace

std::string format_status(const json::object& reply, const Style* style) {
  const json::array* apps = array_of(reply, "apps");
  if (apps == nullptr || apps->empty()) return "no apps\n";
  auto text = [style](std::string t) { return style && style->escape ? style->escape(t) : t; };

  std::vector<Row> rows{{"NAME", "STATE", "PROTOCOL", "READY", "INSTANCES", "RESTARTS"}};
  std::vector<std::string_view> colours{""};
  for (const json::value& item : *apps) {
    if (const json::object* app = item.if_object()) {
      rows.push_back({text_of(*app, "name"), text_of(*app, "state"), text_of(*app, "protocol"),
                      ready_text(*app), instances_text(*app), text_of(*app, "restarts")});
      colours.push_back(app_state_colour(*app));
    }
  }
  escape_rows(rows, style);
  std::string out = style && style->colour
                        ? format_table(rows, "",
                                       [&](std::size_t row, std::size_t column) {
                                         return column == 1 ? colours[row] : std::string_view();
                                       })
                        : format_table(rows);

  for (const json::value& item : *apps) {
    const json::object* app = item.if_object();
    if (app == nullptr) continue;
    const json::array* workers = array_of(*app, "workers");
    out += '\n';
    if (workers == nullptr || workers->empty()) {
      out += text(text_of(*app, "name") + ": no workers\n");
    } else {
      out += text(text_of(*app, "name") + ":\n") + worker_table(*workers, style) +
             text(stopped_notes(*workers));
    }
    out += text(why_empty(*app));
  }

  if (const json::array* sockets = array_of(reply, "sockets"); sockets && !sockets->empty()) {
    std::vector<Row> socket_rows{{"SOCKET", "PROTO", "LISTEN", "BOUND"}};
    for (const json::value& item : *sockets) {
      if (const json::object* s = item.if_object()) {
        socket_rows.push_back({text_of(*s, "name"), text_of(*s, "protocol"), text_of(*s, "listen"),
                               text_of(*s, "bound")});
      }
    }
    escape_rows(socket_rows, style);
    out += '\n' + format_table(socket_rows);
  }
  return out;
}

}  // namespace muster::cli
