// Whether a uid besides the trusted ones could change a file, or a directory's
// entries (plant, rename or remove a file or a link in it): the one rule
// behind every check that musterd, often as root, may read or create files
// somewhere. Its callers differ only in whom they trust and in what the
// sticky bit excuses, and say so in a Trust:
// - the config file and the directories on its way (config/file_safety.h),
//   the directories of output files and unix sockets (config/pinned_dir.h,
//   daemon/network/socket_file.h): changeable_by_others below;
// - the control socket's directory, configured or musterd's own default
//   (config/socket_dir.h), worded for that socket.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

namespace muster::config {

// Whom the rule trusts; callers name every field, so each variation is
// explicit where it is used.
struct Trust {
  uid_t uid = 0;     // musterd's own uid (root's, for a config file)
  bool root = true;  // root (uid 0, group 0) is trusted too
  // A group besides root's whose members may write: musterd's own, for a
  // configured control socket's directory.
  std::optional<gid_t> gid;
  // What the sticky bit on a directory excuses: others cannot rename or
  // remove an entry in it that they do not own (/tmp).
  enum class Sticky { nothing, everyone, group_and_everyone } sticky = Sticky::everyone;
};

// Who else could change it, the first found in this order.
enum class OtherWriter { owner, group, everyone };

// The rule: owned by an untrusted uid, writable by an untrusted group or by
// everyone, unless the sticky bit excuses it; nullopt if none of these.
std::optional<OtherWriter> other_writer(const struct stat& st, const Trust& trust);

// The rule as the config file check and the output and socket directories
// apply it: trusting root and `trusted` (root's group alone may write; the sticky
// bit excuses world-writable, not a group's write), worded "file PATH is
// world-writable (mode 0666)", "directory PATH is owned by uid N, not root".
std::optional<std::string> changeable_by_others(const std::string& path, const struct stat& st,
                                                uid_t trusted);

// "uid 65534 (nobody)": the uid, and its user's name when it has one.
std::string describe_uid(uid_t uid);

// "0755": the permission and special bits of a mode.
std::string octal_mode(mode_t mode);

}  // namespace muster::config
