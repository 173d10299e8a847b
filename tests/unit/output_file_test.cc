#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/output/output_file.h"
#include "tests/unit/temp_dir.h"

using muster::Result;
using muster::daemon::OutputFile;
using muster::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A 10-byte line ("line 0007\n").
std::string line(int n) {
  std::string digits = std::to_string(n);
  return "line " + std::string(4 - digits.size(), '0') + digits + "\n";
}

// RLIMIT_FSIZE lowered for the scope, SIGXFSZ ignored: a write past the limit
// is short, then fails with EFBIG, as on a disk that fills mid-line.
struct FileSizeLimit {
  struct rlimit old {};
  struct sigaction old_action {};
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGXFSZ, &ignore, &old_action);
    struct rlimit lowered = old;
    lowered.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lowered);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::sigaction(SIGXFSZ, &old_action, nullptr);
  }
};

// Why `result` failed; "" if it did not.
template <class T>
std::string why(const Result<T>& result) {
  return result ? "" : result.error().message;
}

bool opened(const Result<OutputFile::Configured>& result) {
  return result && *result == OutputFile::Configured::opened;
}

bool unchanged(const Result<OutputFile::Configured>& result) {
  return result && *result == OutputFile::Configured::unchanged;
}

}  // namespace

TEST_CASE("rotated files are numbered upward and the oldest beyond output_keep is deleted",
          "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("web.log"), 20, 2)));
  for (int i = 0; i < 9; ++i) REQUIRE(file.append(line(i)).ok());
  // Two lines a file: web.log.1 = 0,1 ... web.log.4 = 6,7; .1 and .2 deleted.
  CHECK(d.names() == std::vector<std::string>{"web.log", "web.log.3", "web.log.4"});
  CHECK(d.read("web.log.3") == line(4) + line(5));
  CHECK(d.read("web.log.4") == line(6) + line(7));
  CHECK(d.read("web.log") == line(8));
}

TEST_CASE("numbering goes on above rotated files already there, other names left alone",
          "[output-file]") {
  TempDir d;
  for (auto name : {"web.log.2", "web.log.9", "web.log.09", "web.log.x", "web.log.1a"})
    d.write(name, "old\n");
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("web.log"), 10, 2)));
  REQUIRE(file.append(line(0)).ok());
  REQUIRE(file.append(line(1)).ok());  // web.log -> web.log.10; .2 deleted
  CHECK(d.names() == std::vector<std::string>{"web.log", "web.log.09", "web.log.10", "web.log.1a",
                                              "web.log.9", "web.log.x"});
  CHECK(d.read("web.log.10") == line(0));
}

TEST_CASE("after output_keep is lowered the surplus shrinks by one file per rotation",
          "[output-file]") {
  TempDir d;
  for (int n = 1; n <= 5; ++n) d.write("web.log." + std::to_string(n), "old\n");
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("web.log"), 10, 1)));
  REQUIRE(file.append(line(0)).ok());
  REQUIRE(file.append(line(1)).ok());  // +6, -1 -2: at most two deletions
  CHECK(d.names() ==
        std::vector<std::string>{"web.log", "web.log.3", "web.log.4", "web.log.5", "web.log.6"});
  for (int i = 2; i < 5; ++i) REQUIRE(file.append(line(i)).ok());
  CHECK(d.names() == std::vector<std::string>{"web.log", "web.log.9"});
}

TEST_CASE("output_keep 0 starts the file again without keeping the old one", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("web.log"), 10, 0)));
  REQUIRE(file.append(line(0)).ok());
  REQUIRE(file.append(line(1)).ok());
  CHECK(d.names() == std::vector<std::string>{"web.log"});
  CHECK(d.read("web.log") == line(1));
}

TEST_CASE("a line cut by a failed write is ended with a marker by the next write that works",
          "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("web.log"), 1000, 1)));
  {
    FileSizeLimit limit(15);
    REQUIRE(file.append(line(0)).ok());
    CHECK(why(file.append(line(1))) == "File too large");  // 5 bytes written, then EFBIG
    CHECK(why(file.append(line(2))) == "File too large");  // nothing written: not cut again
  }
  REQUIRE(file.append(line(3)).ok());
  CHECK(d.read("web.log") == line(0) + "line  [muster: line cut: File too large]\n" + line(3));
}

TEST_CASE("a deleted file is created again and gets the line", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("web.log"), 1000, 1)));
  REQUIRE(file.append(line(0)).ok());
  fs::remove(d.path("web.log"));
  REQUIRE(file.append(line(1)).ok());
  CHECK(d.read("web.log") == line(1));
}

TEST_CASE("a missing directory is reported until it exists", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  CHECK(why(file.configure(d.path("logs/web.log"), 1000, 1)) ==
        std::string("No such file or directory"));
  auto missing = file.append(line(0));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "No such file or directory");
  CHECK(missing.error().errno_value == ENOENT);  // the errno comes with the words
  fs::create_directory(d.path("logs"));
  REQUIRE(file.append(line(1)).ok());
  CHECK(d.read("logs/web.log") == line(1));
  fs::remove_all(d.path("logs"));  // removed while open
  CHECK(why(file.append(line(2))) == "No such file or directory");
}

