// The change feed's SQL (store/feed.h): recording entries inside a write, writing them just
// before COMMIT with sequence numbers in commit order, pruning, reading. Internal to SqlStore.
#pragma once

#include <string_view>
#include <vector>

#include "store/feed.h"
#include "store/sql/db.h"

namespace houston::store::sql {

// Records the feed entries an audit record stands for (see FeedType) on `db`, to be written
// with the transaction (Db::RecordFeed).
void RecordFeedForAudit(Db& db, TimePoint now, std::string_view action,
                        std::string_view resource_type, std::string_view resource_id,
                        int64_t incident_id);

// Writes `pending` (recorded by the transaction's writes, in order) into the feed table. Entries
// repeated within the transaction are written once (an incident created and then updated in the
// same transaction is one "incident.created"). On PostgreSQL it first takes a transaction-scoped
// advisory lock, held until COMMIT, so that sequence numbers are handed out in commit order
// across servers. Call last before COMMIT. Returns how many rows it wrote.
Result<int64_t> WriteFeed(Db& db, const std::vector<Db::PendingFeed>& pending);

// Deletes entries older than `older_than` or beyond the newest `max_rows`, never the newest
// one, reading only the entries it deletes. By age it deletes the oldest entries up to the first
// that is not older (an old entry behind a newer one, after the clock stepped back, waits for
// the count). Returns how many it deleted.
Result<int64_t> PruneFeed(Db& db, TimePoint older_than, int64_t max_rows);

Result<std::vector<FeedEntry>> ReadFeed(Db& db, int64_t after, int limit);
Result<FeedBounds> ReadFeedBounds(Db& db);

}  // namespace houston::store::sql
