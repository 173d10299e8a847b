// `musterctl import SOURCE FILE`: musterctl's own verb, offline like `check`:
// prints a muster config made from another supervisor's configuration.
// Each SOURCE is a subcommand of `import` with its own files (pm2:
// import_pm2.h; supervisord: import_supervisord.h).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace muster::cli {

struct ImportArgs {
  CLI::App* verb = nullptr;
  CLI::App* pm2 = nullptr;
  std::string pm2_file;
  CLI::App* supervisord = nullptr;
  std::vector<std::string> supervisord_files;
};

// Adds `import` and its sources to `app`.
void add_import_verb(CLI::App& app, ImportArgs& args);

// Runs the source the command line chose; an exit code.
int run_import_verb(const ImportArgs& args);

}  // namespace muster::cli
