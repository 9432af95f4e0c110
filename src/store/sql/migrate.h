// Versioned schema migrations (store/sql/schema.h holds them, one source for every dialect),
// applied by one runner.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/sql/db.h"

namespace houston::store::sql {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The schema version of `db` (0 for an empty database).
Result<int> SchemaVersion(Db& db);

// Applies every migration of `all` newer than the database, each in its own transaction.
// Returns the versions applied. FailedPrecondition if the database is newer than `all`.
Result<std::vector<int>> Migrate(Db& db, const std::vector<Migration>& all, TimePoint now);

}  // namespace houston::store::sql
