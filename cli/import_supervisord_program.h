// One [program:x] section read as supervisord reads it
// (supervisor/options.py, _processes_from_section), expanded per process,
// and what muster apps it becomes. Internal to the supervisord importer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cli/import_supervisord.h"
#include "cli/import_supervisord_values.h"
#include "cli/ini.h"
#include "cli/toml_text.h"

namespace muster::cli::supervisord {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// One process of a program, every %(...)s expanded.
struct Process {
  std::string name;
  std::vector<std::string> argv;
  Pairs env;  // [supervisord] environment=, then the program's over it
  std::optional<std::string> directory;
  LogFile stdout_log, stderr_log;

  bool same_but_name(const Process& other) const {
    return argv == other.argv && env == other.env && directory == other.directory &&
           stdout_log == other.stdout_log && stderr_log == other.stderr_log;
  }
};

struct Program {
  std::string name;   // x of [program:x]
  std::string group;  // its [group:g], else x
  ini::Origin origin;
  std::vector<Process> processes;
  int priority = 999;
  bool autostart = true;
  std::string restart = "on-failure";  // autorestart=unexpected
  std::int64_t startsecs = 1, startretries = 3, stopwaitsecs = 10;
  int stopsignal = 15;
  bool stopsignal_set = false;
  std::vector<int> exitcodes{0};
  std::optional<std::string> user;
  bool redirect_stderr = false;
  std::uint64_t stdout_maxbytes = 50ULL << 20, stderr_maxbytes = 50ULL << 20;
  std::int64_t stdout_backups = 10, stderr_backups = 10;
  Pairs unmapped;                    // keys muster has no equivalent for, with their values
  std::vector<std::string> unknown;  // keys supervisord does not read
};

// What the section's values are expanded with besides the per-program names.
struct Expansions {
  const Context& context;
  Pairs supervisord_env;  // [supervisord] environment=
};

Result<Program> read_program(const ini::Document& doc, const ini::Section& section,
                             const std::string& group, const Expansions& expansions);

// The apps a program becomes: one (with instances) when its processes differ
// only in name, else one per process.
std::vector<App> apps_of(const Program& program, std::vector<std::string>& warnings);

}  // namespace muster::cli::supervisord

namespace muster::cli::supervisord {

// TOML text of a string (a basic string) and of a list of strings.

}  // namespace muster::cli::supervisord
