// The one error shape of muster's code: a Result<T> holds a T or an Error,
// an Error says what failed in words for the user (message) and, where a
// caller decides on it (EADDRINUSE, ENOENT...), the errno behind it. It
// replaces std::variant<T, std::string> (and the variant<string, string>
// told apart by index), negative errnos returned in place of a value and
// error out-parameters. Header-only, below every library (config, ipc,
// daemon, cli), like std::expected (C++23), which it stands in for.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace muster {

struct Error {
  std::string message;
  int errno_value = 0;  // 0: no errno behind it

  // The error with `context` in front: "reading x: " + message.
  Error prefixed(const std::string& context) const { return {context + message, errno_value}; }
};

// An Error from an errno alone (the message is left for the caller to write).
inline Error errno_error(int errno_value, std::string message = {}) {
  return {std::move(message), errno_value};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return assert(ok()), std::get<0>(v_); }
  const T& value() const& { return assert(ok()), std::get<0>(v_); }
  T&& value() && { return assert(ok()), std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return assert(!ok()), std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Done, or why not.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return assert(failed_), error_; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace muster
