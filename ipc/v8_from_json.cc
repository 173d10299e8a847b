// The JSON rendering (v8_json.h) read back into a V8 value: what an operator
// types for `musterctl send` to an app with serialization = "advanced".
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <limits>

#include "ipc/v8_base64.h"
#include "ipc/v8_bigint.h"
#include "ipc/v8_json.h"

namespace muster::ipc::v8 {
namespace json = boost::json;

namespace {

struct ConvertRefused {
  std::string message;
};

class Parser {
 public:
  Value value(const json::value& j, int depth);

 private:
  [[noreturn]] static void refuse(std::string message) { throw ConvertRefused{std::move(message)}; }
  Value begin(Kind kind) {
    if (next_id_ >= kMaxValues) refuse("too many objects");
    ++next_id_;
    return Value::of(kind);
  }
  static const json::value& field(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (!v) refuse("a \"" + std::string(key) + "\" is missing");
    return *v;
  }
  static std::string_view text(const json::value& v, std::string_view form) {
    if (!v.is_string()) refuse("\"" + std::string(form) + "\" takes a string");
    return v.get_string();
  }
  static Value number(const json::value& j);
  static Value special_number(std::string_view t);
  static Value bigint(std::string_view t);
  Value special(const json::object& o, int depth);
  Value collection(const json::value& arg, Kind kind, int depth);
  Value array(const json::value& j, int depth);
  Value sparse(const json::value& length, const json::object& o, int depth);
  Value view(std::string_view type_name, std::string_view base64);
  Value object(const json::object& o, int depth);

