// The PostgreSQL schema: versioned migrations, the same versions as SQLite's
// (store/sql/migrate.h runs them).
#pragma once

#include <vector>

#include "store/sql/migrate.h"

namespace houston::store::postgres {

// All migrations, in order. Never edit a released one: append a new version.
const std::vector<sql::Migration>& Migrations();

}  // namespace houston::store::postgres
