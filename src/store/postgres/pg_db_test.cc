#include "store/postgres/pg_db.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <thread>

#include "testing/fake_clock.h"
#include "testing/pg_server.h"
#include "testing/status_matchers.h"

namespace houston::store::postgres {
namespace {

using ::houston::testing::StatusIs;

using ::houston::testing::PgServer;
using std::chrono::milliseconds;

TEST(TranslatePlaceholdersTest, NumbersBareQuestionMarksInOrder) {
  EXPECT_EQ(TranslatePlaceholders("SELECT ?, ?, ?"), "SELECT $1, $2, $3");
  EXPECT_EQ(TranslatePlaceholders("INSERT INTO t(a,b) VALUES (?,?)"),
            "INSERT INTO t(a,b) VALUES ($1,$2)");
  EXPECT_EQ(TranslatePlaceholders("SELECT 1"), "SELECT 1");
  EXPECT_EQ(TranslatePlaceholders(""), "");
  EXPECT_EQ(TranslatePlaceholders("?"), "$1");
}

TEST(TranslatePlaceholdersTest, NumberedQuestionMarksFollowSqlite) {
  EXPECT_EQ(TranslatePlaceholders("a = ?1 OR b = ?1"), "a = $1 OR b = $1");
  EXPECT_EQ(TranslatePlaceholders("?2 ?1 ?10"), "$2 $1 $10");
  // A bare ? after ?N takes the number after the largest so far, as in SQLite.
  EXPECT_EQ(TranslatePlaceholders("?2, ?, ?1, ?"), "$2, $3, $1, $4");
}

TEST(TranslatePlaceholdersTest, LeavesLiteralsIdentifiersAndCommentsAlone) {
  EXPECT_EQ(TranslatePlaceholders("WHERE a = '?' AND b = ?"), "WHERE a = '?' AND b = $1");
  EXPECT_EQ(TranslatePlaceholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
  EXPECT_EQ(TranslatePlaceholders("SELECT '', ?"), "SELECT '', $1");
  EXPECT_EQ(TranslatePlaceholders(R"(SELECT "we?rd", "a""?b" FROM t WHERE x = ?)"),
            R"(SELECT "we?rd", "a""?b" FROM t WHERE x = $1)");
  EXPECT_EQ(TranslatePlaceholders("SELECT ? -- why? because?\n, ?"),
            "SELECT $1 -- why? because?\n, $2");
  EXPECT_EQ(TranslatePlaceholders("SELECT ? -- trailing?"), "SELECT $1 -- trailing?");
  EXPECT_EQ(TranslatePlaceholders("/* a ? /* nested ? */ still ? */ ?"),
            "/* a ? /* nested ? */ still ? */ $1");
  EXPECT_EQ(TranslatePlaceholders("SELECT 5 - -?"), "SELECT 5 - -$1");
  EXPECT_EQ(TranslatePlaceholders("SELECT 4 / ?"), "SELECT 4 / $1");
}

TEST(TranslatePlaceholdersTest, PostgresOnlyQuoting) {
  EXPECT_EQ(TranslatePlaceholders("SELECT $$ ? $$, ?"), "SELECT $$ ? $$, $1");
  EXPECT_EQ(TranslatePlaceholders("SELECT $fn$ '?' $x$ ? $fn$, ?"),
            "SELECT $fn$ '?' $x$ ? $fn$, $1");
  EXPECT_EQ(TranslatePlaceholders(R"(SELECT E'it\'s ?', ?)"), R"(SELECT E'it\'s ?', $1)");
  // Not an E-string: a backslash means itself in a standard string.
  EXPECT_EQ(TranslatePlaceholders(R"(SELECT 'a\', ?)"), R"(SELECT 'a\', $1)");
  // Identifiers may contain '$'; $1 is already a parameter.
  EXPECT_EQ(TranslatePlaceholders("SELECT a$b$, ? FROM t WHERE x = $1"),
            "SELECT a$b$, $1 FROM t WHERE x = $1");
  EXPECT_EQ(TranslatePlaceholders("SELECT x::bigint, ?::text"), "SELECT x::bigint, $1::text");
}

TEST(TranslatePlaceholdersTest, UnterminatedTextIsCopiedForTheServerToReject) {
  EXPECT_EQ(TranslatePlaceholders("SELECT 'abc ?"), "SELECT 'abc ?");
  EXPECT_EQ(TranslatePlaceholders("SELECT \"abc ?"), "SELECT \"abc ?");
  EXPECT_EQ(TranslatePlaceholders("SELECT /* ?"), "SELECT /* ?");
  EXPECT_EQ(TranslatePlaceholders("SELECT $q$ ?"), "SELECT $q$ ?");
}

TEST(PgDbConnectTest, UnreachableServerIsUnavailableWithoutThePassword) {
  auto db =
      PgDb::Connect("postgresql://houston:s3cret-pw@/houston?host=/nonexistent-houston-dir&port=1");
  ASSERT_FALSE(db.has_value());
  EXPECT_THAT(db, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(db.error().message().find("cannot connect to PostgreSQL at postgresql://houston:***@"),
            std::string::npos)
      << db.error().message();
  EXPECT_EQ(db.error().message().find("s3cret-pw"), std::string::npos) << db.error().message();
}

TEST(PgDbConnectTest, MalformedUrlDoesNotEchoThePassword) {
  for (std::string url : {"postgresql://houston:s3cret%zz@/houston?host=/nonexistent",
                          "postgresql://houston@/houston?password=s3cret%zz&host=/nonexistent",
                          "host=/nonexistent password=s3cret%zz port=abc"}) {
    auto db = PgDb::Connect(url);
    ASSERT_FALSE(db.has_value()) << url;
    EXPECT_THAT(db, StatusIs(StatusCode::kUnavailable));
    EXPECT_EQ(db.error().message().find("s3cret"), std::string::npos) << db.error().message();
  }
}

TEST(RedactUrlTest, HidesEverySpellingOfThePassword) {
  EXPECT_EQ(RedactUrl("postgresql://houston:s3cret@db.example/houston"),
            "postgresql://houston:***@db.example/houston");
  EXPECT_EQ(RedactUrl("postgres://houston@db.example/houston?password=s3cret&sslmode=require"),
            "postgres://houston@db.example/houston?password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("host=db password=s3cret port=5432"), "host=db password=*** port=5432");
  EXPECT_EQ(RedactUrl("postgresql://houston@/houston?host=/run/postgresql"),
            "postgresql://houston@/houston?host=/run/postgresql");
}

TEST(PgListenerOpenTest, UnreachableServerIsUnavailable) {
  auto l = PgListener::Open("postgresql://houston@/houston?host=/nonexistent-houston-dir", "c");
  ASSERT_FALSE(l.has_value());
  EXPECT_THAT(l, StatusIs(StatusCode::kUnavailable));
}

TEST(PgServerTest, StartReapsServersOfDeadProcesses) {
  // A child process starts a server and dies without stopping it.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto server = PgServer::Start();
    std::string dir = server.has_value() ? (*server)->dir() : "";
    if (!server.has_value() && server.error().code() == StatusCode::kFailedPrecondition) {
      dir = "-";
    }
    (void)!write(fds[1], dir.data(), dir.size());
    _exit(0);
  }
  close(fds[1]);
  char buffer[256] = {};
  ssize_t n = read(fds[0], buffer, sizeof(buffer) - 1);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const std::string orphan(buffer, n > 0 ? n : 0);
  if (orphan == "-") GTEST_SKIP() << "PostgreSQL 15 is not installed";
  ASSERT_FALSE(orphan.empty()) << "the child could not start a server";
  ASSERT_TRUE(std::filesystem::exists(orphan + "/data/postmaster.pid"));

  auto server = PgServer::Start();
  ASSERT_OK(server);
  EXPECT_FALSE(std::filesystem::exists(orphan)) << orphan;
  EXPECT_TRUE(std::filesystem::exists((*server)->dir()));
}

// One server for the suite, a fresh database per test.
class PgDbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PgServer::Start();
    if (server.has_value()) {
      server_ = std::move(*server);
    } else {
      start_error_ = server.error();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (server_ == nullptr) {
      if (start_error_.code() == StatusCode::kFailedPrecondition) {
        GTEST_SKIP() << start_error_.message();
      }
      FAIL() << "cannot start PostgreSQL: " << start_error_.ToString();
    }
    ASSERT_OK(server_->StartAgain());  // after a test that failed with the server down
    auto url = server_->NewDatabase(fmt::format("test_{}", ++databases_));
    ASSERT_OK(url);
    url_ = *url;
    auto db = PgDb::Connect(url_, clock_);
    ASSERT_OK(db);
    db_ = std::move(*db);
  }

  std::unique_ptr<PgDb> Connect() {
    auto db = PgDb::Connect(url_);
    EXPECT_OK(db);
    return db.has_value() ? std::move(*db) : nullptr;
  }

  // The first column of the first row of `sql`, an integer.
  static Result<int64_t> QueryInt(PgDb& db, const std::string& sql) {
    HOUSTON_ASSIGN_OR_RETURN(sql::Stmt * s, db.Prepare(sql));
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::unexpected(NotFound("no row"));
    int64_t v = s->Int(0);
    s->Reset();
    return v;
  }

  // `sql` prepared on `db` (default: db_); after reporting a failure, a statement whose Step()
  // fails, so that the test goes on safely.
  static sql::Stmt* Prep(PgDb& db, const std::string& sql) {
    auto s = db.Prepare(sql);
    EXPECT_TRUE(s.has_value()) << sql << ": " << s.error().ToString();
    return s.has_value() ? *s : &unprepared_;
  }
  sql::Stmt* Prep(const std::string& sql) { return Prep(*db_, sql); }

  // Steps `s`: whether it has a row, after reporting any error.
  static bool Next(sql::Stmt* s) {
    auto row = s->Step();
    EXPECT_OK(row);
    return row.value_or(false);
  }

  // QueryInt's value, or -1 after reporting its error.
  static int64_t IntOf(PgDb& db, const std::string& sql) {
    auto v = QueryInt(db, sql);
    EXPECT_TRUE(v.has_value()) << sql << ": " << v.error().ToString();
    return v.value_or(-1);
  }

  // Pings `db` after the server came back: the first call may find the old session gone
  // (Unavailable); the next one then reconnects.
  static Status Reconnected(PgDb& db) {
    Status st = db.Ping();
    return st.ok() ? st : db.Ping();
  }

  void CreateTable() {
    ASSERT_OK(
        db_->Exec("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, n BIGINT, "
                  "x DOUBLE PRECISION, note TEXT)"));
  }

  // What Prep() returns when Prepare() failed.
  class UnpreparedStmt final : public sql::Stmt {
   public:
    Stmt& Bind(int, int64_t) override { return *this; }
    Stmt& Bind(int, double) override { return *this; }
    Stmt& Bind(int, std::string_view) override { return *this; }
    Stmt& BindNull(int) override { return *this; }
    Result<bool> Step() override { return std::unexpected(Internal("not prepared")); }
    void Reset() override {}
    int64_t Int(int) const override { return 0; }
    double Double(int) const override { return 0; }
    bool IsNull(int) const override { return true; }
    std::string Text(int) const override { return ""; }
  };

  static inline UnpreparedStmt unprepared_;
  static inline std::unique_ptr<PgServer> server_;
  static inline Status start_error_;
  static inline int databases_ = 0;
  std::string url_;
  houston::testing::FakeClock clock_;  // times db_'s reconnection backoff
  std::unique_ptr<PgDb> db_;
};

TEST_F(PgDbTest, DialectAndFragments) {
  EXPECT_EQ(db_->dialect(), sql::Dialect::kPostgres);
  EXPECT_EQ(db_->Sql(sql::Fragment::kBeginWrite), "BEGIN");
  EXPECT_EQ(db_->Sql(sql::Fragment::kForUpdateSkip), " FOR UPDATE SKIP LOCKED");
  EXPECT_TRUE(db_->Healthy());
  EXPECT_OK(db_->Ping());
  EXPECT_EQ(db_->Changes(), 0);
  // The migration lock is held until released, and only once.
  ASSERT_OK(db_->Exec(db_->Sql(sql::Fragment::kLockMigrations)));
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(IntOf(*other, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 1);
  ASSERT_OK(db_->Exec(db_->Sql(sql::Fragment::kUnlockMigrations)));
  EXPECT_EQ(IntOf(*other, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
}

TEST_F(PgDbTest, InsertReturningIdAndSelect) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  ASSERT_OK(db_->Exec("SELECT 1; SELECT 2"));  // several statements, rows discarded
  for (int i = 1; i <= 3; ++i) {
    sql::Stmt* s = Prep("INSERT INTO t(name, n, x) VALUES (?, ?, ?) RETURNING id");
    s->Bind(1, fmt::format("n{}", i)).Bind(2, i * 10).Bind(3, i + 0.5);
    ASSERT_TRUE(Next(s));
    EXPECT_EQ(s->Int(0), i);
    EXPECT_EQ(db_->Changes(), 1);
    EXPECT_FALSE(Next(s));
  }
  sql::Stmt* s = Prep("SELECT id, name, n, x FROM t WHERE n >= ?1 AND id <> ?2 ORDER BY id");
  s->Bind(1, 20).Bind(2, 0);
  std::vector<std::string> names;
  while (Next(s)) {
    names.push_back(s->Text(1));
    EXPECT_EQ(s->Int(2), s->Int(0) * 10);
    EXPECT_DOUBLE_EQ(s->Double(3), static_cast<double>(s->Int(0)) + 0.5);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"n2", "n3"}));
}

TEST_F(PgDbTest, PrepareCachesAndResets) {
  sql::Stmt* a = Prep("SELECT ?::bigint + 1");
  a->Bind(1, 41);
  ASSERT_TRUE(Next(a));
  EXPECT_EQ(a->Int(0), 42);
  // Prepared again: the same statement, reset, its binding gone (an unbound parameter is NULL).
  sql::Stmt* b = Prep("SELECT ?::bigint + 1");
  EXPECT_EQ(a, b);
  ASSERT_TRUE(Next(b));
  EXPECT_TRUE(b->IsNull(0));
  b->Reset();
  b->Bind(1, 1);
  ASSERT_TRUE(Next(b));
  EXPECT_EQ(b->Int(0), 2);
  // Columns of a finished statement read as NULL.
  ASSERT_FALSE(Next(b));
  EXPECT_TRUE(b->IsNull(0));
  EXPECT_EQ(b->Int(0), 0);
  EXPECT_EQ(b->Text(0), "");
}

TEST_F(PgDbTest, OnConflictDoNothingAndChanges) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  const std::string insert = "INSERT INTO t(name) VALUES (?) ON CONFLICT (name) DO NOTHING";
  ASSERT_OK(Prep(insert)->Bind(1, "a").Run());
  EXPECT_EQ(db_->Changes(), 1);
  ASSERT_OK(Prep(insert)->Bind(1, "a").Run());
  EXPECT_EQ(db_->Changes(), 0);
  // An upsert that returns nothing when it does nothing.
  sql::Stmt* s = Prep("INSERT INTO t(name) VALUES (?) ON CONFLICT DO NOTHING RETURNING id");
  s->Bind(1, "a");
  EXPECT_FALSE(Next(s));
  ASSERT_OK(Prep("INSERT INTO t(name) VALUES (?) ON CONFLICT (name) DO UPDATE SET n = 7")
                ->Bind(1, "a")
                .Run());
  EXPECT_EQ(db_->Changes(), 1);
  ASSERT_OK(db_->Exec("INSERT INTO t(name) VALUES ('b'), ('c')"));
  EXPECT_EQ(db_->Changes(), 2);
  ASSERT_OK(
      Prep("UPDATE t SET n = ? WHERE n IS NOT DISTINCT FROM ?")->Bind(1, 5).BindNull(2).Run());
  EXPECT_EQ(db_->Changes(), 2);
  // Other commands leave Changes() alone, as in SQLite.
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 3);
  EXPECT_EQ(db_->Changes(), 2);
  ASSERT_OK(Prep("DELETE FROM t WHERE name = ?")->Bind(1, "zz").Run());
  EXPECT_EQ(db_->Changes(), 0);
}

TEST_F(PgDbTest, NullsRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  std::optional<int64_t> none;
  ASSERT_OK(Prep("INSERT INTO t(name, n, x, note) VALUES (?, ?, ?, ?)")
                ->Bind(1, "a")
                .Bind(2, none)
                .BindNull(3)
                .BindNull(4)
                .Run());
  ASSERT_OK(Prep("INSERT INTO t(name, n, note) VALUES (?, ?, ?)")
                ->Bind(1, "b")
                .Bind(2, std::optional<int64_t>(0))
                .Bind(3, "")
                .Run());
  sql::Stmt* s = Prep("SELECT n, x, note FROM t ORDER BY name");
  ASSERT_TRUE(Next(s));
  EXPECT_TRUE(s->IsNull(0));
  EXPECT_TRUE(s->IsNull(1));
  EXPECT_TRUE(s->IsNull(2));
  EXPECT_EQ(s->OptInt(0), std::nullopt);
  ASSERT_TRUE(Next(s));
  EXPECT_FALSE(s->IsNull(0));
  EXPECT_EQ(s->OptInt(0), 0);
  EXPECT_FALSE(s->IsNull(2));  // an empty string is not NULL
  EXPECT_EQ(s->Text(2), "");
  // A NULL parameter compared NULL-safely.
  s = Prep("SELECT count(*) FROM t WHERE note IS NOT DISTINCT FROM ?");
  s->BindNull(1);
  ASSERT_TRUE(Next(s));
  EXPECT_EQ(s->Int(0), 1);
}

TEST_F(PgDbTest, TextRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  const std::vector<std::string> texts = {"it's",
                                          "\"quoted\"",
                                          "back\\slash",
                                          "?",
                                          "$1",
                                          "-- not a comment",
                                          "line\nbreak\ttab",
                                          "Grüße, 東京, 🚨",
                                          std::string(100000, 'x'),
                                          "'; DROP TABLE t; --"};
  std::vector<int64_t> ids;
  for (size_t i = 0; i < texts.size(); ++i) {
    sql::Stmt* s = Prep("INSERT INTO t(name, note) VALUES (?, ?) RETURNING id");
    s->Bind(1, fmt::format("k{}", i)).Bind(2, texts[i]);
    ASSERT_TRUE(Next(s));
    ids.push_back(s->Int(0));
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    sql::Stmt* s = Prep("SELECT note FROM t WHERE id = ?");
    s->Bind(1, ids[i]);
    ASSERT_TRUE(Next(s));
    EXPECT_EQ(s->Text(0), texts[i]);
  }
  // A string bound where the server infers text, and read back unchanged.
  sql::Stmt* s = Prep("SELECT ?");
  s->Bind(1, "Grüße 🚨 'x'");
  ASSERT_TRUE(Next(s));
  EXPECT_EQ(s->Text(0), "Grüße 🚨 'x'");
}

TEST_F(PgDbTest, NumbersRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  const std::vector<int64_t> ints = {0, -1, 1, std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max()};
  const std::vector<double> doubles = {0.1, -2.5e-300, 1.7976931348623157e308, 1.0 / 3, 0};
  for (size_t i = 0; i < ints.size(); ++i) {
    sql::Stmt* s = Prep("INSERT INTO t(name, n, x) VALUES (?, ?, ?) RETURNING n, x");
    s->Bind(1, fmt::format("k{}", i)).Bind(2, ints[i]).Bind(3, doubles[i]);
    ASSERT_TRUE(Next(s));
    EXPECT_EQ(s->Int(0), ints[i]);
    EXPECT_EQ(s->Double(1), doubles[i]);  // exact: the text form round-trips
  }
  sql::Stmt* s = Prep("SELECT ?::double precision, ?::double precision, ?::double precision");
  s->Bind(1, std::numeric_limits<double>::infinity())
      .Bind(2, -std::numeric_limits<double>::infinity())
      .Bind(3, std::numeric_limits<double>::quiet_NaN());
  ASSERT_TRUE(Next(s));
  EXPECT_EQ(s->Double(0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(s->Double(1), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(s->Double(2)));
  // Booleans and numerics, defensively.
  s = Prep("SELECT true, false, avg(n)::numeric, sum(n) FROM t WHERE n IN (0, 1)");
  ASSERT_TRUE(Next(s));
  EXPECT_EQ(s->Int(0), 1);
  EXPECT_EQ(s->Int(1), 0);
  EXPECT_EQ(s->Int(2), 0);  // 0.5 truncated
  EXPECT_EQ(s->Int(3), 1);
  EXPECT_EQ(s->Double(2), 0.5);
}

TEST_F(PgDbTest, ConstraintViolationsAreAlreadyExists) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  ASSERT_OK(db_->Exec("INSERT INTO t(name) VALUES ('a')"));
  Status exec = db_->Exec("INSERT INTO t(name) VALUES ('a')");
  EXPECT_EQ(exec.code(), StatusCode::kAlreadyExists) << exec.ToString();
  EXPECT_NE(exec.message().find("23505"), std::string::npos) << exec.message();
  Status step = Prep("INSERT INTO t(name) VALUES (?)")->Bind(1, "a").Run();
  EXPECT_EQ(step.code(), StatusCode::kAlreadyExists) << step.ToString();
  EXPECT_NE(step.message().find("step failed for: INSERT INTO t(name)"), std::string::npos)
      << step.message();
  step = Prep("INSERT INTO t(name) VALUES (?)")->BindNull(1).Run();  // NOT NULL
  EXPECT_EQ(step.code(), StatusCode::kAlreadyExists) << step.ToString();
  // The connection is fine afterwards.
  EXPECT_TRUE(db_->Healthy());
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 1);
}

TEST_F(PgDbTest, OtherErrorsAreInternalAndSaySo) {
  auto s = db_->Prepare("SELEC oops FROM nowhere WHERE x = ?");
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal));
  EXPECT_NE(s.error().message().find("prepare failed for: SELEC oops FROM nowhere"),
            std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("42601"), std::string::npos) << s.error().message();
  // Long SQL is cut in the message.
  std::string long_sql = "SELECT * FROM missing_table WHERE " + std::string(200, 'x') + " = 1";
  s = db_->Prepare(long_sql);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find(long_sql.substr(0, 80) + ":"), std::string::npos)
      << s.error().message();
  EXPECT_EQ(s.error().message().find(long_sql.substr(0, 81)), std::string::npos);

  Status exec = db_->Exec("CREATE TABLE (");
  EXPECT_EQ(exec.code(), StatusCode::kInternal);
  EXPECT_NE(exec.message().find("exec failed for: CREATE TABLE ("), std::string::npos)
      << exec.message();
  auto row = Prep("SELECT 1 / ?::int")->Bind(1, 0).Step();
  ASSERT_FALSE(row.has_value());
  EXPECT_THAT(row, StatusIs(StatusCode::kInternal));
  EXPECT_NE(row.error().message().find("division by zero"), std::string::npos)
      << row.error().message();
  EXPECT_NE(row.error().message().find("22012"), std::string::npos);
  EXPECT_TRUE(db_->Healthy());
}

