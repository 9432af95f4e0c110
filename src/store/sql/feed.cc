#include "store/sql/feed.h"

#include <fmt/format.h>

#include <set>
#include <utility>

#include "store/sql/internal.h"

namespace houston::store::sql {

namespace {

// Serialises the feed writes of every server on one PostgreSQL database, from the first feed row
// of a transaction to its COMMIT: sequence numbers are then taken in commit order, so a reader
// never sees seq N+1 before N has committed (or rolled back, leaving a gap for good).
constexpr std::string_view kPgFeedLock = "SELECT pg_advisory_xact_lock(7525493316735298561)";

}  // namespace

void RecordFeedForAudit(Db& db, TimePoint now, std::string_view action,
                        std::string_view resource_type, std::string_view resource_id,
                        int64_t incident_id) {
  if (resource_type == "alert") {
    FeedType t = action == ToString(AuditAction::kAlertTriggered)  ? FeedType::kAlertCreated
                 : action == ToString(AuditAction::kAlertResolved) ? FeedType::kAlertResolved
                                                                   : FeedType::kAlertUpdated;
    db.RecordFeed(t, std::string(resource_id), now);
    // The incident's alerts changed with it.
    if (incident_id != 0) {
      db.RecordFeed(FeedType::kIncidentUpdated, std::to_string(incident_id), now);
    }
  } else if (resource_type == "incident") {
    FeedType t = FeedType::kIncidentUpdated;
    if (action == ToString(TimelineKind::kNote) || action == ToString(TimelineKind::kPinned) ||
        action == ToString(TimelineKind::kUnpinned)) {
      t = FeedType::kTimelineAdded;
    } else if (action == ToString(TimelineKind::kStatusUpdate)) {
      t = FeedType::kStatusUpdatePublished;
    }
    db.RecordFeed(t, std::string(resource_id), now);
  } else if (resource_type == "schedule") {
    FeedType t = action == ToString(AuditAction::kOverrideCreated) ||
                         action == ToString(AuditAction::kCoverRequested)
                     ? FeedType::kOverrideCreated
                     : FeedType::kOverrideUpdated;
    db.RecordFeed(t, std::string(resource_id), now);
  } else if (resource_type == "org" && action == ToString(AuditAction::kOrgApplied)) {
    db.RecordFeed(FeedType::kOrgApplied, std::string(resource_id), now);
  } else if (resource_type == "postmortem") {
    db.RecordFeed(FeedType::kPostmortemUpdated, std::string(resource_id), now);
  } else if (resource_type == "action_item") {
    db.RecordFeed(FeedType::kActionItemUpdated, std::string(resource_id), now);
    // On its incident's timeline too.
    if (incident_id != 0) {
      db.RecordFeed(FeedType::kTimelineAdded, std::to_string(incident_id), now);
    }
  }
  // Tokens, sign-ins and the like are not on any screen the feed serves.
}

Result<int64_t> WriteFeed(Db& db, const std::vector<Db::PendingFeed>& pending) {
  if (pending.empty()) return 0;
  if (db.dialect() == Dialect::kPostgres) {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * lock, db.Prepare(std::string(kPgFeedLock)));
    HOUSTON_RETURN_IF_ERROR(lock->Run());
  }
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("INSERT INTO live_feed(type, resource_id, at) VALUES (?, ?, ?)"));
  // A resource changed several times in one transaction is one entry; a created one needs no
  // "updated" after it.
  std::set<std::pair<FeedType, std::string_view>> seen;
  int64_t written = 0;
  for (const auto& e : pending) {
    if (!seen.emplace(e.type, e.id).second) continue;
    if (e.type == FeedType::kIncidentUpdated && seen.contains({FeedType::kIncidentCreated, e.id})) {
      continue;
    }
    if (e.type == FeedType::kAlertUpdated && seen.contains({FeedType::kAlertCreated, e.id})) {
      continue;
    }
    s->Reset();
    HOUSTON_RETURN_IF_ERROR(
        s->Bind(1, ToString(e.type)).Bind(2, e.id).Bind(3, Ms(e.at)).RunLater());
    ++written;
  }
  HOUSTON_RETURN_IF_ERROR(db.Flush());
  return written;
}

Result<int64_t> PruneFeed(Db& db, TimePoint older_than, int64_t max_rows) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * newest, db.Prepare("SELECT MAX(seq) FROM live_feed"));
  HOUSTON_ASSIGN_OR_RETURN(bool row, newest->Step());
  const bool any = row && !newest->IsNull(0);
  const int64_t last = any ? newest->Int(0) : 0;
  newest->Reset();
  if (!any) return 0;
  // A prune reads only the rows it deletes, not the whole feed (100,000 entries by default, to
  // delete the 4,096 written since the last prune). Entries are written in commit order, each
  // with the time of its change, so the ones older than `older_than` are those before the first
  // that is not: found by walking the primary key from the oldest. (An old entry behind a newer
  // one, after a clock stepped back or on another server's clock, stays until the count removes
  // it.) The newest is never deleted.
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * first_kept,
      db.Prepare("SELECT seq FROM live_feed WHERE at >= ? ORDER BY seq LIMIT 1"));
  first_kept->Bind(1, Ms(older_than));
  HOUSTON_ASSIGN_OR_RETURN(bool found, first_kept->Step());
  const int64_t by_age = found ? first_kept->Int(0) : last;
  first_kept->Reset();
  const int64_t by_count = last - std::max<int64_t>(max_rows, 1) + 1;
  const int64_t below = std::min(std::max(by_age, by_count), last);
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("DELETE FROM live_feed WHERE seq < ?"));
  HOUSTON_RETURN_IF_ERROR(s->Bind(1, below).Run());
  return db.Changes();
}

Result<std::vector<FeedEntry>> ReadFeed(Db& db, int64_t after, int limit) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                           db.Prepare("SELECT seq, type, resource_id, at FROM live_feed WHERE "
                                      "seq > ? ORDER BY seq LIMIT ?"));
  s->Bind(1, after).Bind(2, static_cast<int64_t>(limit <= 0 ? 1000 : std::min(limit, 10000)));
  std::vector<FeedEntry> out;
  for (;;) {
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    auto type = ParseFeedType(s->Text(1));
    if (!type) continue;  // written by a newer houston: not ours to show
    out.push_back(FeedEntry{s->Int(0), *type, s->Text(2), FromMs(s->Int(3))});
  }
  s->Reset();
  return out;
}

Result<FeedBounds> ReadFeedBounds(Db& db) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT MIN(seq), MAX(seq) FROM live_feed"));
  HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
  FeedBounds b;
  if (row) {
    b.oldest = s->OptInt(0).value_or(0);
    b.newest = s->OptInt(1).value_or(0);
  }
  s->Reset();
  return b;
}

}  // namespace houston::store::sql
