// The pieces of the PM2 importer (import_pm2.h), shared by its files only.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/import_pm2.h"
#include "cli/toml_text.h"

namespace muster::cli::pm2 {

namespace json = boost::json;

// One line of an app's table: `key = value  # comment`, or `# comment` alone
// when value is empty.
struct Line {
  std::string key;
  std::string value;  // TOML text
  std::string comment;
};

using Env = std::vector<std::pair<std::string, std::string>>;

struct App {
  std::string name;
  std::vector<std::string> notes;  // comments above the table
  std::vector<Line> lines;
  Env env;
  std::vector<std::pair<std::string, Env>> environments;  // env_<name>, in file order
  std::vector<std::string> dropped;                       // comments after the table
};

// An app of the file with PM2's aliases resolved; `instances_seen` is set for
// a dump (how many entries the saved list had), `from_dump` marks one.
struct Source {
  json::object conf;
  std::optional<std::size_t> instances_seen;
  bool from_dump = false;
};

// import_pm2_input.cc: the apps of an ecosystem file or a dump, or an error.
std::vector<Source> ecosystem_apps(const json::value& value, std::string& error);
bool is_dump(const json::value& value);
std::vector<Source> dump_apps(const json::array& dump, std::vector<std::string>& notes);

// import_pm2_app.cc / import_pm2_policy.cc: one app; warnings appended.
App convert_app(const Source& source, const std::string& dir, const Host& host,
                std::vector<std::string>& warnings);
void add_policies(const json::object& conf, bool node_app, App& app,
                  std::vector<std::string>& warnings);
void add_output(const json::object& conf, const std::string& cwd, const Host& host, App& app);

// import_pm2_values.cc
std::vector<std::string> split_args(const std::string& text);  // PM2's Config._valid
std::string env_text(const json::value& value);  // a value as a string, as Node would pass it
std::string display(const json::value& value);   // compact JSON, for comments
std::optional<std::uint64_t> number_of(const json::value& value);  // a count or ms
std::optional<std::string> duration_ms(const json::value& value);  // "1500ms", "3s"
std::optional<std::string> pm2_uptime(const json::value& value);   // min_uptime: "2s", "1m"
std::optional<std::string> pm2_size(const json::value& value);     // "200M" -> "200MiB"
std::vector<std::string> string_list(const json::value& value);    // "a" or ["a", "b"]
std::string app_name(const std::string& name);  // characters muster does not take -> '-'

// import_pm2_toml.cc
std::string render(const std::vector<App>& apps, const std::vector<std::string>& header);

}  // namespace muster::cli::pm2
