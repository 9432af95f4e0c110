#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace houston::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusMatchersTest, IsOkMatchesOkStatusAndResultsWithAValue) {
  EXPECT_THAT(OkStatus(), IsOk());
  EXPECT_THAT(Result<int>(3), IsOk());
  EXPECT_THAT(NotFound("no incident 7"), Not(IsOk()));
  EXPECT_THAT(Result<int>(std::unexpected(Internal("boom"))), Not(IsOk()));
}

TEST(StatusMatchersTest, StatusIsComparesTheCodeAndOptionallyTheMessage) {
  Result<int> missing = std::unexpected(NotFound("no incident 7"));
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(missing, Not(StatusIs(StatusCode::kInternal)));
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound, HasSubstr("incident 7")));
  EXPECT_THAT(missing, Not(StatusIs(StatusCode::kNotFound, HasSubstr("alert"))));
  EXPECT_THAT(OkStatus(), StatusIs(StatusCode::kOk));
  EXPECT_THAT(Result<int>(1), Not(StatusIs(StatusCode::kNotFound)));
}

TEST(StatusMatchersTest, AFailureExplainsWhichErrorItGot) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(
      ::testing::ExplainMatchResult(IsOk(), InvalidArgument("'title' is empty"), &listener));
  EXPECT_THAT(listener.str(), HasSubstr("'title' is empty"));
}

TEST(StatusMatchersTest, AssignOrAssertTakesTheValue) {
  ASSERT_OK_AND_ASSIGN(int v, Result<int>(42));
  EXPECT_EQ(v, 42);
  ASSERT_OK(Result<std::string>("x"));
  EXPECT_OK(OkStatus());
}

}  // namespace
}  // namespace houston::testing
