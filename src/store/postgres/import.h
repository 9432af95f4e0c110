// Moving a single-node install to PostgreSQL: every row of a SQLite database copied into an
// empty PostgreSQL database, ids included, in one transaction.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace houston::store::postgres {

// The tables copied, parents before children.
const std::vector<std::string_view>& ImportedTables();
// The tables not copied, with why: each is rebuilt or not needed on the new database.
const std::vector<std::pair<std::string_view, std::string_view>>& TablesNotImported();

// Called after each table with its name and the rows copied.
using ImportProgress = std::function<void(std::string_view table, int64_t rows)>;

// Migrates both databases to the latest schema, then copies every table of the SQLite database
// at `sqlite_path` into the PostgreSQL database at `url`, in one transaction (all or nothing),
// and moves PostgreSQL's id sequences past the copied ids. Returns (table, rows) in copy order.
// FailedPrecondition if the PostgreSQL database already holds data (nothing is merged) or the
// SQLite file does not exist; Unavailable if PostgreSQL cannot be reached.
Result<std::vector<std::pair<std::string, int64_t>>> ImportFromSqlite(
    const std::string& sqlite_path, const std::string& url, TimePoint now,
    const ImportProgress& progress = {});

}  // namespace houston::store::postgres
