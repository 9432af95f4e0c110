// PostgreSQL behind the store's SQL seam (store/sql/db.h), over libpq.
//
// PgDb is one connection: it prepares the store's `?`-style SQL as server-side prepared
// statements, maps server errors to Status codes, and re-establishes itself after the server
// goes away (with a backoff, failing fast in between). PgListener is a connection of its own that
// waits for NOTIFY on one channel; Notify() sends one. libpq stays out of this header; nothing
// here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/sql/db.h"

namespace houston::store::postgres {

namespace internal {
class Connection;  // a libpq connection and its reconnection backoff (pg_db.cc)
class PgStmt;      // the sql::Stmt of a PgDb (pg_db.cc)
}  // namespace internal

// The URL (or key=value string) with every spelling of its password replaced by "***", for
// messages and logs.
std::string RedactUrl(std::string_view url);

// Rewrites SQLite-style placeholders to PostgreSQL's: `?N` becomes `$N`, and a bare `?` becomes
// `$M` where M is one more than the largest number assigned so far (SQLite's rule, so `?, ?`
// is `$1, $2` and `?2, ?` is `$2, $3`). Text inside single-quoted literals (with '' escapes, and
// E'...' with backslash escapes), double-quoted identifiers, dollar-quoted strings, `--` and
// `/* */` comments is left alone. PostgreSQL operators spelled with `?` (jsonb `?`, `?|`, `?&`)
// therefore cannot be used in SQL given to PgDb::Prepare; use the jsonb_exists*() functions.
std::string TranslatePlaceholders(std::string_view sql);

// One PostgreSQL connection behind sql::Db.
//
// Statements: Prepare() translates placeholders (TranslatePlaceholders), prepares each distinct
// SQL text once per server session (names "s1", "s2", ...) with parameter types inferred by the
// server, and caches it. Values travel as text in both directions. The first Step() after a
// Reset() runs the statement and fetches all its rows at once; later steps read them locally.
//
// Errors: a constraint violation (SQLSTATE class 23) is AlreadyExists; a lost or unreachable
// server (SQLSTATE class 08, 57P01-57P03, or a broken connection) and a serialization failure or
// deadlock (40001, 40P01: the transaction may be retried) are Unavailable; anything else is
// Internal, with the server's message and SQLSTATE.
//
// Reconnection: once the connection is found broken, the next Exec(), Prepare() or Ping()
// re-establishes it. A failed attempt is not repeated before a backoff has passed (250 ms,
// doubling up to 5 s, back to 250 ms after a success); calls in between fail fast with
// Unavailable ("PostgreSQL is unreachable: ..."). A new session has lost any open transaction and
// all prepared statements: every Stmt obtained before the reconnection is invalid, and its Step()
// returns Unavailable until Prepare() is called again for its SQL (which re-prepares it; the
// pointer stays the same, so using a stale pointer is an error, never undefined behaviour).
//
// Thread-compatible: use from one thread at a time (one connection per thread).
class PgDb final : public sql::Db {
 public:
  // Connects to `url`, a libpq connection URI or key=value string (e.g.
  // "postgresql://houston@/houston?host=/run/postgresql&port=5432"). Defaults, which the URL
  // overrides: connect_timeout=10, application_name "houston". Unavailable with libpq's message
  // if the server cannot be reached, rejects the login or the URL is malformed; messages never
  // contain a password from the URL. The reconnection backoff is timed by `clock`.
  static Result<std::unique_ptr<PgDb>> Connect(const std::string& url,
                                               const Clock& clock = RealClock());
  ~PgDb() override;
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  // Runs `sql` (one or more statements, no parameters) and discards any rows.
  Status Exec(std::string_view sql) override;
  // The cached statement for `sql`, reset and with bindings cleared. Owned by this PgDb. Errors:
  // "prepare failed for: <SQL>" mapped as above. Parameters left unbound are NULL.
  Result<sql::Stmt*> Prepare(std::string_view sql) override;
  // Statements given to Stmt::RunLater() are sent in pipeline mode without waiting; the next
  // statement that needs an answer (a Step(), Exec(), a first Prepare(), or Flush()) goes in
  // the same round trip after them and reads their results. If one of them failed, the
  // statements behind it in that round trip are run again on their own (so a ROLLBACK always
  // runs) and the failed one's error is returned.
  Status Flush() override;
  // Rows changed by the most recent INSERT, UPDATE, DELETE or MERGE on this connection, whether
  // run by Exec() or a Stmt (other commands leave it alone; 0 before the first). Statements run
  // later do not set it.
  int64_t Changes() const override;
  // kBeginWrite: "BEGIN"; kForUpdateSkip: " FOR UPDATE SKIP LOCKED"; kLockMigrations and
  // kUnlockMigrations take and release a session-level advisory lock (pg_advisory_lock).
  std::string_view Sql(sql::Fragment f) const override;

  // Whether the connection was fine when last used. Cheap: no round trip.
  bool Healthy() const override;
  // A disk-full (SQLSTATE 53100) or I/O (58030) error met since the last call.
  std::string TakeStorageFault() override;
  // Counts each statement run later as one change, when it is sent.
  int64_t TotalChanges() const override;
  // Runs `SELECT 1` (reconnecting first if needed, like Exec); OK if the server answered.
  Status Ping();

 private:
  explicit PgDb(std::unique_ptr<internal::Connection> conn);

  std::unique_ptr<internal::Connection> conn_;
  // Keyed by the SQL as given; statements live as long as the PgDb.
  sql::StatementCache<internal::PgStmt> cache_;
  int64_t statements_named_ = 0;
};

// A connection that LISTENs on one channel and hands over the payloads NOTIFY sends there.
// Notifications are delivered when the sending transaction commits, in commit order. Those sent
// while the connection is down are lost: after Wait() returned Unavailable, re-read whatever
// state the notifications describe once it succeeds again.
//
// Thread-compatible: use from one thread at a time.
class PgListener {
 public:
  // Connects to `url` (as PgDb::Connect) and LISTENs on `channel` (any string; it is quoted, so
  // it is case-sensitive, like pg_notify's). Unavailable if the server cannot be reached. Its
  // waits, and so its backoff, are in real time.
  static Result<std::unique_ptr<PgListener>> Open(const std::string& url, std::string channel);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Waits up to `timeout` (0: just checks) for notifications and returns the payloads received,
  // oldest first; empty on timeout. Returns as soon as at least one is there. Unavailable if the
  // connection is lost or cannot be re-established; the next call then reconnects (with the
  // same backoff as PgDb) and LISTENs again before waiting. While the backoff forbids an
  // attempt, a call sleeps until the next attempt or its timeout, whichever comes first, so a
  // loop around Wait() does not spin while the server is down.
  Result<std::vector<std::string>> Wait(std::chrono::milliseconds timeout);

  const std::string& channel() const { return channel_; }

 private:
  PgListener(std::unique_ptr<internal::Connection> conn, std::string channel);
  Status Listen();

  std::unique_ptr<internal::Connection> conn_;
  std::string channel_;
  uint64_t listening_session_ = 0;  // the connection session LISTEN last ran on
};

// Sends `payload` to the listeners of `channel` (SELECT pg_notify($1, $2)) on `db`. Inside a
// transaction it is delivered on COMMIT and dropped on ROLLBACK. Payloads are limited to 8000
// bytes by the server (Internal beyond that).
Status Notify(PgDb& db, std::string_view channel, std::string_view payload);

}  // namespace houston::store::postgres
