#include "store/sqlite/sqlite_store.h"

#include <spdlog/spdlog.h>

#include "store/sql/schema.h"
#include "store/sql/secrets_at_rest.h"
#include "store/sqlite/db.h"

namespace houston::store::sqlite {

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteOptions options) {
  sql::SqlStoreOptions o;
  o.connect = [path = options.path](bool read_only) -> Result<std::unique_ptr<sql::Db>> {
    HOUSTON_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, read_only));
    return std::unique_ptr<sql::Db>(std::move(db));
  };
  o.queue_capacity = options.queue_capacity;
  o.max_batch = options.max_batch;
  o.clock = options.clock;
  o.on_commit = std::move(options.on_commit);
  o.on_events = std::move(options.on_events);
  o.on_feed = std::move(options.on_feed);
  o.keyring = std::move(options.keyring);
  // The writer's WAL frames go to the file in a few large writes per commit (wal_vfs.h),
  // which needs the sync at every commit that FULL makes.
  HOUSTON_ASSIGN_OR_RETURN(
      auto db, SqliteDb::Open(options.path, false,
                              options.synchronous_full ? WalWrites::kBatched : WalWrites::kDirect));
  HOUSTON_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL"));
  HOUSTON_RETURN_IF_ERROR(db->Exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                                            : "PRAGMA synchronous = NORMAL"));
  HOUSTON_RETURN_IF_ERROR(db->Exec(
      "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;"));
  HOUSTON_RETURN_IF_ERROR(
      sql::Migrate(*db, sql::Migrations(sql::Dialect::kSqlite), o.clock->Now()));
  HOUSTON_ASSIGN_OR_RETURN(sql::SecretsSummary sealed,
                           sql::SecureSecretsAtRest(*db, o.keyring.get()));
  if (sealed.sealed > 0) {
    spdlog::info("secrets: sealed {} stored secret(s) that were in clear under key {}",
                 sealed.sealed, o.keyring->primary().id);
  }
  o.event_key_id = sealed.event_key_id;
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(o)));
  store->StartWriter(std::move(db));
  return store;
}

}  // namespace houston::store::sqlite
