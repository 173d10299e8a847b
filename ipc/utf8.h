// Text a worker wrote, made safe for what reads it: JSON that is always valid
// UTF-8 (a control client's parser rejects anything else, so one bad byte in
// the output tail blinded `musterctl logs`), and text whose control characters
// cannot drive the terminal or log viewer that shows it (window titles,
// clearing the screen, OSC 52 clipboard writes, `\r` hiding a line).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace muster::ipc {

// One step of decoding: the well-formed character at the start of the text,
// or the maximal subpart of an ill-formed sequence there (Unicode 15, §3.9
// "U+FFFD Substitution of Maximal Subparts", as the WHATWG decoder does):
// the longest prefix that starts a well-formed sequence, at least one byte.
struct Utf8Step {
  std::size_t length = 0;
  bool valid = false;
  char32_t code_point = 0;  // when valid
};
// `text` must not be empty.
Utf8Step next_utf8(std::string_view text);

bool is_valid_utf8(std::string_view text);

// `text` with each maximal subpart of an ill-formed sequence replaced by
// U+FFFD: what Python's errors="replace", Node's Buffer.toString() and the
// WHATWG decoder give. Valid text comes back unchanged.
std::string to_valid_utf8(std::string_view text);

// Makes serialized JSON (as Boost.JSON writes it: bytes above 0x7e occur only
// inside strings) valid UTF-8 as to_valid_utf8 does, and writes U+007F..U+009F
// (DEL and the C1 controls, which JSON may leave raw) as \u escapes, which
// mean the same to every JSON parser. JSON escapes the C0 controls already,
// so the result holds no raw control character a terminal would act on.
// Returns whether anything was changed.
bool make_json_printable(std::string& json);

// Whether to leave '\n' alone in escape_controls.
enum class Newlines { escape, keep };

// `text` with every control character but tab (C0, DEL, and C1 whether
// encoded as UTF-8, U+0080..U+009F, or a raw byte) and every byte of an
// ill-formed UTF-8 sequence written as \xHH, one per byte, as systemd's
// xescape does: ESC is `\x1b`, CR `\r` is `\x0d`, U+009B is `\xc2\x9b`, a
// stray 0xff is `\xff`. A backslash is left as it is: this is for reading,
// not for reversing.
std::string escape_controls(std::string_view text, Newlines newlines = Newlines::escape);

}  // namespace muster::ipc
