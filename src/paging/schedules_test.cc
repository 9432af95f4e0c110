// ScheduleBook's explanations of a schedule: the final timeline told apart by source (layer,
// override, gap), who is on call until when and who is next, and whom escalation targets reach.
#include "paging/schedules.h"

#include <gtest/gtest.h>

#include "core/time_util.h"

namespace houston::paging {
namespace {

constexpr const char* kOrg = R"yaml(
users: [{id: a}, {id: b}, {id: c}, {id: d}]
teams:
  - {id: ops, members: [b, c]}
schedules:
  - id: main
    timezone: UTC
    layers:
      - name: base
        start: "2026-01-05T00:00:00"
        rotation: {type: weekly, length: 1}
        users: [a, b]
      - name: day
        start: "2026-01-05T00:00:00"
        rotation: {type: daily, length: 1}
        users: [c]
        restrictions:
          - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
    overrides:
      - {user: d, start: "2026-01-06T12:00:00Z", end: "2026-01-06T14:00:00Z"}
  - id: late
    timezone: UTC
    layers:
      - name: only
        start: "2026-01-06T06:00:00"
        rotation: {type: daily, length: 1}
        users: [a]
escalation_policies:
  - id: ep
    steps:
      - {targets: [{schedule: main}]}
      - {targets: [{user: d}, {team: ops}]}
)yaml";

TimePoint T(const char* s) {
  auto t = ParseRfc3339(s);
  EXPECT_TRUE(t) << s;
  return *t;
}

class SchedulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    org_ = std::make_shared<const config::Org>(std::move(*org));
    // An API override on top: `a` (already on call from the base layer) from 17:00 to 18:00.
    store::ScheduleOverride o;
    o.schedule_id = "main";
    o.user_id = "a";
    o.start = T("2026-01-06T17:00:00Z");
    o.end = T("2026-01-06T18:00:00Z");
    book_ = ScheduleBook::Build(*org_, {o});
  }
  const core::CompiledSchedule& Sched(const std::string& id) {
    const auto* s = book_->Find(id);
    EXPECT_NE(s, nullptr) << id;
    return *s;
  }

  std::shared_ptr<const config::Org> org_;
  std::shared_ptr<const ScheduleBook> book_;
};

TEST_F(SchedulesTest, ExplainTimelineTellsLayersOverridesAndGapsApart) {
  auto got = ExplainTimeline(Sched("main"), T("2026-01-06T00:00:00Z"), T("2026-01-07T00:00:00Z"));
  std::vector<ExplainedShift> want{
      {T("2026-01-06T00:00:00Z"), T("2026-01-06T09:00:00Z"), "a", ShiftSource::kLayer, "base"},
      {T("2026-01-06T09:00:00Z"), T("2026-01-06T12:00:00Z"), "c", ShiftSource::kLayer, "day"},
      {T("2026-01-06T12:00:00Z"), T("2026-01-06T14:00:00Z"), "d", ShiftSource::kOverride, ""},
      {T("2026-01-06T14:00:00Z"), T("2026-01-06T17:00:00Z"), "c", ShiftSource::kLayer, "day"},
      // The same person as the layer, but by an override: kept apart (core::Timeline merges).
      {T("2026-01-06T17:00:00Z"), T("2026-01-06T18:00:00Z"), "a", ShiftSource::kOverride, ""},
      {T("2026-01-06T18:00:00Z"), T("2026-01-07T00:00:00Z"), "a", ShiftSource::kLayer, "base"},
  };
  EXPECT_EQ(got, want);

  auto gap = ExplainTimeline(Sched("late"), T("2026-01-06T00:00:00Z"), T("2026-01-06T12:00:00Z"));
  std::vector<ExplainedShift> want_gap{
      {T("2026-01-06T00:00:00Z"), T("2026-01-06T06:00:00Z"), "", ShiftSource::kGap, ""},
      {T("2026-01-06T06:00:00Z"), T("2026-01-06T12:00:00Z"), "a", ShiftSource::kLayer, "only"},
  };
  EXPECT_EQ(gap, want_gap);
  EXPECT_TRUE(
      ExplainTimeline(Sched("late"), T("2026-01-06T00:00:00Z"), T("2026-01-06T00:00:00Z")).empty());
}

TEST_F(SchedulesTest, OnCallAroundSaysUntilWhenAndWhoIsNext) {
  auto s = OnCallAround(Sched("main"), T("2026-01-06T10:00:00Z"));
  EXPECT_EQ(s.users, std::vector<std::string>{"c"});
  EXPECT_EQ(s.source, ShiftSource::kLayer);
  EXPECT_EQ(s.layer, "day");
  EXPECT_EQ(s.until, T("2026-01-06T12:00:00Z"));
  ASSERT_TRUE(s.next);
  EXPECT_EQ(s.next->users, std::vector<std::string>{"d"});
  EXPECT_EQ(s.next->start, T("2026-01-06T12:00:00Z"));
  EXPECT_EQ(s.next->until, T("2026-01-06T14:00:00Z"));

  s = OnCallAround(Sched("main"), T("2026-01-06T12:30:00Z"));
  EXPECT_EQ(s.users, std::vector<std::string>{"d"});
  EXPECT_EQ(s.source, ShiftSource::kOverride);
  EXPECT_EQ(s.until, T("2026-01-06T14:00:00Z"));

  // In a gap: nobody until the layer starts; then `a` for good (a one-person rotation).
  s = OnCallAround(Sched("late"), T("2026-01-06T01:00:00Z"));
  EXPECT_TRUE(s.users.empty());
  EXPECT_EQ(s.source, ShiftSource::kGap);
  EXPECT_EQ(s.until, T("2026-01-06T06:00:00Z"));
  ASSERT_TRUE(s.next);
  EXPECT_EQ(s.next->users, std::vector<std::string>{"a"});
  EXPECT_EQ(s.next->until, std::nullopt);

  // Nobody takes over within a year: no until, no next.
  s = OnCallAround(Sched("late"), T("2026-02-01T00:00:00Z"));
  EXPECT_EQ(s.users, std::vector<std::string>{"a"});
  EXPECT_EQ(s.until, std::nullopt);
  EXPECT_FALSE(s.next);
}

TEST_F(SchedulesTest, TargetUsersFollowsTheEngine) {
  const auto& steps = org_->escalation_policies[0].steps;
  auto on_call = [this](const std::string& id) {
    return *book_->OnCall(id, T("2026-01-06T12:30:00Z"));
  };
  EXPECT_EQ(TargetUsers(*org_, steps[0].targets[0], on_call), std::vector<std::string>{"d"});
  EXPECT_EQ(TargetUsers(*org_, steps[1].targets[0], on_call), std::vector<std::string>{"d"});
  EXPECT_EQ(TargetUsers(*org_, steps[1].targets[1], on_call), (std::vector<std::string>{"b", "c"}));
}

}  // namespace
}  // namespace houston::paging