TEST_F(PgDbTest, TransactionsCommitAndRollBack) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  ASSERT_OK(db_->Exec(db_->Sql(sql::Fragment::kBeginWrite)));
  ASSERT_OK(db_->Exec("INSERT INTO t(name) VALUES ('a')"));
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(IntOf(*other, "SELECT count(*) FROM t"), 0);  // not committed
  ASSERT_OK(db_->Exec("ROLLBACK"));
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 0);

  // As the store runs them: transaction control as prepared statements, with a savepoint that
  // undoes one failed write in an aborted transaction.
  auto run = [this](const std::string& sql) { return Prep(sql)->Run(); };
  ASSERT_OK(run("BEGIN"));
  ASSERT_OK(run("INSERT INTO t(name) VALUES ('b')"));
  ASSERT_OK(run("SAVEPOINT w"));
  EXPECT_EQ(run("INSERT INTO t(name) VALUES ('b')").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(db_->Exec("SELECT 1").code(), StatusCode::kInternal);  // 25P02: transaction aborted
  ASSERT_OK(run("ROLLBACK TO w"));
  ASSERT_OK(run("RELEASE w"));
  ASSERT_OK(run("INSERT INTO t(name) VALUES ('c')"));
  ASSERT_OK(db_->Exec("COMMIT"));
  EXPECT_EQ(IntOf(*other, "SELECT count(*) FROM t"), 2);
  ASSERT_OK(db_->Exec("ROLLBACK"));  // none in progress: only a warning
}

