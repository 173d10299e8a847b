#include "config/file_safety.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace muster::config {
namespace {

// Checks `path` and each directory above it, without following symlinks: a
// link's own mode means nothing, the directory holding it is what protects it
// (the resolved chain is checked separately).
std::optional<std::string> check_chain(const std::filesystem::path& path, uid_t trusted) {
  std::vector<std::filesystem::path> chain;
  for (auto p = path; ; p = p.parent_path()) {
    chain.push_back(p);
    if (p == p.root_path() || p.parent_path() == p) break;
  }
  for (const auto& p : chain) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) < 0) return std::nullopt;  // the loader reports it
    if (S_ISLNK(st.st_mode)) continue;
    if (auto problem = changeable_by_others(p.string(), st, trusted)) return problem;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> unsafe_directory(const std::string& dir, CreatedIn scope) {
  namespace fs = std::filesystem;
  const bool as_root = ::geteuid() == 0;
  const fs::path whole(dir);
  fs::path at = whole.root_path();
  auto check = [&](const fs::path& p) -> std::optional<std::string> {
    struct stat st {};
    if (::lstat(p.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) {
      if (!S_ISLNK(st.st_mode)) return std::nullopt;  // missing or no directory: reported apart
      std::string message = "musterd follows no symbolic link on the way to the files it "
                            "creates, and " + p.string() + " is one";
      char real[PATH_MAX];
      if (::realpath(dir.c_str(), real)) message += std::string(" (name the real path, ") + real + ")";
      return message;
    }
    if (!as_root || (scope == CreatedIn::directory && p != whole)) return std::nullopt;
    if (auto problem = changeable_by_others(p.string(), st, 0))
      return "musterd, running as root, creates files only where no other user can plant a "
             "link or a file: " + *problem + " (use a directory only root can write, or a "
             "sticky one owned by root)";
    return std::nullopt;
  };
  if (auto problem = check(at)) return problem;
  for (const fs::path& part : whole.relative_path()) {
    if (part.empty()) continue;
    at /= part;
    if (auto problem = check(at)) return problem;
  }
  return std::nullopt;
}

std::optional<std::string> unsafe_config_file(const std::string& path, uid_t trusted) {
  std::error_code ec;
  auto named = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec) return std::nullopt;
  if (auto problem = check_chain(named, trusted)) return problem;
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved)) return std::nullopt;
  if (named != resolved)
    if (auto problem = check_chain(resolved, trusted)) return problem;
  return std::nullopt;
}

std::optional<std::string> refuse_unsafe_config(const std::string& path) {
  if (::geteuid() != 0) return std::nullopt;
  auto problem = unsafe_config_file(path, 0);
  if (!problem) return std::nullopt;
  return "refusing a config that others could change while musterd runs as root: " + *problem +
         " (make it owned by root and writable only by root)";
}

}  // namespace muster::config
