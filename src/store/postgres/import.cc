#include "store/postgres/import.h"

#include <fmt/format.h>

#include <filesystem>

#include "store/postgres/pg_db.h"
#include "store/postgres/postgres_store.h"
#include "store/sql/schema.h"
#include "store/sqlite/db.h"

namespace houston::store::postgres {
namespace {

// Parents before children (foreign keys); schema_migrations is not copied (each side has its own).
constexpr std::string_view kTables[] = {"incidents",
                                        "alerts",
                                        "changes",
                                        "org_objects",
                                        "org_source",
                                        "heartbeats",
                                        "tokens",
                                        "audit_log",
                                        "escalations",
                                        "notifications",
                                        "pages",
                                        "schedule_overrides",
                                        "status_updates",
                                        "timeline_pins",
                                        "user_passwords",
                                        "sessions",
                                        "postmortems",
                                        "postmortem_factors",
                                        "action_items",
                                        "server_secrets",
                                        "opsgenie_requests",
                                        "used_action_links",
                                        "event_key_state"};
// Tables whose `id` is an identity column in PostgreSQL.
constexpr std::string_view kIdentityTables[] = {
    "incidents",          "alerts",         "changes",  "tokens",      "audit_log", "notifications",
    "schedule_overrides", "status_updates", "sessions", "action_items"};

Result<std::vector<std::string>> ColumnsOf(sql::Db& db, const std::string& table) {
  HOUSTON_ASSIGN_OR_RETURN(sql::Stmt * s,
                           db.Prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid"));
  s->Bind(1, table);
  std::vector<std::string> out;
  for (;;) {
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back(s->Text(0));
  }
  s->Reset();
  return out;
}

}  // namespace

const std::vector<std::string_view>& ImportedTables() {
  static const std::vector<std::string_view> tables(std::begin(kTables), std::end(kTables));
  return tables;
}

const std::vector<std::pair<std::string_view, std::string_view>>& TablesNotImported() {
  static const std::vector<std::pair<std::string_view, std::string_view>> tables = {
      {"schema_migrations", "each database keeps its own"},
      {"live_feed", "a short-lived change feed: screens re-read what they show on reconnect"},
      {"noise_state", "noise roll-ups: rebuilt from the alerts by the roll-up pass"},
      {"noise_days", "noise roll-ups: rebuilt from the alerts by the roll-up pass"},
      {"noise_source_days", "noise roll-ups: rebuilt from the alerts by the roll-up pass"},
      {"noise_pending", "noise roll-ups: rebuilt from the alerts by the roll-up pass"},
      {"noise_flaps", "noise roll-ups: rebuilt from the alerts by the roll-up pass"},
      {"noise_keys", "noise roll-ups: rebuilt from the alerts by the roll-up pass"},
  };
  return tables;
}

Result<std::vector<std::pair<std::string, int64_t>>> ImportFromSqlite(
    const std::string& sqlite_path, const std::string& url, TimePoint now,
    const ImportProgress& progress) {
  if (!std::filesystem::exists(sqlite_path)) {
    return std::unexpected(
        FailedPrecondition(fmt::format("no SQLite database at {}", sqlite_path)));
  }
  HOUSTON_ASSIGN_OR_RETURN(auto from, sqlite::SqliteDb::Open(sqlite_path, false));
  HOUSTON_RETURN_IF_ERROR(sql::Migrate(*from, sql::Migrations(sql::Dialect::kSqlite), now));
  auto to = PgDb::Connect(url);
  if (!to) return std::unexpected(to.error());
  HOUSTON_RETURN_IF_ERROR(sql::Migrate(**to, sql::Migrations(sql::Dialect::kPostgres), now));
  // Only into an empty database: nothing is merged, so nothing can clash or be lost.
  for (std::string_view table : kTables) {
    if (table == "event_key_state") continue;  // its one row, made by the migration, is replaced
    HOUSTON_ASSIGN_OR_RETURN(sql::Stmt * c,
                             (*to)->Prepare(fmt::format("SELECT COUNT(*) FROM {}", table)));
    HOUSTON_ASSIGN_OR_RETURN(bool row, c->Step());
    int64_t n = row ? c->Int(0) : 0;
    c->Reset();
    if (n > 0) {
      return std::unexpected(FailedPrecondition(fmt::format(
          "the PostgreSQL database is not empty (table {} has {} rows): import only into a new "
          "database",
          table, n)));
    }
  }
  std::vector<std::pair<std::string, int64_t>> copied;
  HOUSTON_RETURN_IF_ERROR((*to)->Exec("BEGIN"));
  Status st = [&]() -> Status {
    // Which key seals the copied integration keys: SQLite's row replaces the new database's.
    HOUSTON_RETURN_IF_ERROR((*to)->Exec("DELETE FROM event_key_state"));
    for (std::string_view name : kTables) {
      const std::string table(name);
      HOUSTON_ASSIGN_OR_RETURN(std::vector<std::string> cols, ColumnsOf(*from, table));
      std::string list, marks;
      for (size_t i = 0; i < cols.size(); ++i) {
        list += (i ? ", " : "") + cols[i];
        marks += i ? ",?" : "?";
      }
      HOUSTON_ASSIGN_OR_RETURN(
          sql::Stmt * read,
          from->Prepare(fmt::format("SELECT {} FROM {} ORDER BY rowid", list, table)));
      HOUSTON_ASSIGN_OR_RETURN(
          sql::Stmt * write,
          (*to)->Prepare(fmt::format("INSERT INTO {}({}) VALUES ({})", table, list, marks)));
      int64_t rows = 0;
      for (;;) {
        HOUSTON_ASSIGN_OR_RETURN(bool row, read->Step());
        if (!row) break;
        write->Reset();
        for (size_t i = 0; i < cols.size(); ++i) {
          int col = static_cast<int>(i);
          if (read->IsNull(col)) {
            write->BindNull(col + 1);
          } else {
            write->Bind(col + 1, read->Text(col));
          }
        }
        HOUSTON_RETURN_IF_ERROR(write->Run());
        ++rows;
      }
      read->Reset();
      copied.emplace_back(table, rows);
      if (progress) progress(table, rows);
    }
    for (std::string_view table : kIdentityTables) {
      HOUSTON_RETURN_IF_ERROR((*to)->Exec(fmt::format(
          "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE((SELECT MAX(id) FROM "
          "{0}), 0) + 1, false)",
          table)));
    }
    return OkStatus();
  }();
  if (!st.ok()) {
    (void)(*to)->Exec("ROLLBACK");
    return std::unexpected(st);
  }
  HOUSTON_RETURN_IF_ERROR((*to)->Exec("COMMIT"));
  return copied;
}

}  // namespace houston::store::postgres
