// Directories resolved once, one component at a time, with each rule for
// links, creation and judging (config/pinned_dir.cc).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/dir_trust.h"
#include "config/pinned_dir.h"
#include "tests/unit/temp_dir.h"

using namespace muster::config;
using muster::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

PinnedDir pinned(const std::string& path, const WalkRules& rules = {}) {
  auto result = PinnedDir::open(path, rules);
  if (!result) FAIL(result.error().message);
  return std::move(result).value();
}

PathError refused(const std::string& path, const WalkRules& rules = {}) {
  auto result = PinnedDir::open(path, rules);
  REQUIRE(!result.ok());
  return result.error();
}

WalkRules links(Links rule) { return WalkRules{.links = rule}; }

}  // namespace

TEST_CASE("a directory is pinned: later calls land in it after it is moved", "[pinned-dir]") {
  TempDir t;
  t.mkdir("a/b");
  PinnedDir dir = pinned(t.path("a/b"));
  fs::rename(t.path("a/b"), t.path("a/moved"));
  fs::create_directory_symlink("/", t.path("a/b"));
  CHECK(::mkdirat(dir.fd(), "here", 0700) == 0);
  CHECK(fs::exists(t.path("a/moved/here")));
  CHECK_FALSE(fs::exists("/here"));
}

TEST_CASE("by default a symbolic link anywhere on the way is refused and named", "[pinned-dir]") {
  TempDir t;
  t.mkdir("real/sub");
  fs::create_directory_symlink(t.path("real"), t.path("link"));
  PathError error = refused(t.path("link/sub"));
  CHECK(error.errno_value == ELOOP);
  CHECK(error.kind == PathError::Kind::link);
  CHECK(error.where == t.path("link"));
  CHECK(error.message == t.path("link") + " is a symbolic link, which musterd does not follow");
  fs::create_directory_symlink(t.path("real/sub"), t.path("real/last"));
  CHECK(refused(t.path("real/last")).errno_value == ELOOP);
}

TEST_CASE("a missing directory or a file on the way is an errno error, its strerror alone",
          "[pinned-dir]") {
  TempDir t;
  PathError missing = refused(t.path("none/sub"));
  CHECK(missing.errno_value == ENOENT);
  CHECK(missing.kind == PathError::Kind::bare);
  CHECK(missing.message == "No such file or directory");
  CHECK(missing.where == t.path("none"));
  t.write("file", "x");
  CHECK(refused(t.path("file/sub")).errno_value == ENOTDIR);
}

TEST_CASE("a relative path is walked from the working directory, and named so", "[pinned-dir]") {
  TempDir t;
  t.mkdir("real");
  fs::create_directory_symlink("real", t.path("link"));
  auto cwd = fs::current_path();
  fs::current_path(t.dir);
  PathError error = refused("link");
  PinnedDir dir = pinned("real/../real");
  fs::current_path(cwd);
  CHECK(error.where == "./link");
  CHECK(dir.reached() == "./real");
}

TEST_CASE(
    "a link of root's or our own uid is followed where the rules say so, never as the "
    "last step of a directory that must be its own",
    "[pinned-dir]") {
  TempDir t;
  t.mkdir("real/sub");
  fs::create_directory_symlink(t.path("real"), t.path("abs"));
  fs::create_directory_symlink("real", t.path("rel"));
  CHECK(pinned(t.path("abs/sub"), links(Links::follow_trusted)).reached() == t.path("real/sub"));
  CHECK(pinned(t.path("rel/sub/"), links(Links::follow_trusted)).reached() == t.path("real/sub"));
  CHECK(pinned(t.path("rel"), links(Links::follow_trusted)).reached() == t.path("real"));
  CHECK(pinned(t.path("rel/sub"), links(Links::follow_trusted_above)).reached() ==
        t.path("real/sub"));
  CHECK(refused(t.path("rel"), links(Links::follow_trusted_above)).message ==
        t.path("rel") + " is a symbolic link, not a directory of its own");
  fs::create_directory_symlink("loop", t.path("loop"));
  CHECK(refused(t.path("loop"), links(Links::follow_trusted)).message ==
        "too many symbolic links at " + t.path("loop"));
}

TEST_CASE("another user's link is never followed", "[pinned-dir]") {
  if (::geteuid() != 0) return;  // needs lchown; CI runs as root
  TempDir t;
  t.mkdir("real");
  fs::create_directory_symlink(t.path("real"), t.path("theirs"));
  REQUIRE(::lchown(t.path("theirs").c_str(), kNobody, kNobody) == 0);
  PathError error = refused(t.path("theirs"), links(Links::follow_trusted));
  CHECK(error.kind == PathError::Kind::link);
  CHECK(error.message ==
        "symbolic link " + t.path("theirs") + " belongs to uid 65534 (nobody): not following it");
}

TEST_CASE(
    "missing directories are created: the last with its mode, those above it 0755 if "
    "asked",
    "[pinned-dir]") {
  TempDir t;
  mode_t old_mask = ::umask(022);
  PathError no_parent = refused(t.path("x/y"), WalkRules{.create = 0700});
  PinnedDir last = pinned(t.path("last"), WalkRules{.create = 0700});
  PinnedDir deep = pinned(t.path("a/b"), WalkRules{.create = 0750, .create_parents = true});
  ::umask(old_mask);
  CHECK(no_parent.errno_value == ENOENT);
  CHECK(no_parent.where == t.path("x"));
  CHECK(last.created());
  CHECK((fs::status(t.path("last")).permissions() & fs::perms::all) == fs::perms(0700));
  CHECK(deep.created());
  CHECK((fs::status(t.path("a")).permissions() & fs::perms::all) == fs::perms(0755));
  CHECK((fs::status(t.path("a/b")).permissions() & fs::perms::all) == fs::perms(0750));
  CHECK_FALSE(pinned(t.path("a/b"), WalkRules{.create = 0700}).created());
}

TEST_CASE(
    "the judge sees every directory from the first, and the first it refuses stops the "
    "walk",
    "[pinned-dir]") {
  TempDir t;
  t.mkdir("open/private/deeper");
  ::chmod(t.path("open").c_str(), 0777);
  fs::create_directory_symlink(t.path("open"), t.path("open/private/link"));
  const WalkRules rules{.judge = [](const std::string& shown, const struct stat& st) {
    return changeable_by_others(shown, st, ::geteuid());
  }};
  PathError error = refused(t.path("open/private/link"), rules);  // the directory, not the link
  CHECK(error.kind == PathError::Kind::judged);
  CHECK(error.errno_value == EACCES);
  CHECK(error.where == t.path("open"));
  CHECK(error.message == "directory " + t.path("open") + " is world-writable (mode 0777)");
  ::chmod(t.path("open").c_str(), 0755);
  pinned(t.path("open/private/deeper"), rules);
  const WalkRules nothing{.judge = [](const std::string& shown, const struct stat&) {
    return std::optional<std::string>("refused " + shown);
  }};
  CHECK(refused(t.path("open"), nothing).message == "refused /");
}

TEST_CASE("the pinned directory's mode can be set through it", "[pinned-dir]") {
  TempDir t;
  PinnedDir dir = pinned(t.mkdir("d", 0700));
  REQUIRE(dir.chmod(0711) == 0);
  CHECK((fs::status(t.path("d")).permissions() & fs::perms::all) == fs::perms(0711));
}
