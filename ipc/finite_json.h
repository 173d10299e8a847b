// Boost.JSON parses a number too large for a double (1e999) to infinity, and
// serialises infinity as `Infinity`, which is not JSON: a Node worker that
// gets it dies (SyntaxError), a control client cannot parse it. Node's own
// round trip turns such a number into null (JSON.stringify(Infinity) is
// "null"); every parse of outside input does the same here.
#pragma once

#include <boost/json/value.hpp>
#include <cmath>

namespace muster::ipc {

// Replaces every non-finite number in `v` with null. Parsed values are at
// most Boost.JSON's max_depth (32) deep, which bounds the recursion.
inline void null_non_finite(boost::json::value& v) {
  if (v.is_double()) {
    if (!std::isfinite(v.get_double())) v = nullptr;
  } else if (v.is_array()) {
    for (boost::json::value& item : v.get_array()) null_non_finite(item);
  } else if (v.is_object()) {
    for (auto& field : v.get_object()) null_non_finite(field.value());
  }
}

}  // namespace muster::ipc
