#include "ipc/utf8.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace muster::ipc {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::uint8_t byte_at(std::string_view text, std::size_t i) {
  return static_cast<std::uint8_t>(text[i]);
}

// The C0 controls but tab, DEL and the C1 controls.
bool is_control(char32_t c) { return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f); }

void append_hex(std::string& out, std::uint8_t byte) {
  char escape[5];
  std::snprintf(escape, sizeof escape, "\\x%02x", byte);
  out += escape;
}

}  // namespace

// Table 3-7 of the Unicode standard (well-formed byte sequences): the lead
// byte says how many continuation bytes follow and the range of the first
// one, which is what rules out overlong forms (E0 80..9F, F0 80..8F),
// surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..).
Utf8Step next_utf8(std::string_view text) {
  const std::uint8_t lead = byte_at(text, 0);
  if (lead < 0x80) return {1, true, lead};
  std::size_t need = 0;
  std::uint8_t low = 0x80, high = 0xBF;  // the range of the second byte
  char32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    cp = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    cp = lead & 0x07;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {1, false, 0};  // a continuation byte, C0, C1 or F5..FF: never a lead
  }
  std::size_t i = 1;
  for (; i <= need; ++i) {
    if (i == text.size()) return {i, false, 0};  // truncated at the end
    const std::uint8_t b = byte_at(text, i);
    if (b < low || b > high) return {i, false, 0};
    cp = (cp << 6) | (b & 0x3F);
    low = 0x80;
    high = 0xBF;
  }
  return {i, true, cp};
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (byte_at(text, i) < 0x80) {
      ++i;
      continue;
    }
    Utf8Step step = next_utf8(text.substr(i));
    if (!step.valid) return false;
    i += step.length;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    Utf8Step step = next_utf8(text.substr(i));
    if (step.valid)
      out.append(text.substr(i, step.length));
    else
      out += kReplacement;
    i += step.length;
  }
  return out;
}

bool make_json_printable(std::string& json) {
  // The common case, all ASCII but DEL, costs one scan and no copy.
  auto plain = [](char c) { return static_cast<std::uint8_t>(c) < 0x7f; };
  if (std::all_of(json.begin(), json.end(), plain)) return false;
  std::string out;
  out.reserve(json.size() + 16);
  const std::string_view text = json;
  bool changed = false;
  for (std::size_t i = 0; i < text.size();) {
    Utf8Step step = next_utf8(text.substr(i));
    if (!step.valid) {
      out += kReplacement;
      changed = true;
    } else if (step.code_point >= 0x7f && step.code_point <= 0x9f) {
      char escape[7];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(step.code_point));
      out += escape;
      changed = true;
    } else {
      out.append(text.substr(i, step.length));
    }
    i += step.length;
  }
  if (changed) json.swap(out);
  return changed;
}

std::string escape_controls(std::string_view text, Newlines newlines) {
  auto harmless = [](char c) {
    return (static_cast<std::uint8_t>(c) >= 0x20 && static_cast<std::uint8_t>(c) < 0x7f) ||
           c == '\t';
  };
  if (std::all_of(text.begin(), text.end(), harmless)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    Utf8Step step = next_utf8(text.substr(i));
    const bool kept_newline = newlines == Newlines::keep && text[i] == '\n';
    if (!step.valid || (is_control(step.code_point) && !kept_newline)) {
      for (std::size_t k = 0; k < step.length; ++k) append_hex(out, byte_at(text, i + k));
    } else {
      out.append(text.substr(i, step.length));
    }
    i += step.length;
  }
  return out;
}

}  // namespace muster::ipc
