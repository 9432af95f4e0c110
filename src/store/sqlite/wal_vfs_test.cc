// The batched-WAL VFS (wal_vfs.h): a commit's frames reach the file in a few writes, every
// commit is in the file (and visible to other connections) when it returns, and rollbacks,
// spills and checkpoints leave a sound database.
#include "store/sqlite/wal_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "store/sqlite/db.h"
#include "store/sqlite/test_queries.h"
#include "testing/status_matchers.h"
#include "testing/test_dir.h"

namespace houston::store::sqlite {
namespace {

// Counts the unix VFS's pwrite calls, through its system-call table (xSetSystemCall): the one
// place every write of every file goes through. (Debian's SQLite writes with pwrite64.)
int g_writes = 0;
const char* g_pwrite_name = nullptr;
sqlite3_syscall_ptr g_real_pwrite = nullptr;

ssize_t CountingPwrite(int fd, const void* buf, size_t n, off_t off) {
  ++g_writes;
  return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off_t)>(g_real_pwrite)(fd, buf, n,
                                                                                       off);
}

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(BatchedWalVfs(), nullptr);
    unix_ = sqlite3_vfs_find("unix");
    ASSERT_NE(unix_, nullptr);
    for (const char* name : {"pwrite64", "pwrite"}) {
      g_pwrite_name = name;
      g_real_pwrite = unix_->xGetSystemCall(unix_, name);
      if (g_real_pwrite != nullptr) break;
    }
    ASSERT_NE(g_real_pwrite, nullptr) << "this SQLite writes with neither pwrite64 nor pwrite";
    ASSERT_EQ(unix_->xSetSystemCall(unix_, g_pwrite_name,
                                    reinterpret_cast<sqlite3_syscall_ptr>(CountingPwrite)),
              SQLITE_OK);
  }
  void TearDown() override {
    if (unix_ != nullptr && g_real_pwrite != nullptr) {
      unix_->xSetSystemCall(unix_, g_pwrite_name, g_real_pwrite);
    }
  }

  std::string Path() const { return (dir_.path() / "w.db").string(); }

  // A connection as the store's writer opens it, with no automatic checkpoint: every write
  // between two counts then goes to the WAL.
  std::unique_ptr<SqliteDb> Writer(WalWrites wal) {
    auto db = SqliteDb::Open(Path(), false, wal);
    EXPECT_TRUE(db.has_value()) << db.error().ToString();
    if (!db) return nullptr;
    EXPECT_OK(
        (*db)->Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                    "PRAGMA wal_autocheckpoint = 0"));
    EXPECT_OK((*db)->Exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)"));
    return std::move(*db);
  }
  std::unique_ptr<SqliteDb> Reader() {
    auto db = SqliteDb::Open(Path(), true);
    EXPECT_TRUE(db.has_value()) << db.error().ToString();
    return db ? std::move(*db) : nullptr;
  }
  static int64_t Count(SqliteDb& db, std::string_view sql = "SELECT count(*) FROM t") {
    return QueryInt(db, sql);
  }
  // Writes of one transaction of `rows` rows of a page each.
  static int WritesOfCommit(SqliteDb& db, int rows) {
    EXPECT_OK(db.Exec("BEGIN"));
    for (int i = 0; i < rows; ++i) {
      EXPECT_OK(db.Exec("INSERT INTO t(v) VALUES (randomblob(4000))"));
    }
    g_writes = 0;
    EXPECT_OK(db.Exec("COMMIT"));
    return g_writes;
  }

  testing::TestDir dir_{"houston-wal-vfs-test"};
  sqlite3_vfs* unix_ = nullptr;
};

TEST_F(WalVfsTest, ACommitsFramesGoToTheFileInAFewWrites) {
  // 100 pages and their frame headers: about 412 KB, in writes of 64 KiB.
  auto direct = Writer(WalWrites::kDirect);
  ASSERT_NE(direct, nullptr);
  EXPECT_GE(WritesOfCommit(*direct, 100), 200) << "a frame is a header and a page";
  direct.reset();
  auto batched = Writer(WalWrites::kBatched);
  ASSERT_NE(batched, nullptr);
  EXPECT_LE(WritesOfCommit(*batched, 100), 10);
  auto reader = Reader();
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Count(*reader), 200);
  EXPECT_EQ(Count(*reader, "SELECT sum(length(v)) FROM t"), 200 * 4000);
}

TEST_F(WalVfsTest, AnotherConnectionSeesEveryCommitAtOnce) {
  auto writer = Writer(WalWrites::kBatched);
  auto reader = Reader();
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  for (int i = 1; i <= 50; ++i) {
    ASSERT_OK(writer->Exec("INSERT INTO t(v) VALUES (randomblob(300))"));
    ASSERT_EQ(Count(*reader), i) << "commit " << i;
  }
}

TEST_F(WalVfsTest, ARolledBackSpillAndACheckpointLeaveASoundDatabase) {
  auto writer = Writer(WalWrites::kBatched);
  auto reader = Reader();
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  ASSERT_OK(writer->Exec("INSERT INTO t(v) VALUES (randomblob(4000))"));
  // A cache of 5 pages: the transaction spills its pages to the WAL, and reads them back.
  ASSERT_OK(writer->Exec("PRAGMA cache_size = 5"));
  ASSERT_OK(writer->Exec("BEGIN"));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(writer->Exec("INSERT INTO t(v) VALUES (randomblob(4000))"));
  }
  EXPECT_EQ(Count(*writer, "SELECT count(*) FROM t WHERE length(v) = 4000"), 201);
  ASSERT_OK(writer->Exec("ROLLBACK"));
  EXPECT_EQ(Count(*reader), 1);
  for (int i = 0; i < 10; ++i) ASSERT_OK(writer->Exec("INSERT INTO t(v) VALUES (randomblob(500))"));
  EXPECT_EQ(Count(*reader), 11);
  ASSERT_OK(writer->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  for (int i = 0; i < 10; ++i) ASSERT_OK(writer->Exec("INSERT INTO t(v) VALUES (randomblob(500))"));
  EXPECT_EQ(Count(*reader), 21);
  EXPECT_EQ(IntegrityCheck(*writer), "ok");
  EXPECT_EQ(IntegrityCheck(*reader), "ok");
}

// A process that dies right after its commits (no close, nothing flushed on the way out) leaves
// them all in the files.
TEST_F(WalVfsTest, ACommitIsInTheFileWhenItReturns) {
  {
    auto writer = Writer(WalWrites::kBatched);  // the table, made before the child writes
    ASSERT_NE(writer, nullptr);
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = SqliteDb::Open(Path(), false, WalWrites::kBatched);
    bool ok = db.has_value() && (*db)->Exec("PRAGMA synchronous = FULL").ok();
    for (int i = 0; ok && i < 30; ++i) {
      ok = (*db)->Exec("INSERT INTO t(v) VALUES (randomblob(3000))").ok();
    }
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto reader = Reader();
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Count(*reader), 30);
  EXPECT_EQ(IntegrityCheck(*reader), "ok");
}

}  // namespace
}  // namespace houston::store::sqlite
