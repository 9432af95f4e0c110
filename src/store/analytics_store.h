// AnalyticsStore: the store as the learning domain's analytics (learning::AnalyticsService) reads
// it: incident response times per group and time bucket, pages per person, incidents handled,
// alert noise, the weekly report's lists and a responder's record. Store inherits it; the SQL
// store implements it once for SQLite and PostgreSQL (store/sql/analytics.cc).
//
// Every read returns a bounded number of rows: never one row per incident, alert or page. Most
// are computed by SQL aggregates; where an aggregate would sort again what an index already
// orders, or sort the same rows several times, the SQL store folds the rows as they stream
// instead (the incident statistics from one index-only range scan, the pages per quarter hour
// from one ordered index pass, the distinct incidents handled per person, one person's record),
// and alert noise reads daily roll-ups. Time buckets and time zones are the caller's: it passes
// bucket edges as instants (computed with the tz database), so the store never needs to know
// about calendars. Durations are in seconds; percentiles are nearest-rank (the value at rank
// ceil(p/100 * n) of the n sorted values).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace houston::store {

// Count, mean and nearest-rank p50/p90 of a set of durations (seconds); unset when n == 0.
struct DurationStats {
  int64_t n = 0;
  std::optional<double> mean, p50, p90;
};

enum class IncidentGroupBy { kService, kTeam, kSeverity };

// Which incidents count: detected (detected_at, else created_at) in a bucket, not merged into
// another incident (merged_into = 0), and (when `services` is not empty) with one of them as
// primary service.
struct IncidentStatsQuery {
  // Bucket edges, sorted ascending, at least 2: bucket i is [edges[i], edges[i+1]).
  std::vector<TimePoint> edges;
  IncidentGroupBy group_by = IncidentGroupBy::kService;
  // kTeam: the primary service's owning team; services not listed (or with no team) are "none".
  std::map<std::string, std::string> service_team;
  std::vector<std::string> services;  // empty: every service
};

// One (bucket, group) with at least one incident. The group is the primary service id, the team
// id ("none"), or the SEV level ("untriaged" for an incident without one).
//   TTA = COALESCE(first_acknowledged_at, acknowledged_at) - detected (the first ack); TTM =
//   COALESCE(mitigated_at, resolved_at) - detected; TTR = resolved_at - detected; each over the
//   incidents that have that timestamp.
struct IncidentStatsRow {
  int bucket = 0;
  std::string group;
  int64_t count = 0;
  DurationStats tta, ttm, ttr;
};

// The incidents with the longest time to acknowledge (or resolve), for the weekly report.
struct SlowIncident {
  int64_t id = 0;
  std::string title;
  std::string service_id;
  std::string sev;
  double seconds = 0;
};
enum class SlowBy { kAcknowledge, kResolve };

// Pages to one person whose first notification falls in one quarter of an hour (UTC-aligned:
// every tz offset in use is a multiple of 15 minutes, so the slot lies in one local hour).
// A page is one (incident, round, loop, step) per user, whatever the number of contact methods
// and rules it went out through; its time is that of its first notification (the SQL store keeps
// one row per page, written with the notifications).
struct PageSlot {
  std::string user_id;
  TimePoint slot{};
  int64_t pages = 0;
};

// Incidents a person handled in a range: acknowledged by them (audit incident.acknowledged by a
// signed-in user, at in range), or holding a role or being a responder on an incident detected
// in range (not merged).
struct HandledCount {
  std::string user_id;
  int64_t acknowledged = 0;
  int64_t handled = 0;  // distinct incidents, either way
};

struct KeyCount {
  std::string key;
  int64_t count = 0;
};

struct NoiseQuery {
  TimePoint from{}, to{};
  // A re-trigger within this long of the previous resolution of the same (integration key,
  // dedup key) is a flap. At most kMaxFlapWindow.
  std::chrono::minutes flap_window{60};
  int top = 10;
};

// Alert noise in a range. Alerts count by created_at in [from, to); incidents as in
// IncidentStatsQuery (and only those with at least one alert). A flap is an alert whose key's
// previous alert (by id) was resolved at most flap_window before it was created.
struct NoiseReport {
  int64_t incidents = 0;
  DurationStats alerts_per_incident;  // counts, not seconds
  int64_t alerts = 0;
  int64_t never_acknowledged = 0;          // resolved without ever being acknowledged
  int64_t open = 0;                        // not resolved yet
  int64_t flaps = 0;                       // re-triggers within the window
  int64_t flapping_keys = 0;               // (integration key, dedup key) pairs with at least one
  std::vector<KeyCount> top_sources;       // by alert count, at most `top`
  std::vector<KeyCount> top_integrations;  // integration keys (secrets: callers may mask them)
  std::vector<KeyCount> top_flapping;      // "integration_key/dedup_key" by flaps
};

