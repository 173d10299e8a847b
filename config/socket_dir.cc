#include "config/socket_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <string_view>
#include <vector>

#include "ipc/unique_fd.h"

namespace muster::config {
namespace {

using ipc::UniqueFd;

// As the kernel's own limit on links followed in one lookup.
constexpr int kMaxLinks = 40;

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

std::string shown(const std::vector<std::string>& where) {
  std::string out;
  for (const auto& part : where) out += "/" + part;
  return out.empty() ? "/" : out;
}

bool trusted_owner(uid_t uid) { return uid == 0 || uid == ::geteuid(); }

// Where the walk is: an fd of a directory and its path, for messages.
struct Position {
  UniqueFd fd;
  std::vector<std::string> where;
};

std::optional<std::string> restart_at_root(Position& at) {
  at.fd.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  at.where.clear();
  if (!at.fd) return "cannot open /: " + errno_text(errno);
  return std::nullopt;
}

// `name` in `at` is not a directory we could open with O_NOFOLLOW: if it is a
// symbolic link we may follow, its target's components are put in front of
// `todo` (and a target from / restarts the walk there); else why not.
std::optional<std::string> follow_link(Position& at, const std::string& name,
                                       std::deque<std::string>& todo, int& links) {
  std::string here = at.where.empty() ? "/" + name : shown(at.where) + "/" + name;
  struct stat st {};
  if (::fstatat(at.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return "cannot examine " + here + ": " + errno_text(errno);
  if (!S_ISLNK(st.st_mode)) return here + " is not a directory";
  if (!trusted_owner(st.st_uid))
    return "symbolic link " + here + " belongs to " + describe_uid(st.st_uid) +
           ": not following it";
  if (++links > kMaxLinks) return "too many symbolic links at " + here;
  std::vector<char> target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 256) + 1);
  ssize_t n = ::readlinkat(at.fd.get(), name.c_str(), target.data(), target.size());
  if (n < 0 || static_cast<std::size_t>(n) >= target.size())
    return "cannot read symbolic link " + here + ": " + errno_text(n < 0 ? errno : ENAMETOOLONG);
  std::string_view text(target.data(), static_cast<std::size_t>(n));
  auto parts = components(text);
  todo.insert(todo.begin(), parts.begin(), parts.end());
  if (text.starts_with('/')) return restart_at_root(at);
  return std::nullopt;
}

// One step of the walk down to `name` (not a link): opened, created first if
// missing and allowed. An empty fd with no error: missing, not created.
std::variant<UniqueFd, std::string> open_step(Position& at, const std::string& name,
                                              mode_t mode, bool may_create, bool& created) {
  const int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  created = false;
  UniqueFd fd(::openat(at.fd.get(), name.c_str(), flags));
  if (fd || errno != ENOENT || !may_create) return fd;
  if (::mkdirat(at.fd.get(), name.c_str(), mode) == 0) created = true;
  else if (errno != EEXIST)
    return "cannot create directory " + shown(at.where) + "/" + name + ": " + errno_text(errno);
  fd.reset(::openat(at.fd.get(), name.c_str(), flags));
  return fd;
}

// The private directory as O_RDONLY (so it can be fchmod'ed), the same inode
// the walk verified.
std::variant<UniqueFd, std::string> reopen_readable(int parent, const std::string& name,
                                                    const struct stat& verified,
                                                    const std::string& here) {
  UniqueFd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) < 0) return "cannot open " + here + ": " + errno_text(errno);
  if (st.st_dev != verified.st_dev || st.st_ino != verified.st_ino)
    return here + " was replaced while musterd examined it";
  return fd;
}

}  // namespace

