#include "core/schedule.h"

#include <date/date.h>
#include <date/tz.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time_util.h"
#include "testing/status_matchers.h"

namespace houston::core {

// Readable gtest output.
void PrintTo(const Shift& s, std::ostream* os) {
  *os << "{" << FormatRfc3339(s.start) << ", " << FormatRfc3339(s.end) << ", " << s.user << "}";
}
void PrintTo(const Gap& g, std::ostream* os) {
  *os << "{" << FormatRfc3339(g.start) << ", " << FormatRfc3339(g.end) << "}";
}

namespace {

using ::houston::testing::StatusIs;

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr milliseconds kMs{1};
constexpr DayMask kWeekdays = 0b0011111;  // mon..fri

// ---- helpers ------------------------------------------------------------------------------------

TimePoint Utc(std::string_view rfc3339) {
  Result<TimePoint> t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(TimePoint{});
}

date::local_seconds Local(int y, unsigned m, unsigned d, int h, int min = 0) {
  return date::local_days{date::year(y) / date::month(m) / date::day(d)} + hours(h) + minutes(min);
}

const date::time_zone* Zone(std::string_view name) {
  Result<const date::time_zone*> zone = LocateTimeZone(name);
  EXPECT_TRUE(zone.has_value()) << name;
  return zone.value_or(nullptr);
}

LayerSpec Layer(RotationType type, int length, date::local_seconds start,
                std::vector<std::string> users, std::vector<DailyWindowSpec> restrictions = {}) {
  LayerSpec layer;
  layer.name = "layer";
  layer.start_local = start;
  layer.rotation = {type, length};
  layer.users = std::move(users);
  layer.restrictions = std::move(restrictions);
  return layer;
}

ScheduleSpec Spec(std::string_view zone, std::vector<LayerSpec> layers,
                  std::vector<OverrideSpec> overrides = {}) {
  ScheduleSpec spec;
  spec.id = "primary";
  spec.name = "Primary";
  spec.timezone = std::string(zone);
  spec.layers = std::move(layers);
  spec.overrides = std::move(overrides);
  return spec;
}

CompiledSchedule Compile(ScheduleSpec spec) {
  Result<CompiledSchedule> compiled = CompiledSchedule::Create(std::move(spec));
  EXPECT_OK(compiled);
  if (!compiled.has_value()) std::abort();
  return *std::move(compiled);
}

// The one user on call at t, or "" for nobody.
std::string Who(const CompiledSchedule& s, TimePoint t) {
  std::vector<std::string> users = OnCallAt(s, t);
  EXPECT_LE(users.size(), 1u);
  return users.empty() ? "" : users[0];
}

// Expects `user` from `handoff` on and someone else (or nobody) just before.
void ExpectHandoff(const CompiledSchedule& s, TimePoint handoff, std::string_view before,
                   std::string_view after) {
  EXPECT_EQ(Who(s, handoff - kMs), before) << FormatRfc3339(handoff - kMs);
  EXPECT_EQ(Who(s, handoff), after) << FormatRfc3339(handoff);
}

// Checks that a timeline tiles [from, to) exactly and is merged.
void ExpectTiles(const ScheduleTimeline& tl, TimePoint from, TimePoint to) {
  std::vector<std::pair<TimePoint, TimePoint>> pieces;
  for (const Shift& s : tl.shifts) {
    EXPECT_LT(s.start, s.end);
    pieces.emplace_back(s.start, s.end);
  }
  for (const Gap& g : tl.gaps) {
    EXPECT_LT(g.start, g.end);
    pieces.emplace_back(g.start, g.end);
  }
  std::sort(pieces.begin(), pieces.end());
  ASSERT_FALSE(pieces.empty());
  EXPECT_EQ(pieces.front().first, from);
  EXPECT_EQ(pieces.back().second, to);
  for (size_t i = 1; i < pieces.size(); ++i) EXPECT_EQ(pieces[i - 1].second, pieces[i].first);
  for (size_t i = 1; i < tl.shifts.size(); ++i) {
    if (tl.shifts[i - 1].end == tl.shifts[i].start) {
      EXPECT_NE(tl.shifts[i - 1].user, tl.shifts[i].user) << "not merged";
    }
  }
  for (size_t i = 1; i < tl.gaps.size(); ++i) EXPECT_LT(tl.gaps[i - 1].end, tl.gaps[i].start);
}

// ---- the tz data these tests rely on ------------------------------------------------------------

// The DST changes the tests below are written against, checked with date::get_info so that a
// tzdata change shows up here first.
TEST(ScheduleTzData, TransitionsAreWhereTheTestsExpectThem) {
  struct Case {
    const char* zone;
    const char* change;  // first instant with the new offset
    int offset_before_minutes;
    int offset_after_minutes;
  };
  for (const Case& c : {
           Case{"America/New_York", "2026-03-08T07:00:00Z", -300, -240},
           Case{"America/New_York", "2026-11-01T06:00:00Z", -240, -300},
           Case{"Europe/Berlin", "2026-03-29T01:00:00Z", 60, 120},
           Case{"Europe/Berlin", "2026-10-25T01:00:00Z", 120, 60},
           // Lord Howe: 02:00 LHDT -> 01:30 LHST on Sunday 2026-04-05 local; 02:00 -> 02:30 on
           // Sunday 2026-10-04 local. A 30-minute change.
           Case{"Australia/Lord_Howe", "2026-04-04T15:00:00Z", 660, 630},
           Case{"Australia/Lord_Howe", "2026-10-03T15:30:00Z", 630, 660},
       }) {
    SCOPED_TRACE(std::string(c.zone) + " " + c.change);
    const date::time_zone* zone = Zone(c.zone);
    ASSERT_NE(zone, nullptr);
    date::sys_info after = zone->get_info(Utc(c.change));
    date::sys_info before = zone->get_info(Utc(c.change) - kMs);
    EXPECT_EQ(after.begin, Utc(c.change));
    EXPECT_EQ(before.offset, minutes(c.offset_before_minutes));
    EXPECT_EQ(after.offset, minutes(c.offset_after_minutes));
  }
}

// ---- validation ---------------------------------------------------------------------------------

TEST(ScheduleSpec, LocateTimeZoneRejectsUnknownNames) {
  EXPECT_TRUE(LocateTimeZone("Europe/Berlin").has_value());
  Result<const date::time_zone*> bad = LocateTimeZone("Mars/Olympus_Mons");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.error().message(), HasSubstr("Mars/Olympus_Mons"));
}

TEST(ScheduleSpec, CreateRejectsUnknownZone) {
  Result<CompiledSchedule> s = CompiledSchedule::Create(
      Spec("Nowhere/Special", {Layer(RotationType::kDaily, 1, Local(2026, 1, 1, 9), {"a"})}));
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
}

TEST(ScheduleSpec, ValidationListsEveryProblem) {
  ScheduleSpec spec = Spec("UTC",
                           {Layer(RotationType::kDaily, 0, Local(2026, 1, 1, 9), {}),
                            Layer(RotationType::kHourly, 1, Local(2026, 1, 1, 9), {""},
                                  {{0, 60, 120}, {0x80, 0, 60}, {1, 1440, 1441}, {1, 600, 600}})},
                           {{"", Utc("2026-01-02T00:00:00Z"), Utc("2026-01-01T00:00:00Z")}});
  spec.layers[1].end_local = spec.layers[1].start_local;
  Result<CompiledSchedule> s = CompiledSchedule::Create(spec);
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(s.error().message(), HasSubstr("schedule 'primary' is invalid"));
  const std::vector<std::string>& d = s.error().details();
  auto has = [&](std::string_view needle) {
    return std::any_of(d.begin(), d.end(),
                       [&](const std::string& line) { return line.find(needle) != line.npos; });
  };
  EXPECT_TRUE(has("layers[0].users: nobody in the rotation"));
  EXPECT_TRUE(has("layers[0].rotation.length: 0"));
  EXPECT_TRUE(has("layers[1].users: nobody in the rotation"));
  EXPECT_TRUE(has("layers[1].end: not after its start"));
  EXPECT_TRUE(has("layers[1].restrictions[0].days"));
  EXPECT_TRUE(has("layers[1].restrictions[1].days"));
  EXPECT_TRUE(has("layers[1].restrictions[2].start_minute"));
  EXPECT_TRUE(has("layers[1].restrictions[2].end_minute"));
  EXPECT_TRUE(has("layers[1].restrictions[3]: start and end are equal"));
  EXPECT_TRUE(has("overrides[0].user: empty"));
  EXPECT_TRUE(has("overrides[0]: end is not after start"));
  EXPECT_EQ(d.size(), 11u);
}

// An empty turn ("" in users, Opsgenie's `none`) leaves the layer without anybody for that turn:
// the earlier layer shows through, and with no earlier layer it is a gap.
TEST(ScheduleSpec, EmptyTurnLetsTheEarlierLayerShowThrough) {
  CompiledSchedule s = Compile(Spec(
      "Europe/Berlin", {Layer(RotationType::kDaily, 1, Local(2026, 3, 1, 9), {"base"}),
                        Layer(RotationType::kDaily, 1, Local(2026, 3, 1, 9), {"ann", "", "bob"})}));
  EXPECT_EQ(Who(s, Utc("2026-03-01T09:00:00+01:00")), "ann");
  EXPECT_EQ(Who(s, Utc("2026-03-02T08:59:59+01:00")), "ann");
  EXPECT_EQ(Who(s, Utc("2026-03-02T09:00:00+01:00")), "base");
  EXPECT_EQ(Who(s, Utc("2026-03-03T09:00:00+01:00")), "bob");
  EXPECT_EQ(Who(s, Utc("2026-03-05T12:00:00+01:00")), "base");  // the empty turn again
  ScheduleTimeline tl =
      Timeline(s, Utc("2026-03-01T09:00:00+01:00"), Utc("2026-03-04T09:00:00+01:00"));
  EXPECT_THAT(
      tl.shifts,
      ElementsAre(
          Shift{Utc("2026-03-01T09:00:00+01:00"), Utc("2026-03-02T09:00:00+01:00"), "ann"},
          Shift{Utc("2026-03-02T09:00:00+01:00"), Utc("2026-03-03T09:00:00+01:00"), "base"},
          Shift{Utc("2026-03-03T09:00:00+01:00"), Utc("2026-03-04T09:00:00+01:00"), "bob"}));
  CompiledSchedule alone =
      Compile(Spec("UTC", {Layer(RotationType::kDaily, 1, Local(2026, 3, 1, 0), {"ann", ""})}));
  tl = Timeline(alone, Utc("2026-03-01T00:00:00Z"), Utc("2026-03-03T00:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-03-01T00:00:00Z"), Utc("2026-03-02T00:00:00Z"), "ann"}));
  EXPECT_THAT(tl.gaps, ElementsAre(Gap{Utc("2026-03-02T00:00:00Z"), Utc("2026-03-03T00:00:00Z")}));
}

