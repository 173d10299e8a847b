// base/result.h: the one error shape (a value or an Error with a message and,
// where it matters, an errno).
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "base/result.h"
#include "config/executable.h"
#include "config/file_text.h"

using muster::Error;
using muster::Result;

namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Error{std::to_string(n) + " is odd"};
  return n / 2;
}

Result<void> even(int n) {
  if (n % 2 != 0) return Error{"odd", EINVAL};
  return {};
}

}  // namespace

TEST_CASE("a result holds its value or its error, never both", "[result]") {
  auto good = half(8);
  REQUIRE(good.ok());
  CHECK(*good == 4);
  auto bad = half(3);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "3 is odd");
  CHECK(bad.error().errno_value == 0);
}

TEST_CASE("a result without a value is done or says why not, with its errno", "[result]") {
  CHECK(even(2).ok());
  auto odd = even(3);
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().message == "odd");
  CHECK(odd.error().errno_value == EINVAL);
  CHECK(odd.error().prefixed("checking 3: ").message == "checking 3: odd");
  CHECK(odd.error().prefixed("checking 3: ").errno_value == EINVAL);
}

TEST_CASE("a config file that cannot be opened says why, with the errno", "[result]") {
  auto read = muster::config::read_config_text("/nonexistent/muster.toml");
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().errno_value == ENOENT);
  CHECK(read.error().message == "cannot read: No such file or directory");
}

TEST_CASE("an executable is found as a shell would, or the error says why not", "[result]") {
  auto found = muster::config::resolve_executable("sh", "/", "/nonexistent:/bin");
  REQUIRE(found.ok());
  CHECK(*found == "/bin/sh");
  auto missing = muster::config::resolve_executable("nope", "/", "/nonexistent");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "cannot run 'nope': not found in PATH (/nonexistent)");
  auto not_executable = muster::config::resolve_executable("/etc", "/", "");
  REQUIRE_FALSE(not_executable.ok());
  CHECK(not_executable.error().message == "cannot run '/etc': not an executable file");
}
