// Who else could change a file or a directory (config/dir_trust.cc): the one
// rule, with each of its variations, on stat results made up here (no chown,
// so every case runs as any user).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <string>

#include "config/dir_trust.h"

using namespace muster::config;

namespace {

constexpr uid_t kMusterd = 1000;
constexpr uid_t kNobody = 65534;

struct stat node(mode_t type_and_mode, uid_t uid = kMusterd, gid_t gid = kMusterd) {
  struct stat st {};
  st.st_mode = type_and_mode;
  st.st_uid = uid;
  st.st_gid = gid;
  return st;
}
struct stat dir(mode_t mode, uid_t uid = kMusterd, gid_t gid = kMusterd) {
  return node(S_IFDIR | mode, uid, gid);
}

// The three callers' trusts (config/file_safety.cc, config/socket_dir.cc).
const Trust others{.uid = kMusterd, .root = true, .gid = {}, .sticky = Trust::Sticky::everyone};
const Trust configured{
    .uid = kMusterd, .root = true, .gid = kMusterd, .sticky = Trust::Sticky::group_and_everyone};
const Trust own{.uid = kMusterd, .root = false, .gid = {}, .sticky = Trust::Sticky::nothing};

}  // namespace

TEST_CASE("a directory of the trusted uid that only it can write is trusted", "[dir-trust]") {
  for (const Trust& trust : {others, configured, own}) CHECK_FALSE(other_writer(dir(0755), trust));
}

TEST_CASE("root may own it, except a directory that must be musterd's own", "[dir-trust]") {
  CHECK_FALSE(other_writer(dir(0755, 0, 0), others));
  CHECK_FALSE(other_writer(dir(0755, 0, 0), configured));
  CHECK(other_writer(dir(0755, 0, 0), own) == OtherWriter::owner);
  for (const Trust& trust : {others, configured, own})
    CHECK(other_writer(dir(01777, kNobody), trust) == OtherWriter::owner);  // sticky, but theirs
}

TEST_CASE(
    "a writable group counts unless it is trusted: root's, or musterd's for a configured "
    "control socket",
    "[dir-trust]") {
  CHECK_FALSE(other_writer(dir(0775, kMusterd, 0), others));
  CHECK_FALSE(other_writer(dir(0775, kMusterd, 0), configured));
  CHECK(other_writer(dir(0775, kMusterd, 0), own) == OtherWriter::group);
  CHECK(other_writer(dir(0775, kMusterd, kMusterd), others) == OtherWriter::group);
  CHECK_FALSE(other_writer(dir(0775, kMusterd, kMusterd), configured));
  CHECK(other_writer(dir(0775, kMusterd, kNobody), configured) == OtherWriter::group);
}

TEST_CASE(
    "the sticky bit excuses everyone's write, and a group's only for a configured "
    "control socket; never for musterd's own directory",
    "[dir-trust]") {
  CHECK(other_writer(dir(0777, kMusterd, 0), others) == OtherWriter::everyone);
  CHECK_FALSE(other_writer(dir(01777, kMusterd, 0), others));
  CHECK_FALSE(other_writer(dir(01777), configured));
  CHECK(other_writer(dir(01777), own) == OtherWriter::group);
  CHECK(other_writer(dir(01775, kMusterd, kNobody), others) == OtherWriter::group);
  CHECK_FALSE(other_writer(dir(01775, kMusterd, kNobody), configured));
  CHECK(other_writer(node(S_IFREG | 01666, 0, 0), others) == OtherWriter::everyone);  // a file
}

TEST_CASE("changeable_by_others names the file or directory and what is wrong", "[dir-trust]") {
  CHECK_FALSE(changeable_by_others("/x", dir(0755, 0, 0), 0));
  CHECK(changeable_by_others("/x", node(S_IFREG | 0644, kNobody), 0) ==
        "file /x is owned by uid 65534, not root");
  CHECK(changeable_by_others("/x", dir(0775, 0, kNobody), 0) ==
        "directory /x is writable by group 65534 (mode 0775)");
  CHECK(changeable_by_others("/x", node(S_IFREG | 0666, 0, 0), 0) ==
        "file /x is world-writable (mode 0666)");
}

TEST_CASE("a uid is described with its user's name when it has one", "[dir-trust]") {
  CHECK(describe_uid(0) == "uid 0 (root)");
  CHECK(describe_uid(3999999) == "uid 3999999");
  CHECK(octal_mode(S_IFDIR | 01777) == "1777");
}
