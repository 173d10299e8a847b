#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "config/file_text.h"

using namespace muster::config;
namespace fs = std::filesystem;

namespace {

// A private directory with one file, muster.toml, holding `text`.
struct ConfigFile {
  fs::path dir;
  fs::path file;
  explicit ConfigFile(const std::string& text) {
    std::string tmpl = (fs::temp_directory_path() / "muster-text-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
    file = dir / "muster.toml";
    std::ofstream(file, std::ios::binary) << text;
  }
  ~ConfigFile() { fs::remove_all(dir); }
  std::string path() const { return file.string(); }
};

std::string only_error(const LoadResult& result) {
  REQUIRE_FALSE(result.config);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].line == 0);
  return result.errors[0].to_string();
}

}  // namespace

TEST_CASE("a config file is read whole", "[config-file]") {
  std::string text = "[daemon]\n# " + std::string(200000, 'x') + "\n";
  ConfigFile f(text);
  auto read = read_config_text(f.path());
  REQUIRE(read.ok());
  CHECK(*read == text);
}

TEST_CASE("an empty config file is refused, saying why and what to do", "[config-file]") {
  ConfigFile f("");
  std::string error = only_error(load_file(f.path(), HostChecks::skip));
  CHECK_THAT(error, Catch::StartsWith(f.path() + ": the file is empty"));
  CHECK_THAT(error, Catch::Contains("mid-write"));
  CHECK_THAT(error, Catch::Contains("rename"));
}

TEST_CASE("a config file of whitespace only is refused", "[config-file]") {
  ConfigFile f(" \n\t\r\n\n");
  std::string error = only_error(load_file(f.path(), HostChecks::skip));
  CHECK_THAT(error, Catch::Contains("only whitespace"));
}

TEST_CASE("a config file of comments only is a config with no apps", "[config-file]") {
  ConfigFile f("# nothing here yet\n");
  LoadResult result = load_file(f.path(), HostChecks::skip);
  REQUIRE(result.config);
  CHECK(result.config->apps.empty());
}

TEST_CASE("a config file larger than 16 MiB is refused unread", "[config-file]") {
  ConfigFile f("");
  REQUIRE(::truncate(f.path().c_str(), kMaxConfigBytes + 1) == 0);
  std::string error = only_error(load_file(f.path(), HostChecks::skip));
  CHECK_THAT(error, Catch::Contains("larger than 16 MiB"));
}

TEST_CASE("a config from a pipe is read to its end", "[config-file]") {
  ConfigFile f("");
  fs::path fifo = f.dir / "pipe.toml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  pid_t writer = ::fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {
    std::ofstream(fifo) << "[apps.web]\nexec = \"x\"\n";
    ::_exit(0);
  }
  LoadResult result = load_file(fifo.string(), HostChecks::skip);
  int status = 0;
  ::waitpid(writer, &status, 0);
  REQUIRE(result.config);
  CHECK(result.config->apps.size() == 1);
}

TEST_CASE("blank() is true for nothing but spaces, tabs and line ends", "[config-file]") {
  CHECK(blank(""));
  CHECK(blank(" \t\r\n"));
  CHECK_FALSE(blank("#"));
  CHECK_FALSE(blank(" [daemon]"));
}
