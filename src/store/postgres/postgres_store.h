// PostgresStore: the Store on PostgreSQL (SqlStore on libpq connections), for running several
// houston replicas on one database. Every commit also NOTIFYs the channel kChangeChannel, so
// that the other replicas' engines wake at once (PgListener). Migrations take an advisory lock,
// so replicas may start together.
#pragma once

#include <memory>
#include <string>

#include "store/sql/sql_store.h"

namespace houston::store::postgres {

// Every transaction that wrote something notifies this channel when it commits; the payload is
// the committing server's PostgresOptions::instance.
inline constexpr const char* kChangeChannel = "houston_changes";

struct PostgresOptions {
  std::string url;  // postgres://user@host:port/db?... (libpq URL)
  size_t queue_capacity = 65536;
  size_t max_batch = 8192;
  Clock* clock = &RealClock();
  CommitObserver on_commit;  // optional
  EventObserver on_events;   // optional
  FeedObserver on_feed;      // optional
  // Seals the secrets the store keeps (store/sql/secrets_at_rest.h); null: stored as given,
  // and Open fails if the database holds sealed secrets.
  std::shared_ptr<const secrets::Keyring> keyring;
  // This server's name in change notifications (so that it can ignore its own).
  std::string instance = "houston";
};

// Thread-safe.
class PostgresStore final : public sql::SqlStore {
 public:
  // Connects, applies pending migrations (under an advisory lock), seals the secrets still in
  // clear when it has a keyring (store/sql/secrets_at_rest.h; FailedPrecondition naming the key id
  // the database needs when it was sealed with another key) and starts the writer.
  // Unavailable if the database cannot be reached.
  static Result<std::unique_ptr<PostgresStore>> Open(PostgresOptions options);

  // Whether the database answers now (for /readyz): OK, or Unavailable with the reason.
  Status Ready() override;

 private:
  using SqlStore::SqlStore;
};

// True for the URLs PostgresStore takes: postgres://... or postgresql://...
bool IsPostgresUrl(std::string_view db);

}  // namespace houston::store::postgres
