// The one schema source gives SQLite and PostgreSQL the same tables, columns, keys and indexes.
#include "store/sql/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "store/postgres/pg_db.h"
#include "store/sqlite/db.h"
#include "testing/pg_server.h"
#include "testing/status_matchers.h"

namespace houston::store::sql {
namespace {

using ::testing::HasSubstr;

// One line per table, column, primary key and index, in a form both dialects share: integer
// types of any width are "integer", constraint-backed unique indexes are named by their columns.
using Shape = std::set<std::string>;

std::string TypeClass(std::string type) {
  std::transform(type.begin(), type.end(), type.begin(), ::tolower);
  if (type.find("int") != std::string::npos) return "integer";
  if (type.find("char") != std::string::npos || type == "text") return "text";
  if (type.find("real") != std::string::npos || type.find("double") != std::string::npos) {
    return "real";
  }
  return type;
}

// Runs `query` and returns its rows, each column as text.
Result<std::vector<std::vector<std::string>>> Rows(Db& db, const std::string& query, int columns) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(query));
  std::vector<std::vector<std::string>> rows;
  while (true) {
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    std::vector<std::string> r;
    for (int i = 0; i < columns; ++i) r.push_back(s->IsNull(i) ? "" : s->Text(i));
    rows.push_back(std::move(r));
  }
  s->Reset();
  return rows;
}

// Adds "index T name unique=U partial=P (a,b)" (or "unique T (a,b)" for a UNIQUE constraint)
// for each index of `cols`: rows of (table, index, unique, partial, constraint, column) in order.
void AddIndexes(Shape& shape, const std::vector<std::vector<std::string>>& cols) {
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> by_index;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> attrs;
  for (const auto& r : cols) {
    by_index[{r[0], r[1]}].push_back(r[5]);
    attrs[{r[0], r[1]}] = {r[2], r[3], r[4]};
  }
  for (const auto& [key, columns] : by_index) {
    std::string list;
    for (const auto& c : columns) list += (list.empty() ? "" : ",") + c;
    const auto& a = attrs[key];
    if (a[2] == "1") {
      shape.insert("unique " + key.first + " (" + list + ")");
    } else {
      shape.insert("index " + key.first + " " + key.second + " unique=" + a[0] +
                   " partial=" + a[1] + " (" + list + ")");
    }
  }
}

Result<Shape> SqliteShape(Db& db) {
  Shape shape;
  HOUSTON_ASSIGN_OR_RETURN(
      auto columns,
      Rows(db,
           "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m "
           "JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE "
           "'sqlite_%' ORDER BY m.name, p.pk, p.cid",
           5));
  std::map<std::string, std::string> pk;
  for (const auto& r : columns) {
    shape.insert("table " + r[0]);
    bool in_pk = r[4] != "0";
    shape.insert("column " + r[0] + "." + r[1] + " " + TypeClass(r[2]) +
                 (r[3] == "1" || in_pk ? " not null" : ""));
    if (in_pk) pk[r[0]] += (pk[r[0]].empty() ? "" : ",") + r[1];
  }
  for (const auto& [table, list] : pk) shape.insert("primary key " + table + " (" + list + ")");
  HOUSTON_ASSIGN_OR_RETURN(
      auto indexes,
      Rows(db,
           "SELECT m.name, il.name, il.\"unique\", il.partial, il.origin = 'u', ii.name "
           "FROM sqlite_master m JOIN pragma_index_list(m.name) il "
           "JOIN pragma_index_info(il.name) ii WHERE m.type = 'table' AND il.origin <> 'pk' "
           "ORDER BY m.name, il.name, ii.seqno",
           6));
  AddIndexes(shape, indexes);
  return shape;
}

