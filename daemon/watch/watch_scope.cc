#include "daemon/watch/watch_scope.h"

#include <algorithm>
#include <filesystem>

#include "config/watch_glob.h"

namespace muster::daemon {
namespace {

std::string normal(const std::filesystem::path& path) {
  std::string text = path.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

void add_once(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

}  // namespace

std::string join_path(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

bool path_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

WatchScope::WatchScope(const config::AppConfig& app)
    : cwd_(normal(app.cwd)), ignore_(app.watch_ignore) {
  for (const auto& entry : app.watch) {
    if (config::is_glob(entry)) {
      add_once(patterns_, entry);
      continue;
    }
    std::string path = normal(std::filesystem::path(cwd_) / entry);
    add_once(entries_, path);
    add_once(starts_, normal(std::filesystem::path(path).parent_path()));
  }
  if (!patterns_.empty()) add_once(starts_, cwd_);
}

bool WatchScope::is_entry(const std::string& path) const {
  return std::find(entries_.begin(), entries_.end(), path) != entries_.end();
}

bool WatchScope::recursive(const std::string& dir) const {
  if (!patterns_.empty() && path_within(dir, cwd_)) return true;
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const std::string& entry) { return path_within(dir, entry); });
}

bool WatchScope::watches_subdir(const std::string& dir, const std::string& name) const {
  std::string path = join_path(dir, name);
  if (is_entry(path)) return true;
  return recursive(dir) && recursive(path) && !config::watch_ignored(ignore_, name);
}

bool WatchScope::counts(const std::string& dir, const std::string& name) const {
  std::string path = join_path(dir, name);
  if (is_entry(path)) return true;
  if (config::watch_ignored(ignore_, name)) return false;
  if (std::any_of(entries_.begin(), entries_.end(),
                  [&](const std::string& entry) { return path_within(dir, entry); }))
    return true;
  return recursive(dir) && std::any_of(patterns_.begin(), patterns_.end(), [&](const auto& glob) {
           return config::glob_matches(glob, name);
         });
}

std::string WatchScope::shown(const std::string& path) const {
  if (path == cwd_) return ".";
  if (path_within(path, cwd_)) return path.substr(cwd_ == "/" ? 1 : cwd_.size() + 1);
  return path;
}

}  // namespace muster::daemon
