// The change feed: what the store records, in the same transaction as each change a screen shows,
// for the live feed (GET /api/v1/live). Every entry has a sequence number that grows in commit
// order, on SQLite and on PostgreSQL with several servers writing: a reader that has seen every
// entry up to N never meets a smaller one later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace houston::store {

// What changed. The id of an entry names the resource: an alert id, an incident id, a schedule
// id (overrides), a notification id, or the source of an applied org.
enum class FeedType {
  kAlertCreated,
  kAlertUpdated,  // acknowledged, or a repeat trigger folded into it
  kAlertResolved,
  kIncidentCreated,
  kIncidentUpdated,        // status, fields, roles, alerts: anything on its timeline but notes
  kTimelineAdded,          // a note (or a pin) on the incident's timeline; id = incident
  kStatusUpdatePublished,  // id = incident
  kOverrideCreated,        // an override, swap or cover request; id = schedule
  kOverrideUpdated,        // a cover accepted or an override cancelled; id = schedule
  kNotificationDelivered,
  kNotificationFailed,  // failed, dead or unknown (may not have arrived)
  kOrgApplied,
  kPostmortemUpdated,  // created, edited, published or reopened; id = incident
  kActionItemUpdated,  // created or changed; id = action item
};
// How many FeedTypes there are (a table indexed by type has this size). Keep it after the last.
inline constexpr size_t kFeedTypeCount = static_cast<size_t>(FeedType::kActionItemUpdated) + 1;
// "alert.created", "incident.updated", ...: the one string table.
std::string_view ToString(FeedType t);
std::optional<FeedType> ParseFeedType(std::string_view s);

struct FeedEntry {
  int64_t seq = 0;
  FeedType type = FeedType::kIncidentUpdated;
  std::string id;
  TimePoint at{};
  bool operator==(const FeedEntry&) const = default;
};

// The retained part of the feed: entries oldest..newest are kept (0, 0 when it is empty). The
// newest entry is never pruned, so `newest` is the last sequence number ever handed out.
struct FeedBounds {
  int64_t oldest = 0;
  int64_t newest = 0;
};

// How much of the feed the store keeps: entries younger than `max_age`, and the last `max_rows`
// at most (the newest one always).
struct FeedRetention {
  std::chrono::milliseconds max_age = std::chrono::hours(24);
  int64_t max_rows = 100'000;
};

}  // namespace houston::store
