#include "config/watch_glob.h"

#include <fnmatch.h>

#include <algorithm>

namespace muster::config {

bool is_glob(std::string_view entry) {
  return entry.find_first_of("*?[") != std::string_view::npos;
}

std::optional<std::string> glob_problem(std::string_view pattern) {
  if (pattern.find('/') != std::string_view::npos)
    return "a glob matches file names, which hold no '/' (watch the directory as a path, or "
           "match the name alone)";
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (++i == pattern.size()) return "a glob cannot end with '\\'";
    } else if (pattern[i] == '[') {
      // "[]a]" and "[!]a]": a ']' right after the opening is one of the set.
      std::size_t close = i + 1;
      if (close < pattern.size() && (pattern[close] == '!' || pattern[close] == '^')) ++close;
      if (close < pattern.size() && pattern[close] == ']') ++close;
      close = pattern.find(']', close);
      if (close == std::string_view::npos) return "'[' opens a set that no ']' closes";
      i = close;
    }
  }
  return std::nullopt;
}

bool glob_matches(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

bool watch_ignored(const std::vector<std::string>& ignore, const std::string& name) {
  for (const char* always : kAlwaysIgnored)
    if (name == always) return true;
  return std::any_of(ignore.begin(), ignore.end(),
                     [&](const std::string& pattern) { return glob_matches(pattern, name); });
}

}  // namespace muster::config
