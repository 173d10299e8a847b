// A BigInt's text, as V8 holds it (a magnitude of little-endian bytes, a
// multiple of 8, and a sign) for the JSON rendering (v8_json.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace muster::ipc::v8 {

// Decimal ("-123"), or hexadecimal ("-0x7b") above 8192 bits, where decimal
// conversion would cost quadratic time.
std::string bigint_text(std::string_view magnitude, bool negative);

struct BigInt {
  std::string magnitude;  // little-endian, a multiple of 8 bytes, no high zero digits
  bool negative = false;
};
// Decimal or "0x" hexadecimal, with an optional '-'; nothing for other text
// or for decimal text over 20000 digits.
std::optional<BigInt> bigint_parse(std::string_view text);

}  // namespace muster::ipc::v8
