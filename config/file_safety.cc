#include "config/file_safety.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "config/pinned_dir.h"

namespace muster::config {
namespace {

// Checks `path` and each directory above it, without following symlinks: a
// link's own mode means nothing, the directory holding it is what protects it
// (the resolved chain is checked separately).
std::optional<std::string> check_chain(const std::filesystem::path& path, uid_t trusted) {
  std::vector<std::filesystem::path> chain;
  for (auto p = path;; p = p.parent_path()) {
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
  const bool as_root = ::geteuid() == 0;
  auto others = [](const std::string& shown, const struct stat& st) {
    return changeable_by_others(shown, st, 0);
  };
  // The walk musterd makes (daemon/output/output_file.cc, daemon/network/socket_file.cc).
  WalkRules rules;
  if (as_root && scope == CreatedIn::whole_path) rules.judge = others;
  auto walked = PinnedDir::open(dir, rules);
  std::optional<std::string> problem;
  if (!walked) {
    const PathError* error = &walked.error();
    if (error->kind == PathError::Kind::link) {
      std::string message =
          "musterd follows no symbolic link on the way to the files it "
          "creates, and " +
          error->where + " is one";
      char real[PATH_MAX];
      if (::realpath(dir.c_str(), real))
        message += std::string(" (name the real path, ") + real + ")";
      return message;
    }
    if (error->kind != PathError::Kind::judged) return std::nullopt;  // missing...: reported apart
    problem = error->message;
  } else if (as_root && scope == CreatedIn::directory) {
    const PinnedDir& pinned = *walked;
    struct stat st {};
    if (::fstat(pinned.fd(), &st) == 0) problem = others(pinned.reached(), st);
  }
  if (!problem) return std::nullopt;
  return "musterd, running as root, creates files only where no other user can plant a link or "
         "a file: " +
         *problem +
         " (use a directory only root can write, or a sticky one owned "
         "by root)";
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
