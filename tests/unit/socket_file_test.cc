// Unix socket files bound where another user may reach (daemon/network/socket_file.cc),
// and files removed only while their name still leads to the file musterd
// made (daemon/common/file_id.cc).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/common/file_id.h"
#include "daemon/network/socket_file.h"
#include "tests/unit/temp_dir.h"

using namespace muster::daemon;
using muster::test::TempDir;
namespace fs = std::filesystem;

namespace {

// The socket `name` in `dir`, its directory pinned, not bound yet.
SocketFile socket_in(const std::string& dir, const std::string& name,
                     SocketFile::Address address = SocketFile::Address::name_in_dir) {
  auto result = PinnedDir::open(dir);
  if (!result) FAIL(result.error().message);
  return SocketFile(std::move(result).value(), name, dir + "/" + name, address);
}

muster::ipc::UniqueFd unix_socket() {
  return muster::ipc::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

SocketFile bound(int fd, const std::string& path, mode_t mode = 0600,
                 uid_t uid = static_cast<uid_t>(-1)) {
  auto result = SocketFile::bind(fd, path, mode, uid, static_cast<gid_t>(-1));
  if (!result) FAIL(result.error().message);
  return std::move(result).value();
}

PathError bind_refused(const std::string& path) {
  auto fd = unix_socket();
  auto result =
      SocketFile::bind(fd.get(), path, 0600, static_cast<uid_t>(-1), static_cast<gid_t>(-1));
  REQUIRE(!result.ok());
  return result.error();
}

}  // namespace

TEST_CASE("a file is removed only while its name leads to the same inode", "[socket-file]") {
  TempDir t;
  muster::ipc::UniqueFd dir(::open(t.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::ofstream(t.path("f")) << "ours";
  auto id = file_id_at(dir.get(), "f");
  REQUIRE(id);
  fs::remove(t.path("f"));
  fs::create_symlink("elsewhere", t.path("f"));  // may well get the freed inode number
  CHECK_FALSE(unlink_if_same(dir.get(), "f", *id));
  CHECK(errno == EEXIST);
  CHECK(fs::is_symlink(t.path("f")));
  auto now = file_id_at(dir.get(), "f");
  REQUIRE(now);
  CHECK(unlink_if_same(dir.get(), "f", *now));
  CHECK_FALSE(fs::exists(t.path("f")));
}

TEST_CASE("a socket file gets its mode at bind and is removed at the end", "[socket-file]") {
  TempDir t;
  auto fd = unix_socket();
  SocketFile file = bound(fd.get(), t.path("s.sock"), 0640);
  struct stat st {};
  REQUIRE(::lstat(t.path("s.sock").c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0640);
  file.remove();
  CHECK_FALSE(fs::exists(t.path("s.sock")));
}

TEST_CASE("a file that replaced the socket stays when the socket file is removed",
          "[socket-file]") {
  TempDir t;
  auto fd = unix_socket();
  SocketFile file = bound(fd.get(), t.path("s.sock"));
  fs::remove(t.path("s.sock"));
  std::ofstream(t.path("s.sock")) << "not musterd's";
  file.remove();
  CHECK(fs::exists(t.path("s.sock")));
}

TEST_CASE("removal goes to the directory bind used, not to a link swapped in for it",
          "[socket-file]") {
  TempDir t;
  t.mkdir("run");
  t.mkdir("victim");
  auto fd = unix_socket();
  SocketFile file = bound(fd.get(), t.path("run/s.sock"));
  fs::rename(t.path("run"), t.path("run.old"));
  fs::create_directory_symlink(t.path("victim"), t.path("run"));
  std::ofstream(t.path("victim/s.sock")) << "precious";
  file.remove();
  CHECK(fs::exists(t.path("victim/s.sock")));
  CHECK_FALSE(fs::exists(t.path("run.old/s.sock")));
}

TEST_CASE("a stale socket file is replaced; a live one and any other file are left alone",
          "[socket-file]") {
  TempDir t;
  {
    auto stale = unix_socket();
    bound(stale.get(), t.path("s.sock"));  // closed without removal: stale
  }
  auto fd = unix_socket();
  SocketFile file = bound(fd.get(), t.path("s.sock"));
  REQUIRE(::listen(fd.get(), 1) == 0);
  CHECK(bind_refused(t.path("s.sock")).errno_value == EADDRINUSE);  // alive
  std::ofstream(t.path("plain")) << "data";
  PathError error = bind_refused(t.path("plain"));
  CHECK(error.errno_value == EADDRINUSE);
  CHECK(error.message == "a file that is not a socket is in the way (left alone)");
  CHECK(fs::is_regular_file(t.path("plain")));
}

TEST_CASE("a socket is not bound through a linked directory, even to a stale socket there",
          "[socket-file]") {
  TempDir t;
  t.mkdir("private");
  {
    auto stale = unix_socket();
    bound(stale.get(), t.path("private/s.sock"));
  }
  struct stat before {};
  REQUIRE(::lstat(t.path("private/s.sock").c_str(), &before) == 0);
  fs::create_directory_symlink(t.path("private"), t.path("link"));
  CHECK(bind_refused(t.path("link/s.sock")).errno_value == ELOOP);
  struct stat after {};
  REQUIRE(::lstat(t.path("private/s.sock").c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
}

TEST_CASE("as root, a socket is not bound where another user can swap a directory",
          "[socket-file]") {
  if (::geteuid() != 0) return;  // the rule guards root only
  TempDir t;
  t.mkdir("theirs/run");
  REQUIRE(::chown(t.path("theirs").c_str(), 65534, 65534) == 0);
  PathError error = bind_refused(t.path("theirs/run/s.sock"));
  CHECK(error.errno_value == EACCES);
  CHECK(error.message.find("directory " + t.path("theirs") + " is owned by uid 65534") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(t.path("theirs/run/s.sock")));
}

TEST_CASE("as root, the socket file's owner is set on the inode bind made", "[socket-file]") {
  if (::geteuid() != 0) return;
  TempDir t;
  auto fd = unix_socket();
  SocketFile file = bound(fd.get(), t.path("s.sock"), 0600, 65534);
  struct stat st {};
  REQUIRE(::lstat(t.path("s.sock").c_str(), &st) == 0);
  CHECK(st.st_uid == 65534u);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE(
    "bound by its name from inside the pinned directory, a socket stays there when the "
    "path leads elsewhere",
    "[socket-file]") {
  TempDir t;
  t.mkdir("run");
  SocketFile file = socket_in(t.path("run"), "s.sock");
  fs::rename(t.path("run"), t.path("moved"));
  t.mkdir("run");
  auto fd = unix_socket();
  REQUIRE(file.bind(fd.get(), 0640, static_cast<uid_t>(-1), static_cast<gid_t>(-1)).ok());
  CHECK(file.mode() == 0640);
  CHECK(fs::is_socket(t.path("moved/s.sock")));
  CHECK_FALSE(fs::exists(t.path("run/s.sock")));
  CHECK(file.remove());
  CHECK_FALSE(fs::exists(t.path("moved/s.sock")));
  CHECK_FALSE(file.remove());  // once
}

TEST_CASE("what is in the way of a socket is said, with its owner", "[socket-file]") {
  using What = SocketFile::InTheWay::What;
  TempDir t;
  auto live = unix_socket();
  SocketFile first = bound(live.get(), t.path("s.sock"));
  REQUIRE(::listen(live.get(), 1) == 0);
  SocketFile second = socket_in(t.dir, "s.sock");
  auto in_the_way = second.clear_stale(true);
  REQUIRE(in_the_way);
  CHECK(in_the_way->what == What::live_socket);
  CHECK(in_the_way->owner == ::geteuid());
  t.write("plain", "data");
  SocketFile plain = socket_in(t.dir, "plain", SocketFile::Address::path);
  REQUIRE(plain.clear_stale(false));
  CHECK(plain.clear_stale(false)->what == What::not_a_socket);
}

TEST_CASE("a stale socket of another user is removed only when any stale socket may be",
          "[socket-file]") {
  if (::geteuid() != 0) return;  // needs chown
  TempDir t;
  {
    auto stale = unix_socket();
    bound(stale.get(), t.path("s.sock"), 0600, 65534);
  }
  SocketFile ours = socket_in(t.dir, "s.sock");
  auto in_the_way = ours.clear_stale(true);
  REQUIRE(in_the_way);
  CHECK(in_the_way->what == SocketFile::InTheWay::What::anothers_socket);
  CHECK(in_the_way->owner == 65534u);
  CHECK(fs::is_socket(t.path("s.sock")));
  CHECK_FALSE(ours.clear_stale(false));
  CHECK_FALSE(fs::exists(t.path("s.sock")));
}
