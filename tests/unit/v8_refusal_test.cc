// The V8 codec's refusals and bounds (ipc/v8_value.h, ipc/v8_json.h): every
// malformed or unsupported input is an error naming its cause, never a crash.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <string>

#include "ipc/v8_json.h"
#include "ipc/v8_value.h"

namespace json = boost::json;
namespace v8 = muster::ipc::v8;

namespace {

std::string refusal(std::string_view bytes, v8::Host host = v8::Host::v8_serialize) {
  auto value = v8::decode(bytes, host);
  return value.ok() ? "(accepted)" : value.error().message;
}

std::string json_refusal(std::string_view text) {
  auto value = v8::from_json(json::parse(text));
  return value.ok() ? "(accepted)" : value.error().message;
}

const std::string H = "\xFF\x0F";  // the header Node 20..23 writes

// The bytes of a literal, NULs included.
template <std::size_t N>
std::string b(const char (&bytes)[N]) {
  return std::string(bytes, N - 1);
}

}  // namespace

TEST_CASE("a message without the V8 header or of another version is refused", "[v8]") {
  CHECK(refusal("") == "message ends in the middle of a value");
  CHECK(refusal(b("o{\x00"), v8::Host::channel) == "no V8 serialization header (0xFF)");
  CHECK(refusal("\xFF\x10_") == "unsupported V8 serialization version 16");
  CHECK(refusal("\xFF\x0C_") == "unsupported V8 serialization version 12");
  CHECK(refusal("\xFF\x0D_") == "(accepted)");
}

TEST_CASE("a value cut short anywhere is refused", "[v8]") {
  std::string whole = H + b("o\"\x01"
                            "aI\x02\"\x01"
                            "b\"\x02hi{\x02");
  REQUIRE(refusal(whole) == "(accepted)");
  for (std::size_t n = 0; n < whole.size(); ++n) {
    INFO(n);
    CHECK(refusal(whole.substr(0, n)) != "(accepted)");
  }
  CHECK(refusal(whole + "_") == "bytes after the value");
}

TEST_CASE("unsupported tags are named in the refusal", "[v8]") {
  CHECK(refusal(H + b("B\x00")) == "unsupported V8 value: tag 'B' (0x42, ArrayBuffer)");
  CHECK(refusal(H + b("p")) == "unsupported V8 value: tag 'p' (0x70, shared object)");
  CHECK(refusal(H + b("\x01")) == "unsupported V8 value: tag 0x01 (unknown)");
  CHECK(refusal(H + b("-")) == "unsupported V8 value: tag '-' (0x2d, unknown)");
  CHECK(refusal(H + b("o{\x00"), v8::Host::channel) == "(accepted)");
  CHECK(refusal(H + b("\\\x01o{\x00"), v8::Host::channel) ==
        "unsupported V8 value: host object that is not a typed array");
  CHECK(refusal(H + b("\\\x02"), v8::Host::channel) == "host object of unknown kind 2");
  CHECK(refusal(H + b("\\\x0D\x00")) == "host object of unknown view type 13");
  CHECK(refusal(H + b("\\\x04\x03"
                      "abc")) == "typed array's byte length is not a whole number of elements");
}

TEST_CASE("counts, lengths and references that do not add up are refused", "[v8]") {
  CHECK(refusal(H + b("o{\x01")) == "object's property count does not match");
  CHECK(refusal(H + b("A\x01_$\x00\x02")) == "dense array's counts do not match");
  CHECK(refusal(H + b("a\x05@\x01\x05")) == "sparse array's counts do not match");
  CHECK(refusal(H + b("A\xFF\xFF\x03")) == "array length over the message's size");
  CHECK(refusal(H + b(";_:\x01")) == "Map with a key and no value");
  CHECK(refusal(H + b("'_,\x02")) == "Map or Set's length does not match");
  CHECK(refusal(H + b("^\x00")) == "reference to object 0 before it");
  CHECK(refusal(H + b("o\"\x01"
                      "a^\x01{\x01")) == "reference to object 1 before it");
  CHECK(refusal(H + b("o\"\x01"
                      "a^\x00{\x01")) == "(accepted)");  // a cycle
  CHECK(refusal(H + b("oo{\x00")) == "property key that is not a string or an array index");
  CHECK(refusal(H + b("c\x03"
                      "abc")) == "two-byte string of an odd byte length");
  CHECK(refusal(H + b("Z\x06\x01\x02\x03")) == "BigInt of 3 bytes (not whole digits)");
  CHECK(refusal(H + b("R_\x00")) == "RegExp without a source string");
  CHECK(refusal(H + b("R\"\x00\x80\x04")) == "RegExp flags 512 unknown");
  CHECK(refusal(H + b("I\xFF\xFF\xFF\xFF\x7F")) == "varint over 32 bits");
  CHECK(refusal(H + b("I\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01")) ==
        "varint longer than 64 bits");
}