TEST_F(PgDbTest, StatementsRunLaterGoWithTheNextOneInOrder) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  auto run = [this](const std::string& sql) { return Prep(sql)->Run(); };
  const std::string insert = "INSERT INTO t(name, n) VALUES (?, ?)";
  ASSERT_OK(run("BEGIN"));
  const int64_t changes = db_->TotalChanges();
  ASSERT_OK(Prep(insert)->Bind(1, "a").Bind(2, 1).RunLater());
  ASSERT_OK(Prep(insert)->Bind(1, "b").Bind(2, 2).RunLater());
  EXPECT_EQ(db_->TotalChanges(), changes + 2);  // counted when sent
  // The next statement runs after them and sees their rows.
  sql::Stmt* names = Prep("SELECT string_agg(name, ',' ORDER BY id) FROM t");
  ASSERT_TRUE(Next(names));
  EXPECT_EQ(names->Text(0), "a,b");
  ASSERT_OK(Prep("UPDATE t SET n = n + 10 WHERE name = ?")->Bind(1, "a").RunLater());
  ASSERT_OK(db_->Exec("COMMIT"));  // completes what is queued first
  EXPECT_EQ(IntOf(*other, "SELECT sum(n) FROM t"), 13);
  // A first Prepare() and Flush() complete them too.
  ASSERT_OK(Prep(insert)->Bind(1, "c").Bind(2, 3).RunLater());
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t WHERE n < 100"), 3);
  ASSERT_OK(Prep(insert)->Bind(1, "d").Bind(2, 4).RunLater());
  ASSERT_OK(db_->Flush());
  ASSERT_OK(db_->Flush());  // nothing queued
  EXPECT_EQ(IntOf(*other, "SELECT count(*) FROM t"), 4);
}

