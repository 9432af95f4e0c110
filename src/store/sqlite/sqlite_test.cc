// SQLite-only behaviour of the store: file modes of the database files, and readiness when the
// disk is full (simulated with a file-size limit, RLIMIT_FSIZE, in a child process).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "store/sql/feed.h"
#include "store/sql/migrate.h"
#include "store/sql/schema.h"
#include "store/sqlite/db.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/status_matchers.h"
#include "testing/test_dir.h"

namespace houston::store::sqlite {
namespace {

using ::testing::HasSubstr;

// A write that reaches the WAL: a new alert with `bytes` of details.
Status WriteAlert(Store& s, const std::string& key, size_t bytes) {
  core::AlertEvent ev;
  ev.integration_key = "k";
  ev.service_id = "svc";
  ev.dedup_key = key;
  ev.summary = "disk test";
  ev.details_json = "{\"pad\":\"" + std::string(bytes, 'x') + "\"}";
  auto r = Wait<std::vector<EventOutcome>>([&](auto cb) {
    s.ApplyAlertEvents({ev}, Actor{"integration", "test", "integration"}, cb);
  });
  return r ? OkStatus() : r.error();
}

class SqliteFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = ::umask(022);  // the usual default: new files would be 0644
  }
  void TearDown() override { ::umask(old_umask_); }
  std::string Path() const { return (dir_ / "h.db").string(); }
  static unsigned Mode(const std::string& file) {
    struct stat st {};
    EXPECT_EQ(::stat(file.c_str(), &st), 0) << file;
    return st.st_mode & 0777;
  }
  Result<std::unique_ptr<SqliteStore>> OpenStore() {
    SqliteOptions o;
    o.path = Path();
    o.clock = &clock_;
    return SqliteStore::Open(o);
  }
  static Status Write(Store& s, const std::string& key) { return WriteAlert(s, key, 10); }

  testing::TestDir dir_{"houston-sqlite-test"};
  mode_t old_umask_ = 0;
  houston::testing::FakeClock clock_;
};

TEST_F(SqliteFilesTest, NewDatabaseFilesAreOwnerOnly) {
  auto s = OpenStore();
  ASSERT_OK(s);
  ASSERT_TRUE(Write(**s, "a").ok());
  EXPECT_EQ(Mode(Path()), 0600u);
  // WAL mode: the -wal and -shm files exist while the store is open, with the same mode.
  ASSERT_TRUE(std::filesystem::exists(Path() + "-wal"));
  EXPECT_EQ(Mode(Path() + "-wal"), 0600u);
  ASSERT_TRUE(std::filesystem::exists(Path() + "-shm"));
  EXPECT_EQ(Mode(Path() + "-shm"), 0600u);
  // Also a database created by a single connection (houston migrate --db, token create).
  auto db = SqliteDb::Open((dir_ / "m.db").string(), false);
  ASSERT_OK(db);
  EXPECT_EQ(Mode((dir_ / "m.db").string()), 0600u);
}

TEST_F(SqliteFilesTest, LooserModesAreTightenedAtOpenWithAWarning) {
  {
    auto s = OpenStore();
    ASSERT_OK(s);
    ASSERT_TRUE(Write(**s, "a").ok());
  }
  // As an older houston left them (and a -wal left by a crash).
  std::ofstream(Path() + "-wal", std::ios::app).flush();
  ASSERT_EQ(::chmod(Path().c_str(), 0644), 0);
  ASSERT_EQ(::chmod((Path() + "-wal").c_str(), 0664), 0);
  auto warnings = MakeDatabaseFilesPrivate(Path());
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("h.db was readable by other users (mode 0644)"));
  EXPECT_THAT(warnings[0], HasSubstr("now 0600"));
  EXPECT_THAT(warnings[1], HasSubstr("h.db-wal was readable by other users (mode 0664)"));
  EXPECT_EQ(Mode(Path()), 0600u);
  EXPECT_EQ(Mode(Path() + "-wal"), 0600u);
  EXPECT_TRUE(MakeDatabaseFilesPrivate(Path()).empty());  // nothing more to do

  // Opening the store does it too.
  ASSERT_EQ(::chmod(Path().c_str(), 0640), 0);
  auto s = OpenStore();
  ASSERT_OK(s);
  EXPECT_EQ(Mode(Path()), 0600u);
  Status st = Write(**s, "b");
  EXPECT_TRUE(st.ok()) << "the database is still writable: " << st.ToString();
  EXPECT_TRUE(MakeDatabaseFilesPrivate(":memory:").empty());
}

