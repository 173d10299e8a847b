// What a config names must exist on the host that runs it (config/host_checks.cc):
// users and groups, each exec along the worker's PATH, cwds, and the
// directories musterd writes output files in, the journal for output =
// "journal". Each case runs in a temp dir
// holding the (never written) config file.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "tests/unit/scoped_env.h"

using namespace muster::config;
namespace fs = std::filesystem;

namespace {

class HostDir {
 public:
  HostDir() : dir_(fs::temp_directory_path() / ("muster-host-test-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~HostDir() { fs::remove_all(dir_); }

  std::string path(const std::string& name = "") const { return (dir_ / name).string(); }
  std::string config() const { return path("muster.toml"); }

  void write(const std::string& name, fs::perms perms) const {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << "#!/bin/sh\n";
    fs::permissions(dir_ / name, perms);
  }

  LoadResult load(const std::string& text, HostChecks host = HostChecks::run) const {
    return load_string(text, config(), host);
  }

  // The one error `text` has; checks where it points.
  ConfigError error(const std::string& text, int line, int column, const std::string& key) const {
    LoadResult result = load(text);
    for (const ConfigError& e : result.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(result.errors.size() == 1);
    CHECK_FALSE(result.config);
    const ConfigError& e = result.errors.front();
    CHECK(e.file == config());
    CHECK(e.line == line);
    CHECK(e.column == column);
    CHECK(e.key == key);
    return e;
  }

  void ok(const std::string& text) const {
    LoadResult result = load(text);
    for (const ConfigError& e : result.errors) UNSCOPED_INFO(e.to_string());
    CHECK(result.errors.empty());
  }

 private:
  fs::path dir_;
};

constexpr fs::perms kExecutable = fs::perms::owner_all | fs::perms::group_read;
constexpr fs::perms kReadable = fs::perms::owner_read | fs::perms::owner_write;
const std::string kSh = "[apps.web]\nexec = \"/bin/sh\"\n";

}  // namespace

TEST_CASE("a user that does not exist on this host is reported at the value") {
  HostDir host;
  ConfigError error = host.error(kSh + "user = \"muster-no-such-user\"\n", 3, 8, "apps.web.user");
  CHECK(error.message == R"(no user named "muster-no-such-user" on this host)");
  CHECK(error.to_string() ==
        host.config() + R"(:3:8: apps.web.user: no user named "muster-no-such-user" on this host)");
  host.ok(kSh + "user = \"root\"\n");
}

TEST_CASE("a group that does not exist on this host is reported at the value") {
  HostDir host;
  ConfigError error =
      host.error(kSh + "group = \"muster-no-such-group\"\n", 3, 9, "apps.web.group");
  CHECK(error.message == R"(no group named "muster-no-such-group" on this host)");
  host.ok(kSh + "group = \"root\"\n");
}

TEST_CASE("a control_group that does not exist on this host is reported at the value") {
  HostDir host;
  ConfigError error = host.error("[daemon]\ncontrol_group = \"muster-no-such-group\"\n", 2, 17,
                                 "daemon.control_group");
  CHECK(error.message == R"(no group named "muster-no-such-group" on this host)");
}

TEST_CASE("the host is asked only when asked for") {
  HostDir host;
  LoadResult result = host.load(
      "[apps.web]\nexec = \"muster-no-such-program\"\nuser = \"muster-no-such-user\"\n"
      "cwd = \"no-such-dir\"\n",
      HostChecks::skip);
  CHECK(result.errors.empty());
}

TEST_CASE("an exec not found along the app's env PATH is reported at exec") {
  HostDir host;
  host.write("bin/tool", kExecutable);
  const std::string path = "env = { PATH = \"" + host.path("bin") + "\" }\n";
  host.ok("[apps.web]\nexec = \"tool\"\n" + path);
  ConfigError error = host.error("[apps.web]\nexec = \"sh\"\n" + path, 2, 8, "apps.web.exec");
  CHECK(error.message == "cannot run 'sh': not found in PATH (" + host.path("bin") + ")");
}

TEST_CASE("an exec is looked for along musterd's PATH when the app sets none") {
  HostDir host;
  host.write("bin/tool", kExecutable);
  {
    muster::test::ScopedEnv path("PATH", host.path("bin").c_str());
    host.ok("[apps.web]\nexec = \"tool\"\n");
  }
  muster::test::ScopedEnv path("PATH", "/nonexistent");
  ConfigError error = host.error("[apps.web]\nexec = \"tool\"\n", 2, 8, "apps.web.exec");
  CHECK(error.message == "cannot run 'tool': not found in PATH (/nonexistent)");
}

TEST_CASE("an exec that is not an executable file is reported at exec") {
  HostDir host;
  host.write("tool.sh", kReadable);
  ConfigError error = host.error("[apps.web]\nexec = \"./tool.sh\"\n", 2, 8, "apps.web.exec");
  CHECK(error.message == "cannot run './tool.sh': not an executable file");
  error = host.error("[apps.web]\nexec = \"/nonexistent/tool\"\n", 2, 8, "apps.web.exec");
  CHECK(error.message == "cannot run '/nonexistent/tool': no such file");
  error = host.error("[apps.web]\nexec = \"/tmp/\"\n", 2, 8, "apps.web.exec");
  CHECK(error.message == "cannot run '/tmp/': not an executable file");
}

TEST_CASE("a relative exec is looked for in the app's cwd, as musterd starts it") {
  HostDir host;
  host.write("work/tool", kExecutable);
  host.ok("[apps.web]\nexec = \"./tool\"\ncwd = \"work\"\n");
  ConfigError error = host.error("[apps.web]\nexec = \"./tool\"\n", 2, 8, "apps.web.exec");
  CHECK(error.message == "cannot run './tool': no such file");
}

TEST_CASE("a cwd that is not a directory is reported at cwd, and exec is not looked for there") {
  HostDir host;
  ConfigError error =
      host.error("[apps.web]\nexec = \"./tool\"\ncwd = \"no-such-dir\"\n", 3, 7, "apps.web.cwd");
  CHECK(error.message == "cannot use \"" + host.path("no-such-dir") +
                             "\" as the working directory: No such file or directory");
  host.write("file", kReadable);
  error = host.error(kSh + "cwd = \"file\"\n", 3, 7, "apps.web.cwd");
  CHECK(error.message ==
        "cannot use \"" + host.path("file") + "\" as the working directory: not a directory");
}

TEST_CASE("an output_file in a directory that does not exist is reported at output_file") {
  HostDir host;
  const std::string file = kSh + "output = \"file\"\n";
  host.ok(file + "output_file = \"web.log\"\n");
  ConfigError error =
      host.error(file + "output_file = \"logs/web.log\"\n", 4, 15, "apps.web.output_file");
  CHECK(error.message ==
        "musterd cannot create files in \"" + host.path("logs") + "\": No such file or directory");
  host.write("logs", kReadable);
  error = host.error(file + "output_file = \"logs/web.log\"\n", 4, 15, "apps.web.output_file");
  CHECK(error.message ==
        "musterd cannot create files in \"" + host.path("logs") + "\": not a directory");
}

TEST_CASE("an output_file that is a directory is reported at output_file") {
  HostDir host;
  fs::create_directories(host.path("web.log"));
  ConfigError error = host.error(kSh + "output = \"file\"\noutput_file = \"web.log\"\n", 4, 15,
                                 "apps.web.output_file");
  CHECK(error.message == "musterd cannot write \"" + host.path("web.log") + "\": a directory");
}

TEST_CASE("an output_file in a directory musterd cannot write is reported at output_file") {
  // access() grants root every write, so only another user can see this.
  if (::geteuid() == 0) return;
  HostDir host;
  fs::create_directories(host.path("logs"));
  fs::permissions(host.path("logs"), fs::perms::owner_read | fs::perms::owner_exec);
  ConfigError error = host.error(kSh + "output = \"file\"\noutput_file = \"logs/web.log\"\n", 4, 15,
                                 "apps.web.output_file");
  CHECK(error.message ==
        "musterd cannot create files in \"" + host.path("logs") + "\": Permission denied");
  fs::permissions(host.path("logs"), fs::perms::owner_all);
}

TEST_CASE("output = journal is accepted where journald listens, else reported at output") {
  HostDir host;
  std::string text = kSh + "output = \"journal\"\n";
  if (::access("/run/systemd/journal/socket", W_OK) == 0) {
    host.ok(text);
  } else {
    ConfigError error = host.error(text, 3, 10, "apps.web.output");
    CHECK_THAT(error.message, Catch::StartsWith(R"(output = "journal" needs the systemd journal)"));
    CHECK_THAT(error.message, Catch::Contains("/run/systemd/journal/socket"));
  }
  // Read without the host checks, it is a valid value.
  CHECK(host.load(text, HostChecks::skip).errors.empty());
}

TEST_CASE("every host problem of a file is reported in one pass, in file order") {
  HostDir host;
  LoadResult result = host.load(
      "[apps.a]\nexec = \"muster-no-such-program\"\nuser = \"muster-no-such-user\"\n"
      "[apps.b]\nexec = \"/bin/sh\"\ngroup = \"muster-no-such-group\"\n");
  REQUIRE(result.errors.size() == 3);
  CHECK(result.errors[0].key == "apps.a.exec");
  CHECK(result.errors[1].key == "apps.a.user");
  CHECK(result.errors[2].key == "apps.b.group");
}

// Where root musterd creates files, no other user may plant anything
// (issue 19 §2; config::unsafe_directory).

TEST_CASE("an output_file under a symbolic link is reported at output_file, naming the link") {
  HostDir host;
  fs::create_directories(host.path("real"));
  fs::create_directory_symlink(host.path("real"), host.path("logs"));
  ConfigError error = host.error(kSh + "output = \"file\"\noutput_file = \"logs/web.log\"\n", 4, 15,
                                 "apps.web.output_file");
  CHECK(error.message ==
        "musterd follows no symbolic link on the way to the files it creates, "
        "and " +
            host.path("logs") + " is one (name the real path, " + host.path("real") + ")");
}

TEST_CASE("an output_file that is a symbolic link is left to musterd's open") {
  // Anyone who can create the name could otherwise stop musterd from
  // starting; OutputFile refuses the link when it opens the file.
  HostDir host;
  host.write("target", kReadable);
  fs::create_symlink(host.path("target"), host.path("web.log"));
  host.ok(kSh + "output = \"file\"\noutput_file = \"web.log\"\n");
}

TEST_CASE("as root, an output directory other users can write is reported at output_file") {
  if (::geteuid() != 0) return;  // the rule guards root only
  HostDir host;
  const std::string text = kSh + "output = \"file\"\noutput_file = \"logs/web.log\"\n";
  fs::create_directories(host.path("logs"));
  host.ok(text);
  const std::string rule =
      "musterd, running as root, creates files only where no other user "
      "can plant a link or a file: directory " +
      host.path("logs");
  const std::string fix = " (use a directory only root can write, or a sticky one owned by root)";
  ::chmod(host.path("logs").c_str(), 0777);
  CHECK(host.error(text, 4, 15, "apps.web.output_file").message ==
        rule + " is world-writable (mode 0777)" + fix);
  ::chmod(host.path("logs").c_str(), 01777);  // sticky and root's, like /tmp
  host.ok(text);
  REQUIRE(::chown(host.path("logs").c_str(), 65534, 0) == 0);  // sticky, but another's
  CHECK(host.error(text, 4, 15, "apps.web.output_file").message ==
        rule + " is owned by uid 65534, not root" + fix);
  // Only the directory itself counts: the file is opened relative to it.
  REQUIRE(::chown(host.path("logs").c_str(), 0, 0) == 0);
  REQUIRE(::chmod(host.path("logs").c_str(), 0755) == 0);
  fs::create_directories(host.path("logs/app"));
  REQUIRE(::chown(host.path("logs").c_str(), 65534, 0) == 0);
  host.ok(kSh + "output = \"file\"\noutput_file = \"logs/app/web.log\"\n");
}

TEST_CASE("as root, a unix listen path under a directory others can change is reported") {
  if (::geteuid() != 0) return;
  HostDir host;
  fs::create_directories(host.path("theirs/run"));
  const std::string text = "[sockets.s]\nlisten = \"unix:theirs/run/s.sock\"\n";
  host.ok(text);
  REQUIRE(::chown(host.path("theirs").c_str(), 65534, 0) == 0);  // every directory counts
  ConfigError error = host.error(text, 2, 10, "sockets.s.listen");
  CHECK(error.message.find("directory " + host.path("theirs") +
                           " is owned by uid 65534, not root") != std::string::npos);
}
