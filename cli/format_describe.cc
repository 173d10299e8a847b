// musterctl describe as people read it: one app's sections, each an aligned
// table, from the reply of docs/control-protocol.md ("Describe shape").
#include <string>
#include <vector>

#include "cli/format.h"
#include "cli/json_fields.h"

namespace muster::cli {

namespace json = boost::json;
using namespace fields;

namespace {

// A setting's value as the config file would write it, but plain strings
// bare: `node`, `""`, `["server.js"]`, `true`.
std::string value_text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "-";
  if (const json::string* s = v->if_string()) return s->empty() ? "\"\"" : std::string(*s);
  return json::serialize(*v);
}

std::string origin_text(const json::object& entry) {
  const json::value* v = field(entry, "origin");
  const json::object* o = v ? v->if_object() : nullptr;
  if (o == nullptr) return "-";
  const std::string kind = text_of(*o, "kind");
  const std::string place = text_of(*o, "file") + ":" + text_of(*o, "line");
  if (kind == "file") return place;
  if (kind == "environment") return "environment " + text_of(*o, "environment") + ", " + place;
  if (kind == "scale") return "musterctl scale (config: " + text_of(*o, "config") + ")";
  if (kind == "musterd") return "musterd's PATH";
  if (kind == "inherited") return "env_inherit (musterd's environment)";
  return kind;
}

// The objects of reply[key], skipping anything else.
std::vector<const json::object*> objects(const json::object& o, std::string_view key) {
  std::vector<const json::object*> out;
  if (const json::array* items = array_of(o, key))
    for (const json::value& item : *items)
      if (const json::object* obj = item.if_object()) out.push_back(obj);
  return out;
}

std::string section(std::string_view title, const std::vector<Row>& rows) {
  return "\n" + std::string(title) + ":\n" +
         (rows.size() > 1 ? format_table(rows, "  ") : "  none\n");
}

// Settings and Environment: each entry's name, value and origin.
std::string with_origins(const json::object& reply, std::string_view title, std::string_view key,
                         std::string_view name_key, const std::string& header) {
  std::vector<Row> rows{{header, "VALUE", "ORIGIN"}};
  for (const json::object* entry : objects(reply, key))
    rows.push_back({text_of(*entry, name_key), value_text(*entry, "value"), origin_text(*entry)});
  return section(title, rows);
}

std::string exec_text(const json::object& reply) {
  const json::value* v = field(reply, "exec");
  const json::object* e = v ? v->if_object() : nullptr;
  if (e == nullptr) return "";
  std::vector<Row> rows{
      {"exec", text_of(*e, "exec")},
      {"runs", field(*e, "resolved") ? text_of(*e, "resolved") : "error: " + text_of(*e, "error")},
      {"args", value_text(*e, "args")},
      {"cwd", text_of(*e, "cwd")},
      {"PATH", text_of(*e, "path")}};
  return "\nExec:\n" + format_table(rows, "  ");
}

std::string sockets_text(const json::object& reply) {
  std::vector<Row> rows{{"SOCKET", "PROTO", "LISTEN", "BOUND"}};
  for (const json::object* s : objects(reply, "sockets"))
    rows.push_back({text_of(*s, "name"), text_of(*s, "protocol"), text_of(*s, "listen"),
                    text_of(*s, "bound")});
  return section("Sockets", rows);
}

std::string yes_no(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v && v->is_bool() ? (v->get_bool() ? "yes" : "no") : "-";
}

std::string policy_text(const json::object& reply) {
  const json::value* v = field(reply, "policy");
  const json::object* p = v ? v->if_object() : nullptr;
  if (p == nullptr) return "";
  std::string out = "\nPolicy:\n  state " + text_of(*p, "state");
  if (field(*p, "retry_in_ms")) out += ", started again in " + duration_of(*p, "retry_in_ms");
  out += "\n";
  std::vector<Row> rows{
      {"SLOT", "WORKER", "PID", "STATE", "RESTARTS", "IN A ROW", "CRASH LOOP", "NEXT TRY"}};
  for (const json::object* slot : objects(*p, "slots")) {
    const json::value* w = field(*slot, "worker");
    const json::object* worker = w ? w->if_object() : nullptr;
    rows.push_back({text_of(*slot, "instance"), worker ? text_of(*worker, "id") : "-",
                    worker ? text_of(*worker, "pid") : "-",
                    worker ? text_of(*worker, "state") : "empty", text_of(*slot, "restarts"),
                    text_of(*slot, "consecutive"), yes_no(*slot, "crash_loop"),
                    field(*slot, "next_try_ms") ? "in " + duration_of(*slot, "next_try_ms") : "-"});
  }
  return out + (rows.size() > 1 ? format_table(rows, "  ") : "");
}

std::string counters_text(const json::object& reply) {
  const json::value* v = field(reply, "counters");
  const json::object* c = v ? v->if_object() : nullptr;
  if (c == nullptr) return "";
  std::vector<Row> rows;
  for (const auto& [key, value] : *c) rows.push_back({std::string(key), text_of(*c, key)});
  return "\nCounters:\n" + format_table(rows, "  ");
}

std::string exits_text(const json::object& reply) {
  std::vector<Row> rows{{"SLOT", "TIME", "ID", "PID", "EXIT", "VOLUNTARY", "UPTIME"}};
  for (const json::object* slot : objects(reply, "last_exits"))
    for (const json::object* e : objects(*slot, "exits"))
      rows.push_back({text_of(*slot, "instance"), text_of(*e, "time"), text_of(*e, "id"),
                      text_of(*e, "pid"), text_of(*e, "description"), yes_no(*e, "voluntary"),
                      duration_of(*e, "uptime_ms")});
  return section("Last exits", rows);
}

std::string logs_text(const json::object& reply) {
  const json::value* v = field(reply, "logs");
  const json::object* l = v ? v->if_object() : nullptr;
  if (l == nullptr) return "";
  std::vector<Row> rows{{"output", text_of(*l, "output")}};
  if (field(*l, "file")) {
    rows.push_back({"file", text_of(*l, "file")});
    rows.push_back({"rotated", text_of(*l, "rotated") + " (" + text_of(*l, "keep") + " kept)"});
  }
  if (field(*l, "where")) rows.push_back({"where", text_of(*l, "where")});
  return "\nLogs:\n" + format_table(rows, "  ");
}

}  // namespace

std::string format_describe(const json::object& reply) {
  return text_of(reply, "app") + " (config " + text_of(reply, "config_file") + ")\n" +
         with_origins(reply, "Settings", "settings", "key", "KEY") + exec_text(reply) +
         with_origins(reply, "Environment", "environment", "name", "NAME") + sockets_text(reply) +
         policy_text(reply) + counters_text(reply) + exits_text(reply) + logs_text(reply);
}

}  // namespace muster::cli
