// gMock matchers for Status and Result<T>, so a test states what it expects in one line and a
// failure prints the error it got:
//
//   EXPECT_THAT(store.GetIncident(7), StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(Parse(text), StatusIs(StatusCode::kInvalidArgument, HasSubstr("'severity'")));
//   ASSERT_OK(store.Apply(...));            // a Status or a Result<T>
//   ASSERT_OK_AND_ASSIGN(auto alert, store.GetAlert(1));
//
// Header-only; thread-compatible like gMock itself.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "core/status.h"

namespace houston {

inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
inline void PrintTo(StatusCode c, std::ostream* os) { *os << StatusCodeName(c); }

namespace testing {

// The Status of a Status, or of a Result<T> (OK when it holds a value).
inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.has_value() ? OkStatus() : r.error();
}

// Matches an OK Status, or a Result<T> that holds a value.
MATCHER(IsOk, "is OK") {
  Status s = StatusOf(arg);
  if (!s.ok()) *result_listener << "whose status is " << s.ToString();
  return s.ok();
}

// Matches a Status (or a Result<T>'s error) with code `code`, and a message that matches
// `message_matcher` (anything when omitted).
MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has status ") + std::string(StatusCodeName(code))) {
  Status s = StatusOf(arg);
  *result_listener << "whose status is " << s.ToString();
  if (s.code() != code) return false;
  return ::testing::SafeMatcherCast<const std::string&>(message_matcher)
      .MatchAndExplain(s.message(), result_listener);
}
MATCHER_P(StatusIs, code, std::string("has status ") + std::string(StatusCodeName(code))) {
  Status s = StatusOf(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.code() == code;
}

}  // namespace testing
}  // namespace houston

#define HOUSTON_TESTING_CONCAT_INNER_(a, b) a##b
#define HOUSTON_TESTING_CONCAT_(a, b) HOUSTON_TESTING_CONCAT_INNER_(a, b)

// Fails the test (fatally / not) unless `expr` (a Status or a Result<T>) is OK.
#ifndef ASSERT_OK
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::houston::testing::IsOk())
#endif
#ifndef EXPECT_OK
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::houston::testing::IsOk())
#endif

// `lhs = value of expr` (a Result<T>), or a fatal failure that prints the error.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(HOUSTON_TESTING_CONCAT_(houston_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(result, lhs, expr) \
  auto result = (expr);                               \
  ASSERT_THAT(result, ::houston::testing::IsOk());    \
  lhs = std::move(*result)
