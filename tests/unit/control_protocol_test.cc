#include <catch2/catch.hpp>

#include "ipc/control_protocol.h"

using muster::ipc::parse_request;
using muster::ipc::Request;

namespace {
std::string error_of(std::string_view line) {
  auto r = parse_request(line);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}
Request request_of(std::string_view line) {
  auto r = parse_request(line);
  if (!r) FAIL("unexpected error: " << r.error().message);
  return *r;
}
}  // namespace

TEST_CASE("a well-formed request is parsed with its fields", "[control]") {
  auto r = request_of(R"({"verb":"scale","app":"web","count":4})");
  CHECK(r.verb == "scale");
  CHECK(*r.app == "web");
  CHECK(*r.count == 4);
  auto k = request_of(R"({"verb":"kill","id":3,"signal":"SIGUSR2"})");
  CHECK(*k.id == 3);
  CHECK(*k.signal == "SIGUSR2");
  CHECK_FALSE(request_of(R"({"verb":"status"})").app);
}

TEST_CASE("bad control input is rejected with a reason", "[control]") {
  CHECK(error_of("").find("malformed JSON") == 0);
  CHECK(error_of("{not json").find("malformed JSON") == 0);
  CHECK(error_of("[1,2]") == "a request must be a JSON object");
  CHECK(error_of("{}") == "missing string field 'verb'");
  CHECK(error_of(R"({"verb":7})") == "missing string field 'verb'");
  CHECK(error_of(R"({"verb":"frob"})") == "unknown verb 'frob'");
  CHECK(error_of(R"({"verb":"stop"})") == "missing 'app'");
  CHECK(error_of(R"({"verb":"stop","app":""})") == "'app' must be a non-empty string");
  CHECK(error_of(R"({"verb":"stop","app":5})") == "'app' must be a non-empty string");
  CHECK(error_of(R"({"verb":"scale","app":"w","count":-1})") ==
        "'count' must be a non-negative integer");
  CHECK(error_of(R"({"verb":"scale","app":"w","count":1.5})") ==
        "'count' must be a non-negative integer");
  CHECK(error_of(R"({"verb":"scale","app":"w","count":"4"})") ==
        "'count' must be a non-negative integer");
  CHECK(error_of(R"({"verb":"kill"})") == "missing 'id'");
  CHECK(error_of(R"({"verb":"ping","app":"w"})") == "unexpected field 'app'");
  CHECK(error_of(R"({"verb":"ping","bogus":1})") == "unexpected field 'bogus'");
}

TEST_CASE("a request with a repeated key is refused, not read as its last value", "[control]") {
  CHECK(error_of(R"({"verb":"ping","verb":"shutdown"})") == "duplicate key 'verb'");
  CHECK(error_of(R"({"verb":"scale","app":"a","count":1,"count":9})") == "duplicate key 'count'");
  // Found before the fields are checked: an unknown field repeated is still a repeat.
  CHECK(error_of(R"({"verb":"ping","x":1,"x":1})") == "duplicate key 'x'");
  // Also inside a send message, though Node's JSON.parse would keep the last.
  CHECK(error_of(R"({"verb":"send","id":3,"message":{"a":1,"a":2}})") ==
        "duplicate key 'a' in 'message'");
}

TEST_CASE("an oversized request line is refused", "[control]") {
  std::string line =
      R"({"verb":"ping","pad":")" + std::string(muster::ipc::kMaxControlLine, 'x') + "\"}";
  CHECK(error_of(line) == "request line too long");
}

TEST_CASE("send takes a message of up to 1 MiB as JSON, a worker channel line", "[control]") {
  auto send_of = [](std::size_t json_bytes) {  // a string message of that size as JSON
    return R"({"verb":"send","id":3,"message":")" + std::string(json_bytes - 2, 'x') + "\"}";
  };
  CHECK(request_of(send_of(1 << 20)).message->as_string().size() == (1 << 20) - 2);
  CHECK(error_of(send_of((1 << 20) + 1)) ==
        "the message is 1048577 bytes as JSON; at most 1048576 (1 MiB) can be sent to a worker");
}

