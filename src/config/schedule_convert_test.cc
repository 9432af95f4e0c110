#include "config/schedule_convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/time_util.h"
#include "testing/status_matchers.h"

namespace houston::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TimePoint At(std::string_view rfc3339) {
  Result<TimePoint> t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(TimePoint{});
}

std::vector<std::string> OnCall(const core::CompiledSchedule& s, std::string_view at) {
  return core::OnCallAt(s, At(at));
}

TEST(ScheduleConvert, CopiesEveryField) {
  Result<Org> org = LoadOrgFile(std::string(HOUSTON_SOURCE_DIR) + "/examples/org.yaml");
  ASSERT_OK(org);
  const Schedule* schedule = FindSchedule(*org, "payments-primary");
  ASSERT_NE(schedule, nullptr);

  core::ScheduleSpec spec = ToScheduleSpec(*schedule);
  EXPECT_EQ(spec.id, "payments-primary");
  EXPECT_EQ(spec.name, "Payments primary");
  EXPECT_EQ(spec.timezone, "America/New_York");
  ASSERT_NE(spec.zone, nullptr);
  EXPECT_TRUE(core::ValidateScheduleSpec(spec).ok());
  ASSERT_EQ(spec.layers.size(), 2u);
  EXPECT_EQ(spec.layers[0].name, "weekly");
  EXPECT_EQ(spec.layers[0].rotation.type, core::RotationType::kWeekly);
  EXPECT_EQ(spec.layers[0].rotation.length, 1);
  EXPECT_THAT(spec.layers[0].users, ElementsAre("alice", "bob", "carol"));
  EXPECT_THAT(spec.layers[0].restrictions, IsEmpty());
  EXPECT_EQ(spec.layers[1].rotation.type, core::RotationType::kDaily);
  ASSERT_EQ(spec.layers[1].restrictions.size(), 1u);
  const core::DailyWindowSpec& w = spec.layers[1].restrictions[0];
  EXPECT_EQ(w.days, 0b0011111);  // mon..fri
  EXPECT_EQ(w.start_minute, 9 * 60);
  EXPECT_EQ(w.end_minute, 17 * 60);
  ASSERT_EQ(spec.overrides.size(), 1u);
  EXPECT_EQ(spec.overrides[0].user, "dave");
  EXPECT_EQ(spec.overrides[0].start, At("2026-03-07T14:00:00Z"));
  EXPECT_EQ(spec.overrides[0].end, At("2026-03-08T13:00:00Z"));
}

TEST(ScheduleConvert, ExampleSchedulesAnswerWhoIsOnCall) {
  Result<Org> org = LoadOrgFile(std::string(HOUSTON_SOURCE_DIR) + "/examples/org.yaml");
  ASSERT_OK(org);
  Result<core::CompiledSchedule> payments =
      core::CompiledSchedule::Create(ToScheduleSpec(*FindSchedule(*org, "payments-primary")));
  ASSERT_OK(payments);

  EXPECT_THAT(OnCall(*payments, "2026-01-05T13:59:59Z"), IsEmpty());             // before the start
  EXPECT_THAT(OnCall(*payments, "2026-01-05T15:00:00Z"), ElementsAre("bob"));    // business hours
  EXPECT_THAT(OnCall(*payments, "2026-01-05T23:00:00Z"), ElementsAre("alice"));  // weekly
  EXPECT_THAT(OnCall(*payments, "2026-01-13T03:00:00Z"), ElementsAre("bob"));    // week 2
  EXPECT_THAT(OnCall(*payments, "2026-03-07T20:00:00Z"), ElementsAre("dave"));   // override
  EXPECT_THAT(OnCall(*payments, "2026-03-08T12:59:59Z"), ElementsAre("dave"));
  // 09:00 EDT on the spring-forward day, week 9 (k = 8): carol.
  EXPECT_THAT(OnCall(*payments, "2026-03-08T13:00:00Z"), ElementsAre("carol"));
  // Monday after the change: business hours 09:00-17:00 EDT, day 63 -> carol; then weekly
  // week 10 (k = 9) -> alice.
  EXPECT_THAT(OnCall(*payments, "2026-03-09T20:59:59Z"), ElementsAre("carol"));
  EXPECT_THAT(OnCall(*payments, "2026-03-09T21:00:00Z"), ElementsAre("alice"));

  Result<core::CompiledSchedule> platform =
      core::CompiledSchedule::Create(ToScheduleSpec(*FindSchedule(*org, "platform-primary")));
  ASSERT_OK(platform);
  // 12-hour shifts at 08:00 and 20:00 London time: 07:00Z and 19:00Z in summer.
  EXPECT_THAT(OnCall(*platform, "2026-07-01T06:59:59Z"), ElementsAre("erin"));
  EXPECT_THAT(OnCall(*platform, "2026-07-01T07:00:00Z"), ElementsAre("dave"));
  EXPECT_THAT(OnCall(*platform, "2026-07-01T19:00:00Z"), ElementsAre("erin"));
  EXPECT_THAT(OnCall(*platform, "2026-12-01T07:59:59Z"), ElementsAre("erin"));
  EXPECT_THAT(OnCall(*platform, "2026-12-01T08:00:00Z"), ElementsAre("dave"));
}

}  // namespace
}  // namespace houston::config
