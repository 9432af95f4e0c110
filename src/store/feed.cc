#include "store/feed.h"

#include <array>
#include <utility>

namespace houston::store {

namespace {

constexpr std::array<std::pair<FeedType, std::string_view>, kFeedTypeCount> kFeedTypes = {{
    {FeedType::kAlertCreated, "alert.created"},
    {FeedType::kAlertUpdated, "alert.updated"},
    {FeedType::kAlertResolved, "alert.resolved"},
    {FeedType::kIncidentCreated, "incident.created"},
    {FeedType::kIncidentUpdated, "incident.updated"},
    {FeedType::kTimelineAdded, "timeline.added"},
    {FeedType::kStatusUpdatePublished, "status_update.published"},
    {FeedType::kOverrideCreated, "override.created"},
    {FeedType::kOverrideUpdated, "override.updated"},
    {FeedType::kNotificationDelivered, "notification.delivered"},
    {FeedType::kNotificationFailed, "notification.failed"},
    {FeedType::kOrgApplied, "org.applied"},
    {FeedType::kPostmortemUpdated, "postmortem.updated"},
    {FeedType::kActionItemUpdated, "action_item.updated"},
}};

}  // namespace

std::string_view ToString(FeedType t) {
  for (const auto& [type, name] : kFeedTypes) {
    if (type == t) return name;
  }
  return "unknown";
}

std::optional<FeedType> ParseFeedType(std::string_view s) {
  for (const auto& [type, name] : kFeedTypes) {
    if (name == s) return type;
  }
  return std::nullopt;
}

}  // namespace houston::store
