// ScheduleBook: the org's schedules compiled once per org snapshot, for fast who-is-on-call.
#pragma once

#include <map>
#include <memory>
#include <string>
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