TEST_CASE("send takes a message and exactly one target", "[control]") {
  auto r = request_of(R"({"verb":"send","id":3,"message":{"a":[1,2]}})");
  CHECK(*r.id == 3);
  CHECK(r.message->as_object().at("a").as_array().size() == 2);
  CHECK(request_of(R"({"verb":"send","app":"web","message":"hi"})").message->is_string());
  CHECK(request_of(R"({"verb":"send","app":"web","message":null})").message->is_null());
  CHECK(error_of(R"({"verb":"send","app":"web"})") == "missing 'message'");
  CHECK(error_of(R"({"verb":"send","message":1})") == "send takes either 'app' or 'id'");
  CHECK(error_of(R"({"verb":"send","app":"w","id":1,"message":1})") ==
        "send takes either 'app' or 'id'");
  CHECK(error_of(R"({"verb":"ping","message":1})") == "unexpected field 'message'");
}

TEST_CASE("events may follow", "[control]") {
  CHECK(request_of(R"({"verb":"events","follow":true})").follow);
  CHECK_FALSE(request_of(R"({"verb":"events"})").follow);
  CHECK(error_of(R"({"verb":"events","follow":"yes"})") == "'follow' must be true or false");
  CHECK(error_of(R"({"verb":"status","follow":true})") == "unexpected field 'follow'");
}

TEST_CASE("reload-config may allow a file with no apps; no other verb takes that", "[control]") {
  CHECK_FALSE(request_of(R"({"verb":"reload-config"})").allow_empty);
  CHECK(request_of(R"({"verb":"reload-config","allow_empty":true})").allow_empty);
  CHECK_FALSE(request_of(R"({"verb":"reload-config","allow_empty":false})").allow_empty);
  CHECK(error_of(R"({"verb":"reload-config","allow_empty":1})") ==
        "'allow_empty' must be true or false");
  CHECK(error_of(R"({"verb":"reload","app":"web","allow_empty":true})") ==
        "unexpected field 'allow_empty'");
}

TEST_CASE("upgrade may name its binary, an absolute path; no other verb takes one", "[control]") {
  CHECK_FALSE(request_of(R"({"verb":"upgrade"})").binary);
  CHECK(*request_of(R"({"verb":"upgrade","binary":"/usr/sbin/musterd"})").binary ==
        "/usr/sbin/musterd");
  CHECK(error_of(R"({"verb":"upgrade","binary":"musterd"})") ==
        "'binary' must be an absolute path");
  CHECK(error_of(R"({"verb":"upgrade","binary":"./musterd"})") ==
        "'binary' must be an absolute path");
  CHECK(error_of(R"({"verb":"upgrade","binary":""})") == "'binary' must be a non-empty string");
  CHECK(error_of(R"({"verb":"upgrade","binary":7})") == "'binary' must be a non-empty string");
  CHECK(error_of(R"({"verb":"upgrade","binary":"/usr/sbin/musterd\u0000x"})") ==
        "'binary' must not contain a NUL");
  CHECK(error_of(R"({"verb":"status","binary":"/usr/sbin/musterd"})") ==
        "unexpected field 'binary'");
}

TEST_CASE("upgrade's binary is at most a path execve() takes", "[control]") {
  const auto upgrade_to = [](std::size_t bytes) {
    return R"({"verb":"upgrade","binary":"/)" + std::string(bytes - 1, 'x') + "\"}";
  };
  CHECK(request_of(upgrade_to(muster::ipc::kMaxBinaryPath)).binary->size() ==
        muster::ipc::kMaxBinaryPath);
  CHECK(error_of(upgrade_to(muster::ipc::kMaxBinaryPath + 1)) ==
        "'binary' must be at most 4095 bytes");
}
