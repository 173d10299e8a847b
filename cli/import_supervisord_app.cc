// What a supervisord program becomes in muster: keys, and comments for
// what has no equivalent (the notes of import_supervisord_keys.cc).
#include <algorithm>
#include <cctype>

#include "cli/import_supervisord_keys.h"
#include "cli/import_supervisord_program.h"
#include "config/config.h"

namespace muster::cli::supervisord {
namespace {

std::string seconds(std::int64_t n) {
  return toml_string(std::to_string(std::max<std::int64_t>(n, 0)) + "s");
}

// Words that a shell would treat as syntax; supervisord does not.
std::optional<std::string> shell_syntax(const std::vector<std::string>& argv) {
  for (const std::string& word : argv) {
    if (word == "&&" || word == "||" || word == "|" || word == ";" || word == "&" ||
        word.starts_with(">") || word.starts_with("<") || word.starts_with("2>") ||
        word.find("$(") != std::string::npos || word.find('`') != std::string::npos ||
        (word.size() > 1 && word[0] == '$'))
      return word;
  }
  return std::nullopt;
}

std::string no_equivalent(const std::string& key, const std::string& value) {
  const KeyMapping* mapping = find_program_key(key);
  return key + " = " + value + ": no equivalent in muster: " +
         std::string(mapping ? mapping->note : "not a key supervisord reads");
}

bool to_own_stdio(const std::string& path) {
  return path == "/dev/stdout" || path == "/dev/stderr" || path == "/proc/self/fd/1" ||
         path == "/proc/self/fd/2" || path == "/dev/fd/1" || path == "/dev/fd/2";
}

void file_output(App& app, const std::string& path, std::uint64_t maxbytes, std::int64_t backups,
                 const std::string& prefix) {
  if (to_own_stdio(path)) {
    app.keys.emplace_back("output", toml_string("inherit"));
    return;
  }
  app.keys.emplace_back("output", toml_string("file"));
  app.keys.emplace_back("output_file", toml_string(path));
  if (maxbytes > 0)
    app.keys.emplace_back("output_max_size", toml_string(size_text(maxbytes)));
  else
    app.comments.push_back(prefix +
                           "_maxbytes = 0 (never rotate): no equivalent in muster: "
                           "output_file rotates at output_max_size (default 10MiB)");
  auto keep = std::clamp<std::int64_t>(backups, 0, config::kMaxOutputKeep);
  app.keys.emplace_back("output_keep", std::to_string(keep));
}

// stdout_logfile and stderr_logfile onto muster's single output.
void output(const Program& p, const Process& process, App& app) {
  using Kind = LogFile::Kind;
  const LogFile& out = process.stdout_log;
  LogFile err = p.redirect_stderr ? LogFile{Kind::none, ""} : process.stderr_log;
  bool err_used = false;
  if (out.kind == Kind::path) {
    file_output(app, out.path, p.stdout_maxbytes, p.stdout_backups, "stdout_logfile");
  } else if (out.kind == Kind::none && err.kind == Kind::path) {
    file_output(app, err.path, p.stderr_maxbytes, p.stderr_backups, "stderr_logfile");
    app.comments.push_back("stdout_logfile = NONE: muster writes stdout to stderr's file too");
    err_used = true;
  } else if (out.kind == Kind::none && err.kind == Kind::none) {
    app.keys.emplace_back("output", toml_string("null"));
  } else if (out.kind == Kind::none) {
    app.comments.push_back(
        "stdout_logfile = NONE: muster has one destination for stdout and "
        "stderr: both go to musterd's log");
  } else if (out.kind == Kind::syslog) {
    app.comments.push_back(
        "stdout_logfile = syslog: output = \"journal\" sends each line to the "
        "systemd journal; left at musterd's log");
  }
  if (!err_used && err.kind == Kind::path && !(out.kind == Kind::path && out.path == err.path))
    app.comments.push_back("stderr_logfile = " + err.path +
                           ": muster writes stderr where stdout goes (output), not to a file "
                           "of its own");
}

// The words as one sh -c command: a word with blanks or quotes in double
// quotes (so that $VAR and `...` in it still expand), any other as it is,
// shell syntax included.
std::string shell_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& word : argv) {
    if (!out.empty()) out += ' ';
    if (word.find_first_of(" \t'\"") == std::string::npos && !word.empty()) {
      out += word;
      continue;
    }
    out += '"';
    for (char c : word) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

void command(const Process& process, App& app, std::vector<std::string>& warnings) {
  if (auto word = shell_syntax(process.argv)) {
    // It looks written for a shell: run it through one, and say that
    // supervisord did not.
    app.keys.emplace_back("exec", toml_string("sh"));
    app.keys.emplace_back("args", toml_strings({"-c", shell_command(process.argv)}));
    app.comments.push_back("the command has shell syntax ('" + *word +
                           "'), so muster runs it through sh -c; supervisord runs no shell and "
                           "passed '" +
                           *word +
                           "' to the program as a word: if the program "
                           "wanted that, write exec and args as the words " +
                           toml_strings(process.argv));
    warnings.push_back(app.source + ": command has shell syntax '" + *word +
                       "': run through sh -c (supervisord passed it to the program as a word)");
    return;
  }
  app.keys.emplace_back("exec", toml_string(process.argv.front()));
  if (process.argv.size() > 1)
    app.keys.emplace_back("args", toml_strings({process.argv.begin() + 1, process.argv.end()}));
}

App base_app(const Program& p, const Process& process, std::vector<std::string>& warnings) {
  App app;
  app.source = "[program:" + p.name + "] " + p.origin.file + ":" + std::to_string(p.origin.line);
  app.priority = static_cast<int>(p.priority);
  app.autostart = p.autostart;
  command(process, app, warnings);
  if (process.directory) app.keys.emplace_back("cwd", toml_string(*process.directory));
  if (p.user) app.keys.emplace_back("user", toml_string(*p.user));
  if (!p.autostart) app.keys.emplace_back("autostart", "false");
  app.keys.emplace_back("restart", toml_string(p.restart));
  app.keys.emplace_back("min_uptime", seconds(p.startsecs));
  app.keys.emplace_back("max_restarts", std::to_string(std::max<std::int64_t>(p.startretries, 0)));
  if (p.stopsignal_set)
    app.keys.emplace_back("stop_signal", toml_string(config::signal_name(p.stopsignal)));
  app.keys.emplace_back("stop_timeout", seconds(p.stopwaitsecs));
  output(p, process, app);
  for (const auto& [key, value] : p.unmapped) app.comments.push_back(no_equivalent(key, value));
  for (const std::string& key : p.unknown) {
    app.comments.push_back(key + ": not a key supervisord reads; ignored");
    warnings.push_back(app.source + ": unknown key '" + key + "' ignored");
  }
  app.env = process.env;
  return app;
}

// App names are letters, digits, '_', '.' and '-' (config/apps.cc).
std::string app_name(const std::string& name, const std::string& source,
                     std::vector<std::string>& warnings) {
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '_';
  if (out == config::kAllApps) out = "all_";
  if (out != name) warnings.push_back(source + ": process '" + name + "' is app '" + out + "'");
  return out;
}

}  // namespace

std::vector<App> apps_of(const Program& program, std::vector<std::string>& warnings) {
  const auto& processes = program.processes;
  bool alike = std::all_of(processes.begin(), processes.end(),
                           [&](const Process& p) { return p.same_but_name(processes.front()); });
  std::vector<App> apps;
  if (alike) {
    App app = base_app(program, processes.front(), warnings);
    app.name = app_name(processes.size() == 1 ? processes.front().name : program.name, app.source,
                        warnings);
    if (processes.size() > 1)
      app.keys.insert(app.keys.begin() + 1 + (app.keys.size() > 1 && app.keys[1].first == "args"),
                      {"instances", std::to_string(processes.size())});
    apps.push_back(std::move(app));
    return apps;
  }
  for (const Process& process : processes) {
    App app = base_app(program, process, warnings);
    app.name = app_name(process.name, app.source, warnings);
    app.comments.insert(app.comments.begin(),
                        "numprocs = " + std::to_string(processes.size()) +
                            ": one app per process, as the processes differ beyond their names "
                            "(muster's instances share one command)");
    apps.push_back(std::move(app));
  }
  return apps;
}

}  // namespace muster::cli::supervisord
