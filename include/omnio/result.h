// omnio::Result<T>: a value or an Error, shaped like std::expected (which libstdc++ 12 lacks in
// C++20). Status is Result<void>.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "omnio/error.h"

namespace omnio {

/// Holds either a T or an Error. Accessing the wrong alternative is a programming error (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Result>)
  Result(U&& u) : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }
  T value_or(T fallback) const& { return has_value() ? std::get<0>(v_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

/// Result<void>: success, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool has_value() const { return ok_; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { assert(ok_); }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

/// A successful Status.
inline Status ok_status() { return Status(); }

}  // namespace omnio

#define OMNIO_CONCAT_INNER_(a, b) a##b
#define OMNIO_CONCAT_(a, b) OMNIO_CONCAT_INNER_(a, b)

/// Evaluates a Result/Status expression and returns its error from the enclosing function.
#define OMNIO_TRY(expr)                                   \
  do {                                                    \
    auto&& omnio_try_result_ = (expr);                    \
    if (!omnio_try_result_.has_value())                   \
      return std::move(omnio_try_result_).error();        \
  } while (0)

/// `OMNIO_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its error.
#define OMNIO_ASSIGN_OR_RETURN(lhs, expr) \
  OMNIO_ASSIGN_OR_RETURN_IMPL_(OMNIO_CONCAT_(omnio_aor_, __LINE__), lhs, expr)
#define OMNIO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.has_value()) return std::move(tmp).error(); \
  lhs = std::move(tmp).value()
