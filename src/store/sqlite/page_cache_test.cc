// The page cache of page_cache.h: a commit after B-tree pages were swapped does not make the
// default cache walk its hash table, and a rollback still drops the pages it gave up.
#include "store/sqlite/page_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "store/sqlite/db.h"
#include "store/sqlite/test_queries.h"
#include "testing/status_matchers.h"
#include "testing/test_dir.h"

namespace houston::store::sqlite {
namespace {

// Opens a database as the store's writer does (WAL, a 64 MiB cache), which also installs the
// cache (SqliteDb::Open, once per process).
std::unique_ptr<SqliteDb> OpenWriter(const testing::TestDir& dir) {
  auto db = SqliteDb::Open((dir.path() / "t.db").string(), false);
  EXPECT_TRUE(db.has_value()) << db.error().ToString();
  if (!db) return nullptr;
  EXPECT_OK(
      (*db)->Exec("PRAGMA journal_mode = WAL; PRAGMA cache_size = -65536; "
                  "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)"));
  return std::move(*db);
}

// Inserts `rows` rows with keys spread over the index (so that pages split in its middle), in
// transactions of 50.
void InsertSpread(SqliteDb& db, int first, int rows) {
  for (int i = first; i < first + rows; ++i) {
    if ((i - first) % 50 == 0) {
      ASSERT_OK(db.Exec("BEGIN"));
    }
    // A multiplicative hash of i: consecutive rows land far apart in key order.
    const uint32_t spread = static_cast<uint32_t>(i) * 2654435761u;
    auto insert = db.Prepare("INSERT INTO t(k, v) VALUES (?, zeroblob(300))");  // cached, reset
    ASSERT_TRUE(insert.has_value());
    ASSERT_OK((*insert)->Bind(1, std::to_string(spread) + "-" + std::to_string(i)).Run());
    if ((i - first) % 50 == 49) {
      ASSERT_OK(db.Exec("COMMIT"));
    }
  }
}

TEST(PageCacheTest, CommitsAfterPageSwapsDoNotWalkTheCache) {
  testing::TestDir dir("houston-page-cache");
  auto db = OpenWriter(dir);
  ASSERT_NE(db, nullptr);
  const PageCacheCounts before = GetPageCacheCounts();
  InsertSpread(*db, 0, 20000);  // 400 commits
  const PageCacheCounts after = GetPageCacheCounts();
  // The workload swapped pages through the pending-byte page's number: the case that made every
  // later commit walk the default cache's whole hash table. (Zero here would also mean the cache
  // is not installed.)
  EXPECT_GT(after.pending_page_rekeys, before.pending_page_rekeys);
  // No commit passed its truncation on: the database only grew, so no page was beyond its end.
  EXPECT_EQ(after.truncations_passed, before.truncations_passed);
  EXPECT_GE(after.truncations_skipped - before.truncations_skipped, 400);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM t"), 20000);
}

TEST(PageCacheTest, ARollbackDropsThePagesBeyondTheDatabasesEnd) {
  testing::TestDir dir("houston-page-cache");
  auto db = OpenWriter(dir);
  ASSERT_NE(db, nullptr);
  InsertSpread(*db, 0, 1000);
  const int64_t pages = QueryInt(*db, "PRAGMA page_count");
  // A transaction that grows the database by hundreds of pages, then rolls back.
  ASSERT_OK(db->Exec("BEGIN"));
  ASSERT_OK(db->Exec("INSERT INTO t(k, v) SELECT 'gone-' || k, zeroblob(3000) FROM t"));
  ASSERT_GT(QueryInt(*db, "PRAGMA page_count"), pages + 500);
  const PageCacheCounts before = GetPageCacheCounts();
  ASSERT_OK(db->Exec("ROLLBACK"));
  const PageCacheCounts after = GetPageCacheCounts();
  // The rollback's truncation reached the default cache, which dropped those pages.
  EXPECT_GT(after.truncations_passed, before.truncations_passed);
  EXPECT_EQ(QueryInt(*db, "PRAGMA page_count"), pages);
  // The pages are reused for other rows; the database is whole and holds only what committed.
  InsertSpread(*db, 1000, 1000);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM t"), 2000);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM t WHERE k LIKE 'gone-%'"), 0);
  EXPECT_EQ(IntegrityCheck(*db), "ok");
}

}  // namespace
}  // namespace houston::store::sqlite