TEST_F(PgDbTest, AFailedStatementRunLaterReportsWithTheNextOne) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  auto run = [this](const std::string& sql) { return Prep(sql)->Run(); };
  const std::string insert = "INSERT INTO t(name) VALUES (?)";
  ASSERT_OK(run("INSERT INTO t(name) VALUES ('a')"));
  ASSERT_OK(run("SELECT 1"));  // prepared now: its next Step() goes with the queued statements
  // Reported by the next statement, which did not run in the aborted transaction.
  ASSERT_OK(run("BEGIN"));
  ASSERT_OK(Prep(insert)->Bind(1, "a").RunLater());
  auto next = Prep("SELECT 1")->Step();
  ASSERT_FALSE(next.has_value());
  EXPECT_THAT(next, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_NE(next.error().message().find("INSERT INTO t"), std::string::npos)
      << next.error().message();
  ASSERT_OK(run("ROLLBACK"));
  // A ROLLBACK behind the failed statement still runs: the transaction is over.
  ASSERT_OK(run("BEGIN"));
  ASSERT_OK(Prep(insert)->Bind(1, "b").RunLater());
  ASSERT_OK(Prep(insert)->Bind(1, "a").RunLater());
  ASSERT_OK(Prep(insert)->Bind(1, "c").RunLater());
  EXPECT_EQ(run("ROLLBACK").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 1);  // not in an aborted transaction
  // So does a COMMIT behind it, which then rolls back; Flush() reports the error too.
  ASSERT_OK(run("BEGIN"));
  ASSERT_OK(Prep(insert)->Bind(1, "a").RunLater());
  EXPECT_EQ(db_->Exec("COMMIT").code(), StatusCode::kAlreadyExists);
  ASSERT_OK(Prep(insert)->Bind(1, "a").RunLater());
  EXPECT_EQ(db_->Flush().code(), StatusCode::kAlreadyExists);
  EXPECT_OK(db_->Flush());
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 1);
  EXPECT_TRUE(db_->Healthy());
}

