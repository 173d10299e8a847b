#include "config/dir_trust.h"

#include <pwd.h>

#include <cstdio>
#include <vector>

namespace muster::config {

std::optional<OtherWriter> other_writer(const struct stat& st, const Trust& trust) {
  if (st.st_uid != trust.uid && !(trust.root && st.st_uid == 0)) return OtherWriter::owner;
  const bool sticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
  const bool trusted_group =
      (trust.root && st.st_gid == 0) || (trust.gid && st.st_gid == *trust.gid);
  if ((st.st_mode & S_IWGRP) && !trusted_group &&
      !(sticky && trust.sticky == Trust::Sticky::group_and_everyone))
    return OtherWriter::group;
  if ((st.st_mode & S_IWOTH) && !(sticky && trust.sticky != Trust::Sticky::nothing))
    return OtherWriter::everyone;
  return std::nullopt;
}

std::optional<std::string> changeable_by_others(const std::string& path, const struct stat& st,
                                                uid_t trusted) {
  auto writer = other_writer(
      st, Trust{.uid = trusted, .root = true, .gid = {}, .sticky = Trust::Sticky::everyone});
  if (!writer) return std::nullopt;
  const std::string what = std::string(S_ISDIR(st.st_mode) ? "directory " : "file ") + path;
  switch (*writer) {
    case OtherWriter::owner:
      return what + " is owned by uid " + std::to_string(st.st_uid) + ", not root";
    case OtherWriter::group:
      return what + " is writable by group " + std::to_string(st.st_gid) + " (mode " +
             octal_mode(st.st_mode) + ")";
    case OtherWriter::everyone:
      return what + " is world-writable (mode " + octal_mode(st.st_mode) + ")";
  }
  return std::nullopt;
}

std::string describe_uid(uid_t uid) {
  std::string out = "uid " + std::to_string(uid);
  std::vector<char> buf(1024);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buf.data(), buf.size(), &found) == 0 && found)
    out += std::string(" (") + found->pw_name + ")";
  return out;
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace muster::config
