#include "ipc/v8_value.h"

#include <array>
#include <cstdio>

#include "ipc/utf8.h"
#include "ipc/v8_tags.h"

namespace muster::ipc::v8 {
namespace {

constexpr std::array<std::string_view, kViewTypes> kViewNames = {
    "Int8Array",  "Uint8Array",    "Uint8ClampedArray", "Int16Array",   "Uint16Array",
    "Int32Array", "Uint32Array",   "Float32Array",      "Float64Array", "DataView",
    "Buffer",     "BigInt64Array", "BigUint64Array"};
constexpr std::array<std::size_t, kViewTypes> kElementSizes = {1, 1, 1, 2, 2, 4, 4,
                                                               4, 8, 1, 1, 8, 8};

// V8's JSRegExp::Flag bits, in bit order, and the letter of each.
constexpr std::string_view kFlagLetters = "gimyusldv";

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

void append_utf16le(std::string& out, char32_t unit) {
  out += static_cast<char>(unit & 0xFF);
  out += static_cast<char>(unit >> 8);
}

}  // namespace

Value Value::text(std::string utf8) {
  Value v = of(Kind::string);
  v.bytes = std::move(utf8);
  return v;
}
Value Value::integer(std::int32_t n) {
  Value v = of(Kind::int32);
  v.number = n;
  return v;
}
Value Value::truth(bool b) {
  Value v = of(Kind::boolean);
  v.flag = b;
  return v;
}
Value Value::numeric(double n) {
  Value v = of(Kind::number);
  v.number = n;
  return v;
}

std::string_view view_type_name(ViewType type) {
  return kViewNames[static_cast<std::size_t>(type)];
}

std::optional<ViewType> view_type_named(std::string_view name) {
  for (std::size_t i = 0; i < kViewNames.size(); ++i)
    if (kViewNames[i] == name) return static_cast<ViewType>(i);
  return std::nullopt;
}

std::size_t view_element_size(ViewType type) {
  return kElementSizes[static_cast<std::size_t>(type)];
}

std::string regexp_flags_text(std::uint32_t bits) {
  std::string letters;
  for (std::size_t i = 0; i < kFlagLetters.size(); ++i)
    if (bits & (1u << i)) letters += kFlagLetters[i];
  return letters;
}

std::optional<std::uint32_t> regexp_flags_bits(std::string_view letters) {
  std::uint32_t bits = 0;
  for (char c : letters) {
    std::size_t i = kFlagLetters.find(c);
    if (i == std::string_view::npos || (bits & (1u << i))) return std::nullopt;
    bits |= 1u << i;
  }
  return bits;
}

std::string tag::describe(std::uint8_t t) {
  std::string_view what;
  switch (t) {
    case 'B': what = "ArrayBuffer"; break;
    case '~': what = "resizable ArrayBuffer"; break;
    case 'V': what = "ArrayBufferView"; break;
    case 'u':
    case 't': what = "shared or transferred ArrayBuffer"; break;
    case 'r': what = "Error"; break;
    case 'y':
    case 'x': what = "Boolean object"; break;
    case 'n': what = "Number object"; break;
    case 'z': what = "BigInt object"; break;
    case 's': what = "String object"; break;
    case 'p': what = "shared object"; break;
    case 'w':
    case 'W':
    case 'm': what = "WebAssembly value"; break;
    case 'q': what = "shared object conveyor"; break;
    default: what = "unknown";
  }
  char text[64];
  if (t >= 0x21 && t < 0x7f)
    std::snprintf(text, sizeof text, "tag '%c' (0x%02x, %.*s)", t, t, static_cast<int>(what.size()),
                  what.data());
  else
    std::snprintf(text, sizeof text, "tag 0x%02x (%.*s)", t, static_cast<int>(what.size()),
                  what.data());
  return text;
}

std::string latin1_to_utf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size());
  for (char c : latin1) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

std::string utf16le_to_utf8(std::string_view utf16le) {
  std::string out;
  out.reserve(utf16le.size());
  auto unit = [&](std::size_t i) -> char32_t {
    return static_cast<unsigned char>(utf16le[i]) | static_cast<unsigned char>(utf16le[i + 1]) << 8;
  };
  for (std::size_t i = 0; i + 1 < utf16le.size(); i += 2) {
    char32_t c = unit(i);
    if (c >= 0xD800 && c < 0xDC00 && i + 3 < utf16le.size()) {
      char32_t low = unit(i + 2);
      if (low >= 0xDC00 && low < 0xE000) {
        append_utf8(out, 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    append_utf8(out, c >= 0xD800 && c < 0xE000 ? 0xFFFD : c);
  }
  return out;
}

bool utf8_to_latin1(std::string_view utf8, std::string& latin1) {
  latin1.clear();
  while (!utf8.empty()) {
    Utf8Step step = next_utf8(utf8);
    char32_t c = step.valid ? step.code_point : 0xFFFD;
    if (c > 0xFF) return false;
    latin1 += static_cast<char>(c);
    utf8.remove_prefix(step.length);
  }
  return true;
}

std::string utf8_to_utf16le(std::string_view utf8) {
  std::string out;
  while (!utf8.empty()) {
    Utf8Step step = next_utf8(utf8);
    char32_t c = step.valid ? step.code_point : 0xFFFD;
    if (c >= 0x10000) {
      append_utf16le(out, 0xD800 + ((c - 0x10000) >> 10));
      append_utf16le(out, 0xDC00 + ((c - 0x10000) & 0x3FF));
    } else {
      append_utf16le(out, c);
    }
    utf8.remove_prefix(step.length);
  }
  return out;
}

}  // namespace muster::ipc::v8
