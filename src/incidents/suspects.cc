#include "incidents/suspects.h"

namespace houston::incidents {

Result<std::vector<core::SuspectChange>> FindSuspects(store::AlertStore& store,
                                                      const config::Org& org,
                                                      const core::Incident& incident,
                                                      size_t limit) {
  std::map<std::string, std::vector<std::string>> depends_on;
  for (const auto& s : org.services) depends_on[s.id] = s.depends_on;
  std::vector<std::string> affected =
      incident.services.empty() ? std::vector<std::string>{incident.service_id} : incident.services;
  auto reach = core::ReachableServices(affected, depends_on);
  core::SuspectOptions options;
  options.lookback = std::chrono::hours(config::SettingsOf(org).suspect_lookback_hours);
  options.limit = limit;
  TimePoint start = incident.impact_started_at.value_or(incident.created_at);
  std::vector<core::Change> changes;
  for (const auto& [service, hop] : reach) {
    store::ChangeFilter f;
    f.service_id = service;
    f.since = start - options.lookback;
    f.limit = 1000;
    HOUSTON_ASSIGN_OR_RETURN(auto some, store.ListChanges(f));
    changes.insert(changes.end(), some.begin(), some.end());
  }
  return core::RankSuspectChanges(changes, reach, start, options);
}

std::string SuspectLine(const core::SuspectChange& s) {
  std::string out = s.change.summary;
  if (!s.change.source.empty()) out += " (" + s.change.source + ")";
  return out + ": " + s.reason;
}

}  // namespace houston::incidents
