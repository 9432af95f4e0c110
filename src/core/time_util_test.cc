#include "core/time_util.h"
#include "testing/status_matchers.h"

#include <gtest/gtest.h>

namespace houston {
namespace {

using ::houston::testing::StatusIs;

TEST(TimeUtil, RoundTripsUtc) {
  auto t = ParseRfc3339("2026-03-08T09:15:30.250Z");
  ASSERT_OK(t);
  EXPECT_EQ(FormatRfc3339(*t), "2026-03-08T09:15:30.250Z");
}

TEST(TimeUtil, AppliesOffsets) {
  auto a = ParseRfc3339("2015-07-17T08:42:58.315+0000");  // PagerDuty's documented form
  auto b = ParseRfc3339("2015-07-17T10:42:58.315+02:00");
  auto c = ParseRfc3339("2015-07-17T03:42:58.315-05:00");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
}

TEST(TimeUtil, TruncatesNanoseconds) {
  auto t = ParseRfc3339("2026-01-01T00:00:00.123456789Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2026-01-01T00:00:00.123Z");
}

TEST(TimeUtil, RejectsGarbageWithReason) {
  for (const char* s : {"", "yesterday", "2026-02-30T00:00:00Z", "2026-01-01T25:00:00Z",
                        "2026-01-01T00:00:00", "2026-01-01T00:00:00Zjunk", "2026-01-01"}) {
    auto t = ParseRfc3339(s);
    ASSERT_FALSE(t.has_value()) << s;
    EXPECT_THAT(t, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_NE(t.error().message().find("RFC 3339"), std::string::npos);
  }
}

TEST(TimeUtil, LeapDay) {
  EXPECT_TRUE(ParseRfc3339("2028-02-29T12:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2027-02-29T12:00:00Z"));
}

}  // namespace
}  // namespace houston
