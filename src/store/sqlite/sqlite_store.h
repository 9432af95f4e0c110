// SqliteStore: the embedded single-node Store backend (SQLite in WAL mode): SqlStore on SQLite
// connections. Reads use read-only connections and never wait for the writer (WAL).
#pragma once

#include <memory>
#include <string>

#include "store/sql/sql_store.h"

namespace houston::store::sqlite {

struct SqliteOptions {
  std::string path;
  // FULL: the WAL is fsynced at every commit, so a committed write survives power loss.
  // NORMAL (opt-in): fsync only at checkpoints; survives a process crash (kill -9) but the
  // last transactions before a power loss or kernel crash may be lost.
  bool synchronous_full = true;
  size_t queue_capacity = 65536;  // queued writes beyond this are refused (ResourceExhausted)
  size_t max_batch = 8192;        // writes per transaction at most
  Clock* clock = &RealClock();
  CommitObserver on_commit;  // optional
  EventObserver on_events;   // optional
  FeedObserver on_feed;      // optional
  // Seals the secrets the store keeps (store/sql/secrets_at_rest.h); null: stored as given,
  // and Open fails if the database holds sealed secrets.
  std::shared_ptr<const secrets::Keyring> keyring;
};

// Thread-safe.
class SqliteStore final : public sql::SqlStore {
 public:
  // Opens the database, applies pending migrations, seals the secrets still in clear (or refuses
  // a key the database was not sealed with: FailedPrecondition naming the key id it needs; see
  // store/sql/secrets_at_rest.h) and starts the writer thread.
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteOptions options);

 private:
  using SqlStore::SqlStore;
};

}  // namespace houston::store::sqlite