TEST_CASE("the same path on a new configure keeps the open file", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("web.log"), 1000, 1)));
  CHECK(unchanged(file.configure(d.path("web.log"), 2000, 3)));
  CHECK(opened(file.configure(d.path("other.log"), 2000, 3)));
}

TEST_CASE("a directory removed and made again is found again", "[output-file]") {
  TempDir d;
  fs::create_directory(d.path("logs"));
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("logs/web.log"), 1000, 1)));
  fs::remove_all(d.path("logs"));
  fs::create_directory(d.path("logs"));
  REQUIRE(file.append(line(0)).ok());
  CHECK(d.read("logs/web.log") == line(0));
}

// Files another user could plant where root musterd writes (issue 19 §2).

TEST_CASE("a symbolic link at the path is refused, at the first open and at re-creation",
          "[output-file]") {
  TempDir d;
  d.write("victim", "precious\n");
  fs::create_symlink(d.path("victim"), d.path("web.log"));
  OutputFile file("web");
  const std::string link = "it is a symbolic link, which musterd does not follow";
  CHECK(why(file.configure(d.path("web.log"), 1000, 1)) == link);
  CHECK(why(file.append(line(0))) == link);
  fs::remove(d.path("web.log"));
  REQUIRE(file.append(line(1)).ok());
  fs::remove(d.path("web.log"));  // deleted while open, a link in its place
  fs::create_symlink(d.path("victim"), d.path("web.log"));
  CHECK(why(file.append(line(2))) == link);
  CHECK(d.read("victim") == "precious\n");
}

TEST_CASE("a FIFO, a directory or a file with a second name is not written", "[output-file]") {
  TempDir d;
  REQUIRE(::mkfifo(d.path("fifo.log").c_str(), 0600) == 0);
  OutputFile file("web");
  CHECK(why(file.configure(d.path("fifo.log"), 1000, 1)) ==
        std::string("it is a FIFO, not a regular file"));  // and did not block
  fs::create_directory(d.path("dir.log"));
  CHECK(why(file.configure(d.path("dir.log"), 1000, 1)) ==
        std::string("it is a directory, not a regular file"));
  d.write("victim", "precious\n");
  fs::create_hard_link(d.path("victim"), d.path("linked.log"));
  CHECK(why(file.configure(d.path("linked.log"), 1000, 1)) ==
        std::string("it has 2 names (hard links); musterd writes only a file with one"));
  CHECK(d.read("victim") == "precious\n");
}

TEST_CASE("a link to the directory is refused and named", "[output-file]") {
  TempDir d;
  fs::create_directory(d.path("real"));
  fs::create_directory_symlink(d.path("real"), d.path("logs"));
  OutputFile file("web");
  CHECK(why(file.configure(d.path("logs/web.log"), 1000, 1)) ==
        d.path("logs") + " is a symbolic link, which musterd does not follow");
  CHECK(d.names() == std::vector<std::string>{"logs", "real"});
  CHECK(fs::is_empty(d.path("real")));
}

TEST_CASE("rotation stays in the directory first resolved when a link is swapped in for it",
          "[output-file]") {
  TempDir d;
  fs::create_directory(d.path("logs"));
  fs::create_directory(d.path("private"));
  d.write("private/web.log", "precious\n");
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("logs/web.log"), 10, 1)));
  REQUIRE(file.append(line(0)).ok());
  fs::rename(d.path("logs"), d.path("logs.old"));
  fs::create_directory_symlink(d.path("private"), d.path("logs"));
  for (int i = 1; i < 5; ++i) REQUIRE(file.append(line(i)).ok());  // four rotations
  CHECK(d.read("private/web.log") == "precious\n");
  CHECK(fs::directory_entry(d.path("private/web.log")).is_regular_file());
  CHECK(std::distance(fs::directory_iterator(d.path("private")), fs::directory_iterator()) == 1);
  CHECK(d.read("logs.old/web.log") == line(4));
  CHECK(d.read("logs.old/web.log.4") == line(3));
}

TEST_CASE("reopen resolves the directory again: a moved directory is left behind",
          "[output-file]") {
  TempDir d;
  fs::create_directory(d.path("logs"));
  OutputFile file("web");
  REQUIRE(opened(file.configure(d.path("logs/web.log"), 1000, 1)));
  REQUIRE(file.append(line(0)).ok());
  fs::rename(d.path("logs"), d.path("logs.1"));
  fs::create_directory(d.path("logs"));
  REQUIRE(file.append(line(1)).ok());  // the open file, in the moved directory
  REQUIRE(file.reopen().ok());
  REQUIRE(file.append(line(2)).ok());
  CHECK(d.read("logs.1/web.log") == line(0) + line(1));
  CHECK(d.read("logs/web.log") == line(2));
}
