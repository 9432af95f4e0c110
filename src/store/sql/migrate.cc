#include "store/sql/migrate.h"

#include <fmt/format.h>

namespace houston::store::sql {

Result<int> SchemaVersion(Db& db) {
  HOUSTON_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT "
      "NOT NULL, applied_at BIGINT NOT NULL)"));
  HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT MAX(version) FROM schema_migrations"));
  HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
  int v = row && !s->IsNull(0) ? static_cast<int>(s->Int(0)) : 0;
  s->Reset();
  return v;
}

namespace {

Result<std::vector<int>> MigrateLocked(Db& db, const std::vector<Migration>& all, TimePoint now) {
  HOUSTON_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  if (!all.empty() && current > all.back().version) {
    return std::unexpected(FailedPrecondition(fmt::format(
        "database schema version {} is newer than this houston binary understands ({}); "
        "upgrade houston",
        current, all.back().version)));
  }
  std::vector<int> applied;
  for (const auto& m : all) {
    if (m.version <= current) continue;
    HOUSTON_RETURN_IF_ERROR(db.Exec(db.Sql(Fragment::kBeginWrite)));
    Status st = db.Exec(m.sql);
    if (st.ok()) {
      auto ins =
          db.Prepare("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)");
      if (!ins) {
        st = ins.error();
      } else {
        st = (*ins)
                 ->Bind(1, m.version)
                 .Bind(2, m.name)
                 .Bind(3, now.time_since_epoch().count())
                 .Run();
      }
    }
    if (!st.ok()) {
      (void)db.Exec("ROLLBACK");
      return std::unexpected(
          Internal(fmt::format("migration {} ({}) failed: {}", m.version, m.name, st.message())));
    }
    HOUSTON_RETURN_IF_ERROR(db.Exec("COMMIT"));
    applied.push_back(m.version);
  }
  return applied;
}

}  // namespace

Result<std::vector<int>> Migrate(Db& db, const std::vector<Migration>& all, TimePoint now) {
  // Several servers may start at once on one database: one migrates, the others wait and then
  // find nothing left to do.
  HOUSTON_RETURN_IF_ERROR(db.Exec(db.Sql(Fragment::kLockMigrations)));
  auto applied = MigrateLocked(db, all, now);
  Status unlock = db.Exec(db.Sql(Fragment::kUnlockMigrations));
  if (applied && !unlock.ok()) return std::unexpected(unlock);
  return applied;
}

}  // namespace houston::store::sql