// A layer that ends has nobody from its end (local wall-clock time, across DST) on.
TEST(ScheduleSpec, LayerEndsAtItsLocalEnd) {
  LayerSpec ending = Layer(RotationType::kWeekly, 1, Local(2026, 3, 2, 9), {"ann", "bob"});
  ending.end_local = Local(2026, 3, 30, 9);  // after the spring-forward of 2026-03-29 in Berlin
  CompiledSchedule s = Compile(Spec(
      "Europe/Berlin", {Layer(RotationType::kWeekly, 1, Local(2026, 1, 5, 9), {"base"}), ending}));
  EXPECT_EQ(Who(s, Utc("2026-03-30T08:59:59+02:00")), "bob");
  EXPECT_EQ(Who(s, Utc("2026-03-30T09:00:00+02:00")), "base");
  EXPECT_EQ(Who(s, Utc("2027-01-01T00:00:00+01:00")), "base");
  ScheduleTimeline tl =
      Timeline(s, Utc("2026-03-23T09:00:00+01:00"), Utc("2026-04-06T09:00:00+02:00"));
  EXPECT_THAT(
      tl.shifts,
      ElementsAre(
          Shift{Utc("2026-03-23T09:00:00+01:00"), Utc("2026-03-30T09:00:00+02:00"), "bob"},
          Shift{Utc("2026-03-30T09:00:00+02:00"), Utc("2026-04-06T09:00:00+02:00"), "base"}));
}

TEST(ScheduleSpec, EmptyScheduleHasNobody) {
  CompiledSchedule s = Compile(Spec("UTC", {}));
  EXPECT_THAT(OnCallAt(s, Utc("2026-01-01T00:00:00Z")), IsEmpty());
  ScheduleTimeline tl = Timeline(s, Utc("2026-01-01T00:00:00Z"), Utc("2026-01-02T00:00:00Z"));
  EXPECT_THAT(tl.shifts, IsEmpty());
  EXPECT_THAT(tl.gaps, ElementsAre(Gap{Utc("2026-01-01T00:00:00Z"), Utc("2026-01-02T00:00:00Z")}));
}

// ---- rotations ----------------------------------------------------------------------------------

TEST(ScheduleRotation, WeeklyOneWeek) {
  CompiledSchedule s = Compile(
      Spec("UTC", {Layer(RotationType::kWeekly, 1, Local(2026, 1, 5, 9), {"a", "b", "c"})}));
  ExpectHandoff(s, Utc("2026-01-05T09:00:00Z"), "", "a");  // nobody before the start
  ExpectHandoff(s, Utc("2026-01-12T09:00:00Z"), "a", "b");
  ExpectHandoff(s, Utc("2026-01-19T09:00:00Z"), "b", "c");
  ExpectHandoff(s, Utc("2026-01-26T09:00:00Z"), "c", "a");
  EXPECT_EQ(Who(s, Utc("2025-06-01T00:00:00Z")), "");
  // 52 weeks later: 52 % 3 = 1.
  EXPECT_EQ(Who(s, Utc("2027-01-04T09:00:00Z")), "b");
}

TEST(ScheduleRotation, WeeklyTwoWeeks) {
  CompiledSchedule s =
      Compile(Spec("UTC", {Layer(RotationType::kWeekly, 2, Local(2026, 1, 5, 9), {"a", "b"})}));
  EXPECT_EQ(Who(s, Utc("2026-01-12T09:00:00Z")), "a");
  ExpectHandoff(s, Utc("2026-01-19T09:00:00Z"), "a", "b");
  ExpectHandoff(s, Utc("2026-02-02T09:00:00Z"), "b", "a");
}

TEST(ScheduleRotation, DailyThreeDays) {
  CompiledSchedule s =
      Compile(Spec("UTC", {Layer(RotationType::kDaily, 3, Local(2026, 1, 1, 8, 30), {"a", "b"})}));
  EXPECT_EQ(Who(s, Utc("2026-01-03T23:00:00Z")), "a");
  ExpectHandoff(s, Utc("2026-01-04T08:30:00Z"), "a", "b");
  ExpectHandoff(s, Utc("2026-01-07T08:30:00Z"), "b", "a");
}

TEST(ScheduleRotation, HourlyOneAndEightHours) {
  CompiledSchedule one = Compile(
      Spec("UTC", {Layer(RotationType::kHourly, 1, Local(2026, 1, 1, 0), {"a", "b", "c"})}));
  ExpectHandoff(one, Utc("2026-01-01T01:00:00Z"), "a", "b");
  ExpectHandoff(one, Utc("2026-01-01T02:00:00Z"), "b", "c");
  ExpectHandoff(one, Utc("2026-01-01T03:00:00Z"), "c", "a");
  EXPECT_EQ(Who(one, Utc("2026-01-02T00:30:00Z")), "a");  // 24 % 3 = 0

  CompiledSchedule eight = Compile(
      Spec("UTC", {Layer(RotationType::kHourly, 8, Local(2026, 1, 1, 6), {"a", "b", "c"})}));
  ExpectHandoff(eight, Utc("2026-01-01T14:00:00Z"), "a", "b");
  ExpectHandoff(eight, Utc("2026-01-01T22:00:00Z"), "b", "c");
  ExpectHandoff(eight, Utc("2026-01-02T06:00:00Z"), "c", "a");
}

TEST(ScheduleRotation, UsersMayRepeat) {
  CompiledSchedule s =
      Compile(Spec("UTC", {Layer(RotationType::kDaily, 1, Local(2026, 1, 1, 0), {"a", "a", "b"})}));
  EXPECT_EQ(Who(s, Utc("2026-01-01T12:00:00Z")), "a");
  EXPECT_EQ(Who(s, Utc("2026-01-02T12:00:00Z")), "a");
  EXPECT_EQ(Who(s, Utc("2026-01-03T12:00:00Z")), "b");
  ScheduleTimeline tl = Timeline(s, Utc("2026-01-01T00:00:00Z"), Utc("2026-01-04T00:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-01-01T00:00:00Z"), Utc("2026-01-03T00:00:00Z"), "a"},
                          Shift{Utc("2026-01-03T00:00:00Z"), Utc("2026-01-04T00:00:00Z"), "b"}));
}

