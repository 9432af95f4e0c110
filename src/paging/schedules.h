// ScheduleBook: the org's schedules compiled once per org snapshot, for fast who-is-on-call.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/schedule.h"
#include "store/store.h"

namespace houston::paging {

// Immutable; thread-safe.
class ScheduleBook {
 public:
  // Compiles every schedule of `org` (already validated, so compiling cannot fail; a schedule
  // that does anyway is left out and logged), with the active API overrides on top of the
  // org.yaml ones (later ones win, so an API override beats the file).
  static std::shared_ptr<const ScheduleBook> Build(
      const config::Org& org, const std::vector<store::ScheduleOverride>& api_overrides = {});
  // NotFound for an unknown schedule.
  Result<std::vector<std::string>> OnCall(const std::string& schedule_id, TimePoint t) const;
  const core::CompiledSchedule* Find(const std::string& schedule_id) const;

 private:
  std::map<std::string, core::CompiledSchedule, std::less<>> schedules_;
};

// Where the on-call of a stretch of time comes from.
enum class ShiftSource { kLayer, kOverride, kGap };
// "layer", "override", "gap".
std::string_view ToString(ShiftSource s);

// A stretch [start, end) of a schedule's final timeline with one user on call (empty: nobody, a
// gap) from one source: the layer named `layer`, or an override (API or org.yaml; an override
// wins over every layer, so its user is the one on call).
struct ExplainedShift {
  TimePoint start{};
  TimePoint end{};
  std::string user;
  ShiftSource source = ShiftSource::kGap;
  std::string layer;  // the winning layer's name when source is kLayer, else ""

  friend bool operator==(const ExplainedShift&, const ExplainedShift&) = default;
};

// The final timeline over [from, to) (core::Timeline), cut wherever the user or the source
// changes: where core::Timeline merges an override into the adjacent layer shift of the same
// user, this keeps them apart. Sorted; consecutive pieces tile the range; adjacent pieces differ
// in user, source or layer. Empty when from >= to. Cost: one timeline per layer over the range.
std::vector<ExplainedShift> ExplainTimeline(const core::CompiledSchedule& schedule, TimePoint from,
                                            TimePoint to);

// Who is on call at an instant, until when, and who comes next.
struct OnCallSpan {
  // At `at`: the users (empty: nobody), where that comes from, and when that person's (or the
  // gap's) stretch ends; nullopt when it does not end within a year.
  std::vector<std::string> users;
  ShiftSource source = ShiftSource::kGap;
  std::string layer;
  std::optional<TimePoint> until;
  // The stretch after that one (its users empty when it is a gap): nullopt when `until` is.
  struct Next {
    std::vector<std::string> users;
    TimePoint start{};
    std::optional<TimePoint> until;  // nullopt: does not end within the year
  };
  std::optional<Next> next;
};

// The on-call around `at`, looking ahead at most 366 days (a week first, further only when the
// answer needs it).
OnCallSpan OnCallAround(const core::CompiledSchedule& schedule, TimePoint at);

// The users an escalation target reaches at an instant: a user itself, a team's members, a
// schedule's on-call as `on_call(schedule id)` answers it. An unknown team reaches nobody.
// Mirrors whom the escalation engine pages (paging/escalation_engine.cc).
std::vector<std::string> TargetUsers(
    const config::Org& org, const config::EscalationTarget& target,
    const std::function<std::vector<std::string>(const std::string&)>& on_call);

// An org together with its compiled schedules: what the server swaps on reload and whenever an
// override changes.
struct OrgRuntime {
  std::shared_ptr<const config::Org> org;
  std::shared_ptr<const ScheduleBook> schedules;
};
std::shared_ptr<const OrgRuntime> MakeOrgRuntime(
    std::shared_ptr<const config::Org> org,
    const std::vector<store::ScheduleOverride>& api_overrides = {});

}  // namespace houston::paging
