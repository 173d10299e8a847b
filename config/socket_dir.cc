#include "config/socket_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/dir_trust.h"

namespace muster::config {
namespace {

// The walk for `rule`'s directories: links of root's and the caller's
// followed (not at the last step of the default's), what is missing created
// with `create`.
WalkRules walk_rules(SocketDirRule rule, std::optional<mode_t> create) {
  const bool own = rule == SocketDirRule::private_to_owner;
  return WalkRules{.links = own ? Links::follow_trusted_above : Links::follow_trusted,
                   .create = create,
                   .create_parents = !own,
                   .judge = nullptr};
}

// A directory on the way that could not be opened, worded for the control
// socket (the walk gives its strerror alone).
std::string worded(const PathError& error) {
  if (error.kind != PathError::Kind::bare) return error.message;
  if (error.errno_value == ENOTDIR) return error.where + " is not a directory";
  return "cannot open " + error.where + ": " + error.message;
}

// The walk, and the rule's verdict on the directory it ends on.
Result<PinnedDir, PathError> walk(const std::string& dir, SocketDirRule rule,
                                  std::optional<mode_t> create) {
  if (!dir.starts_with('/')) return PathError{EINVAL, "not an absolute path: " + dir};
  auto walked = PinnedDir::open(dir, walk_rules(rule, create));
  if (!walked) return walked;
  const PinnedDir& pinned = *walked;
  struct stat st {};
  if (::fstat(pinned.fd(), &st) < 0)
    return PathError{errno, "cannot examine " + dir + ": " + std::strerror(errno)};
  if (auto problem = dir_rule_problem(rule, pinned.reached(), st))
    return PathError{EACCES, *problem, PathError::Kind::judged, pinned.reached()};
  return walked;
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
          : Trust{.uid = me,
                  .root = true,
                  .gid = ::getegid(),
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

Result<PinnedDir> open_socket_dir(const std::string& dir, SocketDirRule rule, mode_t create_mode) {
  auto walked = walk(dir, rule, create_mode);
  if (!walked) return Error{worded(walked.error()), walked.error().errno_value};
  PinnedDir& pinned = *walked;
  // mkdirat's mode went through the umask; the default's is exact.
  if (rule == SocketDirRule::private_to_owner && pinned.created() && pinned.chmod(create_mode) < 0)
    return Error{"cannot set the mode of " + pinned.reached() + ": " + std::strerror(errno), errno};
  return std::move(pinned);
}

std::optional<std::string> socket_dir_problem(const std::string& dir, SocketDirRule rule) {
  auto walked = walk(dir, rule, std::nullopt);
  if (walked) return std::nullopt;
  const PathError* error = &walked.error();
  if (error->kind == PathError::Kind::bare &&
      (error->errno_value == ENOENT || error->errno_value == EACCES))
    return std::nullopt;  // not made yet, or not this user's to search
  return worded(*error);
}

}  // namespace muster::config