// The rule for `rule`'s directories (config/dir_trust.h), worded for the
// control socket.
std::optional<std::string> dir_rule_problem(SocketDirRule rule, const std::string& shown,
                                            const struct stat& st) {
  const uid_t me = ::geteuid();
  const bool own = rule == SocketDirRule::private_to_owner;
  const Trust trust =
      own ? Trust{.uid = me, .root = false, .gid = {}, .sticky = Trust::Sticky::nothing}
          : Trust{.uid = me, .root = true, .gid = ::getegid(),
                  .sticky = Trust::Sticky::group_and_everyone};
  auto writer = other_writer(st, trust);
  if (!writer) return std::nullopt;
  const std::string mode = " (mode " + octal_mode(st.st_mode) + ")";
  if (*writer == OtherWriter::owner)
    return shown + " belongs to " + describe_uid(st.st_uid) + ", not to " +
           (own ? describe_uid(me) : "root" + (me == 0 ? "" : " or " + describe_uid(me)));
  if (own) return shown + " is writable by others" + mode;
  return shown + " is writable by " +
         (*writer == OtherWriter::group ? "group " + std::to_string(st.st_gid)
                                        : std::string("everyone")) +
         " and not sticky" + mode;
}

namespace {

// open_socket_dir; `judging`: a check that stops without a verdict where this
// user may not search.
std::variant<SocketDir, std::string> walk(const std::string& dir, SocketDirRule rule,
                                          std::optional<mode_t> create_mode, bool judging) {
  if (!dir.starts_with('/')) return "not an absolute path: " + dir;
  Position at;
  if (auto err = restart_at_root(at)) return *err;
  std::deque<std::string> todo = components(dir);
  int links = 0;
  bool created = false;
  UniqueFd parent;  // of the directory `at` is, for reopening a private one
  std::string last_name;
  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    const bool last = todo.empty();
    const bool may_create = create_mode && (last || rule == SocketDirRule::configured);
    auto step = open_step(at, name, last ? *create_mode : 0755, may_create, created);
    if (auto* err = std::get_if<std::string>(&step)) return *err;
    UniqueFd next = std::move(std::get<UniqueFd>(step));
    if (!next) {
      int err = errno;
      if ((err == ENOENT && !create_mode) || (err == EACCES && judging))
        return SocketDir{-1, true, false};
      if (err != ELOOP && err != ENOTDIR)
        return "cannot open " + shown(at.where) + (at.where.empty() ? "" : "/") + name + ": " +
               errno_text(err);
      if (last && rule == SocketDirRule::private_to_owner) {
        struct stat st {};
        if (::fstatat(at.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
          return shown(at.where) + (at.where.empty() ? "" : "/") + name +
                 " is a symbolic link, not a directory of its own";
      }
      if (auto why = follow_link(at, name, todo, links)) return *why;
      continue;
    }
    parent = std::move(at.fd);
    at.fd = std::move(next);
    if (name == "..") {
      if (!at.where.empty()) at.where.pop_back();
    } else {
      at.where.push_back(name);
    }
    last_name = name;
  }
  struct stat st {};
  if (::fstat(at.fd.get(), &st) < 0) return "cannot examine " + dir + ": " + errno_text(errno);
  if (auto problem = dir_rule_problem(rule, shown(at.where), st)) return *problem;
  if (rule == SocketDirRule::private_to_owner && parent) {
    auto readable = reopen_readable(parent.get(), last_name, st, shown(at.where));
    if (auto* err = std::get_if<std::string>(&readable)) return *err;
    at.fd = std::move(std::get<UniqueFd>(readable));
    // mkdirat's mode went through the umask; the mode asked for is exact.
    if (created && ::fchmod(at.fd.get(), *create_mode) < 0)
      return "cannot set the mode of " + shown(at.where) + ": " + errno_text(errno);
  }
  return SocketDir{at.fd.release(), false, created};
}

}  // namespace

std::variant<SocketDir, std::string> open_socket_dir(const std::string& dir, SocketDirRule rule,
                                                     std::optional<mode_t> create_mode) {
  return walk(dir, rule, create_mode, false);
}

std::optional<std::string> socket_dir_problem(const std::string& dir, SocketDirRule rule) {
  auto opened = walk(dir, rule, std::nullopt, true);
  if (auto* problem = std::get_if<std::string>(&opened)) return *problem;
  UniqueFd close_it(std::get<SocketDir>(opened).fd);
  return std::nullopt;
}

}  // namespace muster::config
