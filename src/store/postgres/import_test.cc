// houston migrate (SQLite to PostgreSQL): which tables it carries, and that the learning rows
// (postmortems, their factors, action items) and the shared secrets arrive.
#include "store/postgres/import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "store/postgres/pg_db.h"
#include "store/sql/schema.h"
#include "store/sqlite/db.h"
#include "testing/pg_server.h"

namespace houston::store::postgres {
namespace {

std::filesystem::path TempDb(const char* name) {
  auto path = std::filesystem::temp_directory_path() /
              (std::string(name) + "-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  return path;
}

// A table added to the schema must be copied, or say why not: otherwise a move to PostgreSQL
// silently leaves its rows behind (as it once did the learning tables).
TEST(ImportTest, EveryTableIsCopiedOrSaysWhyNot) {
  auto path = TempDb("houston-import-tables");
  {
    auto lite = sqlite::SqliteDb::Open(path.string(), false);
    ASSERT_TRUE(lite) << lite.error().ToString();
    ASSERT_TRUE(sql::Migrate(**lite, sql::Migrations(sql::Dialect::kSqlite), TimePoint{}));
    auto s = (*lite)->Prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER "
        "BY name");
    ASSERT_TRUE(s);
    const auto& copied = ImportedTables();
    const auto& skipped = TablesNotImported();
    int tables = 0;
    for (;;) {
      auto row = (*s)->Step();
      ASSERT_TRUE(row) << row.error().ToString();
      if (!*row) break;
      ++tables;
      const std::string name = (*s)->Text(0);
      bool is_copied = std::find(copied.begin(), copied.end(), name) != copied.end();
      bool is_skipped = std::any_of(skipped.begin(), skipped.end(),
                                    [&](const auto& t) { return t.first == name; });
      EXPECT_NE(is_copied, is_skipped) << "table " << name
                                       << (is_copied ? " is both copied and skipped"
                                                     : " is neither copied nor skipped (say why)");
    }
    (*s)->Reset();
    EXPECT_EQ(tables, static_cast<int>(copied.size() + skipped.size()));
  }
  std::filesystem::remove(path);
}

TEST(ImportTest, LearningRowsAndSecretsArrive) {
  auto path = TempDb("houston-import-learning");
  {
    auto lite = sqlite::SqliteDb::Open(path.string(), false);
    ASSERT_TRUE(lite) << lite.error().ToString();
    ASSERT_TRUE(sql::Migrate(**lite, sql::Migrations(sql::Dialect::kSqlite), TimePoint{}));
    ASSERT_TRUE((*lite)
                    ->Exec("INSERT INTO incidents(id, service_id, title, severity, status, "
                           "integration_key, created_at) VALUES (7, 'checkout', 'a', 'critical', "
                           "'resolved', 'ik', 1000);"
                           "INSERT INTO postmortems(incident_id, status, owner, created_at, "
                           "updated_at) VALUES (7, 'draft', 'nina', 2000, 2000);"
                           "INSERT INTO postmortem_factors(incident_id, factor) VALUES (7, "
                           "'deploy');"
                           "INSERT INTO action_items(id, incident_id, service_id, title, owner, "
                           "due, overdue_at, priority, status, created_at, updated_at) VALUES (3, "
                           "7, 'checkout', 'add a canary', 'nina', '2026-03-10', 4000, 'P2', "
                           "'open', 3000, 3000);"
                           "INSERT INTO server_secrets(name, value, created_at) VALUES "
                           "('link_key', 'k', 1000)")
                    .ok());
  }
  auto server = testing::PgServer::Start();
  ASSERT_TRUE(server) << server.error().ToString();
  auto url = (*server)->NewDatabase("import_learning");
  ASSERT_TRUE(url) << url.error().ToString();
  auto copied = ImportFromSqlite(path.string(), *url, TimePoint{});
  ASSERT_TRUE(copied) << copied.error().ToString();
  auto pg = PgDb::Connect(*url);
  ASSERT_TRUE(pg) << pg.error().ToString();
  auto one = [&](const std::string& sql) -> std::string {
    auto s = (*pg)->Prepare(sql);
    EXPECT_TRUE(s) << sql;
    if (!s) return "";
    auto row = (*s)->Step();
    std::string out = row && *row ? (*s)->Text(0) : "";
    (*s)->Reset();
    return out;
  };
  EXPECT_EQ(one("SELECT owner FROM postmortems WHERE incident_id = 7"), "nina");
  EXPECT_EQ(one("SELECT factor FROM postmortem_factors WHERE incident_id = 7"), "deploy");
  EXPECT_EQ(one("SELECT title FROM action_items WHERE id = 3"), "add a canary");
  EXPECT_EQ(one("SELECT value FROM server_secrets WHERE name = 'link_key'"), "k");
  // The next action item gets a new id, past the copied ones.
  EXPECT_EQ(one("INSERT INTO action_items(incident_id, service_id, title, owner, due, "
                "overdue_at, priority, status, created_at, updated_at) VALUES (7, 'checkout', "
                "'b', 'nina', '2026-03-11', 5000, 'P3', 'open', 3000, 3000) RETURNING id"),
            "4");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace houston::store::postgres
