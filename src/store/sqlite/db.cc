#include "store/sqlite/db.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/sqlite/page_cache.h"
#include "store/sqlite/wal_vfs.h"

namespace houston::store::sqlite {

std::vector<std::string> MakeDatabaseFilesPrivate(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) return out;
  // Created here, 0600, rather than by SQLite, which would use 0644 minus the umask.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);  // otherwise SQLite reports why it cannot open the file
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::string file = path + suffix;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if ((st.st_mode & 077) == 0) continue;
    if (::chmod(file.c_str(), S_IRUSR | S_IWUSR) == 0) {
      out.push_back(
          fmt::format("{} was readable by other users (mode {:04o}); it holds secrets: "
                      "its mode is now 0600",
                      file, st.st_mode & 07777));
    } else {
      out.push_back(
          fmt::format("{} is readable by other users (mode {:04o}) and holds secrets, "
                      "but its mode cannot be changed: {}; chmod 600 it",
                      file, st.st_mode & 07777, std::strerror(errno)));
    }
  }
  return out;
}

namespace {

// Once per process, before SQLite's first use:
// - no memory statistics. With them on (SQLite's default), every allocation and free SQLite
//   makes takes one process-wide mutex, which the store's writer, its readers and the change
//   feed then share; houston never reads the statistics.
// - the page cache of page_cache.h, which spares each write transaction a walk of the whole
//   cache.
// (If SQLite was already initialized, e.g. by a test, the calls are refused and change nothing.)
void ConfigureSqliteOnce() {
  static const bool configured = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)InstallPageCache();
    return true;
  }();
  (void)configured;
}

}  // namespace

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only,
                                                 WalWrites wal) {
  ConfigureSqliteOnce();
  const char* vfs = wal == WalWrites::kBatched ? BatchedWalVfs() : nullptr;
  if (!read_only) {
    for (const auto& line : MakeDatabaseFilesPrivate(path)) spdlog::warn("{}", line);
  }
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return std::unexpected(Unavailable(fmt::format("cannot open database {}: {}", path, msg)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(raw));
}

SqliteDb::~SqliteDb() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close(db_);
}

Status SqliteDb::Error(std::string_view what) const {
  int code = sqlite3_errcode(db_);
  std::string msg = fmt::format("{}: {} (sqlite code {})", what, sqlite3_errmsg(db_), code);
  int primary = code & 0xff;
  if (primary == SQLITE_CONSTRAINT) return AlreadyExists(std::move(msg));
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR) storage_fault_ = msg;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL ||
      primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY) {
    return Unavailable(std::move(msg));
  }
  return Internal(std::move(msg));
}

Status SqliteDb::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Status st = Error(fmt::format("exec failed ({})", err ? err : "?"));
    sqlite3_free(err);
    return st;
  }
  return OkStatus();
}

Result<sql::Stmt*> SqliteDb::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  // A plain `INSERT INTO ... RETURNING id` runs as the INSERT alone (SqliteStmt). An upsert or
  // INSERT OR ... keeps its clause: it may insert nothing, and the rowid would be stale.
  constexpr std::string_view kReturningId = " RETURNING id";
  std::string_view text = sql;
  const bool rowid_as_row = sql.starts_with("INSERT INTO ") && sql.ends_with(kReturningId) &&
                            sql.find("ON CONFLICT") == std::string_view::npos;
  if (rowid_as_row) text.remove_suffix(kReturningId.size());
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, text.data(), static_cast<int>(text.size()), SQLITE_PREPARE_PERSISTENT,
                         &s, nullptr) != SQLITE_OK) {
    return std::unexpected(Error(fmt::format("prepare failed for: {}", sql.substr(0, 80))));
  }
  auto [pos, inserted] =
      cache_.emplace(std::string(sql), std::make_unique<SqliteStmt>(this, s, rowid_as_row));
  return pos->second.get();
}

Result<bool> SqliteStmt::Step() {
  if (rowid_as_row_) {
    // The INSERT on the first step, then its one row (the id), then done.
    if (rowid_state_ == RowidState::kRow) {
      rowid_state_ = RowidState::kDone;
      return false;
    }
    if (rowid_state_ == RowidState::kDone) return false;
    int rc = sqlite3_step(s_);
    if (rc != SQLITE_DONE) return std::unexpected(db_->Error("step failed"));
    rowid_ = sqlite3_last_insert_rowid(db_->raw());
    rowid_state_ = RowidState::kRow;
    return true;
  }
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(db_->Error("step failed"));
}

std::string_view SqliteDb::Sql(sql::Fragment f) const {
  switch (f) {
    case sql::Fragment::kBeginWrite:
      return "BEGIN IMMEDIATE";
    case sql::Fragment::kForUpdateSkip:
      return "";  // one writer: nothing to skip
    case sql::Fragment::kForUpdate:
      return "";  // one writer at a time (BEGIN IMMEDIATE): reads in a write are already stable
    case sql::Fragment::kLockMigrations:
    case sql::Fragment::kUnlockMigrations:
      return "SELECT 1";  // BEGIN IMMEDIATE already excludes other writers
  }
  return "";
}

}  // namespace houston::store::sqlite
