// The state file of an in-place upgrade (daemon/handover/state_file.h): what
// one musterd writes, the next reads back, and what it refuses, in words.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <string>

#include "daemon/handover/state_file.h"

namespace json = boost::json;
namespace handover = muster::daemon::handover;
using muster::ipc::UniqueFd;

namespace {

// A memfd holding `text`, as another musterd might have written it.
UniqueFd file_with(const std::string& text) {
  UniqueFd fd(::memfd_create("test-state", MFD_CLOEXEC));
  REQUIRE(fd);
  REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  return fd;
}

std::string read_error(const std::string& text) {
  auto fd = file_with(text);
  auto read = handover::read_state_file(fd.get());
  REQUIRE_FALSE(read.ok());
  return read.error().message;
}

json::value sample_body() {
  return json::parse(
      R"({"apps":[{"name":"web","workers":[{"pid":4242,"id":3}]}],"scale":{"web":2}})");
}

}  // namespace

TEST_CASE("a state file reads back as the body and version that were written", "[handover]") {
  auto fd = handover::write_state_file(sample_body(), "0.1.0");
  REQUIRE(fd.ok());
  auto read = handover::read_state_file(fd->get());
  REQUIRE(read.ok());
  CHECK(read->format == handover::kStateFormat);
  CHECK(read->from_version == "0.1.0");
  CHECK(read->body == sample_body());
}

TEST_CASE("a state file is sealed, close-on-exec and rewound", "[handover]") {
  auto fd = handover::write_state_file(sample_body(), "0.1.0");
  REQUIRE(fd.ok());
  CHECK(::fcntl(fd->get(), F_GET_SEALS) ==
        (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
  CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(::lseek(fd->get(), 0, SEEK_CUR) == 0);
  CHECK(::write(fd->get(), "x", 1) < 0);
  CHECK(errno == EPERM);
  CHECK(::ftruncate(fd->get(), 0) < 0);
}

TEST_CASE("a state file is read from its start wherever its position is", "[handover]") {
  auto fd = handover::write_state_file(sample_body(), "0.1.0");
  REQUIRE(fd.ok());
  REQUIRE(handover::read_state_file(fd->get()).ok());
  ::lseek(fd->get(), 7, SEEK_SET);
  auto again = handover::read_state_file(fd->get());
  REQUIRE(again.ok());
  CHECK(again->body == sample_body());
}

TEST_CASE("a state body nested deeper than Boost.JSON's default limit reads back", "[handover]") {
  json::value body = 1;
  for (int i = 0; i < 100; ++i) body = json::array{body};
  auto fd = handover::write_state_file(body, "0.1.0");
  REQUIRE(fd.ok());
  auto read = handover::read_state_file(fd->get());
  REQUIRE(read.ok());
  CHECK(read->body == body);
}

TEST_CASE("a state format this musterd does not know is refused, naming both", "[handover]") {
  CHECK(read_error(R"({"muster_state":2,"from_version":"9.0.0","body":{}})") ==
        "state format 2 is not one this musterd reads (it reads 1)");
}

TEST_CASE("a state file that is not the envelope says what is wrong", "[handover]") {
  CHECK(read_error("") == "state file: empty");
  CHECK_THAT(read_error("musterd was here"), Catch::StartsWith("state file: not JSON ("));
  CHECK(read_error("[1,2]") == "state file: not a JSON object");
  CHECK(read_error(R"({"from_version":"1","body":{}})") ==
        "state file: no \"muster_state\" format number");
  CHECK(read_error(R"({"muster_state":"1","from_version":"1","body":{}})") ==
        "state file: no \"muster_state\" format number");
  CHECK(read_error(R"({"muster_state":1,"body":{}})") == "state file: no \"from_version\" string");
  CHECK(read_error(R"({"muster_state":1,"from_version":"1"})") == "state file: no \"body\"");
}

TEST_CASE("a state file larger than the bound is refused, naming its size", "[handover]") {
  UniqueFd fd(::memfd_create("test-state", MFD_CLOEXEC));
  REQUIRE(fd);
  // Sparse: no memory is used for the bytes.
  REQUIRE(::ftruncate(fd.get(), static_cast<off_t>(handover::kMaxStateBytes + 1)) == 0);
  auto read = handover::read_state_file(fd.get());
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().message == "state file: too large: 67108865 bytes (at most 64 MiB)");
}

TEST_CASE("reading a state file from a bad fd names the errno", "[handover]") {
  auto read = handover::read_state_file(-1);
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().errno_value == EBADF);
  CHECK_THAT(read.error().message, Catch::StartsWith("state file: cannot stat: "));
}
