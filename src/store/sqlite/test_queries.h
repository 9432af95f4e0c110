// Queries the SQLite tests of this folder ask of a connection, with gtest expectations.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "store/sqlite/db.h"

namespace houston::store::sqlite {

// The one integer `sql` returns (a count, a pragma's value), or -1 with a failed expectation.
// The statement is stepped to its end, so that no read transaction is left open.
inline int64_t QueryInt(SqliteDb& db, std::string_view sql) {
  auto s = db.Prepare(sql);
  EXPECT_TRUE(s.has_value()) << sql;
  if (!s) return -1;
  auto row = (*s)->Step();
  EXPECT_TRUE(row.has_value() && *row) << sql;
  if (!row || !*row) return -1;
  const int64_t n = (*s)->Int(0);
  EXPECT_FALSE((*s)->Step().value_or(true)) << sql;  // done: no read transaction left open
  return n;
}

// `PRAGMA integrity_check`'s first line: "ok" for a sound database.
inline std::string IntegrityCheck(SqliteDb& db) {
  auto s = db.Prepare("PRAGMA integrity_check");
  if (!s || !(*s)->Step().value_or(false)) return "no answer";
  return std::string((*s)->Text(0));
}

}  // namespace houston::store::sqlite
