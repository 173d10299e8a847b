#include "config/pinned_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <string_view>
#include <vector>

#include "config/dir_trust.h"

namespace muster::config {
namespace {

using ipc::UniqueFd;
using Kind = PathError::Kind;

// As the kernel's own limit on links followed in one lookup.
constexpr int kMaxLinks = 40;

constexpr int kDirFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string errno_text(int err) { return std::strerror(err); }

// The non-empty components of `path` other than ".", in order.
std::deque<std::string> components(std::string_view path) {
  std::deque<std::string> out;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty() && part != ".") out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Where the walk is: a directory, and its path for messages ("/a/b", or
// "./a/b" for a walk from the working directory).
struct Position {
  UniqueFd fd;
  bool absolute = true;
  std::vector<std::string> where;

  std::string shown() const {
    std::string out = absolute ? "" : ".";
    for (const auto& part : where) out += "/" + part;
    return out.empty() ? "/" : out;
  }
  std::string shown(const std::string& name) const {
    return (absolute && where.empty() ? "" : shown()) + "/" + name;
  }
  void enter(UniqueFd next, const std::string& name) {
    fd = std::move(next);
    if (name != "..")
      where.push_back(name);
    else if (!where.empty() && where.back() != "..")
      where.pop_back();
    else if (!absolute)
      where.push_back(name);  // above the working directory
  }
};

class Walk {
 public:
  explicit Walk(const WalkRules& rules) : rules_(rules) {}

  // Walks `path`: done with the walk at its end, or what stopped it.
  Result<void, PathError> run(const std::string& path);
  UniqueFd take_fd() { return std::move(at_.fd); }
  std::string reached() const { return at_.shown(); }
  bool created() const { return created_; }

 private:
  Result<void, PathError> start(bool absolute);
  Result<void, PathError> judge();
  Result<UniqueFd, PathError> open_step(const std::string& name, bool last);
  Result<void, PathError> not_a_directory(const std::string& name, bool last, int err);

  const WalkRules& rules_;
  Position at_;
  std::deque<std::string> todo_;
  int links_ = 0;
  bool created_ = false;  // by the last step
};

Result<void, PathError> Walk::start(bool absolute) {
  at_.absolute = absolute;
  at_.where.clear();
  at_.fd.reset(::open(absolute ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!at_.fd) return PathError{errno, errno_text(errno), Kind::bare, at_.shown()};
  return judge();
}

Result<void, PathError> Walk::judge() {
  if (!rules_.judge) return {};
  struct stat st {};
  if (::fstat(at_.fd.get(), &st) < 0)
    return PathError{errno, "cannot examine " + at_.shown() + ": " + errno_text(errno)};
  if (auto verdict = rules_.judge(at_.shown(), st))
    return PathError{EACCES, *verdict, Kind::judged, at_.shown()};
  return {};
}

// `name` in the current directory, opened as a directory without following
// a link, created first if missing and the rules allow. An empty fd: `name`
// was a link the rules follow, and its target is the rest of the way now.
Result<UniqueFd, PathError> Walk::open_step(const std::string& name, bool last) {
  created_ = false;
  UniqueFd fd(::openat(at_.fd.get(), name.c_str(), kDirFlags));
  if (!fd && errno == ENOENT && rules_.create && (last || rules_.create_parents)) {
    if (::mkdirat(at_.fd.get(), name.c_str(), last ? *rules_.create : 0755) == 0)
      created_ = true;
    else if (errno != EEXIST)
      return PathError{errno,
                       "cannot create directory " + at_.shown(name) + ": " + errno_text(errno)};
    fd.reset(::openat(at_.fd.get(), name.c_str(), kDirFlags));
  }
  if (fd) return fd;
  if (errno == ELOOP || errno == ENOTDIR) {
    if (auto followed = not_a_directory(name, last, errno); !followed) return followed.error();
    return fd;
  }
  return PathError{errno, errno_text(errno), Kind::bare, at_.shown(name)};
}

// `name` could not be opened as a directory without following a link (`err`
// is ELOOP or ENOTDIR): if it is a link the rules follow, its target's
// components are put in front of the rest of the way (a target from /
// restarts the walk there); else why not.
Result<void, PathError> Walk::not_a_directory(const std::string& name, bool last, int err) {
  const std::string here = at_.shown(name);
  struct stat st {};
  if (::fstatat(at_.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return PathError{errno, "cannot examine " + here + ": " + errno_text(errno)};
  if (!S_ISLNK(st.st_mode)) return PathError{err, errno_text(err), Kind::bare, here};
  auto refused = [&](std::string why) {
    return PathError{ELOOP, std::move(why), Kind::link, here};
  };
  if (rules_.links == Links::refuse)
    return refused(here + " is a symbolic link, which musterd does not follow");
  if (rules_.links == Links::follow_trusted_above && last)
    return refused(here + " is a symbolic link, not a directory of its own");
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return refused("symbolic link " + here + " belongs to " + describe_uid(st.st_uid) +
                   ": not following it");
  if (++links_ > kMaxLinks) return refused("too many symbolic links at " + here);
  std::vector<char> target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 256) + 1);
  ssize_t n = ::readlinkat(at_.fd.get(), name.c_str(), target.data(), target.size());
  if (n < 0 || static_cast<std::size_t>(n) >= target.size()) {
    const int why = n < 0 ? errno : ENAMETOOLONG;
    return PathError{why, "cannot read symbolic link " + here + ": " + errno_text(why)};
  }
  std::string_view text(target.data(), static_cast<std::size_t>(n));
  auto parts = components(text);
  todo_.insert(todo_.begin(), parts.begin(), parts.end());
  if (text.starts_with('/')) return start(true);
  return {};
}

Result<void, PathError> Walk::run(const std::string& path) {
  if (auto started = start(path.starts_with('/')); !started) return started;
  todo_ = components(path);
  while (!todo_.empty()) {
    std::string name = std::move(todo_.front());
    todo_.pop_front();
    const bool last = todo_.empty();
    auto step = open_step(name, last);
    if (!step) return step.error();
    UniqueFd next = std::move(step).value();
    if (!next) continue;  // a link followed
    at_.enter(std::move(next), name);
    if (auto judged = judge(); !judged) return judged;
  }
  return {};
}

}  // namespace

Result<PinnedDir, PathError> PinnedDir::open(const std::string& path, const WalkRules& rules) {
  Walk walk(rules);
  if (auto walked = walk.run(path); !walked) return walked.error();
  PinnedDir dir;
  dir.fd_ = walk.take_fd();
  dir.path_ = path;
  dir.reached_ = walk.reached();
  dir.created_ = walk.created();
  return dir;
}

PinnedDir PinnedDir::adopt(ipc::UniqueFd fd, std::string path) {
  PinnedDir dir;
  dir.fd_ = std::move(fd);
  dir.reached_ = path;
  dir.path_ = std::move(path);
  return dir;
}

int PinnedDir::chmod(mode_t mode) const {
  UniqueFd own(::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!own) return -1;
  return ::fchmod(own.get(), mode);
}

}  // namespace muster::config
