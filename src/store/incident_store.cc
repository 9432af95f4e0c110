#include "store/incident_store.h"

#include <algorithm>
#include <array>
#include <utility>

namespace houston::store {

namespace {

// The one table of timeline actions, in TimelineKind order.
constexpr std::array<std::pair<TimelineKind, std::string_view>, 20> kTimelineKinds{{
    {TimelineKind::kTriggered, "incident.triggered"},
    {TimelineKind::kAcknowledged, "incident.acknowledged"},
    {TimelineKind::kMitigated, "incident.mitigated"},
    {TimelineKind::kResolved, "incident.resolved"},
    {TimelineKind::kReopened, "incident.reopened"},
    {TimelineKind::kRetriggered, "incident.retriggered"},
    {TimelineKind::kUpdated, "incident.updated"},
    {TimelineKind::kRoleAssigned, "incident.role_assigned"},
    {TimelineKind::kRoleUnassigned, "incident.role_unassigned"},
    {TimelineKind::kResponderAdded, "incident.responder_added"},
    {TimelineKind::kResponderRemoved, "incident.responder_removed"},
    {TimelineKind::kNote, "incident.note"},
    {TimelineKind::kPinned, "incident.pinned"},
    {TimelineKind::kUnpinned, "incident.unpinned"},
    {TimelineKind::kChangeLinked, "incident.change_linked"},
    {TimelineKind::kStatusUpdate, "status_update.published"},
    {TimelineKind::kMerged, "incident.merged"},
    {TimelineKind::kSplit, "incident.split"},
    {TimelineKind::kSplitFrom, "incident.split_from"},
    {TimelineKind::kAlertsResolved, "incident.alerts_resolved"},
}};

constexpr bool InOrder() {
  for (size_t i = 0; i < kTimelineKinds.size(); ++i) {
    if (static_cast<size_t>(kTimelineKinds[i].first) != i) return false;
  }
  return true;
}
static_assert(InOrder(), "kTimelineKinds must list every TimelineKind, in order");
static_assert(static_cast<size_t>(TimelineKind::kAlertsResolved) + 1 == kTimelineKinds.size());

}  // namespace

std::string_view ToString(TimelineKind k) { return kTimelineKinds[static_cast<size_t>(k)].second; }

std::optional<TimelineKind> ParseTimelineKind(std::string_view action) {
  auto it = std::find_if(kTimelineKinds.begin(), kTimelineKinds.end(),
                         [&](const auto& e) { return e.second == action; });
  if (it == kTimelineKinds.end()) return std::nullopt;
  return it->first;
}

}  // namespace houston::store
