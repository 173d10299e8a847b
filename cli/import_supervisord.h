// `musterctl import supervisord FILE...`: supervisord's config files as a
// muster config. Reading (files and their [include]s) is apart from the
// conversion, which is pure: it sees the parsed files, the environment that
// %(ENV_X)s names and the host name, and returns apps, groups and comments.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cli/ini.h"

namespace muster::cli::supervisord {

// What supervisord would have seen at its start: its environment
// (%(ENV_X)s) and platform.node() (%(host_node_name)s).
struct Context {
  std::map<std::string, std::string> environ;
  std::string host_node_name;
};

// One muster app: its keys as TOML text, in the order written.
struct App {
  std::string name;
  std::string source;                                     // "[program:x] FILE:LINE"
  std::vector<std::pair<std::string, std::string>> keys;  // key, TOML value
  std::vector<std::string> comments;                      // without the "# "
  std::vector<std::pair<std::string, std::string>> env;
  int priority = 999;
  bool autostart = true;
};

struct Imported {
  std::vector<App> apps;
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  std::vector<std::string> comments;  // for the whole file (other sections)
  std::vector<std::string> warnings;  // for stderr
};

// Reads each file and what its [include] files= globs name (relative to
// the including file, sorted, as supervisord does) into one document. An
// unreadable file or a line configparser refuses is an error "FILE:LINE: …".
Result<ini::Document> read_files(const std::vector<std::string>& files,
                                 std::vector<std::string>& warnings);

// The muster apps of `doc`'s [program:x] and [group:x] sections, or the
// first error ("FILE:LINE: [program:x] key: …").
Result<Imported> convert(const ini::Document& doc, const Context& context);

// `imported` as a muster.toml text.
std::string to_toml(const Imported& imported, const std::vector<std::string>& files);

// The whole verb: exit 0 with the config on stdout, 1 naming the problem.
int run_import_supervisord(const std::vector<std::string>& files);

}  // namespace muster::cli::supervisord
