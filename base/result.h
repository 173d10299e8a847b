// The one error shape of muster's code: a Result<T> holds a T or an Error,
// an Error says what failed in words for the user (message) and, where a
// caller decides on it (EADDRINUSE, ENOENT...), the errno behind it. It
// replaces std::variant<T, std::string> (and the variant<string, string>
// told apart by index), negative errnos returned in place of a value and
// error out-parameters. Header-only, below every library (config, ipc,
// daemon, cli), like std::expected (C++23), which it stands in for.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
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

// E is Error, or a type derived from it that says more for the caller to
// act on (config::PathError: where a directory walk stopped, and why):
// every failure is still an Error, with its message and errno.
template <class T, class E = Error>
class [[nodiscard]] Result {
  static_assert(std::is_base_of_v<Error, E>, "a Result's error is an Error");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return assert(ok()), std::get<0>(v_); }
  const T& value() const& { return assert(ok()), std::get<0>(v_); }
  T&& value() && { return assert(ok()), std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return assert(!ok()), std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Done, or why not.
template <class E>
class [[nodiscard]] Result<void, E> {
  static_assert(std::is_base_of_v<Error, E>, "a Result's error is an Error");

 public:
  Result() = default;
  Result(E error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  const E& error() const { return assert(error_), *error_; }

 private:
  std::optional<E> error_;
};

}  // namespace muster
