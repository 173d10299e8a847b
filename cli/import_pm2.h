// `musterctl import pm2 FILE`: a PM2 ecosystem file (.json, or .js/.cjs/.mjs
// evaluated by the user's node) or PM2's saved process list (dump.pm2) as a
// muster config. The conversion is pure: it takes the file's JSON and a probe
// of the file system, and returns TOML text plus warnings. Every key is
// mapped as pm2_tables.h says; one without an equivalent becomes a comment.
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace muster::cli::pm2 {

// What the converter asks of the host, so tests can answer for it.
struct Host {
  // What `path` (absolute, or relative to the process's cwd) is, for PM2's
  // choice of interpreter: a text file runs with node, a binary by itself.
  enum class Kind { missing, text, binary };
  std::function<Kind(const std::string& path)> file_kind;
  std::string home;  // for "~/" in log paths, as PM2's resolveHome
};

struct Imported {
  std::string toml;                   // the config, ready to print
  std::vector<std::string> warnings;  // one line each, without the file name
};

// `value` is module.exports of an ecosystem file ({apps: [...]}, a bare
// array, or one app), or the array of a dump.pm2. `source` is the file's name
// as the user gave it (for the header comment); `dir` the directory relative
// paths in the file are taken from (the ecosystem file's, where pm2 ran).
// An error text when it is no such thing.
struct Outcome {
  std::optional<Imported> imported;
  std::string error;
};
Outcome convert(const boost::json::value& value, const std::string& source, const std::string& dir,
                const Host& host);

// The real host: stat and the first 512 bytes, $HOME.
Host real_host();

// Reads FILE (evaluating a .js/.cjs/.mjs with node), converts it, prints the
// config on stdout and the warnings on stderr. kExitOk, or kExitFailed with
// the reason (a file that cannot be read or parsed, node missing or failing).
int run_import(const std::string& path);

}  // namespace muster::cli::pm2