TEST_F(PgDbTest, ForUpdateSkipLockedClaimsDistinctRows) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  ASSERT_OK(db_->Exec("INSERT INTO t(name) VALUES ('a'), ('b'), ('c')"));
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  const std::string claim =
      "SELECT id FROM t ORDER BY id LIMIT 2" + std::string(db_->Sql(sql::Fragment::kForUpdateSkip));
  ASSERT_OK(db_->Exec("BEGIN"));
  ASSERT_OK(other->Exec("BEGIN"));
  EXPECT_EQ(IntOf(*db_, claim), 1);
  EXPECT_EQ(IntOf(*other, claim), 3);  // rows 1 and 2 are locked by the first
  ASSERT_OK(db_->Exec("COMMIT"));
  ASSERT_OK(other->Exec("COMMIT"));
}

TEST_F(PgDbTest, DeadlockIsUnavailableToRetry) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  ASSERT_OK(db_->Exec("INSERT INTO t(name, n) VALUES ('a', 0), ('b', 0)"));
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  for (PgDb* db : {db_.get(), other.get()}) {
    ASSERT_OK(db->Exec("SET deadlock_timeout = '10ms'"));
    ASSERT_OK(db->Exec("BEGIN"));
  }
  ASSERT_OK(db_->Exec("UPDATE t SET n = 1 WHERE name = 'a'"));
  ASSERT_OK(other->Exec("UPDATE t SET n = 2 WHERE name = 'b'"));
  // Each now updates the row the other holds: whichever waits first, the second closes the cycle
  // and the server aborts one of the two.
  Status theirs;
  std::thread t([&] { theirs = other->Exec("UPDATE t SET n = 2 WHERE name = 'a'"); });
  Status mine = db_->Exec("UPDATE t SET n = 1 WHERE name = 'b'");
  EXPECT_OK(db_->Exec(mine.ok() ? "COMMIT" : "ROLLBACK"));  // lets the other go on
  t.join();
  EXPECT_OK(other->Exec(theirs.ok() ? "COMMIT" : "ROLLBACK"));
  EXPECT_NE(mine.ok(), theirs.ok()) << mine.ToString() << " / " << theirs.ToString();
  const Status& victim = mine.ok() ? theirs : mine;
  EXPECT_EQ(victim.code(), StatusCode::kUnavailable) << victim.ToString();
  EXPECT_NE(victim.message().find("40P01"), std::string::npos) << victim.message();
  EXPECT_NE(victim.message().find("retry"), std::string::npos) << victim.message();
}

