// Where a PM2 app's output goes, as muster's output/output_file. PM2 writes
// stdout to out_file, stderr to error_file and both to log_file (each
// relative to the app's cwd; "/dev/null" or "NULL" for none: prepareAppConf
// in lib/Common.js); muster writes an app's two streams into one file.
#include "cli/import_pm2_parts.h"

namespace muster::cli::pm2 {
namespace {

std::optional<std::string> path_of(const json::object& conf, const char* key) {
  const json::value* v = conf.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

bool is_null_path(const std::optional<std::string>& p) {
  return p && (*p == "/dev/null" || *p == "NULL");
}

// resolveHome, then PM2's resolution against the app's cwd, kept relative
// when cwd is (this file's directory stands for where pm2 ran).
std::string resolved(const std::string& path, const std::string& cwd, const Host& host) {
  std::string p = path;
  if (p.rfind("~/", 0) == 0 && !host.home.empty()) p = host.home + p.substr(1);
  if (p[0] == '/' || cwd.empty()) return p;
  return cwd + "/" + p;
}

}  // namespace

void add_output(const json::object& conf, const std::string& cwd, const Host& host, App& app) {
  if (const json::value* off = conf.if_contains("disable_logs");
      off && off->is_bool() && off->get_bool()) {
    app.lines.push_back({"output", toml_string("null"), "PM2's disable_logs"});
    return;
  }
  auto out = path_of(conf, "out_file");
  auto err = path_of(conf, "error_file");
  auto combined = path_of(conf, "log_file");
  std::optional<std::string> file;
  std::string also;
  if (combined && !is_null_path(combined)) {
    file = combined;
    for (const auto& [p, what] : {std::pair{out, "stdout"}, std::pair{err, "stderr"}})
      if (p && !is_null_path(p) && *p != *file) also += std::string(what) + " to " + *p + " ";
  } else if (out && !is_null_path(out)) {
    file = out;
    if (err && *err != *out)
      also = is_null_path(err) ? "no stderr (here it is written too) "
                               : "stderr to " + *err + " (here it is written too) ";
  } else if (err && !is_null_path(err)) {
    file = err;
    also =
        "stdout to " + (out ? *out : std::string("PM2's own log")) + " (here it is written too) ";
  } else if (is_null_path(out) && is_null_path(err)) {
    app.lines.push_back({"output", toml_string("null"), "PM2's out_file and error_file /dev/null"});
    return;
  }
  if (!file) return;
  app.lines.push_back({"output", toml_string("file"), "one file for stdout and stderr"});
  app.lines.push_back({"output_file", toml_string(resolved(*file, cwd, host)),
                       "musterd does not create its directory"});
  if (!also.empty()) {
    also.pop_back();
    app.dropped.push_back("PM2 also wrote " + also);
  }
}

}  // namespace muster::cli::pm2