// ---- DST: a 09:00 handoff stays at 09:00 local ------------------------------------------------

struct DstCase {
  const char* zone;
  date::local_seconds first;   // a daily rotation starts here (09:00 local, the day before)
  const char* handoff_before;  // 09:00 local the day before the change, in UTC
  const char* handoff_on;      // 09:00 local on the day of the change
  const char* handoff_after;   // 09:00 local the day after
  int changed_shift_minutes;   // real length of the shift spanning the change
};

class DstHandoff : public ::testing::TestWithParam<DstCase> {};

TEST_P(DstHandoff, DailyHandoffStaysAtNineLocal) {
  const DstCase& c = GetParam();
  CompiledSchedule s =
      Compile(Spec(c.zone, {Layer(RotationType::kDaily, 1, c.first, {"a", "b", "c", "d"})}));
  ExpectHandoff(s, Utc(c.handoff_before), "", "a");
  ExpectHandoff(s, Utc(c.handoff_on), "a", "b");
  ExpectHandoff(s, Utc(c.handoff_after), "b", "c");
  EXPECT_EQ(Utc(c.handoff_on) - Utc(c.handoff_before), minutes(c.changed_shift_minutes));
  ScheduleTimeline tl = Timeline(s, Utc(c.handoff_before), Utc(c.handoff_after));
  EXPECT_THAT(tl.shifts, ElementsAre(Shift{Utc(c.handoff_before), Utc(c.handoff_on), "a"},
                                     Shift{Utc(c.handoff_on), Utc(c.handoff_after), "b"}));
  EXPECT_THAT(tl.gaps, IsEmpty());
}

TEST_P(DstHandoff, WeeklyHandoffStaysAtNineLocal) {
  const DstCase& c = GetParam();
  // A weekly rotation whose second handoff is on the day of the change, at 09:00 local.
  CompiledSchedule s =
      Compile(Spec(c.zone, {Layer(RotationType::kWeekly, 1, c.first - date::days(6), {"a", "b"})}));
  ExpectHandoff(s, Utc(c.handoff_on), "a", "b");
  EXPECT_EQ(Who(s, Utc(c.handoff_after)), "b");
}

INSTANTIATE_TEST_SUITE_P(
    Zones, DstHandoff,
    ::testing::Values(
        // New York, spring forward 2026-03-08: 09:00 EST = 14:00Z, then 09:00 EDT = 13:00Z.
        DstCase{"America/New_York", Local(2026, 3, 7, 9), "2026-03-07T14:00:00Z",
                "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z", 23 * 60},
        // New York, fall back 2026-11-01.
        DstCase{"America/New_York", Local(2026, 10, 31, 9), "2026-10-31T13:00:00Z",
                "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z", 25 * 60},
        // Berlin, 2026-03-29: 09:00 CET = 08:00Z, 09:00 CEST = 07:00Z.
        DstCase{"Europe/Berlin", Local(2026, 3, 28, 9), "2026-03-28T08:00:00Z",
                "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z", 23 * 60},
        DstCase{"Europe/Berlin", Local(2026, 10, 24, 9), "2026-10-24T07:00:00Z",
                "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z", 25 * 60},
        // Lord Howe, DST ends 2026-04-05 (+11 -> +10:30): a 24.5-hour day.
        DstCase{"Australia/Lord_Howe", Local(2026, 4, 4, 9), "2026-04-03T22:00:00Z",
                "2026-04-04T22:30:00Z", "2026-04-05T22:30:00Z", 24 * 60 + 30},
        // Lord Howe, DST starts 2026-10-04 (+10:30 -> +11): a 23.5-hour day.
        DstCase{"Australia/Lord_Howe", Local(2026, 10, 3, 9), "2026-10-02T22:30:00Z",
                "2026-10-03T22:00:00Z", "2026-10-04T22:00:00Z", 23 * 60 + 30}));

// ---- DST: handoffs at local times that are skipped or repeated --------------------------------

TEST(ScheduleDst, HandoffInsideGapHappensWhenTheGapEnds) {
  // 02:30 does not exist in New York on 2026-03-08 (02:00 -> 03:00).
  CompiledSchedule ny =
      Compile(Spec("America/New_York",
                   {Layer(RotationType::kDaily, 1, Local(2026, 3, 7, 2, 30), {"a", "b", "c"})}));
  ExpectHandoff(ny, Utc("2026-03-07T07:30:00Z"), "", "a");   // 02:30 EST
  ExpectHandoff(ny, Utc("2026-03-08T07:00:00Z"), "a", "b");  // the gap's end, 03:00 EDT
  ExpectHandoff(ny, Utc("2026-03-09T06:30:00Z"), "b", "c");  // 02:30 EDT

  // Berlin 2026-03-29: 02:00 -> 03:00 CEST.
  CompiledSchedule berlin = Compile(Spec(
      "Europe/Berlin", {Layer(RotationType::kDaily, 1, Local(2026, 3, 28, 2, 30), {"a", "b"})}));
  ExpectHandoff(berlin, Utc("2026-03-29T01:00:00Z"), "a", "b");

  // Lord Howe 2026-10-04: 02:00 -> 02:30; 02:15 is skipped.
  CompiledSchedule lh =
      Compile(Spec("Australia/Lord_Howe",
                   {Layer(RotationType::kDaily, 1, Local(2026, 10, 3, 2, 15), {"a", "b"})}));
  ExpectHandoff(lh, Utc("2026-10-03T15:30:00Z"), "a", "b");  // 02:30 LHDT
  ExpectHandoff(lh, Utc("2026-10-04T15:15:00Z"), "b", "a");  // 02:15 LHDT
}

TEST(ScheduleDst, HandoffInsideOverlapHappensAtTheFirstOccurrence) {
  // 01:30 happens twice in New York on 2026-11-01 (05:30Z EDT and 06:30Z EST).
  CompiledSchedule ny =
      Compile(Spec("America/New_York",
                   {Layer(RotationType::kDaily, 1, Local(2026, 10, 31, 1, 30), {"a", "b", "c"})}));
  ExpectHandoff(ny, Utc("2026-10-31T05:30:00Z"), "", "a");
  ExpectHandoff(ny, Utc("2026-11-01T05:30:00Z"), "a", "b");
  // The second 01:30 is not a handoff.
  EXPECT_EQ(Who(ny, Utc("2026-11-01T06:29:59Z")), "b");
  EXPECT_EQ(Who(ny, Utc("2026-11-01T06:30:00Z")), "b");
  ExpectHandoff(ny, Utc("2026-11-02T06:30:00Z"), "b", "c");  // 01:30 EST

  // Berlin 2026-10-25: 02:30 happens at 00:30Z (CEST) and 01:30Z (CET).
  CompiledSchedule berlin = Compile(Spec(
      "Europe/Berlin", {Layer(RotationType::kDaily, 1, Local(2026, 10, 24, 2, 30), {"a", "b"})}));
  ExpectHandoff(berlin, Utc("2026-10-25T00:30:00Z"), "a", "b");
  EXPECT_EQ(Who(berlin, Utc("2026-10-25T01:45:00Z")), "b");

  // Lord Howe 2026-04-05: 01:30-02:00 happens twice; 01:45 first at 14:45Z (+11).
  CompiledSchedule lh =
      Compile(Spec("Australia/Lord_Howe",
                   {Layer(RotationType::kDaily, 1, Local(2026, 4, 4, 1, 45), {"a", "b"})}));
  ExpectHandoff(lh, Utc("2026-04-04T14:45:00Z"), "a", "b");
  EXPECT_EQ(Who(lh, Utc("2026-04-04T15:15:00Z")), "b");  // the second 01:45
}

