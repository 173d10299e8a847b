// The new binary's check before an in-place upgrade
// (daemon/handover/binary_check.h): small scripts stand in for a new
// musterd that answers well, badly, not at all or cannot run, through the
// real launcher. Each case is bounded and leaves no process behind.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "base/version.h"
#include "daemon/handover/binary_check.h"
#include "daemon/handover/state_file.h"
#include "daemon/launch/process_launcher.h"

using namespace std::chrono_literals;
using muster::daemon::handover::BinaryInfo;
using muster::daemon::handover::check_binary;
using muster::daemon::handover::kStateFormat;
using muster::daemon::handover::parse_upgrade_info;
using muster::daemon::handover::reads_our_state;
using muster::daemon::handover::upgrade_info_json;

namespace {

struct TempDir {
  TempDir() {
    char name[] = "/tmp/muster-handover-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  // A file `name` holding `text` with `mode`; its path.
  std::string file(const std::string& name, const std::string& text, mode_t mode = 0755) {
    std::string at = path + "/" + name;
    std::ofstream(at) << text;
    REQUIRE(::chmod(at.c_str(), mode) == 0);
    return at;
  }
  std::string path;
};

struct Checked {
  std::optional<muster::Result<BinaryInfo>> result;
  std::chrono::steady_clock::duration took{};
};

// check_binary's answer, running the loop for at most 10 s.
Checked check(const std::string& path, std::chrono::milliseconds bound = 5000ms) {
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io);
  Checked checked;
  auto start = std::chrono::steady_clock::now();
  check_binary(io, launcher, path, bound,
               [&](muster::Result<BinaryInfo> r) { checked.result = std::move(r); });
  auto until = start + 10s;
  while (!checked.result && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
  checked.took = std::chrono::steady_clock::now() - start;
  REQUIRE(checked.result);
  return checked;
}

std::string error_of(const std::string& path, std::chrono::milliseconds bound = 5000ms) {
  auto checked = check(path, bound);
  REQUIRE_FALSE(checked.result->ok());
  return checked.result->error().message;
}

// Whether a process of group `group` is alive (not a zombie): /proc/PID/stat
// is "pid (comm) state ppid pgrp ...".
bool live_in_group(pid_t group) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    char state = 0;
    pid_t parent = 0, pgrp = 0;
    if (rest >> state >> parent >> pgrp && pgrp == group && state != 'Z') return true;
  }
  return false;
}

std::string script(const std::string& body) { return "#!/bin/sh\n" + body + "\n"; }

}  // namespace

TEST_CASE("a binary that answers --upgrade-info well is described", "[handover]") {
  TempDir dir;
  auto path = dir.file("musterd", script(R"(test "$1" = --upgrade-info || exit 9
echo '{"version":"9.9.9","state_formats":[1,2]}')"));
  auto checked = check(path);
  REQUIRE(checked.result->ok());
  CHECK((*checked.result)->version == "9.9.9");
  CHECK((*checked.result)->formats == std::vector<int>{1, 2});
}

TEST_CASE("a binary that prints garbage for --upgrade-info is refused, quoted", "[handover]") {
  TempDir dir;
  auto path = dir.file("musterd", script("echo 'musterd 9.9.9'"));
  CHECK(error_of(path) == "'" + path + " --upgrade-info' printed no JSON object: 'musterd 9.9.9'");
  auto silent = dir.file("silent", script("exit 0"));
  CHECK(error_of(silent) == "'" + silent + " --upgrade-info' printed nothing");
}

TEST_CASE("a binary that exits non-zero is refused with the first line of its stderr",
          "[handover]") {
  TempDir dir;
  auto path = dir.file("musterd", script("echo 'unknown option' >&2; echo more >&2; exit 3"));
  CHECK(error_of(path) == "'" + path + " --upgrade-info' exited with status 3: unknown option");
}

TEST_CASE("a binary killed by a signal is refused, naming the signal", "[handover]") {
  TempDir dir;
  auto path = dir.file("musterd", script("kill -TERM $$"));
  CHECK(error_of(path) == "'" + path + " --upgrade-info' was killed by SIGTERM");
}

TEST_CASE("a binary that does not answer within the bound is killed with its children",
          "[handover]") {
  TempDir dir;
  auto path = dir.file("musterd", script("echo $$ > " + dir.path + "/pid; sleep 30"));
  auto checked = check(path, 300ms);
  REQUIRE_FALSE(checked.result->ok());
  CHECK(checked.result->error().message ==
        "'" + path + " --upgrade-info' did not answer within 300 ms (killed)");
  CHECK(checked.took < 3s);
  // The shell's group (its `sleep`) is dead too. Polled: the kill is sent,
  // not waited for; and a zombie counts as dead, since init reaps the
  // killed `sleep`, when it gets to it.
  pid_t group = 0;
  std::ifstream(dir.path + "/pid") >> group;
  REQUIRE(group > 0);
  auto until = std::chrono::steady_clock::now() + 5s;
  while (live_in_group(group) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  CHECK_FALSE(live_in_group(group));
}

TEST_CASE("a file that is not executable is refused with its errno", "[handover]") {
  TempDir dir;
  auto path = dir.file("musterd", script("exit 0"), 0644);
  auto checked = check(path);
  REQUIRE_FALSE(checked.result->ok());
  CHECK(checked.result->error().errno_value == EACCES);
  CHECK_THAT(checked.result->error().message, Catch::Contains(path));
  auto missing = check(dir.path + "/nothing");
  REQUIRE_FALSE(missing.result->ok());
  CHECK(missing.result->error().errno_value == ENOENT);
}

TEST_CASE("a binary with no state format in common is refused", "[handover]") {
  TempDir dir;
  auto path = dir.file("musterd", script(R"(echo '{"version":"9.9.9","state_formats":[2]}')"));
  CHECK(error_of(path) == "'" + path +
                              "' (musterd 9.9.9) reads state formats 2, not format 1 which this "
                              "musterd writes: no state format in common");
}

TEST_CASE("an --upgrade-info answer missing its fields says which", "[handover]") {
  CHECK(parse_upgrade_info(R"({"state_formats":[1]})").error().message == "printed no \"version\"");
  CHECK(parse_upgrade_info(R"({"version":"1"})").error().message ==
        "printed no \"state_formats\" list");
  CHECK(parse_upgrade_info(R"({"version":"1","state_formats":["1"]})").error().message ==
        "printed a \"state_formats\" item that is no format number: \"1\"");
  CHECK(parse_upgrade_info("{\"version\":\"1\",\"state_formats\":[1]}\r\nmore").ok());
}

TEST_CASE("this musterd's own --upgrade-info answer passes its own check", "[handover]") {
  auto info = parse_upgrade_info(upgrade_info_json());
  REQUIRE(info.ok());
  CHECK(info->formats == std::vector<int>{kStateFormat});
  CHECK_FALSE(info->version.empty());
  CHECK(reads_our_state(*info).ok());
}

TEST_CASE("the musterd built beside these tests passes the check", "[handover]") {
  auto musterd = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "musterd";
  if (!std::filesystem::exists(musterd)) {
    WARN("no musterd beside unit_tests: " << musterd);
    return;
  }
  auto checked = check(musterd.string());
  REQUIRE(checked.result->ok());
  CHECK((*checked.result)->version == muster::version());
}
