#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "ipc/utf8.h"

using muster::ipc::escape_controls;
using muster::ipc::is_valid_utf8;
using muster::ipc::make_json_printable;
using muster::ipc::Newlines;
using muster::ipc::to_valid_utf8;

namespace {
const std::string kFFFD = "\xEF\xBF\xBD";
std::string fffd(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += kFFFD;
  return out;
}
}  // namespace

TEST_CASE("well-formed UTF-8 passes unchanged", "[utf8]") {
  for (std::string text : {"", "plain ASCII", "caf\xC3\xA9", "\xE2\x82\xAC 20", "\xF0\x9F\x98\x80",
                           "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF", "tab\there"}) {
    CHECK(is_valid_utf8(text));
    CHECK(to_valid_utf8(text) == text);
  }
}

TEST_CASE("a stray byte becomes one U+FFFD", "[utf8]") {
  CHECK_FALSE(is_valid_utf8("RED\xFF"));
  CHECK(to_valid_utf8("RED\xFF") == "RED" + kFFFD);
  CHECK(to_valid_utf8("\x80x") == kFFFD + "x");         // a lone continuation byte
  CHECK(to_valid_utf8("\xC0\xC1\xF5\xFF") == fffd(4));  // never lead bytes
}

TEST_CASE("ill-formed sequences are replaced per maximal subpart", "[utf8]") {
  // The examples of Unicode 15 §3.9, Table 3-8: "61 F1 80 80 E1 80 C2 62 80 63
  // 80 BF 64" decodes to a, FFFD, FFFD, FFFD, b, FFFD, c, FFFD, FFFD, d.
  CHECK(to_valid_utf8("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64") ==
        "a" + fffd(3) + "b" + kFFFD + "c" + fffd(2) + "d");
  // Overlong forms: C0 and E0 80 never start a well-formed sequence.
  CHECK(to_valid_utf8("\xC0\xAF") == fffd(2));
  CHECK(to_valid_utf8("\xE0\x80\xAF") == fffd(3));
  CHECK(to_valid_utf8("\xF0\x80\x80\xAF") == fffd(4));
  // Surrogates (U+D800..U+DFFF) are not characters.
  CHECK(to_valid_utf8("\xED\xA0\x80") == fffd(3));
  CHECK(to_valid_utf8("\xED\xBF\xBF") == fffd(3));
  // Above U+10FFFF.
  CHECK(to_valid_utf8("\xF4\x90\x80\x80") == fffd(4));
}

TEST_CASE("a sequence cut off by the end of the text is one U+FFFD", "[utf8]") {
  CHECK(to_valid_utf8("x\xE2\x82") == "x" + kFFFD);
  CHECK(to_valid_utf8("x\xF0\x9F\x98") == "x" + kFFFD);
  CHECK(to_valid_utf8("x\xC3") == "x" + kFFFD);
  // ... and cut off by another character: the good character survives.
  CHECK(to_valid_utf8("\xE2\x82x") == kFFFD + "x");
  CHECK(to_valid_utf8("\xE2\x82\xC3\xA9") == kFFFD + "\xC3\xA9");
}

TEST_CASE("serialized JSON with ill-formed UTF-8 becomes valid, parseable JSON", "[utf8]") {
  boost::json::object o{{"line", "RED\xFF and \xED\xA0\x80 and \xE2\x82"}};
  std::string json = boost::json::serialize(o);
  boost::system::error_code ec;
  boost::json::parse(json, ec);
  CHECK(ec);  // Boost.JSON itself refuses what it wrote
  CHECK(make_json_printable(json));
  auto parsed = boost::json::parse(json, ec);
  REQUIRE_FALSE(ec);
  CHECK(parsed.at("line").as_string() == "RED" + kFFFD + " and " + fffd(3) + " and " + kFFFD);
}

TEST_CASE("DEL and C1 controls in JSON become \\u escapes that mean the same", "[utf8]") {
  boost::json::object o{{"line",
                         "csi \xC2\x9B"
                         "2J del \x7F osc \xC2\x9D end"}};
  std::string json = boost::json::serialize(o);
  CHECK(make_json_printable(json));
  CHECK(json == R"({"line":"csi \u009b2J del \u007f osc \u009d end"})");
  CHECK(boost::json::parse(json).at("line").as_string() ==
        "csi \xC2\x9B"
        "2J del \x7F osc \xC2\x9D end");
}

TEST_CASE("printable JSON is left alone", "[utf8]") {
  std::string json = R"({"a":"caf)"
                     "\xC3\xA9"
                     R"(","b":"\u001b[2J"})";
  const std::string before = json;
  CHECK_FALSE(make_json_printable(json));
  CHECK(json == before);
}

TEST_CASE("control characters are escaped as \\xHH, tab is kept", "[utf8]") {
  CHECK(escape_controls("plain text\twith a tab") == "plain text\twith a tab");
  // OSC 0 (window title), CSI 2J (clear screen), OSC 52 (clipboard), CR.
  CHECK(escape_controls("\x1B]0;owned\x07") == "\\x1b]0;owned\\x07");
  CHECK(escape_controls("\x1B[2J") == "\\x1b[2J");
  CHECK(escape_controls("\x1B]52;c;aGk=\x1B\\") == "\\x1b]52;c;aGk=\\x1b\\");
  CHECK(escape_controls("visible\rhidden") == "visible\\x0dhidden");
  CHECK(escape_controls(std::string_view("nul\0del\x7F", 8)) == "nul\\x00del\\x7f");
}

TEST_CASE("C1 controls are escaped whether UTF-8 or raw bytes", "[utf8]") {
  CHECK(escape_controls("\xC2\x9B"
                        "2J") == "\\xc2\\x9b2J");  // U+009B CSI
  CHECK(escape_controls("\xC2\x80\xC2\x9F") == "\\xc2\\x80\\xc2\\x9f");
  CHECK(escape_controls("\x9B"
                        "2J") == "\\x9b2J");  // a raw byte: ill-formed too
  // The characters just outside the C1 range are printable.
  CHECK(escape_controls("\xC2\xA0\xC2\xA9") == "\xC2\xA0\xC2\xA9");
}

TEST_CASE("ill-formed UTF-8 is escaped byte by byte, well-formed text kept", "[utf8]") {
  CHECK(escape_controls("RED\xFF") == "RED\\xff");
  CHECK(escape_controls("caf\xC3\xA9 \xE2\x82") == "caf\xC3\xA9 \\xe2\\x82");
  CHECK(escape_controls("\xED\xA0\x80") == "\\xed\\xa0\\x80");
}

TEST_CASE("newlines are escaped unless kept", "[utf8]") {
  CHECK(escape_controls("a\nb") == "a\\x0ab");
  CHECK(escape_controls("a\nb\x1B\n", Newlines::keep) == "a\nb\\x1b\n");
}