TEST_F(PgDbTest, ReconnectsAfterRestartAndPreparesAgain) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  ASSERT_OK(db_->Exec("INSERT INTO t(name, n) VALUES ('a', 1)"));
  const std::string query = "SELECT n FROM t WHERE name = ?";
  sql::Stmt* stale = Prep(query);

  ASSERT_OK(server_->Restart());
  // The first call finds the old session gone: Unavailable (or, had the loss been noticed
  // already, a reconnection). Either way the connection comes back without waiting.
  Status first = db_->Exec("SELECT 1");
  if (!first.ok()) {
    EXPECT_EQ(first.code(), StatusCode::kUnavailable) << first.ToString();
    EXPECT_FALSE(db_->Healthy());
  }
  ASSERT_OK(db_->Exec("SELECT 1"));
  EXPECT_TRUE(db_->Healthy());

  // A statement from before the reconnection fails until prepared again.
  auto row = stale->Bind(1, "a").Step();
  ASSERT_FALSE(row.has_value());
  EXPECT_THAT(row, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(row.error().message().find("prepare it again"), std::string::npos);
  sql::Stmt* again = Prep(query);
  EXPECT_EQ(again, stale);
  again->Bind(1, "a");
  ASSERT_TRUE(Next(again));
  EXPECT_EQ(again->Int(0), 1);
  // Statements never prepared before work too.
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 1);
}

