// Status and Result<T>: how houston code reports errors instead of throwing.
//
// A Status is a canonical code plus a human-readable message (and optional detail lines, e.g.
// one per invalid field). Result<T> is std::expected<T, Status>. Exactly one function
// (http::HttpStatusFor) maps codes to HTTP statuses.
#pragma once

#include <cstdlib>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace houston {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnauthenticated,
  kPermissionDenied,
  kResourceExhausted,
  kUnavailable,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

// Thread-compatible value type.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::vector<std::string> details = {})
      : code_(code), message_(std::move(message)), details_(std::move(details)) {}
  // Lets HOUSTON_ASSIGN_OR_RETURN and HOUSTON_RETURN_IF_ERROR work in functions returning Status.
  Status(std::unexpected<Status> u) : Status(std::move(u.error())) {}  // NOLINT: implicit

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Extra lines, e.g. every problem found in one input (PagerDuty's "errors" array).
  const std::vector<std::string>& details() const { return details_; }
  // "INVALID_ARGUMENT: message".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<std::string> details_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m, std::vector<std::string> details = {}) {
  return Status(StatusCode::kInvalidArgument, std::move(m), std::move(details));
}
inline Status NotFound(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status AlreadyExists(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status FailedPrecondition(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status Unauthenticated(std::string m) {
  return Status(StatusCode::kUnauthenticated, std::move(m));
}
inline Status PermissionDenied(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status ResourceExhausted(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status Unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
inline Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

template <typename T>
using Result = std::expected<T, Status>;

namespace internal {
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.has_value() ? OkStatus() : r.error();
}
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);
}  // namespace internal

}  // namespace houston

#define HOUSTON_CONCAT_INNER_(a, b) a##b
#define HOUSTON_CONCAT_(a, b) HOUSTON_CONCAT_INNER_(a, b)

// Returns the error of a Status or Result expression from the enclosing function.
#define HOUSTON_RETURN_IF_ERROR(expr)                                              \
  do {                                                                             \
    ::houston::Status houston_status_ = ::houston::internal::AsStatus((expr));     \
    if (!houston_status_.ok()) return std::unexpected(std::move(houston_status_)); \
  } while (0)

// Same, for functions that return Status rather than Result<T>.
#define HOUSTON_RETURN_STATUS_IF_ERROR(expr)                                   \
  do {                                                                         \
    ::houston::Status houston_status_ = ::houston::internal::AsStatus((expr)); \
    if (!houston_status_.ok()) return houston_status_;                         \
  } while (0)

// `lhs = value of expr`, or returns its error (as std::unexpected) from the enclosing function.
#define HOUSTON_ASSIGN_OR_RETURN(lhs, expr) \
  HOUSTON_ASSIGN_OR_RETURN_IMPL_(HOUSTON_CONCAT_(houston_result_, __LINE__), lhs, expr)
#define HOUSTON_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                  \
  auto tmp = (expr);                                                    \
  if (!tmp.has_value()) return std::unexpected(std::move(tmp).error()); \
  lhs = std::move(tmp).value()

// Crashes on a broken invariant. Never use it on user input.
#define HOUSTON_CHECK(cond) \
  ((cond) ? (void)0 : ::houston::internal::CheckFailed(__FILE__, __LINE__, #cond))
