// Where a control socket may be bound (config/socket_dir.cc): judged by owner
// and write permission, walked without trusting a path.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "config/socket_dir.h"

using namespace muster::config;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

// A private temp directory (0700, ours) to build cases in.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "muster-sockdir-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string sub(const std::string& name, mode_t mode) const {
    fs::path p = dir / name;
    fs::create_directories(p);
    ::chmod(p.c_str(), mode);
    return p.string();
  }
};

std::string problem(const std::string& dir, SocketDirRule rule) {
  return socket_dir_problem(dir, rule).value_or("");
}

const auto configured = SocketDirRule::configured;
const auto own = SocketDirRule::private_to_owner;

}  // namespace

TEST_CASE("a directory only its owner can write passes both rules", "[socket-dir]") {
  TempDir t;
  CHECK(problem(t.sub("a", 0700), configured).empty());
  CHECK(problem(t.sub("b", 0755), own).empty());
}

TEST_CASE("a world-writable directory is refused unless sticky, and never as the default's",
          "[socket-dir]") {
  TempDir t;
  std::string open_dir = t.sub("open", 0777);
  CHECK(problem(open_dir, configured) ==
        open_dir + " is writable by everyone and not sticky (mode 0777)");
  CHECK(problem(open_dir, own) == open_dir + " is writable by others (mode 0777)");
  std::string sticky = t.sub("sticky", 01777);
  CHECK(problem(sticky, configured).empty());
  CHECK_FALSE(problem(sticky, own).empty());
}

TEST_CASE("a directory of another user, or writable by another group, is refused and named",
          "[socket-dir]") {
  // The rule itself is dir_trust_test.cc's; here its wording.
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

TEST_CASE("a symbolic link is followed only if its owner is trusted, never as the default's",
          "[socket-dir]") {
  TempDir t;
  std::string real = t.sub("real", 0755);
  fs::create_directory_symlink(real, t.dir / "link");
  std::string link = (t.dir / "link").string();
  CHECK(problem(link, configured).empty());
  CHECK(problem(link + "/", configured).empty());
  CHECK(problem(link, own) == link + " is a symbolic link, not a directory of its own");
  if (::geteuid() != 0) return;
  REQUIRE(::lchown(link.c_str(), kNobody, kNobody) == 0);
  CHECK(problem(link, configured) ==
        "symbolic link " + link + " belongs to uid 65534 (nobody): not following it");
}

TEST_CASE("the walk ends on the directory itself, whatever the path does later",
          "[socket-dir]") {
  TempDir t;
  std::string dir = t.sub("pinned", 0700);
  auto opened = open_socket_dir(dir, configured, std::nullopt);
  REQUIRE(std::holds_alternative<SocketDir>(opened));
  int fd = std::get<SocketDir>(opened).fd;
  fs::rename(dir, t.dir / "moved");
  fs::create_directory_symlink("/", dir);
  struct stat via_fd {}, moved {};
  REQUIRE(::fstat(fd, &via_fd) == 0);
  REQUIRE(::stat((t.dir / "moved").c_str(), &moved) == 0);
  CHECK(via_fd.st_ino == moved.st_ino);
  ::close(fd);
}

TEST_CASE("missing directories are reported as such, or created with the mode asked",
          "[socket-dir]") {
  TempDir t;
  std::string deep = (t.dir / "a" / "b").string();
  auto checked = open_socket_dir(deep, configured, std::nullopt);
  REQUIRE(std::holds_alternative<SocketDir>(checked));
  CHECK(std::get<SocketDir>(checked).missing);
  CHECK(problem(deep, configured).empty());

  auto made = open_socket_dir(deep, configured, 0755);
  REQUIRE(std::holds_alternative<SocketDir>(made));
  CHECK(std::get<SocketDir>(made).created);
  ::close(std::get<SocketDir>(made).fd);
  CHECK(fs::is_directory(deep));

  // The default's directory: only the last one is created, with its mode exact.
  mode_t old_mask = ::umask(077);
  std::string mine = (t.dir / "mine").string();
  auto own_made = open_socket_dir(mine, own, 0711);
  ::umask(old_mask);
  REQUIRE(std::holds_alternative<SocketDir>(own_made));
  ::close(std::get<SocketDir>(own_made).fd);
  struct stat st {};
  REQUIRE(::stat(mine.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0711);
  auto no_parent = open_socket_dir((t.dir / "x" / "y").string(), own, 0700);
  REQUIRE(std::holds_alternative<std::string>(no_parent));
  CHECK(std::get<std::string>(no_parent).find("No such file") != std::string::npos);
}

TEST_CASE("a file where a directory should be is refused", "[socket-dir]") {
  TempDir t;
  std::string file = (t.dir / "file").string();
  REQUIRE(::close(::creat(file.c_str(), 0600)) == 0);
  CHECK(problem(file, configured) == file + " is not a directory");
}
