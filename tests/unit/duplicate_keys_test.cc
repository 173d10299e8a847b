#include <catch2/catch.hpp>

#include "ipc/duplicate_keys.h"

using muster::ipc::find_duplicate_key;

TEST_CASE("a repeated key is named, with the top-level field it is under", "[control]") {
  CHECK(find_duplicate_key(R"({"verb":"ping","verb":"shutdown"})") == "duplicate key 'verb'");
  CHECK(find_duplicate_key(R"({"message":{"a":1,"a":2}})") == "duplicate key 'a' in 'message'");
  CHECK(find_duplicate_key(R"({"id":3,"message":[{"b":{"c":1,"c":1}}]})") ==
        "duplicate key 'c' in 'message'");
}

TEST_CASE("equal keys in different objects are not duplicates", "[control]") {
  CHECK_FALSE(find_duplicate_key(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})"));
  CHECK_FALSE(find_duplicate_key(R"({"verb":"send","id":3,"message":{"verb":"x","id":1}})"));
  CHECK_FALSE(find_duplicate_key(R"([{"a":1},{"a":1}])"));
}

TEST_CASE("keys are compared after unescaping", "[control]") {
  CHECK(find_duplicate_key(R"({"verb":"ping","v\u0065rb":"shutdown"})") == "duplicate key 'verb'");
  CHECK_FALSE(find_duplicate_key(R"({"a":1,"A":1,"a ":1})"));
}

TEST_CASE("a long key with escapes is compared whole", "[control]") {
  // The parser hands such keys over in parts (on_key_part).
  std::string key(5000, 'k');
  std::string line = "{\"" + key + "\\n\":1,\"" + key + "\\n\":2}";
  CHECK(find_duplicate_key(line) == "duplicate key '" + key + "\n'");
}