TEST_F(PgDbTest, FailsFastWhileDownAndRecoversWithBackoff) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  const std::string insert = "INSERT INTO t(name) VALUES (?)";
  sql::Stmt* s = Prep(insert);
  ASSERT_OK(server_->Kill());
  Status down = s->Bind(1, "a").Run();
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_FALSE(db_->Healthy());
  // Every call now fails, fast, without a server to reconnect to.
  for (int i = 0; i < 3; ++i) {
    Status st = db_->Exec("SELECT 1");
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
    EXPECT_NE(st.message().find("PostgreSQL is unreachable"), std::string::npos) << st.message();
    auto p = db_->Prepare("SELECT 2");
    ASSERT_FALSE(p.has_value());
    EXPECT_THAT(p, StatusIs(StatusCode::kUnavailable));
  }
  EXPECT_EQ(db_->Ping().code(), StatusCode::kUnavailable);

  ASSERT_OK(server_->StartAgain());
  // Back, but the next attempt waits for the backoff (250 ms after the failed one).
  Status early = db_->Ping();
  EXPECT_EQ(early.code(), StatusCode::kUnavailable) << early.ToString();
  EXPECT_NE(early.message().find("PostgreSQL is unreachable"), std::string::npos)
      << early.message();
  clock_.Advance(milliseconds(250));
  ASSERT_OK(db_->Ping());
  EXPECT_TRUE(db_->Healthy());
  ASSERT_OK(Prep(insert)->Bind(1, "a").Run());
  EXPECT_EQ(db_->Changes(), 1);
}

