// On-call schedules: who is on call at an instant, the final timeline of shifts over a range,
// and its iCalendar export. Pure logic over value types; no I/O, no clock reads.
//
// This module owns the meaning of a schedule (layers, rotations, restrictions, overrides) and
// how it behaves across daylight-saving changes. It knows nothing about org.yaml: config/
// converts its parsed schedules into a ScheduleSpec (config/schedule_convert.h).
//
// Semantics
// ---------
// Local time means wall-clock time in the schedule's zone (the tz database via date/tz).
// Every local time that matters (a handoff, the start or end of a restriction window) becomes an
// instant by one rule, ToUtc:
//   * a local time that exists once is that instant;
//   * a local time skipped by a DST gap ("02:30" on a spring-forward night) becomes the instant
//     the gap ends (the first valid local time after it, "03:00" new time);
//   * a local time that occurs twice in a DST overlap ("01:30" on a fall-back night) becomes its
//     first (earlier) occurrence.
// ToUtc never decreases as the local time increases, so the shifts of a layer never overlap and
// never leave holes, whatever the zone does.
//
// Layers. Handoff k (k = 0, 1, ...) of a layer happens at ToUtc(start_local + k * length * unit),
// unit = 1 hour, 1 day or 7 days of local wall-clock time. From handoff k until handoff k+1 the
// layer's user is users[k % users.size()]; before handoff 0 the layer has nobody. Consequences:
//   * daily/weekly: the handoff stays at the same wall-clock time ("09:00") across DST; the
//     shift spanning the change is shorter or longer in real time (by 1 hour; by 30 minutes at
//     Australia/Lord_Howe). Calendar arithmetic is local, so leap days are just days.
//   * a handoff at a skipped local time happens when the gap ends; one at a repeated local time
//     happens at its first occurrence.
//   * hourly: rotations count wall-clock hours. In a gap, every handoff whose local time is
//     skipped happens when the gap ends; when the next handoff happens at that same instant,
//     the shift in between has zero length: that user's turn is skipped this time (the order is
//     not shifted; the next user takes over as usual). In an overlap, the handoff at a repeated
//     local time happens at its first occurrence and the next one at the next wall-clock handoff
//     after the repeat, so the shift that covers the repeated time lasts longer in real time
//     (e.g. New York, 2026-11-01, 1-hour shifts: the 01:00 shift lasts from 01:00 EDT to
//     02:00 EST, two real hours). No instant is covered twice and none is left out.
// Restrictions. A layer with restrictions covers only its windows; outside them it has nobody at
// that instant (the rotation is not shifted: the user is whoever the rotation says). A window
// with days D, start S and end E is, for each local day d whose weekday is in D, the real-time
// interval [ToUtc(d + S), ToUtc(d + E)), where E is on the next day when E <= S (overnight).
// So a window keeps its wall-clock times across DST; a window whose start is skipped starts when
// the gap ends; in an overlap a window covers from the first occurrence of its start to the first
// occurrence of its end. This equals "the local time is inside the window" everywhere except in
// a repeated hour, where it keeps the window one contiguous interval instead of switching off
// and on again (e.g. 00:00-01:30 on a New York fall-back night ends at the first 01:30).
// A layer may end: from ToUtc(end_local) on it has nobody. A rotation turn may be empty (an
// empty user id in `users`, "nobody" in org.yaml): during that turn the layer has nobody, so an
// earlier layer shows through (Opsgenie's `none` participant).
// Layer order. A later layer wins over an earlier one where it has someone; where the later one
// has nobody (not started, or outside its restrictions) the earlier one shows through.
// Overrides. During [start, end) an override's user is on call, on top of every layer; where
// overrides overlap, the one listed last wins.
//
// Time zone data comes from the system tz database through date/tz. Its loader does not read
// the POSIX rule at the end of the zoneinfo files, so for instants after the last listed
// transition (2037 with Debian's tzdata) the zone's last offset applies all year.
#pragma once

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace houston::core {

enum class RotationType { kHourly, kDaily, kWeekly };
// "hourly", "daily", "weekly".
std::string_view ToString(RotationType t);

struct RotationSpec {
  RotationType type = RotationType::kWeekly;
  int length = 1;  // hand off every `length` hours/days/weeks of wall-clock time; >= 1
};

// A set of weekdays: bit 0 is Monday ... bit 6 is Sunday.
using DayMask = std::uint8_t;
inline constexpr DayMask kAllDays = 0x7f;
constexpr DayMask DayBit(date::weekday day) {
  return static_cast<DayMask>(1u << (day.iso_encoding() - 1));
}

// A recurring daily window in local time, in minutes since local midnight.
// start_minute in [0, 1440), end_minute in (0, 1440] (1440 = 24:00), start != end. When
// end_minute <= start_minute the window runs past midnight and ends on the next day; `days` are
// the days the window starts on.
struct DailyWindowSpec {
  DayMask days = kAllDays;  // non-empty subset of kAllDays
  int start_minute = 0;
  int end_minute = 24 * 60;
};

struct LayerSpec {
  std::string name;
  date::local_seconds start_local{};  // handoff 0, local time in the schedule's zone
  RotationSpec rotation;
  // Rotation order, with at least one user; a user may repeat; "" is an empty turn (nobody).
  std::vector<std::string> users;
  // When set (> start_local): the layer has nobody from this local time on.
  std::optional<date::local_seconds> end_local;
  // Empty: the layer covers all the time. Otherwise it covers only the union of the windows.
  std::vector<DailyWindowSpec> restrictions;
};

struct OverrideSpec {
  std::string user;  // non-empty
  TimePoint start{};
  TimePoint end{};  // > start
};

struct ScheduleSpec {
  std::string id;
  std::string name;  // for people (iCalendar summaries); empty: the id
  std::string timezone = "UTC";
  // The resolved `timezone`. Not owned (the tz database lives for the whole process). When null,
  // CompiledSchedule::Create resolves `timezone`.
  const date::time_zone* zone = nullptr;
  std::vector<LayerSpec> layers;  // later layers win where they have someone
  std::vector<OverrideSpec> overrides;
};

// Resolves a tz database name ("America/New_York"). Returns InvalidArgument for an unknown name.
// date::locate_zone throws on unknown names; this is the adapter that catches.
Result<const date::time_zone*> LocateTimeZone(std::string_view name);

// Checks what the semantics above rely on; every problem is one line of details().
// Returns InvalidArgument ("schedule 'ID' is invalid: N problem(s)") when:
// the zone is null, a layer has no users (only empty turns count as none), ends at or before its
// start, a rotation length is < 1, a window
// has no days, days outside kAllDays or minutes out of range, or an override has an empty user
// or end <= start.
Status ValidateScheduleSpec(const ScheduleSpec& spec);

// One stretch of time with one user on call. [start, end), start < end.
struct Shift {
  TimePoint start{};
  TimePoint end{};
  std::string user;

  friend bool operator==(const Shift&, const Shift&) = default;
};

// A stretch of time with nobody on call. [start, end), start < end.
struct Gap {
  TimePoint start{};
  TimePoint end{};

  friend bool operator==(const Gap&, const Gap&) = default;
};

// The final on-call picture over a range: shifts (sorted, adjacent shifts of the same user
// merged) and the gaps between them; together they tile the range exactly.
struct ScheduleTimeline {
  std::vector<Shift> shifts;
  std::vector<Gap> gaps;
};

// A validated schedule prepared for fast lookups: overrides are flattened into sorted,
// non-overlapping segments (O(log n) lookup) and each layer's handoff index is computed by
// arithmetic in local time, never by walking past handoffs.
// Immutable after Create; thread-safe for concurrent use.
class CompiledSchedule {
 public:
  // Validates `spec` (as ValidateScheduleSpec) and resolves its zone when `spec.zone` is null.
  // Returns InvalidArgument for an invalid spec or an unknown zone.
  static Result<CompiledSchedule> Create(ScheduleSpec spec);

  const ScheduleSpec& spec() const { return spec_; }

 private:
  friend std::vector<std::string> OnCallAt(const CompiledSchedule& schedule, TimePoint t);
  friend ScheduleTimeline Timeline(const CompiledSchedule& schedule, TimePoint from, TimePoint to);

  // A restriction window relative to the local midnight of the day it starts on.
  struct Window {
    DayMask days = 0;
    std::chrono::seconds start{};
    std::chrono::seconds end{};  // > start; beyond 24h for overnight windows
  };
  struct Layer {
    std::chrono::seconds period{};  // length * unit
    TimePoint first_handoff{};      // ToUtc(start_local)
    std::optional<TimePoint> end;   // ToUtc(end_local)
    std::vector<Window> windows;
  };

  CompiledSchedule() = default;
  // The user on call at `t`, or nullptr. Points into spec_.
  const std::string* WhoAt(TimePoint t) const;

  ScheduleSpec spec_;
  std::vector<Layer> layers_;
  // Overrides flattened: from override_starts_[i] until override_starts_[i+1] (or forever), the
  // winning override is spec_.overrides[override_winner_[i]] (-1: none). Sorted, and adjacent
  // segments have different winners.
  std::vector<TimePoint> override_starts_;
  std::vector<std::int32_t> override_winner_;
};

// The users on call at `t`: empty when nobody is, else (today) exactly one. A vector so that a
// future "several on call at once" needs no API change. Cost: O(log overrides + layers *
// windows), a few hundred nanoseconds; instants must lie between the years 0001 and 9999.
std::vector<std::string> OnCallAt(const CompiledSchedule& schedule, TimePoint t);

// The final timeline over [from, to): who is on call when, merged and clipped to the range, and
// the gaps where nobody is (a readiness problem the API reports). from >= to gives an empty
// timeline. Cost is proportional to the number of handoffs, window edges and overrides in the
// range; callers bound the range (an hourly rotation gives 8,760 handoffs a year).
ScheduleTimeline Timeline(const CompiledSchedule& schedule, TimePoint from, TimePoint to);

// An RFC 5545 calendar (CRLF line endings, lines folded at 75 octets, TEXT values escaped) with
// one VEVENT per shift: UID "<schedule id>-<start, UTC basic format>-<user>@houston" (stable for
// a shift as long as the shift and the range it was cut from do not change), DTSTAMP `now`,
// DTSTART/DTEND in UTC ("...Z", whole seconds, truncated), SUMMARY "On call: <schedule name>
// (<user>)". `user_filter` non-empty keeps only that user's shifts (and names the calendar after
// them). Shifts shorter than a second after truncation are left out (DTEND must follow DTSTART).
std::string ToICalendar(const ScheduleSpec& spec, std::span<const Shift> shifts,
                        std::string_view user_filter, TimePoint now);

}  // namespace houston::core
