#include "ipc/v8_bigint.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace muster::ipc::v8 {
namespace {

constexpr std::size_t kMaxDecimalBytes = 1024;  // 8192 bits
constexpr std::size_t kMaxDecimalDigits = 20000;
constexpr char kHex[] = "0123456789abcdef";

// The magnitude as 32-bit limbs, least significant first, without high zeros.
std::vector<std::uint32_t> limbs_of(std::string_view magnitude) {
  std::vector<std::uint32_t> limbs((magnitude.size() + 3) / 4, 0);
  for (std::size_t i = 0; i < magnitude.size(); ++i)
    limbs[i / 4] |= static_cast<std::uint32_t>(static_cast<unsigned char>(magnitude[i]))
                    << (8 * (i % 4));
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  return limbs;
}

std::string hex_text(std::string_view magnitude) {
  std::string digits;
  for (std::size_t i = magnitude.size(); i-- > 0;) {
    auto b = static_cast<unsigned char>(magnitude[i]);
    digits += kHex[b >> 4];
    digits += kHex[b & 15];
  }
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
  return "0x" + digits;
}

std::string decimal_text(std::vector<std::uint32_t> limbs) {
  std::string digits;  // least significant first
  while (!limbs.empty()) {
    std::uint64_t rest = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      std::uint64_t cur = rest << 32 | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(cur / 1000000000);
      rest = cur % 1000000000;
    }
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
    for (int k = 0; k < 9 && (rest || !limbs.empty()); ++k, rest /= 10)
      digits += static_cast<char>('0' + rest % 10);
  }
  if (digits.empty()) digits = "0";
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Limbs back to V8's form: little-endian bytes in whole 8-byte digits.
std::string magnitude_of(std::vector<std::uint32_t> limbs) {
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  if (limbs.size() % 2) limbs.push_back(0);
  std::string bytes;
  for (std::uint32_t limb : limbs)
    for (int k = 0; k < 4; ++k) bytes += static_cast<char>(limb >> (8 * k) & 0xFF);
  return bytes;
}

// limbs = limbs * factor + add
void multiply_add(std::vector<std::uint32_t>& limbs, std::uint32_t factor, std::uint32_t add) {
  std::uint64_t carry = add;
  for (std::uint32_t& limb : limbs) {
    std::uint64_t cur = static_cast<std::uint64_t>(limb) * factor + carry;
    limb = static_cast<std::uint32_t>(cur);
    carry = cur >> 32;
  }
  if (carry) limbs.push_back(static_cast<std::uint32_t>(carry));
}

}  // namespace

std::string bigint_text(std::string_view magnitude, bool negative) {
  std::vector<std::uint32_t> limbs = limbs_of(magnitude);
  std::string sign = negative && !limbs.empty() ? "-" : "";
  if (magnitude.size() > kMaxDecimalBytes) return sign + hex_text(magnitude);
  return sign + decimal_text(std::move(limbs));
}

std::optional<BigInt> bigint_parse(std::string_view text) {
  BigInt out;
  if (text.starts_with('-')) {
    out.negative = true;
    text.remove_prefix(1);
  }
  bool hex = text.starts_with("0x");
  if (hex) text.remove_prefix(2);
  if (text.empty() || (!hex && text.size() > kMaxDecimalDigits)) return std::nullopt;
  std::vector<std::uint32_t> limbs;
  std::size_t i = text.size();
  for (char c : text) {
    std::size_t digit = std::string_view(kHex).find(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    if (digit == std::string_view::npos || (!hex && digit > 9)) return std::nullopt;
    --i;  // hexadecimal: placed directly (linear); decimal: multiplied in
    if (!hex) {
      multiply_add(limbs, 10, static_cast<std::uint32_t>(digit));
      continue;
    }
    if (limbs.size() <= i / 8) limbs.resize(i / 8 + 1, 0);
    limbs[i / 8] |= static_cast<std::uint32_t>(digit) << (4 * (i % 8));
  }
  out.magnitude = magnitude_of(std::move(limbs));
  if (out.magnitude.empty()) out.negative = false;  // V8 has no -0n
  return out;
}

}  // namespace muster::ipc::v8
