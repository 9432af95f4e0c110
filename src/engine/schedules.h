// ScheduleBook: the org's schedules compiled once per org snapshot, for fast who-is-on-call.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/schedule.h"

namespace houston::engine {

// Immutable; thread-safe.
class ScheduleBook {
 public:
  // Compiles every schedule of `org` (already validated, so compiling cannot fail; a schedule
  // that does anyway is left out and logged).
  static std::shared_ptr<const ScheduleBook> Build(const config::Org& org);
  // NotFound for an unknown schedule.
  Result<std::vector<std::string>> OnCall(const std::string& schedule_id, TimePoint t) const;
  const core::CompiledSchedule* Find(const std::string& schedule_id) const;

 private:
  std::map<std::string, core::CompiledSchedule, std::less<>> schedules_;
};

// An org together with its compiled schedules: what the server swaps on reload.
struct OrgRuntime {
  config::Org org;
  std::shared_ptr<const ScheduleBook> schedules;
};
std::shared_ptr<const OrgRuntime> MakeOrgRuntime(config::Org org);

}  // namespace houston::engine