// In a child process (death-test style): the database may not grow past a file-size limit, as
// on a full disk; writes fail, the store says it is not ready and why, and it is ready again
// once a write succeeds after the limit is lifted, even if only its own probe writes.
std::string FullDiskSteps(const std::string& path) {
  std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
  houston::testing::FakeClock clock;
  SqliteOptions o;
  o.path = path;
  o.clock = &clock;
  auto s = SqliteStore::Open(o);
  if (!s) return "open: " + s.error().ToString();
  Store& store = **s;
  if (Status st = WriteAlert(store, "first", 10); !st.ok()) return "first write: " + st.ToString();
  if (!store.Ready().ok()) return "not ready before the disk filled up";
  std::error_code ec;
  auto size =
      std::max(std::filesystem::file_size(path, ec), std::filesystem::file_size(path + "-wal", ec));
  rlimit limit{static_cast<rlim_t>(size + 64 * 1024), RLIM_INFINITY};
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return "setrlimit failed";
  Status failed;
  for (int i = 0; i < 2000 && failed.ok(); ++i) {
    failed = WriteAlert(store, "fill-" + std::to_string(i), 4000);
  }
  if (failed.ok()) return "no write failed under the file-size limit";
  // The failed write's frames were rolled back, and a small write could reuse their room in the
  // WAL: from here no write may store anything at all, so that the probe fails too.
  rlimit none{1, RLIM_INFINITY};
  if (::setrlimit(RLIMIT_FSIZE, &none) != 0) return "setrlimit (none) failed";
  Status ready = store.Ready();
  if (ready.ok()) return "ready although writes fail: " + failed.ToString();
  if (ready.message().find("cannot store writes") == std::string::npos) {
    return "unexpected readiness message: " + ready.ToString();
  }
  // Still full: reads work, writes fail, not ready. The probe write that Ready() queued runs
  // (and fails) before this no-op write finishes, so it cannot run after the limit is lifted.
  if (store.ListAlerts({}).value_or(std::vector<core::Alert>{}).empty()) return "reads failed";
  // (It may fail itself, in the same batch as the probe.)
  (void)Wait<int>([&](auto cb) { store.CheckHeartbeats(clock.Now(), cb); });
  if (store.Ready().ok()) return "ready while the disk is still full";
  (void)Wait<int>([&](auto cb) { store.CheckHeartbeats(clock.Now(), cb); });
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  if (::setrlimit(RLIMIT_FSIZE, &unlimited) != 0) return "setrlimit (lift) failed";
  // Room again. Ready() queues a probe write; the next queued write finishes after it (writes
  // are applied in order), and a no-op one changes nothing itself.
  if (store.Ready().ok()) return "ready before any write succeeded";
  auto noop = Wait<int>([&](auto cb) { store.CheckHeartbeats(clock.Now(), cb); });
  if (!noop) return "no-op write: " + noop.error().ToString();
  if (Status st = store.Ready(); !st.ok()) return "not ready after the probe: " + st.ToString();
  if (Status st = WriteAlert(store, "after", 10); !st.ok()) return "write after: " + st.ToString();
  return "";
}

std::string FullDiskScenario(const std::string& path) {
  std::string problem = FullDiskSteps(path);
  // Lifted again if a step failed early, so that the problem can be written to stderr (a file).
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  (void)::setrlimit(RLIMIT_FSIZE, &unlimited);
  return problem;
}