TEST_F(PgDbTest, StatementsQueuedWhenTheServerGoesAreLostWithTheSession) {
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  const std::string insert = "INSERT INTO t(name) VALUES (?)";
  ASSERT_OK(Prep(insert)->Bind(1, "a").RunLater());
  ASSERT_OK(server_->Kill());
  Status down = db_->Flush();
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_FALSE(db_->Healthy());
  ASSERT_OK(server_->StartAgain());
  ASSERT_OK(db_->Ping());  // no attempt failed while it was down: no backoff
  ASSERT_OK(Prep(insert)->Bind(1, "b").RunLater());
  ASSERT_OK(db_->Flush());
  // "a" was in an implicit transaction that never reached its sync: not stored.
  EXPECT_EQ(IntOf(*db_, "SELECT count(*) FROM t"), 1);
}

TEST_F(PgDbTest, ListenerReceivesNotifications) {
  auto listener = PgListener::Open(url_, "Houston Events");
  ASSERT_OK(listener);
  auto none = (*listener)->Wait(milliseconds(0));
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  ASSERT_OK(Notify(*db_, "Houston Events", "one"));
  ASSERT_OK(Notify(*db_, "houston events", "other channel"));  // channels are case-sensitive
  ASSERT_OK(Notify(*db_, "Houston Events", "zwei 🚨 'quoted'"));
  std::vector<std::string> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    auto payloads = (*listener)->Wait(std::chrono::seconds(10));
    ASSERT_OK(payloads);
    got.insert(got.end(), payloads->begin(), payloads->end());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"one", "zwei 🚨 'quoted'"}));

  // Inside a transaction: delivered on COMMIT, never on ROLLBACK.
  ASSERT_OK(db_->Exec("BEGIN"));
  ASSERT_OK(Notify(*db_, "Houston Events", "rolled back"));
  ASSERT_OK(db_->Exec("ROLLBACK"));
  ASSERT_OK(db_->Exec("BEGIN"));
  ASSERT_OK(Notify(*db_, "Houston Events", "committed"));
  auto early = (*listener)->Wait(milliseconds(0));
  ASSERT_OK(early);
  EXPECT_TRUE(early->empty());
  ASSERT_OK(db_->Exec("COMMIT"));
  auto late = (*listener)->Wait(std::chrono::seconds(10));
  ASSERT_OK(late);
  EXPECT_EQ(*late, (std::vector<std::string>{"committed"}));
}

TEST_F(PgDbTest, ListenerReconnectsAfterRestart) {
  auto listener = PgListener::Open(url_, "events");
  ASSERT_OK(listener);
  ASSERT_OK(server_->Restart());
  // The server closed the session: Wait says so rather than waiting out its timeout.
  auto lost = (*listener)->Wait(std::chrono::seconds(20));
  ASSERT_FALSE(lost.has_value());
  EXPECT_THAT(lost, StatusIs(StatusCode::kUnavailable));
  // The next Wait reconnects and listens again.
  auto back = (*listener)->Wait(milliseconds(0));
  ASSERT_OK(back);
  ASSERT_OK(Reconnected(*db_));
  ASSERT_OK(Notify(*db_, "events", "after restart"));
  auto got = (*listener)->Wait(std::chrono::seconds(10));
  ASSERT_OK(got);
  EXPECT_EQ(*got, (std::vector<std::string>{"after restart"}));
}

TEST_F(PgDbTest, ListenerDoesNotSpinWhileTheServerIsDown) {
  auto listener = PgListener::Open(url_, "events");
  ASSERT_OK(listener);
  ASSERT_OK(server_->Kill());
  auto lost = (*listener)->Wait(std::chrono::seconds(20));
  ASSERT_FALSE(lost.has_value());
  EXPECT_THAT(lost, StatusIs(StatusCode::kUnavailable));
  // The first reconnection attempt fails; the next is 250 ms away, so this Wait takes its
  // whole timeout before it reports the server still unreachable.
  EXPECT_FALSE((*listener)->Wait(milliseconds(0)).has_value());
  const auto start = std::chrono::steady_clock::now();
  auto still = (*listener)->Wait(milliseconds(100));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(100));
  ASSERT_FALSE(still.has_value());
  EXPECT_THAT(still, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(still.error().message().find("PostgreSQL is unreachable"), std::string::npos)
      << still.error().message();

  ASSERT_OK(server_->StartAgain());
  // A Wait longer than what is left of the backoff (at most 250 ms) waits for it, reconnects
  // and listens again.
  auto back = (*listener)->Wait(milliseconds(300));
  ASSERT_OK(back);
  ASSERT_OK(Reconnected(*db_));
  ASSERT_OK(Notify(*db_, "events", "back"));
  auto got = (*listener)->Wait(std::chrono::seconds(10));
  ASSERT_OK(got);
  EXPECT_EQ(*got, (std::vector<std::string>{"back"}));
}

}  // namespace
}  // namespace houston::store::postgres