TEST_CASE("padding, object-count checks and uint32 numbers are read as V8 reads them", "[v8]") {
  auto v = v8::decode(H + b("\x00\x00?\x02U\x80\x80\x80\x80\x08"), v8::Host::v8_serialize);
  REQUIRE(v.ok());
  CHECK(json::serialize(v8::to_json(*v)) == "2147483648");
  auto s = v8::decode(H + b("S\x03\xE2\x82\xAC"), v8::Host::v8_serialize);  // the old UTF-8 strings
  REQUIRE(s.ok());
  CHECK(s->bytes == "\xE2\x82\xAC");
}

TEST_CASE("nesting is bounded at 32 levels, size at 1 MiB, like the JSON channel", "[v8]") {
  auto nested = [](int levels) {
    std::string bytes = H;
    for (int i = 0; i < levels; ++i) bytes += "A\x01";
    bytes += "_";
    for (int i = 0; i < levels; ++i) bytes += std::string("$\x00\x01", 3);
    return bytes;
  };
  CHECK(refusal(nested(32)) == "(accepted)");
  CHECK(refusal(nested(33)) == "nested more than 32 levels deep");
  std::string big = H + b("\"\x80\x80\x40") + std::string(1 << 20, 'x');
  CHECK(refusal(big) == "message over 1 MiB");
  std::string many =
      H + b("A\x80\x80\x10") + std::string(1 << 18, '_') + std::string("$\x00\x80\x80\x10", 5);
  CHECK(refusal(many) == "more than 262144 values in one message");
}

TEST_CASE("the JSON rendering's forms are checked when read back", "[v8]") {
  CHECK(json_refusal(R"({"$nope":1})").starts_with("unknown \"$nope\""));
  CHECK(json_refusal(R"({"$undefined":true,"x":1})") == "\"$undefined\" has other keys beside it");
  CHECK(json_refusal(R"([{"$ref":1}])") == "\"$ref\" names no object before it");
  CHECK(json_refusal(R"({"a":{"$ref":0}})") == "(accepted)");
  CHECK(json_refusal(R"({"$buffer":"!!"})") == "a Buffer takes padded base64");
  CHECK(json_refusal(R"({"$buffer":"aGk"})") == "a Buffer takes padded base64");
  CHECK(json_refusal(R"({"$typedarray":"Uint16Array","base64":"AA=="})") ==
        "a Uint16Array of 1 bytes");
  CHECK(json_refusal(R"({"$typedarray":"Float16Array","base64":""})") ==
        "unknown typed array \"Float16Array\"");
  CHECK(json_refusal(R"({"$bigint":"12a"})") ==
        "\"$bigint\" takes an integer in decimal or 0x hexadecimal");
  CHECK(json_refusal(R"({"$bigint":"-0x1F"})") == "(accepted)");
  CHECK(json_refusal(R"({"$regexp":"a","flags":"gg"})") ==
        "\"flags\" are letters of dgilmsuvy, each once");
  CHECK(json_refusal(R"({"$regexp":"a"})") == "\"$regexp\" has other keys beside it");
  CHECK(json_refusal(R"({"$map":[[1]]})") == "\"$map\" takes [key, value] pairs");
  CHECK(json_refusal(R"({"$set":{}})") == "\"$set\" takes an array");
  CHECK(json_refusal(R"({"$number":"1"})") == "\"$number\" is one of NaN, Infinity, -Infinity, -0");
  CHECK(json_refusal(R"({"$date":"x"})") == "\"$date\" takes milliseconds or null");
  CHECK(json_refusal(R"({"$array":-1,"items":{}})") == "\"$array\" takes a length");
  CHECK(json_refusal(R"(["a",{"$hole":true}])") == "(accepted)");
  CHECK(json_refusal(R"({"$hole":true})") == "\"$hole\" outside an array");
}

TEST_CASE("a large BigInt renders in hexadecimal and reads back", "[v8]") {
  v8::Value big = v8::Value::of(v8::Kind::bigint);
  big.bytes = std::string(2048, '\0');
  big.bytes.back() = '\x01';
  std::string text = json::serialize(v8::to_json(big));
  CHECK(text == "{\"$bigint\":\"0x1" + std::string(4094, '0') + "\"}");
  auto back = v8::from_json(json::parse(text));
  REQUIRE(back.ok());
  CHECK(back->bytes == big.bytes);
}
