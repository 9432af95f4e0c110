// Versioned schema migrations for the SQLite backend.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite/db.h"

namespace houston::store::sqlite {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// All migrations, in order. Never edit a released one: append a new version.
const std::vector<Migration>& Migrations();

// The schema version of `db` (0 for an empty database).
Result<int> SchemaVersion(Db& db);

// Applies every pending migration, each in its own transaction. Returns the versions applied.
// FailedPrecondition if the database is newer than this binary.
Result<std::vector<int>> Migrate(Db& db);

}  // namespace houston::store::sqlite