Result<Shape> PostgresShape(Db& db) {
  Shape shape;
  HOUSTON_ASSIGN_OR_RETURN(auto columns,
                           Rows(db,
                                "SELECT table_name::text, column_name::text, data_type::text, "
                                "CASE WHEN is_nullable = 'NO' THEN '1' ELSE '0' END "
                                "FROM information_schema.columns WHERE table_schema = 'public'",
                                4));
  for (const auto& r : columns) {
    shape.insert("table " + r[0]);
    shape.insert("column " + r[0] + "." + r[1] + " " + TypeClass(r[2]) +
                 (r[3] == "1" ? " not null" : ""));
  }
  const std::string index_columns =
      "FROM pg_index ix JOIN pg_class c ON c.oid = ix.indexrelid "
      "JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
      "CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) "
      // An expression column (attnum 0) has no attribute: "" as SQLite's pragma_index_info.
      "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0 "
      "WHERE n.nspname = 'public' ";
  HOUSTON_ASSIGN_OR_RETURN(auto pk_rows,
                           Rows(db,
                                "SELECT t.relname::text, a.attname::text " + index_columns +
                                    "AND ix.indisprimary ORDER BY t.relname, k.ord",
                                2));
  std::map<std::string, std::string> pk;
  for (const auto& r : pk_rows) pk[r[0]] += (pk[r[0]].empty() ? "" : ",") + r[1];
  for (const auto& [table, list] : pk) shape.insert("primary key " + table + " (" + list + ")");
  HOUSTON_ASSIGN_OR_RETURN(
      auto indexes,
      Rows(db,
           "SELECT t.relname::text, c.relname::text, CASE WHEN ix.indisunique THEN '1' ELSE '0' "
           "END, CASE WHEN ix.indpred IS NOT NULL THEN '1' ELSE '0' END, CASE WHEN EXISTS "
           "(SELECT 1 FROM pg_constraint pc WHERE pc.conindid = ix.indexrelid AND pc.contype = "
           "'u') THEN '1' ELSE '0' END, a.attname::text " +
               index_columns + "AND NOT ix.indisprimary ORDER BY t.relname, c.relname, k.ord",
           6));
  AddIndexes(shape, indexes);
  return shape;
}

TEST(SchemaTest, RenderFillsInEachDialectsSpelling) {
  EXPECT_EQ(RenderSchemaSql("id {{id}}, at {{int}} NOT NULL DEFAULT '{}'", Dialect::kSqlite),
            "id INTEGER PRIMARY KEY, at INTEGER NOT NULL DEFAULT '{}'");
  EXPECT_EQ(RenderSchemaSql("id {{id}}, at {{int}} NOT NULL DEFAULT '{}'", Dialect::kPostgres),
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL "
            "DEFAULT '{}'");
  EXPECT_EQ(
      RenderSchemaSql("SET x = {{json_array(a)|json_build_array(a)::text}};", Dialect::kPostgres),
      "SET x = json_build_array(a)::text;");
  EXPECT_EQ(
      RenderSchemaSql("SET x = {{json_array(a)|json_build_array(a)::text}};", Dialect::kSqlite),
      "SET x = json_array(a);");
}

