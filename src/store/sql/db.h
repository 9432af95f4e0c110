// The SQL seam of the store: one connection (Db) and its prepared statements (Stmt), as the
// store's logic uses them, whichever database is behind. SQLite (store/sqlite/) and PostgreSQL
// (store/postgres/) implement it; the store writes SQL both understand:
//   - placeholders are `?` (a PostgreSQL connection numbers them $1, $2, ... itself), or `?N`;
//   - new ids come back with `INSERT ... RETURNING id`;
//   - upserts are `ON CONFLICT (...) DO NOTHING | DO UPDATE SET ... = excluded....`;
//   - NULL-safe comparison is `IS NOT DISTINCT FROM`;
//   - booleans are stored as integers 0/1, and no query returns a boolean column;
//   - what only one dialect has comes from Db::Sql() (e.g. `FOR UPDATE SKIP LOCKED`).
// Errors come back as Status; nothing throws. A constraint violation is AlreadyExists; a lost or
// unreachable database is Unavailable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/feed.h"
#include "store/sql/event_keys.h"

namespace houston::store::sql {

enum class Dialect { kSqlite, kPostgres };

// A connection's prepared statements by SQL text, looked up without building a std::string.
struct SqlTextHash {
  using is_transparent = void;
  size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
};
template <typename S>
using StatementCache =
    std::unordered_map<std::string, std::unique_ptr<S>, SqlTextHash, std::equal_to<>>;

// A prepared statement. Bind indices are 1-based, column indices 0-based. Thread-compatible.
class Stmt {
 public:
  virtual ~Stmt() = default;

  virtual Stmt& Bind(int i, int64_t v) = 0;
  virtual Stmt& Bind(int i, double v) = 0;
  virtual Stmt& Bind(int i, std::string_view v) = 0;
  virtual Stmt& BindNull(int i) = 0;
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  template <typename T>
  Stmt& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // Steps once: true if a row is available, false when done.
  virtual Result<bool> Step() = 0;
  // Steps to completion, for statements without results.
  Status Run() {
    for (;;) {
      auto r = Step();
      if (!r) return r.error();
      if (!*r) return OkStatus();
    }
  }
  // Runs a statement whose rows and Changes() the caller does not need, perhaps later: a
  // network database may send it without waiting for its answer and take that answer in the
  // round trip of the next statement on the connection (pipelining). Its error then comes back
  // from that statement, from Db::Flush() or Db::Exec(); it still belongs to the transaction it
  // was sent in. Statements run in the order they were given either way.
  virtual Status RunLater() { return Run(); }
  // Ready to run again; bindings cleared.
  virtual void Reset() = 0;

  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  std::optional<int64_t> OptInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }
};

// Dialect-specific SQL fragments the store asks for by name.
enum class Fragment {
  kBeginWrite,      // starts a write transaction ("BEGIN IMMEDIATE" / "BEGIN")
  kForUpdateSkip,   // appended to a SELECT that claims rows ("" / " FOR UPDATE SKIP LOCKED")
  kForUpdate,       // appended to a SELECT that locks the rows it reads until the transaction
                    // ends ("" / " FOR UPDATE"; SQLite's BEGIN IMMEDIATE already excludes writers)
  kLockMigrations,  // a statement that waits for (and takes) the schema-migration lock, held
                    // until kUnlockMigrations ("SELECT 1" / "SELECT pg_advisory_lock(...)")
  kUnlockMigrations,
};

// One connection. Thread-compatible: use from one thread at a time.
class Db {
 public:
  virtual ~Db() = default;
  virtual Dialect dialect() const = 0;
  // Runs one or more statements with no results and no parameters.
  virtual Status Exec(std::string_view sql) = 0;
  // A cached prepared statement, reset and with bindings cleared. Valid until the Db closes (or,
  // for a network database, until the connection is re-established). Takes a view so that a
  // literal costs no string copy on the hot path; the cache is looked up by hash.
  virtual Result<Stmt*> Prepare(std::string_view sql) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t Changes() const = 0;
  // Rows changed by every INSERT, UPDATE and DELETE since the connection opened.
  virtual int64_t TotalChanges() const = 0;
  virtual std::string_view Sql(Fragment f) const = 0;
  // Completes every statement given to RunLater(): the first error among them.
  virtual Status Flush() { return OkStatus(); }
  // False once the connection is known to be broken (an embedded database never is).
  virtual bool Healthy() const { return true; }
  // The storage fault (the disk is full, an I/O error) a statement on this connection met since
  // the last call, as a message; "" if none. Clears it.
  virtual std::string TakeStorageFault() { return ""; }

  // Counts a domain event of the write being applied (store::EventCounts names them). SqlStore
  // takes the counts after each write and reports those of the writes that committed.
  void CountEvent(std::string_view event, int64_t n = 1) {
    auto it = events_.find(event);
    if (it == events_.end()) it = events_.emplace(std::string(event), 0).first;
    it->second += n;
  }
  std::map<std::string, int64_t, std::less<>> TakeEvents() { return std::exchange(events_, {}); }

  // A change feed entry of the write being applied (store/feed.h); like events, SqlStore takes
  // them after each write and writes those of the writes that stay just before COMMIT.
  struct PendingFeed {
    FeedType type;
    std::string id;
    TimePoint at;
  };
  void RecordFeed(FeedType type, std::string id, TimePoint at) {
    feed_.push_back(PendingFeed{type, std::move(id), at});
  }
  std::vector<PendingFeed> TakeFeed() { return std::exchange(feed_, {}); }

  // How this connection stores the integration keys of the event tables: every statement that
  // binds or reads one goes through it. SqlStore sets it on each connection it uses; a
  // connection nobody set it on stores keys in clear.
  EventKeys& keys() { return keys_; }
  void SetEventKeys(EventKeys keys) { keys_ = std::move(keys); }

 private:
  EventKeys keys_;
  std::map<std::string, int64_t, std::less<>> events_;
  std::vector<PendingFeed> feed_;
};

}  // namespace houston::store::sql
