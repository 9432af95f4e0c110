// The database schema: one source for both dialects (SQLite and PostgreSQL), as numbered
// migrations that store/sql/migrate.h applies. Each version is written once; the dialects differ
// only in how a few types and functions are spelled, which RenderSchemaSql() fills in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/sql/db.h"
#include "store/sql/migrate.h"

namespace houston::store::sql {

// Every migration, in version order, in `dialect`'s SQL.
const std::vector<Migration>& Migrations(Dialect dialect);

// `source` (schema SQL with {{id}}, {{int}} and {{sqlite|postgres}} markers) in `dialect`.
std::string RenderSchemaSql(std::string_view source, Dialect dialect);

}  // namespace houston::store::sql
