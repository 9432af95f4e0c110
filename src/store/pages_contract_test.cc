// The pages table (schema version 11) as the escalation and fan-out write paths fill it, on
// SQLite and PostgreSQL: one row per (incident, round, loop, step, user), at the first
// notification of the page, whatever the number of contact methods and rules; and the
// analytics reads (ForEachPageSlot, RecordOf) that count pages from it.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/time_util.h"
#include "store/postgres/import.h"
#include "store/postgres/pg_db.h"
#include "store/sqlite/db.h"
#include "testing/store_backend.h"

namespace houston::store {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// incident_id, round, loop, step, user_id, at (ms).
using PageRow = std::tuple<int64_t, int64_t, int64_t, int64_t, std::string, int64_t>;

int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class PagesContractTest : public houston::testing::StoreBackendTest {
 protected:
  core::IncidentId Declare() {
    auto inc = Wait<core::Incident>([&](auto cb) {
      store_->DeclareIncident({.title = "checkout is down",
                               .sev = "SEV2",
                               .services = {"checkout"},
                               .escalation_policy = "main",
                               .first_step_delay = minutes(0)},
                              Actor{"token", "me", "api"}, cb);
    });
    EXPECT_TRUE(inc) << inc.error().ToString();
    return inc ? inc->id : 0;
  }

  // The escalation engine's write: step `step` of loop `loop` fires, paging `pages`, decided at
  // `decided_at`.
  void Fire(core::IncidentId id, int step, int loop, std::vector<PageRequest> pages,
            std::optional<TimePoint> decided_at = std::nullopt) {
    auto esc = store_->GetEscalation(id);
    ASSERT_TRUE(esc && *esc) << "no escalation for " << id;
    EscalationUpdate u{.incident_id = id,
                       .expected_version = (*esc)->version,
                       .state = core::EscalationState::kActive,
                       .step = step + 1,
                       .loop = loop,
                       .due_at = clock_.Now() + minutes(5),
                       .fired_step = step,
                       .fired_loop = loop,
                       .pages = std::move(pages),
                       .audit_action = "incident.escalated",
                       .decided_at = decided_at};
    auto r = Wait<int>([&](auto cb) { store_->UpdateEscalations({u}, cb); });
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(*r, 1);
  }

  PageRequest Via(std::string user, std::string method, int rule = 0) {
    return PageRequest{.user_id = std::move(user),
                       .contact_method_id = std::move(method),
                       .channel_type = "webhook",
                       .not_before = clock_.Now(),
                       .target = "schedule:primary",
                       .rule = rule};
  }

  // The pages table as it is, read on a connection of its own.
  std::vector<PageRow> Pages() {
    std::unique_ptr<sql::Db> db;
    if (postgres()) {
      auto c = postgres::PgDb::Connect(url_);
      EXPECT_TRUE(c) << c.error().ToString();
      if (!c) return {};
      db = std::move(*c);
    } else {
      auto c = sqlite::SqliteDb::Open((dir_ / "houston.db").string(), true);
      EXPECT_TRUE(c) << c.error().ToString();
      if (!c) return {};
      db = std::move(*c);
    }
    auto s = db->Prepare(
        "SELECT incident_id, round, loop, step, user_id, at FROM pages ORDER BY incident_id, "
        "round, loop, step, user_id");
    EXPECT_TRUE(s) << s.error().ToString();
    if (!s) return {};
    std::vector<PageRow> out;
    for (;;) {
      auto row = (*s)->Step();
      EXPECT_TRUE(row) << row.error().ToString();
      if (!row || !*row) break;
      out.emplace_back((*s)->Int(0), (*s)->Int(1), (*s)->Int(2), (*s)->Int(3), (*s)->Text(4),
                       (*s)->Int(5));
    }
    (*s)->Reset();
    return out;
  }

  std::vector<PageSlot> Slots(TimePoint from, TimePoint to) {
    std::vector<PageSlot> out;
    Status st = store_->ForEachPageSlot(from, to, [&](const PageSlot& s) { out.push_back(s); });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
};

TEST_P(PagesContractTest, EscalationPagesAreOneRowPerPageWhateverTheContactMethods) {
  const TimePoint t0 = *ParseRfc3339("2026-03-02T10:00:00Z");
  clock_.Set(t0);
  core::IncidentId a = Declare();
  core::IncidentId b = Declare();
  // Step 0 pages nina through two contact methods and a second rule of one of them, and bob
  // through one.
  Fire(a, 0, 0,
       {Via("nina", "hook"), Via("nina", "sms"), Via("nina", "sms", 1), Via("bob", "hook")});
  // Applied again later (a retry of the same decision on another server): nothing new, the
  // first time stays.
  clock_.Advance(seconds(40));
  Fire(a, 0, 0, {Via("nina", "hook"), Via("nina", "push")});
  // The next step, and the next loop: pages of their own.
  clock_.Advance(minutes(20));
  Fire(a, 1, 0, {Via("nina", "hook"), Via("nina", "sms")});
  clock_.Advance(minutes(5));
  Fire(a, 0, 1, {Via("nina", "hook")});
  // Another incident at the same time.
  Fire(b, 0, 0, {Via("nina", "hook"), Via("nina", "sms")});

  const int64_t at0 = Ms(t0), at1 = at0 + 40'000 + 1'200'000, at2 = at1 + 300'000;
  EXPECT_EQ(Pages(), (std::vector<PageRow>{{a, 0, 0, 0, "bob", at0},
                                           {a, 0, 0, 0, "nina", at0},
                                           {a, 0, 0, 1, "nina", at1},
                                           {a, 0, 1, 0, "nina", at2},
                                           {b, 0, 0, 0, "nina", at2}}))
      << "ordered by incident, round, loop, step, user";
  // The notifications are still one per contact method and rule.
  auto notes = store_->ListNotifications({.incident_id = a});
  ASSERT_TRUE(notes);
  EXPECT_EQ(notes->size(), 8u);

  // Pages per person and quarter hour: bob once at 10:00; nina once at 10:00 and three times
  // in 10:15-10:30 (a's next step at 10:20:40, a's next loop and b at 10:25:40).
  auto slots = Slots(t0, t0 + minutes(60));
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(slots[0].user_id, "bob");
  EXPECT_EQ(slots[0].slot, t0);
  EXPECT_EQ(slots[0].pages, 1);
  EXPECT_EQ(slots[1].user_id, "nina");
  EXPECT_EQ(slots[1].slot, t0);
  EXPECT_EQ(slots[1].pages, 1);
  EXPECT_EQ(slots[2].user_id, "nina");
  EXPECT_EQ(slots[2].slot, t0 + minutes(15));
  EXPECT_EQ(slots[2].pages, 3);
  // A range holds the pages whose first notification is in it: not those of 10:00:00, though
  // the retry at 10:00:40 notified nina again.
  auto later = Slots(t0 + seconds(1), t0 + minutes(60));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].user_id, "nina");
  EXPECT_EQ(later[0].slot, t0 + minutes(15));
  EXPECT_EQ(later[0].pages, 3);

