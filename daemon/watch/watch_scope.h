// Which directories an app's `watch` watches and which changes in them count
// (muster.toml(5), watch): pure decisions on paths and names; the watcher
// (app_watch.h) asks them of what the kernel reports.
//
// A path entry (no glob characters) is resolved against cwd (or taken as
// it is when absolute): a directory is watched recursively, a file itself.
// Its parent is watched too, for that name alone, so that an entry created
// or replaced later (an editor's rename, a `rm -r` and `mkdir`) is seen.
// A glob entry matches file names anywhere under cwd, which is then watched
// recursively. Names matching watch_ignore, node_modules and .git are never
// watched or counted below an entry (an entry itself is always watched).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace muster::daemon {

class WatchScope {
 public:
  explicit WatchScope(const config::AppConfig& app);

  // Directories to start the walk from: each path entry's parent, and cwd
  // when there are globs (whose subdirectories are found by walking).
  const std::vector<std::string>& starts() const { return starts_; }
  // The path entries, absolute and normal.
  const std::vector<std::string>& entries() const { return entries_; }
  // Whether `dir` is a path entry (so watched whatever its name).
  bool is_entry(const std::string& path) const;
  // Whether directory `dir`, once watched, has its subdirectories watched.
  bool recursive(const std::string& dir) const;
  // Whether the subdirectory `name` of watched directory `dir` is watched.
  bool watches_subdir(const std::string& dir, const std::string& name) const;
  // Whether a change to file `name` in watched directory `dir` counts.
  bool counts(const std::string& dir, const std::string& name) const;
  // `path` as an event shows it: relative to cwd when under it.
  std::string shown(const std::string& path) const;

 private:
  std::string cwd_;
  std::vector<std::string> entries_;  // path entries, absolute and normal
  std::vector<std::string> patterns_;
  std::vector<std::string> ignore_;
  std::vector<std::string> starts_;
};

// "dir/name", without doubling the '/' of "/".
std::string join_path(const std::string& dir, const std::string& name);
// Whether `path` is `dir` or below it (both absolute and normal).
bool path_within(const std::string& path, const std::string& dir);

}  // namespace muster::daemon
