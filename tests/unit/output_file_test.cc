#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/output_file.h"

using muster::daemon::OutputFile;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path dir;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "muster-output-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  std::string read(const std::string& name) const {
    std::ifstream in(dir / name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
  }
  // The names in the directory, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
};

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

}  // namespace

TEST_CASE("rotated files are numbered upward and the oldest beyond output_keep is deleted",
          "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(file.configure(d.path("web.log"), 20, 2) == std::string());
  for (int i = 0; i < 9; ++i) REQUIRE(file.append(line(i)).empty());
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
  REQUIRE(file.configure(d.path("web.log"), 10, 2) == std::string());
  REQUIRE(file.append(line(0)).empty());
  REQUIRE(file.append(line(1)).empty());  // web.log -> web.log.10; .2 deleted
  CHECK(d.names() == std::vector<std::string>{"web.log", "web.log.09", "web.log.10",
                                              "web.log.1a", "web.log.9", "web.log.x"});
  CHECK(d.read("web.log.10") == line(0));
}

TEST_CASE("after output_keep is lowered the surplus shrinks by one file per rotation",
          "[output-file]") {
  TempDir d;
  for (int n = 1; n <= 5; ++n) d.write("web.log." + std::to_string(n), "old\n");
  OutputFile file("web");
  REQUIRE(file.configure(d.path("web.log"), 10, 1) == std::string());
  REQUIRE(file.append(line(0)).empty());
  REQUIRE(file.append(line(1)).empty());  // +6, -1 -2: at most two deletions
  CHECK(d.names() == std::vector<std::string>{"web.log", "web.log.3", "web.log.4", "web.log.5",
                                              "web.log.6"});
  for (int i = 2; i < 5; ++i) REQUIRE(file.append(line(i)).empty());
  CHECK(d.names() == std::vector<std::string>{"web.log", "web.log.9"});
}

TEST_CASE("output_keep 0 starts the file again without keeping the old one", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(file.configure(d.path("web.log"), 10, 0) == std::string());
  REQUIRE(file.append(line(0)).empty());
  REQUIRE(file.append(line(1)).empty());
  CHECK(d.names() == std::vector<std::string>{"web.log"});
  CHECK(d.read("web.log") == line(1));
}

TEST_CASE("a line cut by a failed write is ended with a marker by the next write that works",
          "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(file.configure(d.path("web.log"), 1000, 1) == std::string());
  {
    FileSizeLimit limit(15);
    REQUIRE(file.append(line(0)).empty());
    CHECK(file.append(line(1)) == "File too large");  // 5 bytes written, then EFBIG
    CHECK(file.append(line(2)) == "File too large");  // nothing written: not cut again
  }
  REQUIRE(file.append(line(3)).empty());
  CHECK(d.read("web.log") == line(0) + "line  [muster: line cut: File too large]\n" + line(3));
}

TEST_CASE("a deleted file is created again and gets the line", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(file.configure(d.path("web.log"), 1000, 1) == std::string());
  REQUIRE(file.append(line(0)).empty());
  fs::remove(d.path("web.log"));
  REQUIRE(file.append(line(1)).empty());
  CHECK(d.read("web.log") == line(1));
}

TEST_CASE("a missing directory is reported until it exists", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  CHECK(file.configure(d.path("logs/web.log"), 1000, 1) == std::string("No such file or directory"));
  CHECK(file.append(line(0)) == "No such file or directory");
  fs::create_directory(d.path("logs"));
  REQUIRE(file.append(line(1)).empty());
  CHECK(d.read("logs/web.log") == line(1));
  fs::remove_all(d.path("logs"));  // removed while open
  CHECK(file.append(line(2)) == "No such file or directory");
}

TEST_CASE("the same path on a new configure keeps the open file", "[output-file]") {
  TempDir d;
  OutputFile file("web");
  REQUIRE(file.configure(d.path("web.log"), 1000, 1) == std::string());
  CHECK_FALSE(file.configure(d.path("web.log"), 2000, 3));
  CHECK(file.configure(d.path("other.log"), 2000, 3) == std::string());
}
