// Base64 (RFC 4648, with padding) for the JSON rendering of Buffers and typed
// arrays (v8_json.h), over Boost.Beast's codec.
#pragma once

#include <boost/beast/core/detail/base64.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace muster::ipc::v8 {

inline std::string base64_encode(std::string_view bytes) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

// Nothing for text that is not whole, padded base64.
inline std::optional<std::string> base64_decode(std::string_view text) {
  namespace b64 = boost::beast::detail::base64;
  if (text.size() % 4) return std::nullopt;
  std::string_view body = text.substr(0, text.find_last_not_of('=') + 1);
  if (text.size() - body.size() > 2) return std::nullopt;
  std::string out(b64::decoded_size(text.size()), '\0');
  auto [written, read] = b64::decode(out.data(), body.data(), body.size());
  if (read != body.size()) return std::nullopt;  // a character outside the alphabet
  out.resize(written);
  // Only the canonical form (the padding right, no stray low bits) comes back.
  if (base64_encode(out) != text) return std::nullopt;
  return out;
}

}  // namespace muster::ipc::v8
