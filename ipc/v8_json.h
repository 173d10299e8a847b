// A V8-serialized value (v8_value.h) as JSON, for operators (`musterctl
// events`, the control protocol), and back (`musterctl send`). JSON values
// stand for themselves; what JSON cannot hold is an object with one `$` key
// (docs/compatibility.md, "Advanced serialization", is the reference):
//   undefined          {"$undefined": true}
//   NaN, ±Infinity, -0 {"$number": "NaN"}  ("Infinity", "-Infinity", "-0")
//   123n               {"$bigint": "123"}
//   a Date             {"$date": 1700000000000}  (milliseconds; NaN: {"$date": null})
//   /a+/gi             {"$regexp": "a+", "flags": "gi"}
//   a Map              {"$map": [[key, value], ...]}
//   a Set              {"$set": [member, ...]}
//   a Buffer           {"$buffer": "<base64>"}
//   a typed array      {"$typedarray": "Uint16Array", "base64": "<base64>"}
//   a sparse array     {"$array": length, "items": {"index or name": value, ...}}
//   a hole             {"$hole": true}  (in a dense array)
//   an object again    {"$ref": n}  n: the object's id, counting every object,
//                      array, Date, RegExp, Map, Set and typed array from 0
//                      in the order they begin (the outermost is 0)
//   an object whose keys start with '$': {"$object": {...}}
#pragma once

#include <boost/json/value.hpp>

#include "base/result.h"
#include "ipc/v8_value.h"

namespace muster::ipc::v8 {

boost::json::value to_json(const Value& value);
// Refuses an unknown `$` form, a malformed one, or a $ref to an object that
// has not begun.
Result<Value> from_json(const boost::json::value& json);

}  // namespace muster::ipc::v8
