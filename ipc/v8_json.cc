#include "ipc/v8_json.h"

#include <boost/json.hpp>
#include <cmath>

#include "ipc/v8_base64.h"
#include "ipc/v8_bigint.h"

namespace muster::ipc::v8 {
namespace json = boost::json;

namespace {

json::value special(std::string_view key, json::value v) {
  json::object o;
  o[key] = std::move(v);
  return o;
}

json::value number_json(double n) {
  if (std::isnan(n)) return special("$number", "NaN");
  if (std::isinf(n)) return special("$number", n > 0 ? "Infinity" : "-Infinity");
  if (n == 0 && std::signbit(n)) return special("$number", "-0");
  if (std::floor(n) == n && std::fabs(n) <= 9007199254740992.0) return static_cast<std::int64_t>(n);
  return n;
}

json::object properties_json(const Value& v, std::size_t from, bool* dollar) {
  json::object o;
  for (std::size_t i = from; i + 1 < v.items.size(); i += 2) {
    const std::string& key = v.items[i].bytes;
    if (dollar && key.starts_with('$')) *dollar = true;
    o[key] = to_json(v.items[i + 1]);
  }
  return o;
}

json::value array_json(const Value& v) {
  bool plain = v.flag && v.items.size() == v.count;
  if (plain) {
    json::array a;
    for (const Value& item : v.items) a.push_back(to_json(item));
    return a;
  }
  json::object items;
  if (v.flag) {  // dense, with named properties too
    for (std::size_t i = 0; i < v.count && i < v.items.size(); ++i)
      if (v.items[i].kind != Kind::hole) items[std::to_string(i)] = to_json(v.items[i]);
  }
  for (auto& [key, value] : properties_json(v, v.flag ? v.count : 0, nullptr)) items[key] = value;
  json::object o;
  o["$array"] = v.count;
  o["items"] = std::move(items);
  return o;
}

json::value list_json(const Value& v) {
  json::array a;
  if (v.kind == Kind::set) {
    for (const Value& item : v.items) a.push_back(to_json(item));
  } else {
    for (std::size_t i = 0; i + 1 < v.items.size(); i += 2)
      a.push_back(json::array{to_json(v.items[i]), to_json(v.items[i + 1])});
  }
  return special(v.kind == Kind::set ? "$set" : "$map", std::move(a));
}

json::value view_json(const Value& v) {
  auto type = static_cast<ViewType>(v.count);
  if (type == ViewType::buffer) return special("$buffer", json::string(base64_encode(v.bytes)));
  json::object o;
  o["$typedarray"] = view_type_name(type);
  o["base64"] = base64_encode(v.bytes);
  return o;
}

}  // namespace

json::value to_json(const Value& v) {
  switch (v.kind) {
    case Kind::undefined: return special("$undefined", true);
    case Kind::hole: return special("$hole", true);
    case Kind::null: return nullptr;
    case Kind::boolean: return v.flag;
    case Kind::int32:
    case Kind::number: return number_json(v.number);
    case Kind::bigint: return special("$bigint", json::string(bigint_text(v.bytes, v.flag)));
    case Kind::string: return json::string(v.bytes);
    case Kind::ref: return special("$ref", v.count);
    case Kind::date:
      return special("$date",
                     std::isfinite(v.number) ? number_json(v.number) : json::value(nullptr));
    case Kind::regexp: {
      json::object o;
      o["$regexp"] = v.bytes;
      o["flags"] = regexp_flags_text(v.count);
      return o;
    }
    case Kind::object: {
      bool dollar = false;
      json::object o = properties_json(v, 0, &dollar);
      return dollar ? special("$object", std::move(o)) : json::value(std::move(o));
    }
    case Kind::array: return array_json(v);
    case Kind::map:
    case Kind::set: return list_json(v);
    case Kind::view: return view_json(v);
  }
  return nullptr;
}

}  // namespace muster::ipc::v8
