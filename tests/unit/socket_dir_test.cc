// Where a control socket may be bound (config/socket_dir.cc): the walk each
// rule makes (the walk itself is pinned_dir_test.cc's), the verdict on the
// directory it ends on (the rule behind it is dir_trust_test.cc's), and how
// both are worded for the operator.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "config/dir_trust.h"
#include "config/socket_dir.h"
#include "tests/unit/temp_dir.h"

using namespace muster::config;
using muster::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

std::string problem(const std::string& dir, SocketDirRule rule) {
  return socket_dir_problem(dir, rule).value_or("");
}

const auto configured = SocketDirRule::configured;
const auto own = SocketDirRule::private_to_owner;

}  // namespace

TEST_CASE("a directory only its owner can write passes both rules", "[socket-dir]") {
  TempDir t;
  CHECK(problem(t.mkdir("a", 0700), configured).empty());
  CHECK(problem(t.mkdir("b", 0755), own).empty());
}

TEST_CASE("a world-writable directory is refused unless sticky, and never as the default's",
          "[socket-dir]") {
  TempDir t;
  std::string open_dir = t.mkdir("open", 0777);
  CHECK(problem(open_dir, configured) ==
        open_dir + " is writable by everyone and not sticky (mode 0777)");
  CHECK(problem(open_dir, own) == open_dir + " is writable by others (mode 0777)");
  std::string sticky = t.mkdir("sticky", 01777);
  CHECK(problem(sticky, configured).empty());
  CHECK_FALSE(problem(sticky, own).empty());
}

TEST_CASE("a directory of another user, or writable by another group, is refused and named",
          "[socket-dir]") {
  const uid_t me = ::geteuid();
  struct stat st {};
  st.st_mode = S_IFDIR | 0755;
  st.st_uid = kNobody;
  st.st_gid = kNobody;
  const std::string me_too = me == 0 ? "" : " or " + describe_uid(me);
  CHECK(dir_rule_problem(configured, "/d", st) ==
        "/d belongs to uid 65534 (nobody), not to root" + me_too);
  CHECK(dir_rule_problem(own, "/d", st) ==
        "/d belongs to uid 65534 (nobody), not to " + describe_uid(me));
  st.st_uid = me;
  st.st_mode = S_IFDIR | 0770;
  CHECK(dir_rule_problem(configured, "/d", st) ==
        "/d is writable by group 65534 and not sticky (mode 0770)");
  CHECK(dir_rule_problem(own, "/d", st) == "/d is writable by others (mode 0770)");
}

TEST_CASE(
    "a link of ours is followed to a configured directory, judged where it leads; never "
    "as the default's",
    "[socket-dir]") {
  TempDir t;
  std::string real = t.mkdir("real", 0777);
  fs::create_directory_symlink(real, t.path("link"));
  CHECK(problem(t.path("link"), configured) ==
        real + " is writable by everyone and not sticky (mode 0777)");
  CHECK(problem(t.path("link"), own) ==
        t.path("link") + " is a symbolic link, not a directory of its own");
}

TEST_CASE("a path that leads to no directory is worded for the control socket", "[socket-dir]") {
  TempDir t;
  t.write("file", "");
  CHECK(problem(t.path("file"), configured) == t.path("file") + " is not a directory");
  CHECK(problem("relative/dir", configured) == "not an absolute path: relative/dir");
  auto no_parent = open_socket_dir(t.path("x/y"), own, 0700);
  REQUIRE_FALSE(no_parent.ok());
  CHECK(no_parent.error().message == "cannot open " + t.path("x") + ": No such file or directory");
  CHECK(no_parent.error().errno_value == ENOENT);
}

TEST_CASE("a check passes a directory not made yet, or one this user cannot search",
          "[socket-dir]") {
  TempDir t;
  CHECK(problem(t.path("a/b"), configured).empty());
  CHECK(problem(t.path("a/b"), own).empty());
  if (::geteuid() == 0) return;  // root searches anything
  t.mkdir("closed/inner", 0755);
  ::chmod(t.path("closed").c_str(), 0);
  CHECK(problem(t.path("closed/inner"), configured).empty());
  ::chmod(t.path("closed").c_str(), 0755);
}

TEST_CASE(
    "a configured directory is made with those above it; the default's alone, with its "
    "mode exact",
    "[socket-dir]") {
  TempDir t;
  auto made = open_socket_dir(t.path("a/b"), configured, 0755);
  REQUIRE(made.ok());
  CHECK(made->created());
  CHECK(fs::is_directory(t.path("a/b")));

  mode_t old_mask = ::umask(077);
  auto own_made = open_socket_dir(t.path("mine"), own, 0711);
  ::umask(old_mask);
  REQUIRE(own_made.ok());
  struct stat st {};
  REQUIRE(::stat(t.path("mine").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0711);
}
