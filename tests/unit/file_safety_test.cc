// Whether a config file may be trusted by a root musterd
// (config/file_safety.cc): the file and every directory on its path, as named
// and as resolved. The rule each one is judged by is tested in
// dir_trust_test.cc.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/file_safety.h"
#include "tests/unit/temp_dir.h"

using muster::config::unsafe_config_file;
using muster::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A private directory (mkdtemp: mode 0700, ours) holding a config file
// (mode 0644).
struct ConfigDir : TempDir {
  fs::path file = dir / "muster.toml";
  ConfigDir() {
    std::ofstream(file) << "[daemon]\n";
    ::chmod(file.c_str(), 0644);
  }
};

// The test runs as whoever; the rules are checked for that uid as "trusted".
const uid_t me = ::geteuid();

}  // namespace

TEST_CASE("a file and directories writable only by their owner are safe", "[file-safety]") {
  ConfigDir d;
  CHECK_FALSE(unsafe_config_file(d.file.string(), me));
}

TEST_CASE("a world-writable config file is refused", "[file-safety]") {
  ConfigDir d;
  ::chmod(d.file.c_str(), 0666);
  auto problem = unsafe_config_file(d.file.string(), me);
  REQUIRE(problem);
  CHECK(problem->find("world-writable") != std::string::npos);
  CHECK(problem->find(d.file.string()) != std::string::npos);
  CHECK(problem->find("0666") != std::string::npos);
}

TEST_CASE("a config file in a world-writable directory is refused", "[file-safety]") {
  ConfigDir d;
  ::chmod(d.dir.c_str(), 0777);
  auto problem = unsafe_config_file(d.file.string(), me);
  REQUIRE(problem);
  CHECK(problem->find("directory " + d.dir.string() + " is world-writable") != std::string::npos);
}

TEST_CASE("a world-writable directory higher up the path is refused", "[file-safety]") {
  ConfigDir d;
  fs::path sub = d.dir / "etc";
  fs::create_directory(sub);
  ::chmod(sub.c_str(), 0755);
  fs::path file = sub / "muster.toml";
  std::ofstream(file) << "";
  ::chmod(file.c_str(), 0600);
  ::chmod(d.dir.c_str(), 0777);
  auto problem = unsafe_config_file(file.string(), me);
  REQUIRE(problem);
  CHECK(problem->find("directory " + d.dir.string()) != std::string::npos);
}

TEST_CASE("a symlink is judged by its directory and by its target's path", "[file-safety]") {
  ConfigDir safe;
  ConfigDir open_dir;
  ::chmod(open_dir.dir.c_str(), 0777);
  fs::path target = open_dir.dir / "real.toml";
  std::ofstream(target) << "";
  ::chmod(target.c_str(), 0644);
  fs::path link = safe.dir / "link.toml";
  fs::create_symlink(target, link);
  auto problem = unsafe_config_file(link.string(), me);
  REQUIRE(problem);
  CHECK(problem->find(open_dir.dir.string()) != std::string::npos);
  // A link into a safe place is fine.
  fs::path good = safe.dir / "good.toml";
  fs::create_symlink(safe.file, good);
  CHECK_FALSE(unsafe_config_file(good.string(), me));
}

TEST_CASE("a relative path is checked as the absolute one", "[file-safety]") {
  ConfigDir d;
  ::chmod(d.file.c_str(), 0646);
  auto cwd = fs::current_path();
  fs::current_path(d.dir);
  auto problem = unsafe_config_file("muster.toml", me);
  fs::current_path(cwd);
  REQUIRE(problem);
  CHECK(problem->find("world-writable") != std::string::npos);
}

TEST_CASE("a missing file is left to the loader to report", "[file-safety]") {
  ConfigDir d;
  CHECK_FALSE(unsafe_config_file((d.dir / "nope.toml").string(), me));
}