  auto record = store_->RecordOf("nina", t0, t0 + minutes(60));
  ASSERT_TRUE(record) << record.error().ToString();
  EXPECT_EQ(record->pages_received, 4);
  auto bob = store_->RecordOf("bob", t0, t0 + minutes(60));
  ASSERT_TRUE(bob) << bob.error().ToString();
  EXPECT_EQ(bob->pages_received, 1);
}

// Regression (fault injection, tests/e2e/fault_clock_test.py): the engine decided a page due at
// once, then the wall clock was stepped back 2 hours before the store wrote it; the page waited
// those 2 hours. A page with a delay keeps the delay.
TEST_P(PagesContractTest, PagesDecidedBeforeTheWallClockSteppedBackAreNotHeld) {
  const core::IncidentId id = Declare();
  const TimePoint decided = clock_.Now() + std::chrono::hours(2);  // the clock went back since
  PageRequest now = Via("alice", "alice-hook");
  now.not_before = decided;
  PageRequest later = Via("bob", "bob-hook");
  later.not_before = decided + minutes(5);
  Fire(id, 0, 0, {now, later}, decided);
  auto n = store_->ListNotifications({.incident_id = id});
  ASSERT_TRUE(n) << n.error().ToString();
  ASSERT_EQ(n->size(), 2u);
  for (const auto& x : *n) {
    EXPECT_EQ(x.not_before, x.user_id == "alice" ? clock_.Now() : clock_.Now() + minutes(5))
        << x.user_id;
  }
  // Decided on the store's own clock, or one behind it: as given.
  const core::IncidentId other = Declare();
  PageRequest as_given = Via("carol", "carol-hook");
  as_given.not_before = clock_.Now() + minutes(1);
  Fire(other, 0, 0, {as_given}, clock_.Now() - minutes(3));
  auto m = store_->ListNotifications({.incident_id = other});
  ASSERT_TRUE(m && m->size() == 1u);
  EXPECT_EQ(m->front().not_before, clock_.Now() + minutes(1));
}

