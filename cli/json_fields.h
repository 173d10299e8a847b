// The JSON field readers of musterctl's renderings (format.cc,
// format_status.cc): tolerant of missing, null or mistyped fields, which
// read as absent ("-" in a table).
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/format.h"

namespace muster::cli::fields {

namespace json = boost::json;

inline const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

inline std::optional<std::int64_t> integer_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  boost::system::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

// A field as table text: strings as they are, anything else as JSON.
inline std::string text_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr) return "-";
  if (const json::string* s = v->if_string()) return std::string(*s);
  return json::serialize(*v);
}

inline std::string duration_of(const json::object& o, std::string_view key) {
  auto ms = integer_of(o, key);
  return ms ? format_duration(*ms) : "-";
}

inline std::string bytes_of(const json::object& o, std::string_view key) {
  auto bytes = integer_of(o, key);
  return (bytes && *bytes >= 0) ? format_bytes(static_cast<std::uint64_t>(*bytes)) : "-";
}

inline const json::array* array_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v ? v->if_array() : nullptr;
}

}  // namespace muster::cli::fields