TEST(ScheduleDst, LayerStartInsideGapOrOverlap) {
  // Starts at a skipped time: the layer begins when the gap ends.
  CompiledSchedule gap = Compile(Spec(
      "America/New_York", {Layer(RotationType::kDaily, 1, Local(2026, 3, 8, 2, 30), {"a", "b"})}));
  ExpectHandoff(gap, Utc("2026-03-08T07:00:00Z"), "", "a");
  // Starts at a repeated time: the layer begins at its first occurrence and is on during the
  // second pass through earlier local times (01:10 EST is before 01:30 local, but after the
  // start).
  CompiledSchedule overlap = Compile(Spec(
      "America/New_York", {Layer(RotationType::kDaily, 1, Local(2026, 11, 1, 1, 30), {"a", "b"})}));
  ExpectHandoff(overlap, Utc("2026-11-01T05:30:00Z"), "", "a");
  EXPECT_EQ(Who(overlap, Utc("2026-11-01T06:10:00Z")), "a");
  ExpectHandoff(overlap, Utc("2026-11-02T06:30:00Z"), "a", "b");
}

TEST(ScheduleDst, HourlyRotationSkipsTheShiftOfASkippedHour) {
  // Hourly from 00:00 on 2026-03-08 in New York: 02:00 does not exist, so the 02:00 handoff and
  // the 03:00 one both happen at 07:00Z; u2's shift has zero length and u3 takes over.
  CompiledSchedule s = Compile(Spec(
      "America/New_York",
      {Layer(RotationType::kHourly, 1, Local(2026, 3, 8, 0), {"u0", "u1", "u2", "u3", "u4"})}));
  ExpectHandoff(s, Utc("2026-03-08T06:00:00Z"), "u0", "u1");
  ExpectHandoff(s, Utc("2026-03-08T07:00:00Z"), "u1", "u3");
  ExpectHandoff(s, Utc("2026-03-08T08:00:00Z"), "u3", "u4");
  ScheduleTimeline tl = Timeline(s, Utc("2026-03-08T05:00:00Z"), Utc("2026-03-08T09:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-03-08T05:00:00Z"), Utc("2026-03-08T06:00:00Z"), "u0"},
                          Shift{Utc("2026-03-08T06:00:00Z"), Utc("2026-03-08T07:00:00Z"), "u1"},
                          Shift{Utc("2026-03-08T07:00:00Z"), Utc("2026-03-08T08:00:00Z"), "u3"},
                          Shift{Utc("2026-03-08T08:00:00Z"), Utc("2026-03-08T09:00:00Z"), "u4"}));
  EXPECT_THAT(tl.gaps, IsEmpty());
}

TEST(ScheduleDst, HourlyRotationCoversARepeatedHourOnce) {
  // Hourly from 00:00 EDT on 2026-11-01: the 01:00 handoff is at the first 01:00 (05:00Z), the
  // next at 02:00 EST (07:00Z); u1 covers both passes through 01:xx.
  CompiledSchedule s =
      Compile(Spec("America/New_York",
                   {Layer(RotationType::kHourly, 1, Local(2026, 11, 1, 0), {"u0", "u1", "u2"})}));
  ScheduleTimeline tl = Timeline(s, Utc("2026-11-01T04:00:00Z"), Utc("2026-11-01T08:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-11-01T04:00:00Z"), Utc("2026-11-01T05:00:00Z"), "u0"},
                          Shift{Utc("2026-11-01T05:00:00Z"), Utc("2026-11-01T07:00:00Z"), "u1"},
                          Shift{Utc("2026-11-01T07:00:00Z"), Utc("2026-11-01T08:00:00Z"), "u2"}));
  EXPECT_EQ(Who(s, Utc("2026-11-01T06:30:00Z")), "u1");
}

TEST(ScheduleDst, HourlyRotationAcrossLordHoweHalfHourChanges) {
  // 2026-10-04 (+10:30 -> +11 at 02:00 local): the 02:00 handoff moves to 02:30 LHDT (15:30Z)
  // and that shift lasts 30 real minutes.
  CompiledSchedule spring = Compile(
      Spec("Australia/Lord_Howe",
           {Layer(RotationType::kHourly, 1, Local(2026, 10, 4, 0), {"u0", "u1", "u2", "u3"})}));
  ScheduleTimeline tl = Timeline(spring, Utc("2026-10-03T13:30:00Z"), Utc("2026-10-03T17:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-10-03T13:30:00Z"), Utc("2026-10-03T14:30:00Z"), "u0"},
                          Shift{Utc("2026-10-03T14:30:00Z"), Utc("2026-10-03T15:30:00Z"), "u1"},
                          Shift{Utc("2026-10-03T15:30:00Z"), Utc("2026-10-03T16:00:00Z"), "u2"},
                          Shift{Utc("2026-10-03T16:00:00Z"), Utc("2026-10-03T17:00:00Z"), "u3"}));

  // 2026-04-05 (+11 -> +10:30 at 02:00 local, 01:30-02:00 repeats): u1 (01:00) covers 90 real
  // minutes.
  CompiledSchedule autumn =
      Compile(Spec("Australia/Lord_Howe",
                   {Layer(RotationType::kHourly, 1, Local(2026, 4, 5, 0), {"u0", "u1", "u2"})}));
  tl = Timeline(autumn, Utc("2026-04-04T13:00:00Z"), Utc("2026-04-04T16:30:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-04-04T13:00:00Z"), Utc("2026-04-04T14:00:00Z"), "u0"},
                          Shift{Utc("2026-04-04T14:00:00Z"), Utc("2026-04-04T15:30:00Z"), "u1"},
                          Shift{Utc("2026-04-04T15:30:00Z"), Utc("2026-04-04T16:30:00Z"), "u2"}));
}

// Around every 2026 change in the three zones, for hourly rotations starting on the hour and
// on the half hour: every minute has exactly one user, and the rotation index only moves
// forward, by one, or by two where a skipped hour's shift had zero length.
TEST(ScheduleDst, HourlyRotationNeverLeavesAHoleNorGoesBack) {
  struct Change {
    const char* zone;
    date::local_days day;
  };
  using date::literals::operator""_y;
  const Change changes[] = {
      {"America/New_York", date::local_days{2026_y / 3 / 8}},
      {"America/New_York", date::local_days{2026_y / 11 / 1}},
      {"Europe/Berlin", date::local_days{2026_y / 3 / 29}},
      {"Europe/Berlin", date::local_days{2026_y / 10 / 25}},
      {"Australia/Lord_Howe", date::local_days{2026_y / 4 / 5}},
      {"Australia/Lord_Howe", date::local_days{2026_y / 10 / 4}},
  };
  std::vector<std::string> users;
  for (int i = 0; i < 100; ++i) users.push_back(std::to_string(i));
  for (const Change& c : changes) {
    for (int start_minute : {0, 15, 30, 45}) {
      SCOPED_TRACE(std::string(c.zone) + " start minute " + std::to_string(start_minute));
      const date::local_seconds start = c.day - date::days(1) + minutes(start_minute);
      CompiledSchedule s = Compile(Spec(c.zone, {Layer(RotationType::kHourly, 1, start, users)}));
      const TimePoint from = Zone(c.zone)->to_sys(start + hours(1), date::choose::earliest);
      int previous = -1;
      for (TimePoint t = from; t < from + hours(48); t += minutes(1)) {
        std::string who = Who(s, t);
        ASSERT_FALSE(who.empty()) << FormatRfc3339(t);
        int index = std::stoi(who);
        if (previous >= 0) {
          EXPECT_GE(index, previous) << FormatRfc3339(t);
          EXPECT_LE(index, previous + 2) << FormatRfc3339(t);
        }
        previous = index;
      }
    }
  }
}

// ---- leap day
// -------------------------------------------------------------------------------------

TEST(ScheduleLeapDay, DailyRotationCountsFebruary29) {
  CompiledSchedule s =
      Compile(Spec("Europe/Berlin",
                   {Layer(RotationType::kDaily, 1, Local(2028, 2, 27, 9), {"a", "b", "c", "d"})}));
  ExpectHandoff(s, Utc("2028-02-28T08:00:00Z"), "a", "b");
  ExpectHandoff(s, Utc("2028-02-29T08:00:00Z"), "b", "c");
  ExpectHandoff(s, Utc("2028-03-01T08:00:00Z"), "c", "d");
  ExpectHandoff(s, Utc("2028-03-02T08:00:00Z"), "d", "a");
}