TEST_P(PagesContractTest, RecordAnswersFromTheFirstPageBeforeTheAcknowledgement) {
  const TimePoint t0 = *ParseRfc3339("2026-03-02T10:00:00Z");
  std::vector<core::IncidentId> ids;
  // Nina is paged for five incidents and acknowledges each 60, 120, 300, 30 and 600 s after
  // her first page for it; a later page to her or a page to bob changes nothing.
  const std::vector<int> delays = {60, 120, 300, 30, 600};
  for (size_t k = 0; k < delays.size(); ++k) {
    clock_.Set(t0 + std::chrono::hours(k));
    core::IncidentId id = Declare();
    Fire(id, 0, 0, {Via("nina", "hook"), Via("nina", "sms"), Via("bob", "hook")});
    clock_.Advance(seconds(delays[k] / 2));
    Fire(id, 1, 0, {Via("nina", "hook")});  // her second page for it: not the first
    clock_.Advance(seconds(delays[k] - delays[k] / 2));
    auto acked = Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncident(id, core::IncidentAction::kAcknowledge,
                                 Actor{"user", "nina", "web"}, cb);
    });
    ASSERT_TRUE(acked) << acked.error().ToString();
    ids.push_back(id);
  }
  auto r = store_->RecordOf("nina", t0, t0 + std::chrono::hours(6));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->incidents_handled, 5);
  EXPECT_EQ(r->pages_received, 10);
  EXPECT_EQ(r->pages_answered.n, 5);
  ASSERT_TRUE(r->pages_answered.mean && r->pages_answered.p50 && r->pages_answered.p90);
  EXPECT_DOUBLE_EQ(*r->pages_answered.mean, 222.0);
  EXPECT_DOUBLE_EQ(*r->pages_answered.p50, 120.0);  // rank 3 of 30, 60, 120, 300, 600
  EXPECT_DOUBLE_EQ(*r->pages_answered.p90, 600.0);  // rank 5
  auto bob = store_->RecordOf("bob", t0, t0 + std::chrono::hours(6));
  ASSERT_TRUE(bob) << bob.error().ToString();
  EXPECT_EQ(bob->pages_received, 5);
  EXPECT_EQ(bob->pages_answered.n, 0);
  EXPECT_EQ(bob->incidents_handled, 0);
}

TEST_P(PagesContractTest, FanoutWritesOnlyItsPagesToThePagesTable) {
  const TimePoint t0 = *ParseRfc3339("2026-03-02T10:00:00Z");
  clock_.Set(t0);
  core::IncidentId a = Declare();
  auto message = [&](std::string kind, std::string method, std::string ref) {
    OutboxMessage m;
    m.incident_id = a;
    m.kind = std::move(kind);
    m.ref = std::move(ref);
    m.user_id = "nina";
    m.contact_method_id = std::move(method);
    m.channel_type = "webhook";
    m.not_before = clock_.Now();
    return m;
  };
  FanoutWork work;
  work.messages = {message("role", "hook", "audit:1"), message("reminder", "hook", "r:1"),
                   message("page", "hook", ""), message("page", "sms", "")};
  auto r = Wait<int>([&](auto cb) { store_->ApplyFanout(work, cb); });
  ASSERT_TRUE(r) << r.error().ToString();
  clock_.Advance(minutes(1));
  r = Wait<int>([&](auto cb) { store_->ApplyFanout(work, cb); });  // applied again: no change
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(Pages(), (std::vector<PageRow>{{a, 0, 0, 0, "nina", Ms(t0)}}));
}

// `houston migrate` (SQLite to PostgreSQL) copies the pages with the notifications: the
// backfill of schema version 11 runs on the empty PostgreSQL database before the copy.
TEST_P(PagesContractTest, ImportIntoPostgresCarriesThePages) {
  if (postgres()) GTEST_SKIP() << "an import goes from SQLite";
  const TimePoint t0 = *ParseRfc3339("2026-03-02T10:00:00Z");
  clock_.Set(t0);
  core::IncidentId a = Declare();
  Fire(a, 0, 0, {Via("nina", "hook"), Via("nina", "sms")});
  store_.reset();
  auto& server = Server();
  if (!server) {
    auto started = houston::testing::PgServer::Start();
    ASSERT_TRUE(started) << started.error().ToString();
    server = std::move(*started);
  }
  auto url = server->NewDatabase("import_pages");
  ASSERT_TRUE(url) << url.error().ToString();
  auto copied = postgres::ImportFromSqlite((dir_ / "houston.db").string(), *url, t0);
  ASSERT_TRUE(copied) << copied.error().ToString();
  postgres::PostgresOptions o;
  o.url = *url;
  o.clock = &clock_;
  auto pg = postgres::PostgresStore::Open(std::move(o));
  ASSERT_TRUE(pg) << pg.error().ToString();
  std::vector<PageSlot> slots;
  Status st =
      (*pg)->ForEachPageSlot(t0, t0 + minutes(60), [&](const PageSlot& s) { slots.push_back(s); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].user_id, "nina");
  EXPECT_EQ(slots[0].pages, 1);
}

HOUSTON_STORE_CONTRACT(PagesContractTest);

}  // namespace
}  // namespace houston::store