struct OverdueActionItem {
  int64_t id = 0;
  int64_t incident_id = 0;
  std::string title;
  std::string owner;
  std::string due;
  std::string status;
  TimePoint overdue_at{};
};

struct OverduePostmortem {
  int64_t incident_id = 0;
  std::string title;
  std::string owner;
  std::string status;
  TimePoint due_at{};
};

// A person's record over [from, to).
struct ResponderRecord {
  int64_t incidents_handled = 0;         // as HandledCount::handled
  std::map<std::string, int64_t> roles;  // role id -> incidents detected in range holding it
  int64_t responder_on = 0;              // incidents detected in range listing them as responder
  int64_t pages_received = 0;            // pages (as PageSlot) sent in range
  // Pages answered: incidents they acknowledged in range after being paged for them; the time
  // is from the first page to them for that incident to their acknowledgement.
  DurationStats pages_answered;
  int64_t postmortems_published = 0;  // owner, status published, published_at in range
  int64_t action_items_closed = 0;    // owner, status done, closed_at in range
};

// Thread-safe: every method may be called from any thread. Reads only; each is one or a few SQL
// statements on a read connection.
class AnalyticsStore {
 public:
  virtual ~AnalyticsStore() = default;

  // InvalidArgument for fewer than 2 edges or more than kMaxBuckets buckets.
  static constexpr int kMaxBuckets = 1024;
  virtual Result<std::vector<IncidentStatsRow>> IncidentStats(const IncidentStatsQuery& q) = 0;
  // The `limit` slowest incidents detected in [from, to) (as IncidentStats counts them).
  virtual Result<std::vector<SlowIncident>> SlowestIncidents(
      TimePoint from, TimePoint to, SlowBy by, const std::vector<std::string>& services,
      int limit) = 0;
  // Calls `fn` for each (user, slot) with pages (by their first notification) in [from, to),
  // ordered by user then slot.
  virtual Status ForEachPageSlot(TimePoint from, TimePoint to,
                                 const std::function<void(const PageSlot&)>& fn) = 0;
  // For each of `users` (those with nothing are left out).
  virtual Result<std::vector<HandledCount>> IncidentsHandled(
      TimePoint from, TimePoint to, const std::vector<std::string>& users) = 0;
  // The longest flap window Noise accepts (InvalidArgument beyond).
  static constexpr std::chrono::minutes kMaxFlapWindow{24 * 60};
  virtual Result<NoiseReport> Noise(const NoiseQuery& q) = 0;
  // Alerts are folded into daily roll-ups (per integration key and per source, flaps, and the
  // still-open ones to settle when they resolve), in id order, by a background pass
  // (learning::NoiseRollUp) calling this: it folds up to `max_alerts` alerts created before
  // `now - kNoiseRollUpLag` and settles the folded alerts resolved since, in one write
  // transaction, and answers how many alerts it folded (fewer than `max_alerts`: caught up).
  // Noise answers the same with or without roll-ups (it reads the alerts not folded yet from
  // the alerts table); they only make it fast. Safe to run from several servers at once (each
  // pass holds the roll-up's row lock; a pass that lost the race does nothing).
  static constexpr std::chrono::minutes kNoiseRollUpLag{10};
  virtual void RollUpNoise(TimePoint now, int max_alerts,
                           std::function<void(Result<int64_t>)> done) = 0;
  // Open or in-progress action items overdue at `now` (their incident's primary service in
  // `services` when not empty), most overdue first; and how many there are in all.
  virtual Result<std::pair<int64_t, std::vector<OverdueActionItem>>> OverdueActionItems(
      TimePoint now, const std::vector<std::string>& services, int limit) = 0;
  // Unpublished postmortems whose due time is before `now`, most overdue first; and how many.
  virtual Result<std::pair<int64_t, std::vector<OverduePostmortem>>> OverduePostmortems(
      TimePoint now, const std::vector<std::string>& services, int limit) = 0;
  virtual Result<ResponderRecord> RecordOf(const std::string& user, TimePoint from,
                                           TimePoint to) = 0;
};

}  // namespace houston::store