TEST(ScheduleLeapDay, WeeklyRotationAndRestrictionOnFebruary29) {
  // 2028-02-29 is a Tuesday.
  CompiledSchedule weekly =
      Compile(Spec("UTC", {Layer(RotationType::kWeekly, 1, Local(2028, 2, 24, 9), {"a", "b"})}));
  ExpectHandoff(weekly, Utc("2028-03-02T09:00:00Z"), "a", "b");
  CompiledSchedule tuesdays =
      Compile(Spec("UTC", {Layer(RotationType::kDaily, 1, Local(2028, 2, 1, 0), {"a", "b"},
                                 {{DayBit(date::Tuesday), 9 * 60, 17 * 60}})}));
  // Day 28 since 2028-02-01 -> a.
  EXPECT_EQ(Who(tuesdays, Utc("2028-02-29T12:00:00Z")), "a");
  EXPECT_EQ(Who(tuesdays, Utc("2028-03-01T12:00:00Z")), "");
}

// ---- restrictions -----------------------------------------------------------------------------

TEST(ScheduleRestrictions, WeekdayBusinessHours) {
  // Daily rotation from Monday 2026-01-05 09:00 New York, covering weekdays 09:00-17:00 only.
  CompiledSchedule s =
      Compile(Spec("America/New_York",
                   {Layer(RotationType::kDaily, 1, Local(2026, 1, 5, 9),
                          {"a", "b", "c", "d", "e", "f", "g"}, {{kWeekdays, 9 * 60, 17 * 60}})}));
  ExpectHandoff(s, Utc("2026-01-05T14:00:00Z"), "", "a");  // Mon 09:00 EST
  ExpectHandoff(s, Utc("2026-01-05T22:00:00Z"), "a", "");  // Mon 17:00
  ExpectHandoff(s, Utc("2026-01-06T14:00:00Z"), "", "b");  // Tue 09:00
  ExpectHandoff(s, Utc("2026-01-09T22:00:00Z"), "e", "");  // Fri 17:00
  EXPECT_EQ(Who(s, Utc("2026-01-10T17:00:00Z")), "");      // Saturday noon
  // The restriction does not shift the rotation: the next Monday is day 7 -> "a" again with 7
  // users, and the Tuesday after is "b" (a rotation paused over the weekend would give f, g).
  EXPECT_EQ(Who(s, Utc("2026-01-12T15:00:00Z")), "a");
  EXPECT_EQ(Who(s, Utc("2026-01-13T15:00:00Z")), "b");
  // Across the spring change: Monday 2026-03-09 09:00 EDT is 13:00Z; day 63 -> a.
  ExpectHandoff(s, Utc("2026-03-09T13:00:00Z"), "", "a");
  ExpectHandoff(s, Utc("2026-03-09T21:00:00Z"), "a", "");
}

TEST(ScheduleRestrictions, OvernightWindow) {
  // 22:00-06:00 starting Monday to Friday, UTC.
  CompiledSchedule s = Compile(Spec("UTC", {Layer(RotationType::kWeekly, 1, Local(2026, 1, 5, 0),
                                                  {"n"}, {{kWeekdays, 22 * 60, 6 * 60}})}));
  EXPECT_EQ(Who(s, Utc("2026-01-05T03:00:00Z")), "");  // Monday early: Sunday is not listed
  ExpectHandoff(s, Utc("2026-01-05T22:00:00Z"), "", "n");
  ExpectHandoff(s, Utc("2026-01-06T06:00:00Z"), "n", "");
  EXPECT_EQ(Who(s, Utc("2026-01-06T23:59:59Z")), "n");
  ExpectHandoff(s, Utc("2026-01-09T22:00:00Z"), "", "n");  // Friday night
  EXPECT_EQ(Who(s, Utc("2026-01-10T05:59:59Z")), "n");     // into Saturday
  ExpectHandoff(s, Utc("2026-01-10T06:00:00Z"), "n", "");
  EXPECT_EQ(Who(s, Utc("2026-01-10T23:00:00Z")), "");  // Saturday night: not listed
  EXPECT_EQ(Who(s, Utc("2026-01-12T03:00:00Z")), "");  // Sunday night: not listed
}

TEST(ScheduleRestrictions, OvernightWindowAcrossDst) {
  // Saturday 22:00 EST (03:00Z) to Sunday 06:00 EDT (10:00Z) around 2026-03-08: 7 real hours.
  CompiledSchedule s =
      Compile(Spec("America/New_York", {Layer(RotationType::kWeekly, 1, Local(2026, 1, 3, 0), {"n"},
                                              {{DayBit(date::Saturday), 22 * 60, 6 * 60}})}));
  ScheduleTimeline tl = Timeline(s, Utc("2026-03-07T00:00:00Z"), Utc("2026-03-09T00:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-03-08T03:00:00Z"), Utc("2026-03-08T10:00:00Z"), "n"}));
  // The fall-back night: 22:00 EDT (02:00Z) to 06:00 EST (11:00Z), 9 real hours.
  tl = Timeline(s, Utc("2026-10-31T00:00:00Z"), Utc("2026-11-02T00:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-11-01T02:00:00Z"), Utc("2026-11-01T11:00:00Z"), "n"}));
}

TEST(ScheduleRestrictions, WindowsAtSkippedAndRepeatedTimes) {
  const DayMask sunday = DayBit(date::Sunday);
  auto one_window = [](DailyWindowSpec w) {
    return Compile(Spec("America/New_York",
                        {Layer(RotationType::kWeekly, 1, Local(2026, 1, 4, 0), {"w"}, {w})}));
  };
  const TimePoint sat = Utc("2026-03-07T12:00:00Z");
  const TimePoint mon = Utc("2026-03-09T12:00:00Z");
  // Entirely inside the 2026-03-08 gap: that Sunday it does not happen.
  EXPECT_THAT(Timeline(one_window({sunday, 2 * 60, 2 * 60 + 30}), sat, mon).shifts, IsEmpty());
  // Starting inside the gap: starts when the gap ends (03:00 EDT = 07:00Z).
  EXPECT_THAT(Timeline(one_window({sunday, 2 * 60 + 30, 5 * 60}), sat, mon).shifts,
              ElementsAre(Shift{Utc("2026-03-08T07:00:00Z"), Utc("2026-03-08T09:00:00Z"), "w"}));

  const TimePoint sat2 = Utc("2026-10-31T12:00:00Z");
  const TimePoint mon2 = Utc("2026-11-02T12:00:00Z");
  // Ending at a repeated time: ends at its first occurrence; the repeated 01:00-01:30 EST is not
  // covered (one contiguous interval, not on-off-on).
  CompiledSchedule early = one_window({sunday, 0, 90});
  EXPECT_THAT(Timeline(early, sat2, mon2).shifts,
              ElementsAre(Shift{Utc("2026-11-01T04:00:00Z"), Utc("2026-11-01T05:30:00Z"), "w"}));
  EXPECT_EQ(Who(early, Utc("2026-11-01T06:15:00Z")), "");
  // Ending at 02:00 (after the repeat): both passes through 01:xx are covered.
  EXPECT_THAT(Timeline(one_window({sunday, 60, 120}), sat2, mon2).shifts,
              ElementsAre(Shift{Utc("2026-11-01T05:00:00Z"), Utc("2026-11-01T07:00:00Z"), "w"}));
  // Starting at a repeated time: from its first occurrence.
  EXPECT_THAT(Timeline(one_window({sunday, 90, 180}), sat2, mon2).shifts,
              ElementsAre(Shift{Utc("2026-11-01T05:30:00Z"), Utc("2026-11-01T08:00:00Z"), "w"}));
}

TEST(ScheduleRestrictions, WholeDaysAndSeveralWindows) {
  CompiledSchedule s = Compile(Spec(
      "UTC",
      {Layer(RotationType::kWeekly, 1, Local(2026, 1, 5, 0), {"w"},
             {{kWeekdays, 9 * 60, 17 * 60},
              {static_cast<DayMask>(DayBit(date::Saturday) | DayBit(date::Sunday)), 0, 24 * 60},
              {DayBit(date::Monday), 16 * 60, 20 * 60}})}));  // overlaps the first
  EXPECT_EQ(Who(s, Utc("2026-01-10T00:00:00Z")), "w");        // Saturday all day
  EXPECT_EQ(Who(s, Utc("2026-01-11T23:59:59Z")), "w");        // Sunday all day
  EXPECT_EQ(Who(s, Utc("2026-01-12T00:00:00Z")), "");         // Monday 00:00
  ScheduleTimeline tl = Timeline(s, Utc("2026-01-12T00:00:00Z"), Utc("2026-01-13T00:00:00Z"));
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-01-12T09:00:00Z"), Utc("2026-01-12T20:00:00Z"), "w"}));
}