TEST_F(SqliteFilesTest, ReadyFailsWhileTheDiskIsFullAndRecovers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::string path = Path();
  EXPECT_EXIT(
      {
        std::string problem = FullDiskScenario(path);
        std::error_code ec;  // the child's own directory (it skips TearDown)
        std::filesystem::remove_all(std::filesystem::path(path).parent_path(), ec);
        std::fprintf(stderr, "%s\n", problem.empty() ? "scenario ok" : problem.c_str());
        std::_Exit(problem.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "scenario ok");
}

// `INSERT ... RETURNING id` runs without its clause on SQLite (db.h): its one row is the new
// row's id, then it is done, again after every reset. An upsert keeps its RETURNING: a conflict
// returns no row (a stale rowid would be wrong).
TEST(SqliteStmtTest, InsertReturningIdGivesTheNewRowsIdOnce) {
  testing::TestDir dir("houston-sqlite-stmt");
  auto db = SqliteDb::Open((dir.path() / "t.db").string(), false);
  ASSERT_TRUE(db.has_value()) << db.error().ToString();
  ASSERT_OK((*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"));
  ASSERT_OK((*db)->Exec("INSERT INTO t(id, v) VALUES (41, 'seed')"));
  for (int64_t want : {42, 43}) {
    auto s = (*db)->Prepare("INSERT INTO t(v) VALUES (?) RETURNING id");
    ASSERT_TRUE(s.has_value());
    (*s)->Bind(1, "v" + std::to_string(want));
    auto row = (*s)->Step();
    ASSERT_TRUE(row.has_value() && *row);
    EXPECT_EQ((*s)->Int(0), want);
    row = (*s)->Step();
    ASSERT_TRUE(row.has_value());
    EXPECT_FALSE(*row);
    row = (*s)->Step();  // still done: the INSERT does not run twice
    ASSERT_TRUE(row.has_value());
    EXPECT_FALSE(*row);
  }
  // A failed INSERT is an error, not a row.
  auto dup = (*db)->Prepare("INSERT INTO t(v) VALUES (?) RETURNING id");
  ASSERT_TRUE(dup.has_value());
  (*dup)->Bind(1, "seed");
  auto failed = (*dup)->Step();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kAlreadyExists);
  // An upsert that inserts nothing returns nothing.
  auto upsert =
      (*db)->Prepare("INSERT INTO t(v) VALUES (?) ON CONFLICT (v) DO NOTHING RETURNING id");
  ASSERT_TRUE(upsert.has_value());
  (*upsert)->Bind(1, "seed");
  auto none = (*upsert)->Step();
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(*none);
  auto count = (*db)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.has_value());
  ASSERT_TRUE(*(*count)->Step());
  EXPECT_EQ((*count)->Int(0), 3);
}

// A prune of the change feed reads the rows it deletes, not the whole feed: with 20,000 entries,
// all kept, it runs a few dozen SQLite instructions (counted by a progress handler called at
// every one). Schema 18's prune, both rules in one statement (`seq < newest AND (at < ? OR seq
// <= ?)`), walked all 20,000 rows: 140,000 instructions.
TEST(SqliteFeedTest, APruneReadsOnlyTheRowsItDeletes) {
  testing::TestDir dir("houston-sqlite-feed");
  ASSERT_OK_AND_ASSIGN(auto db, SqliteDb::Open((dir.path() / "t.db").string(), false));
  ASSERT_OK(sql::Migrate(*db, sql::Migrations(sql::Dialect::kSqlite), TimePoint{}));
  const TimePoint at{std::chrono::milliseconds(10'000'000)};
  ASSERT_OK(db->Exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
      "INSERT INTO live_feed(type, resource_id, at) SELECT 'alert.created', i, 10000000 FROM n"));
  int64_t steps = 0;
  auto count = [&](int64_t max_rows, TimePoint older_than) -> Result<int64_t> {
    steps = 0;
    sqlite3_progress_handler(
        db->raw(), 1,
        [](void* n) {
          ++*static_cast<int64_t*>(n);
          return 0;
        },
        &steps);
    auto deleted = sql::PruneFeed(*db, older_than, max_rows);
    sqlite3_progress_handler(db->raw(), 0, nullptr, nullptr);
    return deleted;
  };
  ASSERT_OK_AND_ASSIGN(int64_t none, count(100'000, at - std::chrono::hours(1)));
  EXPECT_EQ(none, 0);
  EXPECT_LT(steps, 500);
  // The count still prunes: 100 deleted cost a few instructions each, not one per kept row.
  ASSERT_OK_AND_ASSIGN(int64_t beyond, count(19'900, at - std::chrono::hours(1)));
  EXPECT_EQ(beyond, 100);
  EXPECT_LT(steps, 500 + 100 * 40);
  // And so does the age, never the newest entry.
  ASSERT_OK_AND_ASSIGN(int64_t old, count(100'000, at + std::chrono::hours(1)));
  EXPECT_EQ(old, 19'899);
}

}  // namespace
}  // namespace houston::store::sqlite
