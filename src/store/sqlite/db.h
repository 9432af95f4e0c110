// The SQLite side of the store's SQL seam (store/sql/db.h): thin RAII wrappers over the sqlite3
// C API, a connection (SqliteDb) and its cached prepared statements. Nothing throws.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/sql/db.h"

namespace houston::store::sqlite {

class SqliteStmt;

// The database file and its companions (-wal, -shm, -journal) hold webhook secrets, provider
// authorization headers and token hashes: only their owner may read them. Creates `path` with
// mode 0600 if it does not exist (SQLite then gives its -wal and -shm files the same mode), and
// sets any of these files that group or others may access to 0600. Returns one line per file
// it tightened (for a warning), or per file it could not tighten. A path that is not a file
// (":memory:", "", a "file:" URI) is left alone.
std::vector<std::string> MakeDatabaseFilesPrivate(const std::string& path);

// How a connection writes its WAL. kBatched (wal_vfs.h) writes a transaction's frames in one
// system call at its sync, and is only for a connection that will run with `PRAGMA synchronous
// = FULL`, which syncs the WAL at every commit.
enum class WalWrites { kDirect, kBatched };

// One connection. Thread-compatible: use from one thread at a time.
class SqliteDb final : public sql::Db {
 public:
  // Opens (creating if needed) the database at `path`. A writable open first makes the
  // database's files private (MakeDatabaseFilesPrivate) and logs a warning for each file whose
  // mode it had to tighten.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only,
                                                WalWrites wal = WalWrites::kDirect);
  ~SqliteDb() override;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
  Status Exec(std::string_view sql) override;
  Result<sql::Stmt*> Prepare(std::string_view sql) override;
  int64_t Changes() const override { return sqlite3_changes(db_); }
  int64_t TotalChanges() const override { return sqlite3_total_changes(db_); }
  std::string_view Sql(sql::Fragment f) const override;
  // The Status of the connection's last error: a constraint violation is AlreadyExists; busy,
  // locked, full, I/O, cannot-open and read-only errors are Unavailable (full and I/O errors are
  // also kept for TakeStorageFault); anything else is Internal.
  Status Error(std::string_view what) const;
  std::string TakeStorageFault() override { return std::exchange(storage_fault_, {}); }
  sqlite3* raw() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  sql::StatementCache<SqliteStmt> cache_;
  mutable std::string storage_fault_;  // set by Error()
};

// A prepared statement. Bind indices are 1-based, column indices 0-based.
//
// `INSERT ... RETURNING id` (the store's way to learn a new row's id, store/sql/db.h) is run
// without its RETURNING clause, and its one row is the connection's last_insert_rowid: SQLite
// implements RETURNING with a temporary b-tree per execution, which cost the intake path as
// much as an index. (Every such table's id is its rowid: INTEGER PRIMARY KEY.)
class SqliteStmt final : public sql::Stmt {
 public:
  SqliteStmt(SqliteDb* db, sqlite3_stmt* s, bool rowid_as_row = false)
      : db_(db), s_(s), rowid_as_row_(rowid_as_row) {}
  ~SqliteStmt() override { sqlite3_finalize(s_); }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  using sql::Stmt::Bind;
  sql::Stmt& Bind(int i, int64_t v) override {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  sql::Stmt& Bind(int i, double v) override {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  sql::Stmt& Bind(int i, std::string_view v) override {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  sql::Stmt& BindNull(int i) override {
    sqlite3_bind_null(s_, i);
    return *this;
  }

  Result<bool> Step() override;
  void Reset() override {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    rowid_state_ = RowidState::kNotRun;
  }

  int64_t Int(int col) const override {
    if (rowid_state_ == RowidState::kRow) return rowid_;
    return sqlite3_column_int64(s_, col);
  }
  double Double(int col) const override { return sqlite3_column_double(s_, col); }
  bool IsNull(int col) const override { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const override {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }

 private:
  SqliteDb* db_;
  sqlite3_stmt* s_;
  const bool rowid_as_row_;
  enum class RowidState { kNotRun, kRow, kDone } rowid_state_ = RowidState::kNotRun;
  int64_t rowid_ = 0;
};

}  // namespace houston::store::sqlite