// ---- layers and overrides ---------------------------------------------------------------------

TEST(ScheduleLayers, LaterLayerWinsAndEarlierShowsThrough) {
  // Layer 0: weekly a/b. Layer 1: daily x/y on weekdays 09:00-17:00. Layer 2 starts later.
  CompiledSchedule s = Compile(
      Spec("Europe/Berlin", {Layer(RotationType::kWeekly, 1, Local(2026, 1, 5, 9), {"a", "b"}),
                             Layer(RotationType::kDaily, 1, Local(2026, 1, 5, 0), {"x", "y"},
                                   {{kWeekdays, 9 * 60, 17 * 60}}),
                             Layer(RotationType::kWeekly, 1, Local(2026, 2, 2, 0), {"late"},
                                   {{DayBit(date::Sunday), 12 * 60, 13 * 60}})}));
  EXPECT_EQ(Who(s, Utc("2026-01-05T09:00:00Z")), "x");  // Mon 10:00 CET: layer 1
  EXPECT_EQ(Who(s, Utc("2026-01-05T17:00:00Z")), "a");  // Mon 18:00: layer 1 restricted
  EXPECT_EQ(Who(s, Utc("2026-01-06T09:00:00Z")), "y");
  EXPECT_EQ(Who(s, Utc("2026-01-11T11:30:00Z")), "a");  // Sunday: layer 2 not started yet
  EXPECT_EQ(Who(s, Utc("2026-02-08T11:30:00Z")), "late");
  // Sunday 13:30 CET: layer 2's window is over, layer 1 is restricted; layer 0 is in its
  // fifth week (k = 4) -> a.
  EXPECT_EQ(Who(s, Utc("2026-02-08T12:30:00Z")), "a");
}

TEST(ScheduleOverrides, OverrideFillsARestrictedGap) {
  CompiledSchedule s = Compile(Spec(
      "UTC",
      {Layer(RotationType::kDaily, 1, Local(2026, 1, 5, 0), {"a"}, {{kWeekdays, 9 * 60, 17 * 60}})},
      {{"cover", Utc("2026-01-10T10:00:00Z"), Utc("2026-01-10T12:00:00Z")},
       {"swap", Utc("2026-01-06T12:00:00Z"), Utc("2026-01-06T13:00:00Z")}}));
  EXPECT_EQ(Who(s, Utc("2026-01-10T09:59:59Z")), "");
  ExpectHandoff(s, Utc("2026-01-10T10:00:00Z"), "", "cover");
  ExpectHandoff(s, Utc("2026-01-10T12:00:00Z"), "cover", "");
  ExpectHandoff(s, Utc("2026-01-06T12:00:00Z"), "a", "swap");
  ExpectHandoff(s, Utc("2026-01-06T13:00:00Z"), "swap", "a");
}

TEST(ScheduleOverrides, LastListedWinsWhereOverridesOverlap) {
  const LayerSpec base = Layer(RotationType::kDaily, 1, Local(2026, 1, 1, 0), {"base"});
  CompiledSchedule s =
      Compile(Spec("UTC", {base},
                   {{"o1", Utc("2026-01-05T10:00:00Z"), Utc("2026-01-05T14:00:00Z")},
                    {"o2", Utc("2026-01-05T12:00:00Z"), Utc("2026-01-05T16:00:00Z")},
                    {"outer", Utc("2026-01-06T00:00:00Z"), Utc("2026-01-07T00:00:00Z")},
                    {"inner", Utc("2026-01-06T10:00:00Z"), Utc("2026-01-06T11:00:00Z")}}));
  EXPECT_EQ(Who(s, Utc("2026-01-05T11:00:00Z")), "o1");
  EXPECT_EQ(Who(s, Utc("2026-01-05T13:00:00Z")), "o2");
  EXPECT_EQ(Who(s, Utc("2026-01-05T15:00:00Z")), "o2");
  ExpectHandoff(s, Utc("2026-01-05T16:00:00Z"), "o2", "base");
  ExpectHandoff(s, Utc("2026-01-06T10:00:00Z"), "outer", "inner");
  ExpectHandoff(s, Utc("2026-01-06T11:00:00Z"), "inner", "outer");  // back to the outer one

  // Listed the other way round, the earlier-starting one wins where they overlap.
  CompiledSchedule reversed =
      Compile(Spec("UTC", {base},
                   {{"o2", Utc("2026-01-05T12:00:00Z"), Utc("2026-01-05T16:00:00Z")},
                    {"o1", Utc("2026-01-05T10:00:00Z"), Utc("2026-01-05T14:00:00Z")}}));
  EXPECT_EQ(Who(reversed, Utc("2026-01-05T13:00:00Z")), "o1");
  ExpectHandoff(reversed, Utc("2026-01-05T14:00:00Z"), "o1", "o2");
}

// ---- timeline -----------------------------------------------------------------------------------

TEST(ScheduleTimelineTest, ReportsGapsAndMergesAdjacentShiftsOfOneUser) {
  // Weekday business hours only, started on Wednesday; overrides: one the same user as the
  // layer (merges), one on Saturday (fills part of the weekend gap).
  CompiledSchedule s =
      Compile(Spec("UTC",
                   {Layer(RotationType::kWeekly, 1, Local(2026, 1, 7, 9), {"a", "b"},
                          {{kWeekdays, 9 * 60, 17 * 60}})},
                   {{"a", Utc("2026-01-07T17:00:00Z"), Utc("2026-01-07T18:00:00Z")},
                    {"c", Utc("2026-01-10T10:00:00Z"), Utc("2026-01-10T11:00:00Z")}}));
  const TimePoint from = Utc("2026-01-05T00:00:00Z");  // Monday, before the layer starts
  const TimePoint to = Utc("2026-01-12T00:00:00Z");
  ScheduleTimeline tl = Timeline(s, from, to);
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{Utc("2026-01-07T09:00:00Z"), Utc("2026-01-07T18:00:00Z"), "a"},
                          Shift{Utc("2026-01-08T09:00:00Z"), Utc("2026-01-08T17:00:00Z"), "a"},
                          Shift{Utc("2026-01-09T09:00:00Z"), Utc("2026-01-09T17:00:00Z"), "a"},
                          Shift{Utc("2026-01-10T10:00:00Z"), Utc("2026-01-10T11:00:00Z"), "c"}));
  EXPECT_THAT(tl.gaps, ElementsAre(Gap{from, Utc("2026-01-07T09:00:00Z")},
                                   Gap{Utc("2026-01-07T18:00:00Z"), Utc("2026-01-08T09:00:00Z")},
                                   Gap{Utc("2026-01-08T17:00:00Z"), Utc("2026-01-09T09:00:00Z")},
                                   Gap{Utc("2026-01-09T17:00:00Z"), Utc("2026-01-10T10:00:00Z")},
                                   Gap{Utc("2026-01-10T11:00:00Z"), to}));
  ExpectTiles(tl, from, to);
}

TEST(ScheduleTimelineTest, MergesAcrossLayersAndClipsToTheRange) {
  CompiledSchedule s =
      Compile(Spec("UTC", {Layer(RotationType::kDaily, 1, Local(2026, 1, 1, 0), {"a"}),
                           Layer(RotationType::kDaily, 1, Local(2026, 1, 1, 0), {"a", "b"},
                                 {{kAllDays, 9 * 60, 17 * 60}})}));
  const TimePoint from = Utc("2026-01-01T12:34:56.789Z");
  const TimePoint to = Utc("2026-01-03T01:00:00Z");
  ScheduleTimeline tl = Timeline(s, from, to);
  EXPECT_THAT(tl.shifts,
              ElementsAre(Shift{from, Utc("2026-01-02T09:00:00Z"), "a"},
                          Shift{Utc("2026-01-02T09:00:00Z"), Utc("2026-01-02T17:00:00Z"), "b"},
                          Shift{Utc("2026-01-02T17:00:00Z"), to, "a"}));
  EXPECT_THAT(tl.gaps, IsEmpty());
  EXPECT_THAT(Timeline(s, to, from).shifts, IsEmpty());
  EXPECT_THAT(Timeline(s, to, to).gaps, IsEmpty());
}

// ---- iCalendar ----------------------------------------------------------------------------------

