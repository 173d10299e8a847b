// A JSON number as the integer type a reader wants. Boost.JSON keeps a
// number as int64, uint64 or double: read back from text, a non-negative
// integer is an int64; built in memory from an unsigned field, a uint64. A
// reader that asked for one kind would refuse the other (an in-place
// upgrade's state is built one way and read the other).
#pragma once

#include <boost/json/value.hpp>
#include <optional>

namespace muster::ipc {

// `v` as a T if it is a number T holds exactly, else nullopt (also for null).
template <class T>
std::optional<T> json_number(const boost::json::value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  boost::system::error_code ec;
  T n = v->to_number<T>(ec);
  if (ec) return std::nullopt;
  return n;
}

}  // namespace muster::ipc