  std::uint32_t next_id_ = 0;
};

Value Parser::number(const json::value& j) {
  if (j.is_int64()) {
    std::int64_t n = j.get_int64();
    if (n >= INT32_MIN && n <= INT32_MAX) return Value::integer(static_cast<std::int32_t>(n));
    return Value::numeric(static_cast<double>(n));
  }
  if (j.is_uint64()) return Value::numeric(static_cast<double>(j.get_uint64()));
  return Value::numeric(j.get_double());
}

Value Parser::value(const json::value& j, int depth) {
  if (depth > kMaxDepth) refuse("nested more than 32 levels deep");
  switch (j.kind()) {
    case json::kind::null: return Value::of(Kind::null);
    case json::kind::bool_: return Value::truth(j.get_bool());
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return number(j);
    case json::kind::string: return Value::text(std::string(j.get_string()));
    case json::kind::array: return array(j, depth);
    case json::kind::object: break;
  }
  const json::object& o = j.get_object();
  for (const auto& field : o)
    if (field.key().starts_with('$')) return special(o, depth);
  return object(o, depth);
}

Value Parser::object(const json::object& o, int depth) {
  Value v = begin(Kind::object);
  for (const auto& field : o) {
    v.items.push_back(Value::text(std::string(field.key())));
    v.items.push_back(value(field.value(), depth + 1));
  }
  return v;
}

Value Parser::array(const json::value& j, int depth) {
  Value v = begin(Kind::array);
  v.flag = true;
  const json::array& a = j.get_array();
  if (a.size() > UINT32_MAX) refuse("array too long");
  v.count = static_cast<std::uint32_t>(a.size());
  for (const json::value& item : a) {
    const json::object* o = item.if_object();
    bool hole = o && o->size() == 1 && o->contains("$hole");
    v.items.push_back(hole ? Value::of(Kind::hole) : value(item, depth + 1));
  }
  return v;
}

Value Parser::special(const json::object& o, int depth) {
  auto named =
      std::find_if(o.begin(), o.end(), [](const auto& f) { return f.key().starts_with('$'); });
  std::string_view form = named->key();
  const json::value& arg = named->value();
  auto only = [&](std::size_t n) {
    if (o.size() != n) refuse("\"" + std::string(form) + "\" has other keys beside it");
  };
  if (form == "$regexp" || form == "$typedarray" || form == "$array") {
    only(2);
  } else {
    only(1);
  }
  if (form == "$undefined") return Value::of(Kind::undefined);
  if (form == "$hole") refuse("\"$hole\" outside an array");
  if (form == "$object") {
    if (!arg.is_object()) refuse("\"$object\" takes an object");
    return object(arg.get_object(), depth);
  }
  if (form == "$number") return special_number(text(arg, form));
  if (form == "$bigint") return bigint(text(arg, form));
  if (form == "$date") {
    Value v = begin(Kind::date);
    if (!arg.is_null() && !arg.is_number()) refuse("\"$date\" takes milliseconds or null");
    v.number = arg.is_null() ? std::numeric_limits<double>::quiet_NaN() : arg.to_number<double>();
    return v;
  }
  if (form == "$regexp") {
    Value v = begin(Kind::regexp);
    v.bytes = text(arg, form);
    auto bits = regexp_flags_bits(text(field(o, "flags"), "flags"));
    if (!bits) refuse("\"flags\" are letters of dgilmsuvy, each once");
    v.count = *bits;
    return v;
  }
  if (form == "$map" || form == "$set")
    return collection(arg, form == "$map" ? Kind::map : Kind::set, depth);
  if (form == "$buffer") return view("Buffer", text(arg, form));
  if (form == "$typedarray") return view(text(arg, form), text(field(o, "base64"), "base64"));
  if (form == "$array") return sparse(arg, o, depth);
  if (form == "$ref") {
    if (!arg.is_int64() || arg.get_int64() < 0 || arg.get_int64() >= next_id_)
      refuse("\"$ref\" names no object before it");
    Value v = Value::of(Kind::ref);
    v.count = static_cast<std::uint32_t>(arg.get_int64());
    return v;
  }
  refuse("unknown \"" + std::string(form) +
         "\" (an object with keys starting with '$' is written "
         "{\"$object\": {...}})");
}

Value Parser::special_number(std::string_view t) {
  double inf = std::numeric_limits<double>::infinity();
  if (t == "NaN") return Value::numeric(std::numeric_limits<double>::quiet_NaN());
  if (t == "Infinity" || t == "-Infinity") return Value::numeric(t == "Infinity" ? inf : -inf);
  if (t == "-0") return Value::numeric(-0.0);
  refuse("\"$number\" is one of NaN, Infinity, -Infinity, -0");
}

Value Parser::bigint(std::string_view t) {
  auto big = bigint_parse(t);
  if (!big) refuse("\"$bigint\" takes an integer in decimal or 0x hexadecimal");
  Value v = Value::of(Kind::bigint);
  v.bytes = std::move(big->magnitude);
  v.flag = big->negative;
  return v;
}

Value Parser::collection(const json::value& arg, Kind kind, int depth) {
  if (!arg.is_array())
    refuse(kind == Kind::map ? "\"$map\" takes an array" : "\"$set\" takes an array");
  Value v = begin(kind);
  for (const json::value& item : arg.get_array()) {
    if (kind == Kind::set) {
      v.items.push_back(value(item, depth + 1));
      continue;
    }
    if (!item.is_array() || item.get_array().size() != 2)
      refuse("\"$map\" takes [key, value] pairs");
    v.items.push_back(value(item.get_array()[0], depth + 2));
    v.items.push_back(value(item.get_array()[1], depth + 2));
  }
  return v;
}

Value Parser::sparse(const json::value& length, const json::object& o, int depth) {
  const json::value& items = field(o, "items");
  if (!length.is_int64() || length.get_int64() < 0 || length.get_int64() > UINT32_MAX - 1)
    refuse("\"$array\" takes a length");
  if (!items.is_object()) refuse("\"items\" takes an object");
  Value v = begin(Kind::array);
  v.count = static_cast<std::uint32_t>(length.get_int64());
  for (const auto& field : items.get_object()) {
    v.items.push_back(Value::text(std::string(field.key())));
    v.items.push_back(value(field.value(), depth + 1));
  }
  return v;
}

Value Parser::view(std::string_view type_name, std::string_view base64) {
  auto type = view_type_named(type_name);
  if (!type) refuse("unknown typed array \"" + std::string(type_name) + "\"");
  auto bytes = base64_decode(base64);
  if (!bytes) refuse("a " + std::string(type_name) + " takes padded base64");
  if (bytes->size() % view_element_size(*type))
    refuse("a " + std::string(type_name) + " of " + std::to_string(bytes->size()) + " bytes");
  Value v = begin(Kind::view);
  v.count = static_cast<std::uint32_t>(*type);
  v.bytes = std::move(*bytes);
  return v;
}

}  // namespace

Result<Value> from_json(const json::value& j) {
  try {
    return Parser().value(j, 0);
  } catch (const ConvertRefused& r) {
    return Error{r.message};
  }
}

}  // namespace muster::ipc::v8
