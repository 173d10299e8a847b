// The globs of `watch` and `watch_ignore` (muster.toml(5)): patterns on file
// names as fnmatch(3) reads them. Config checks them; the daemon's watcher
// (daemon/watch/) matches names with them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muster::config {

// Names never watched, whatever watch_ignore says: dependencies and the
// repository, where a change is never the app's own.
inline constexpr const char* kAlwaysIgnored[] = {"node_modules", ".git"};

// Whether `entry` is a glob (holds '*', '?' or '[') rather than a path.
bool is_glob(std::string_view entry);
// Why `pattern` is not a glob on names: an unclosed '[', a trailing '\', or
// a '/' (names hold none, so it could never match); nullopt if it is one.
std::optional<std::string> glob_problem(std::string_view pattern);
// fnmatch(3) of `name` against `pattern`, without flags.
bool glob_matches(const std::string& pattern, const std::string& name);
// `name` matches one of `ignore` or is one of kAlwaysIgnored.
bool watch_ignored(const std::vector<std::string>& ignore, const std::string& name);

}  // namespace muster::config