std::vector<std::string> Lines(const std::string& ics) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < ics.size()) {
    size_t end = ics.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "missing final CRLF";
    if (end == std::string::npos) break;
    lines.push_back(ics.substr(pos, end - pos));
    pos = end + 2;
  }
  return lines;
}

// Undoes RFC 5545 folding.
std::vector<std::string> Unfold(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (!line.empty() && line[0] == ' ' && !out.empty()) {
      out.back() += line.substr(1);
    } else {
      out.push_back(line);
    }
  }
  return out;
}

TEST(ScheduleICalendar, WritesOneEventPerShift) {
  ScheduleSpec spec = Spec("UTC", {});
  std::vector<Shift> shifts{
      {Utc("2026-03-08T07:00:00Z"), Utc("2026-03-09T06:30:00.500Z"), "alice"},
      {Utc("2026-03-09T06:30:00.500Z"), Utc("2026-03-10T06:30:00Z"), "bob"},
      {Utc("2026-03-10T06:30:00Z"), Utc("2026-03-10T06:30:00.900Z"), "alice"},  // < 1 s: dropped
  };
  std::string ics = ToICalendar(spec, shifts, "", Utc("2026-03-01T12:00:00.250Z"));
  EXPECT_EQ(ics.find('\n'), ics.find("\r\n") + 1);
  for (size_t i = 0; i < ics.size(); ++i) {
    if (ics[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(ics[i - 1], '\r') << "bare LF at " << i;
    }
  }
  std::vector<std::string> lines = Lines(ics);
  for (const std::string& line : lines) EXPECT_LE(line.size(), 75u) << line;
  EXPECT_THAT(
      lines,
      ElementsAre("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//houston//on-call schedule//EN",
                  "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:On call: Primary",
                  "BEGIN:VEVENT", "UID:primary-20260308T070000Z-alice@houston",
                  "DTSTAMP:20260301T120000Z", "DTSTART:20260308T070000Z", "DTEND:20260309T063000Z",
                  "SUMMARY:On call: Primary (alice)", "END:VEVENT", "BEGIN:VEVENT",
                  "UID:primary-20260309T063000Z-bob@houston", "DTSTAMP:20260301T120000Z",
                  "DTSTART:20260309T063000Z", "DTEND:20260310T063000Z",
                  "SUMMARY:On call: Primary (bob)", "END:VEVENT", "END:VCALENDAR"));
  // Same input, same UIDs.
  EXPECT_EQ(ics, ToICalendar(spec, shifts, "", Utc("2026-03-01T12:00:00.250Z")));
}

TEST(ScheduleICalendar, FiltersByUser) {
  std::vector<Shift> shifts{
      {Utc("2026-03-08T07:00:00Z"), Utc("2026-03-09T07:00:00Z"), "alice"},
      {Utc("2026-03-09T07:00:00Z"), Utc("2026-03-10T07:00:00Z"), "bob"},
      {Utc("2026-03-10T07:00:00Z"), Utc("2026-03-11T07:00:00Z"), "alice"},
  };
  std::vector<std::string> lines =
      Lines(ToICalendar(Spec("UTC", {}), shifts, "bob", Utc("2026-03-01T00:00:00Z")));
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "BEGIN:VEVENT"), 1);
  EXPECT_THAT(lines, ::testing::Contains("X-WR-CALNAME:On call: Primary (bob)"));
  EXPECT_THAT(lines, ::testing::Contains("SUMMARY:On call: Primary (bob)"));
  EXPECT_THAT(lines, Not(::testing::Contains("SUMMARY:On call: Primary (alice)")));
}

TEST(ScheduleICalendar, EscapesTextAndFoldsLongLines) {
  ScheduleSpec spec = Spec("UTC", {});
  // Commas, semicolons, backslashes, a line break, and enough UTF-8 (2-byte "é", 3-byte "€")
  // to force folds in the middle of multi-byte text.
  spec.name = "Payments, EU; night\\day\r\nsecond line ";
  for (int i = 0; i < 20; ++i) spec.name += "é€";
  std::vector<Shift> shifts{{Utc("2026-03-08T07:00:00Z"), Utc("2026-03-09T07:00:00Z"), "alice"}};
  std::string ics = ToICalendar(spec, shifts, "", Utc("2026-03-01T00:00:00Z"));
  std::vector<std::string> lines = Lines(ics);
  size_t continuation_lines = 0;
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 75u) << line;
    if (!line.empty() && line[0] == ' ') {
      ++continuation_lines;
      // A fold never splits a UTF-8 sequence: the continuation does not start with one.
      ASSERT_GT(line.size(), 1u);
      EXPECT_NE(static_cast<unsigned char>(line[1]) & 0xC0, 0x80) << line;
    }
  }
  EXPECT_GE(continuation_lines, 2u);
  std::string expected_name = "Payments\\, EU\\; night\\\\day\\nsecond line ";
  for (int i = 0; i < 20; ++i) expected_name += "é€";
  std::vector<std::string> unfolded = Unfold(lines);
  EXPECT_THAT(unfolded, ::testing::Contains("SUMMARY:On call: " + expected_name + " (alice)"));
  EXPECT_THAT(unfolded, ::testing::Contains("X-WR-CALNAME:On call: " + expected_name));
}

// ---- cross-check against a slow reference ------------------------------------------------------

// Who is on call, computed the slow, obvious way: handoffs walked one by one from the first,
// each converted with date/tz's own choose::earliest (which maps a skipped time to the end of
// the gap), every window occurrence listed day by day, overrides scanned from the last.
class ReferenceSchedule {
 public:
  ReferenceSchedule(const ScheduleSpec& spec, date::local_days first_day, date::local_days last_day)
      : spec_(spec) {
    for (const LayerSpec& layer : spec.layers) {
      RefLayer ref;
      const seconds unit = layer.rotation.type == RotationType::kHourly  ? seconds(3600)
                           : layer.rotation.type == RotationType::kDaily ? seconds(86400)
                                                                         : seconds(7 * 86400);
      ref.period = unit * layer.rotation.length;
      for (const DailyWindowSpec& w : layer.restrictions) {
        for (date::local_days day = first_day; day <= last_day; day += date::days(1)) {
          if ((w.days & DayBit(date::weekday(day))) == 0) continue;
          date::local_seconds start = day + minutes(w.start_minute);
          date::local_seconds end =
              day + minutes(w.end_minute) +
              (w.end_minute <= w.start_minute ? date::days(1) : date::days(0));
          ref.windows.emplace_back(spec.zone->to_sys(start, date::choose::earliest),
                                   spec.zone->to_sys(end, date::choose::earliest));
        }
      }
      layers_.push_back(std::move(ref));
    }
  }

  // Instants must be queried in non-decreasing order (handoffs are walked forward once).
  std::string WhoAt(TimePoint t) {
    for (size_t i = spec_.overrides.size(); i-- > 0;) {
      if (spec_.overrides[i].start <= t && t < spec_.overrides[i].end) {
        return spec_.overrides[i].user;
      }
    }
    std::string who;
    for (size_t i = 0; i < spec_.layers.size(); ++i) {
      const LayerSpec& layer = spec_.layers[i];
      RefLayer& ref = layers_[i];
      auto handoff = [&](int64_t k) -> TimePoint {
        return spec_.zone->to_sys(layer.start_local + k * ref.period, date::choose::earliest);
      };
      while (handoff(ref.k + 1) <= t) ++ref.k;
      if (ref.k < 0) continue;
      if (!layer.restrictions.empty()) {
        bool covered = false;
        for (const auto& [start, end] : ref.windows) covered = covered || (start <= t && t < end);
        if (!covered) continue;
      }
      who = layer.users[static_cast<size_t>(ref.k) % layer.users.size()];  // later layers win
    }
    return who;
  }

 private:
  struct RefLayer {
    seconds period{};
    int64_t k = -1;
    std::vector<std::pair<TimePoint, TimePoint>> windows;
  };
  const ScheduleSpec& spec_;
  std::vector<RefLayer> layers_;
};

