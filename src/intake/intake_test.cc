#include <gtest/gtest.h>

#include <chrono>

#include "intake/routes.h"
#include "testing/fake_clock.h"

namespace houston::intake {
namespace {

// Grouping by the integration groups each key's alerts apart, and the stored content key holds
// no integration key (a database file must not reveal one).
TEST(RouteTest, GroupingByIntegrationStoresNoKey) {
  IntegrationInfo info;
  info.service_id = "checkout";
  info.group_window = std::chrono::minutes(10);
  info.group_by = {"integration", "component"};
  auto routed = [&](const std::string& key) {
    core::AlertEvent ev;
    ev.integration_key = key;
    ev.component = "db";
    Route(ev, info);
    return ev.grouping_key;
  };
  const std::string one = routed("am-SECRET-int-key-77");
  EXPECT_EQ(one.find("SECRET"), std::string::npos) << one;
  EXPECT_NE(one.find("db"), std::string::npos) << one;
  EXPECT_EQ(one, routed("am-SECRET-int-key-77"));
  EXPECT_NE(one, routed("am-SECRET-int-key-78"));
}

TEST(RateLimiter, ABatchPassesWholeOrNotAtAll) {
  houston::testing::FakeClock clock;
  RateLimiter limiter(clock);
  EXPECT_TRUE(limiter.Take("k", 50, 30).allowed);
  RateLimiter::Verdict v = limiter.Take("k", 50, 30);  // 20 left
  EXPECT_FALSE(v.allowed);
  EXPECT_FALSE(v.never);
  EXPECT_EQ(v.retry_after, 1);
  EXPECT_TRUE(limiter.Take("k", 50, 20).allowed);  // the refused batch took nothing
  v = limiter.Take("k", 50, 3000);
  EXPECT_FALSE(v.allowed);
  EXPECT_TRUE(v.never);
  EXPECT_TRUE(limiter.Take("k", 50, 0).allowed);  // an empty batch costs nothing
  EXPECT_EQ(RateLimiter::Burst(0.5), 1.0);
}

TEST(RateLimiter, RefillsAtTheConfiguredRate) {
  houston::testing::FakeClock clock;
  RateLimiter limiter(clock);
  int retry = 0;
  EXPECT_TRUE(limiter.Allow("k", 0.5, retry));  // burst of 1 at 0.5/s
  EXPECT_FALSE(limiter.Allow("k", 0.5, retry));
  EXPECT_EQ(retry, 2);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_TRUE(limiter.Allow("k", 0.5, retry));
  EXPECT_TRUE(limiter.Allow("other", 0.5, retry));  // buckets are per key
}

}  // namespace
}  // namespace houston::intake
