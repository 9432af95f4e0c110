#include "store/postgres/postgres_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "store/postgres/pg_db.h"
#include "store/sql/schema.h"
#include "store/sql/secrets_at_rest.h"

namespace houston::store::postgres {

bool IsPostgresUrl(std::string_view db) {
  return db.starts_with("postgres://") || db.starts_with("postgresql://");
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresOptions options) {
  sql::SqlStoreOptions o;
  o.connect = [url = options.url, clock = options.clock](bool) -> Result<std::unique_ptr<sql::Db>> {
    HOUSTON_ASSIGN_OR_RETURN(auto db, PgDb::Connect(url, *clock));
    return std::unique_ptr<sql::Db>(std::move(db));
  };
  o.queue_capacity = options.queue_capacity;
  o.max_batch = options.max_batch;
  o.clock = options.clock;
  o.on_commit = std::move(options.on_commit);
  o.on_events = std::move(options.on_events);
  o.on_feed = std::move(options.on_feed);
  o.keyring = std::move(options.keyring);
  // Delivered when (and only if) the transaction commits; SqlStore calls this only when the
  // transaction changed rows (a claim that claimed nothing wakes nobody). The payload says who:
  // a server ignores its own notifications.
  o.before_commit = [instance = options.instance](sql::Db& db) -> Status {
    static const std::string kNotify =
        fmt::format("SELECT pg_notify('{}', CAST(? AS TEXT))", kChangeChannel);
    HOUSTON_ASSIGN_OR_RETURN(sql::Stmt * s, db.Prepare(kNotify));
    s->Bind(1, instance);
    return s->Run();
  };
  HOUSTON_ASSIGN_OR_RETURN(auto db, PgDb::Connect(options.url, *options.clock));
  HOUSTON_RETURN_IF_ERROR(
      sql::Migrate(*db, sql::Migrations(sql::Dialect::kPostgres), o.clock->Now()));
  HOUSTON_ASSIGN_OR_RETURN(sql::SecretsSummary sealed,
                           sql::SecureSecretsAtRest(*db, o.keyring.get()));
  if (sealed.sealed > 0) {
    spdlog::info("secrets: sealed {} stored secret(s) that were in clear under key {}",
                 sealed.sealed, o.keyring->primary().id);
  }
  o.event_key_id = sealed.event_key_id;
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(o)));
  store->StartWriter(std::move(db));
  return store;
}

Status PostgresStore::Ready() {
  HOUSTON_RETURN_STATUS_IF_ERROR(SqlStore::Ready());
  auto r = WithReader([](sql::Db& db) -> Result<bool> {
    auto* pg = dynamic_cast<PgDb*>(&db);
    if (pg) HOUSTON_RETURN_IF_ERROR(pg->Ping());
    return true;
  });
  if (r) return OkStatus();
  return Unavailable("PostgreSQL does not answer: " + r.error().message());
}

}  // namespace houston::store::postgres