TEST(ScheduleCrossCheck, FastLookupMatchesSlowReferenceOverAYear) {
  using date::literals::operator""_y;
  std::mt19937_64 rng(20260308);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const char* zones[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"};
  const TimePoint year_start = Utc("2026-01-01T00:00:00Z");
  const TimePoint year_end = Utc("2027-01-01T00:00:00Z");
  // Start times at the interesting local times (in or near gaps and overlaps) and elsewhere.
  const int start_minutes[] = {0, 60, 90, 105, 120, 135, 150, 540, 1410};
  int checked = 0;
  constexpr int kRounds = 80;
  for (int round = 0; round < kRounds; ++round) {
    const char* zone_name = zones[round % 4];
    SCOPED_TRACE(std::string(zone_name) + " round " + std::to_string(round));
    ScheduleSpec spec = Spec(zone_name, {});
    spec.zone = Zone(zone_name);
    const int layers = static_cast<int>(uniform(1, 3));
    for (int l = 0; l < layers; ++l) {
      LayerSpec layer;
      layer.rotation.type = static_cast<RotationType>(uniform(0, 2));
      layer.rotation.length = static_cast<int>(
          layer.rotation.type == RotationType::kHourly ? uniform(1, 13) : uniform(1, 3));
      layer.start_local = date::local_days{2025_y / 12 / 1} + date::days(uniform(0, 200)) +
                          minutes(start_minutes[uniform(0, 8)]);
      for (int u = 0, n = static_cast<int>(uniform(1, 5)); u < n; ++u) {
        layer.users.push_back("l" + std::to_string(l) + "u" + std::to_string(u));
      }
      for (int w = 0, n = static_cast<int>(uniform(0, 2)); w < n; ++w) {
        DailyWindowSpec window;
        window.days = static_cast<DayMask>(uniform(1, kAllDays));
        window.start_minute = static_cast<int>(uniform(0, 47)) * 30;
        do {
          window.end_minute = static_cast<int>(uniform(1, 48)) * 30;
        } while (window.end_minute == window.start_minute);
        layer.restrictions.push_back(window);
      }
      spec.layers.push_back(std::move(layer));
    }
    for (int o = 0, n = static_cast<int>(uniform(0, 30)); o < n; ++o) {
      TimePoint start = year_start + milliseconds(uniform(0, (year_end - year_start).count()));
      spec.overrides.push_back(
          {"o" + std::to_string(o), start, start + milliseconds(uniform(1, 3 * 86400000LL))});
    }
    CompiledSchedule fast = Compile(spec);

    // Random instants over the year, plus instants right around every DST change and every
    // handoff of the first layer.
    std::vector<TimePoint> instants;
    for (int i = 0; i < 1500; ++i) {
      instants.push_back(year_start + milliseconds(uniform(0, (year_end - year_start).count())));
    }
    for (date::sys_info info = spec.zone->get_info(year_start); info.end < year_end;
         info = spec.zone->get_info(info.end)) {
      for (int64_t delta_minutes : {-180, -90, -60, -31, -30, -1, 0, 1, 29, 30, 59, 60, 90, 180}) {
        instants.push_back(info.end + minutes(delta_minutes));
        instants.push_back(info.end + minutes(delta_minutes) - kMs);
      }
    }
    ScheduleTimeline tl = Timeline(fast, year_start, year_end);
    ExpectTiles(tl, year_start, year_end);
    for (size_t i = 0; i < tl.shifts.size() && i < 400; ++i) {
      instants.push_back(tl.shifts[i].start);
      instants.push_back(tl.shifts[i].start - kMs);
    }
    std::sort(instants.begin(), instants.end());

    ReferenceSchedule reference(spec, date::local_days{2025_y / 11 / 1},
                                date::local_days{2027_y / 2 / 1});
    for (TimePoint t : instants) {
      ASSERT_EQ(Who(fast, t), reference.WhoAt(t)) << FormatRfc3339(t);
      ++checked;
    }
    // The timeline agrees with the lookup at both ends of every piece.
    for (const Shift& shift : tl.shifts) {
      ASSERT_EQ(Who(fast, shift.start), shift.user) << FormatRfc3339(shift.start);
      ASSERT_EQ(Who(fast, shift.end - kMs), shift.user) << FormatRfc3339(shift.end - kMs);
    }
    for (const Gap& gap : tl.gaps) {
      ASSERT_EQ(Who(fast, gap.start), "") << FormatRfc3339(gap.start);
      ASSERT_EQ(Who(fast, gap.end - kMs), "") << FormatRfc3339(gap.end - kMs);
    }
  }
  EXPECT_GT(checked, kRounds * 1500);
}

// Systematically around every 2026 change of the three zones: rotations and restriction windows
// whose local times fall before, in and after the gap or overlap, compared minute by minute
// (and a millisecond before each minute) with the reference.
TEST(ScheduleCrossCheck, MatchesReferenceMinuteByMinuteAroundEveryChange) {
  using date::literals::operator""_y;
  int checked = 0;
  for (const char* zone_name : {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe"}) {
    const date::time_zone* zone = Zone(zone_name);
    for (date::sys_info info = zone->get_info(date::sys_days{2026_y / 1 / 1});
         info.end < date::sys_days{2027_y / 1 / 1}; info = zone->get_info(info.end)) {
      const TimePoint change = info.end;
      const date::local_days day = date::floor<date::days>(zone->to_local(change));
      for (int start_minute = 0; start_minute < 240; start_minute += 15) {
        SCOPED_TRACE(std::string(zone_name) + " " + FormatRfc3339(change) + " start minute " +
                     std::to_string(start_minute));
        ScheduleSpec spec =
            Spec(zone_name,
                 {Layer(RotationType::kDaily, 1, day - date::days(3) + minutes(start_minute),
                        {"d0", "d1", "d2"}),
                  Layer(RotationType::kHourly, 1, day - date::days(1) + minutes(start_minute),
                        {"h0", "h1", "h2", "h3", "h4"},
                        {{kAllDays, (start_minute + 30) % 1440, (start_minute + 75) % 1440},
                         {kAllDays, (start_minute + 120) % 1440, (start_minute + 135) % 1440}}),
                  Layer(RotationType::kHourly, 2, day - date::days(2) + minutes(start_minute + 5),
                        {"x0", "x1"}, {{kAllDays, start_minute, (start_minute + 20) % 1440}})});
        spec.zone = zone;
        CompiledSchedule fast = Compile(spec);
        ReferenceSchedule reference(spec, day - date::days(5), day + date::days(5));
        for (TimePoint t = change - hours(6); t < change + hours(6); t += minutes(1)) {
          ASSERT_EQ(Who(fast, t - kMs), reference.WhoAt(t - kMs)) << FormatRfc3339(t - kMs);
          ASSERT_EQ(Who(fast, t), reference.WhoAt(t)) << FormatRfc3339(t);
          checked += 2;
        }
        const ScheduleTimeline tl = Timeline(fast, change - hours(6), change + hours(6));
        ExpectTiles(tl, change - hours(6), change + hours(6));
        for (const Shift& shift : tl.shifts) {
          ASSERT_EQ(Who(fast, shift.start), shift.user) << FormatRfc3339(shift.start);
          ASSERT_EQ(Who(fast, shift.end - kMs), shift.user) << FormatRfc3339(shift.end - kMs);
        }
      }
    }
  }
  EXPECT_EQ(checked, 3 * 2 * 16 * 720 * 2);
}

// Many overrides: the flattened segments agree with a linear scan.
TEST(ScheduleCrossCheck, ThousandOverridesMatchLinearScan) {
  std::mt19937_64 rng(42);
  const TimePoint base = Utc("2026-01-01T00:00:00Z");
  std::vector<OverrideSpec> overrides;
  for (int i = 0; i < 1000; ++i) {
    TimePoint start = base + minutes(std::uniform_int_distribution<int>(0, 60 * 24 * 90)(rng));
    overrides.push_back({"o" + std::to_string(i % 37), start,
                         start + minutes(std::uniform_int_distribution<int>(1, 60 * 24 * 5)(rng))});
  }
  CompiledSchedule s = Compile(
      Spec("UTC", {Layer(RotationType::kDaily, 1, Local(2026, 1, 1, 0), {"base"})}, overrides));
  for (int i = 0; i < 20000; ++i) {
    TimePoint t = base + minutes(std::uniform_int_distribution<int>(-60, 60 * 24 * 100)(rng));
    std::string expected = t >= base ? "base" : "";
    for (size_t j = overrides.size(); j-- > 0;) {
      if (overrides[j].start <= t && t < overrides[j].end) {
        expected = overrides[j].user;
        break;
      }
    }
    ASSERT_EQ(Who(s, t), expected) << FormatRfc3339(t);
  }
}

}  // namespace
}  // namespace houston::core