TEST(SchemaTest, VersionsAreConsecutiveAndTheSameForBothDialects) {
  const auto& lite = Migrations(Dialect::kSqlite);
  const auto& pg = Migrations(Dialect::kPostgres);
  ASSERT_EQ(lite.size(), pg.size());
  for (size_t i = 0; i < lite.size(); ++i) {
    EXPECT_EQ(lite[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(pg[i].version, lite[i].version);
    EXPECT_EQ(pg[i].name, lite[i].name);
    EXPECT_THAT(lite[i].sql, ::testing::Not(HasSubstr("{{")));
    EXPECT_THAT(pg[i].sql, ::testing::Not(HasSubstr("{{")));
  }
}

TEST(SchemaTest, MigratedSqliteAndPostgresHaveTheSameTablesColumnsAndIndexes) {
  auto server = testing::PgServer::Start();
  ASSERT_OK(server);
  auto url = (*server)->NewDatabase("schema_shape");
  ASSERT_OK(url);
  ASSERT_OK_AND_ASSIGN(auto pg, postgres::PgDb::Connect(*url));
  ASSERT_OK(Migrate(*pg, Migrations(Dialect::kPostgres), TimePoint{}));

  auto path = std::filesystem::temp_directory_path() /
              ("houston-schema-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  ASSERT_OK_AND_ASSIGN(auto lite, sqlite::SqliteDb::Open(path.string(), false));
  ASSERT_OK(Migrate(*lite, Migrations(Dialect::kSqlite), TimePoint{}));

  ASSERT_OK_AND_ASSIGN(Shape lite_shape, SqliteShape(*lite));
  ASSERT_OK_AND_ASSIGN(Shape pg_shape, PostgresShape(*pg));
  lite.reset();
  std::filesystem::remove(path);
  // The comparison can fail: both shapes name every table, and a table has columns.
  EXPECT_THAT(lite_shape, ::testing::Contains("table incidents"));
  EXPECT_THAT(lite_shape, ::testing::Contains("column incidents.id integer not null"));
  EXPECT_THAT(lite_shape, ::testing::Contains("primary key incidents (id)"));
  EXPECT_GT(lite_shape.size(), 100u);
  std::vector<std::string> only_sqlite, only_postgres;
  std::set_difference(lite_shape.begin(), lite_shape.end(), pg_shape.begin(), pg_shape.end(),
                      std::back_inserter(only_sqlite));
  std::set_difference(pg_shape.begin(), pg_shape.end(), lite_shape.begin(), lite_shape.end(),
                      std::back_inserter(only_postgres));
  EXPECT_THAT(only_sqlite, ::testing::IsEmpty());
  EXPECT_THAT(only_postgres, ::testing::IsEmpty());
}

// Schema version 12: the incident statistics' range (every column they read) comes from the
// index incidents_detected alone, on both databases.
TEST(SchemaTest, IncidentRangesAreReadFromTheIndexAlone) {
  const std::string query =
      "SELECT COALESCE(i.detected_at, i.created_at), i.service_id, i.sev, "
      "COALESCE(i.first_acknowledged_at, i.acknowledged_at), COALESCE(i.mitigated_at, "
      "i.resolved_at), i.resolved_at FROM incidents i WHERE i.merged_into = 0 AND "
      "COALESCE(i.detected_at, i.created_at) >= 1 AND COALESCE(i.detected_at, i.created_at) < 2";
  auto plan_of = [&](Db& db, std::string_view explain, int column) -> std::string {
    auto rows = Rows(db, std::string(explain) + " " + query, column + 1);
    EXPECT_TRUE(rows.has_value()) << rows.error().ToString();
    std::string plan;
    for (const auto& r : rows.value_or(std::vector<std::vector<std::string>>{})) {
      plan += r[column] + "\n";
    }
    return plan;
  };

  auto path = std::filesystem::temp_directory_path() /
              ("houston-schema-plan-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    ASSERT_OK_AND_ASSIGN(auto lite, sqlite::SqliteDb::Open(path.string(), false));
    ASSERT_OK(Migrate(*lite, Migrations(Dialect::kSqlite), TimePoint{}));
    EXPECT_THAT(plan_of(*lite, "EXPLAIN QUERY PLAN", 3),
                HasSubstr("USING COVERING INDEX incidents_detected"));
  }
  std::filesystem::remove(path);

  auto server = testing::PgServer::Start();
  ASSERT_OK(server);
  auto url = (*server)->NewDatabase("schema_plan");
  ASSERT_OK(url);
  ASSERT_OK_AND_ASSIGN(auto pg, postgres::PgDb::Connect(*url));
  ASSERT_OK(Migrate(*pg, Migrations(Dialect::kPostgres), TimePoint{}));
  // An empty table: the planner must be kept from the cheaper sequential or bitmap scan.
  ASSERT_OK(pg->Exec("SET enable_seqscan = off; SET enable_bitmapscan = off"));
  EXPECT_THAT(plan_of(*pg, "EXPLAIN", 0), HasSubstr("Index Only Scan using incidents_detected"));
}

// Schema version 11 builds the pages table from the page notifications already in `db` (at
// version 10): one row per (incident, round, loop, step, user), at its first notification, and
// none for the other kinds of notification.
void ExpectPagesBackfilled(Db& db) {
  const auto& all = Migrations(db.dialect());
  ASSERT_GE(all.size(), 11u);
  ASSERT_EQ(all[10].version, 11);
  ASSERT_OK(Migrate(db, std::vector<Migration>(all.begin(), all.begin() + 10), TimePoint{}));
  ASSERT_OK(
      db.Exec("INSERT INTO incidents(id, service_id, title, severity, status, integration_key, "
              "created_at) VALUES (1, 'checkout', 'a', 'critical', 'triggered', 'ik', 1000), (2, "
              "'checkout', 'b', 'critical', 'triggered', 'ik', 1000)"));
  // (incident, kind, round, loop, step, user, contact method, rule, created_at): nina's first
  // page of incident 1 went out through three methods and rules, the earliest not first by id.
  ASSERT_OK(
      db.Exec("INSERT INTO notifications(incident_id, kind, round, loop, step, user_id, "
              "contact_method_id, rule, channel_type, state, created_at, not_before) VALUES "
              "(1, 'page', 0, 0, 0, 'nina', 'hook', 0, 'webhook', 'sent', 2000, 2000), "
              "(1, 'page', 0, 0, 0, 'nina', 'sms', 0, 'sms', 'sent', 1500, 1500), "
              "(1, 'page', 0, 0, 0, 'nina', 'sms', 1, 'sms', 'sent', 3000, 3000), "
              "(1, 'page', 0, 0, 1, 'bob', 'hook', 0, 'webhook', 'failed', 2500, 2500), "
              "(1, 'page', 1, 0, 0, 'nina', 'hook', 0, 'webhook', 'pending', 9000, 9000), "
              "(2, 'page', 0, 1, 0, 'nina', 'hook', 0, 'webhook', 'sent', 4000, 4000), "
              "(1, 'role', 0, 0, 0, 'nina', 'hook', 0, 'webhook', 'sent', 5000, 5000), "
              "(2, 'reminder', 0, 0, 0, 'bob', 'hook', 0, 'webhook', 'sent', 6000, 6000)"));
  ASSERT_OK_AND_ASSIGN(std::vector<int> applied, Migrate(db, all, TimePoint{}));
  ASSERT_FALSE(applied.empty());
  EXPECT_EQ(applied.front(), 11);
  ASSERT_OK_AND_ASSIGN(auto pages, Rows(db,
                                        "SELECT incident_id, round, loop, step, user_id, at "
                                        "FROM pages ORDER BY incident_id, round, loop, step, "
                                        "user_id",
                                        6));
  EXPECT_EQ(pages, (std::vector<std::vector<std::string>>{{"1", "0", "0", "0", "nina", "1500"},
                                                          {"1", "0", "0", "1", "bob", "2500"},
                                                          {"1", "1", "0", "0", "nina", "9000"},
                                                          {"2", "0", "1", "0", "nina", "4000"}}));
}

TEST(SchemaTest, PagesAreBackfilledFromEarlierNotificationsOnSqlite) {
  auto path = std::filesystem::temp_directory_path() /
              ("houston-schema-pages-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    ASSERT_OK_AND_ASSIGN(auto lite, sqlite::SqliteDb::Open(path.string(), false));
    ExpectPagesBackfilled(*lite);
  }
  std::filesystem::remove(path);
}

TEST(SchemaTest, PagesAreBackfilledFromEarlierNotificationsOnPostgres) {
  auto server = testing::PgServer::Start();
  ASSERT_OK(server);
  auto url = (*server)->NewDatabase("schema_pages");
  ASSERT_OK(url);
  ASSERT_OK_AND_ASSIGN(auto pg, postgres::PgDb::Connect(*url));
  ExpectPagesBackfilled(*pg);
}

}  // namespace
}  // namespace houston::store::sql
