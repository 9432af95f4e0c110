// Analytics: how incidents are answered (counts and response times per group and per interval),
// how the on-call load is spread, how noisy alerting is, the week as a head of SRE reads it on
// Monday, and a responder's record. AnalyticsService owns the formulas and the calendars (time
// buckets and people's time zones, from the tz database); the counting is done by SQL aggregates
// behind store::AnalyticsStore, so nothing here holds one row per incident, alert or page.
//
// The formulas (docs/analytics.md has the same, for users):
//   - An incident counts in a range when it was detected (detected_at, else created_at) in
//     [from, to). An incident merged into another (merged_into != 0) does not count: its alerts
//     count in the target. A reopened incident is one incident and counts once: its
//     first acknowledgement (first_acknowledged_at keeps it when a reopen or an ack timeout
//     clears acknowledged_at) and its final resolution.
//   - TTA (time to acknowledge) = first acknowledgement - detected; TTM (time to mitigate) =
//     mitigated_at - detected, or resolved_at - detected for an incident resolved without being
//     marked mitigated (mitigation happened at the latest when it was resolved); TTR (time to
//     resolve) = resolved_at - detected. Each statistic is over the incidents that have the
//     timestamp (an open incident has no TTR yet). Seconds; mean, and nearest-rank p50 and p90
//     (the value at rank ceil(p/100 * n) of the n sorted values).
//   - group_by=severity puts incidents without a SEV (untriaged pages) under "untriaged";
//     group_by=team uses the primary service's owning team (config::Service::team), "none" when
//     it has none.
//   - A page is one (incident, round, loop, step) notification to one person, however many
//     contact methods it went out through; it is counted when its first notification was created.
//     Out of hours: outside 08:00-18:00 Monday to Friday in the person's own time zone; at night:
//     22:00-07:00 there (a night page is also out of hours).
//   - Hours on call: the union of a person's shifts over every schedule in [from, to) (overlaps
//     counted once), from the compiled schedules (with their overrides).
//   - Incidents handled: acknowledged by the person (signed in) in [from, to), or with a role or
//     as a responder on an incident detected in [from, to).
//   - The spread of pages across the people listed: min, max, mean and standard deviation
//     (population), and the busiest person's share of all pages.
// Thread-safe: every method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/schedule.h"
#include "core/status.h"
#include "store/analytics_store.h"

namespace houston::learning {

enum class Interval { kNone, kDay, kWeek, kMonth };
std::optional<Interval> ParseInterval(std::string_view s);               // "day", "week", "month"
std::optional<store::IncidentGroupBy> ParseGroupBy(std::string_view s);  // service|team|severity
std::string_view ToString(store::IncidentGroupBy g);
std::string_view ToString(Interval i);

// The longest range a query may cover.
inline constexpr std::chrono::hours kMaxRange{400 * 24};

// An instant in a query: RFC 3339, or a date YYYY-MM-DD (its midnight in `zone`). InvalidArgument
// naming `field` otherwise.
Result<TimePoint> ParseInstant(std::string_view text, const date::time_zone* zone,
                               std::string_view field);

// One time bucket: [start, end), and the local date it starts on (YYYY-MM-DD in the zone).
struct Bucket {
  TimePoint start{};
  TimePoint end{};
  std::string label;
};
// The buckets of [from, to): calendar days, ISO weeks (Monday) or months starting at local
// midnight in `zone` (so a DST day is 23 or 25 hours long), the first and last cut to the range;
// kNone: the whole range as one bucket. At most store::AnalyticsStore::kMaxBuckets.
std::vector<Bucket> Buckets(TimePoint from, TimePoint to, Interval interval,
                            const date::time_zone* zone);

struct IncidentAnalyticsQuery {
  TimePoint from{}, to{};
  store::IncidentGroupBy group_by = store::IncidentGroupBy::kService;
  Interval interval = Interval::kNone;
  const date::time_zone* zone = nullptr;  // nullptr: UTC
  std::string team;                       // "" = every service; else the team's services
};
struct IncidentAnalytics {
  std::vector<Bucket> buckets;
  std::vector<store::IncidentStatsRow> rows;  // row.bucket indexes `buckets`
};

struct PersonLoad {
  std::string user;
  std::string timezone;
  int64_t pages = 0;
  int64_t out_of_hours = 0;
  int64_t night = 0;
  double hours_on_call = 0;
  int64_t acknowledged = 0;
  int64_t incidents_handled = 0;
};
struct LoadSpread {
  int people = 0;
  int64_t total_pages = 0;
  int64_t min = 0, max = 0;
  double mean = 0, stddev = 0;
  double busiest_share = 0;  // max / total (0 when there are no pages)
  std::string busiest;       // who has `max` ("" when there are no pages)
};
struct OncallLoad {
  std::vector<PersonLoad> people;  // the team's members (or every user), by id
  LoadSpread spread;
};

struct WeeklyReport {
  std::string week;  // the Monday, YYYY-MM-DD
  TimePoint from{}, to{};
  std::string team;
  std::vector<store::IncidentStatsRow> by_severity;               // one bucket
  std::vector<store::SlowIncident> slowest_ack, slowest_resolve;  // top 5 each
  int64_t overdue_action_items_total = 0;
  std::vector<store::OverdueActionItem> overdue_action_items;
  int64_t overdue_postmortems_total = 0;
  std::vector<store::OverduePostmortem> overdue_postmortems;
  std::vector<PersonLoad> night_pages;  // people with night pages, most first
};

// Who is on call for a schedule: the compiled schedule (with API overrides), or nullptr, then
// the org's schedule is compiled here.
using ScheduleLookup =
    std::function<const core::CompiledSchedule*(const config::Org&, const std::string&)>;

// Thread-safe.
class AnalyticsService {
 public:
  AnalyticsService(store::AnalyticsStore& store, Clock& clock, ScheduleLookup schedules = {})
      : store_(store), clock_(clock), schedules_(std::move(schedules)) {}

  Result<IncidentAnalytics> Incidents(const config::Org& org, const IncidentAnalyticsQuery& q);
  // `team` "" = every user of the org. Pages of people not in the org are left out.
  Result<OncallLoad> Load(const config::Org& org, TimePoint from, TimePoint to,
                          const std::string& team);
  Result<store::NoiseReport> Noise(const store::NoiseQuery& q);
  // The ISO week (Monday to Monday in `zone`) that contains `day` (YYYY-MM-DD); nullopt: the last
  // full week before now.
  Result<WeeklyReport> Weekly(const config::Org& org, const std::string& team,
                              std::optional<std::string> day, const date::time_zone* zone);
  Result<store::ResponderRecord> Record(const std::string& user, TimePoint from, TimePoint to);

 private:
  store::AnalyticsStore& store_;
  Clock& clock_;
  ScheduleLookup schedules_;
};

// The services the team owns (config::Service::team).
std::vector<std::string> TeamServices(const config::Org& org, const std::string& team);

}  // namespace houston::learning
