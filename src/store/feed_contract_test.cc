// The change feed's contract (store/feed.h), on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "store/postgres/pg_db.h"
#include "store/sqlite/db.h"
#include "testing/store_backend.h"

namespace houston::store {
namespace {

using core::AlertEvent;
using core::EventAction;

class FeedContractTest : public houston::testing::StoreBackendTest {
 protected:
  static AlertEvent Trigger(std::string key) {
    AlertEvent e;
    e.integration_key = "rk1";
    e.service_id = "checkout";
    e.action = EventAction::kTrigger;
    e.dedup_key = std::move(key);
    e.summary = "disk full on db1";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    return e;
  }
  EventOutcome Apply(AlertEvent ev) {
    auto r = Wait<std::vector<EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents({std::move(ev)}, Actor{"integration", "t", "integration"}, cb);
    });
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->at(0) : EventOutcome{};
  }
  std::vector<FeedEntry> All(int64_t after = 0) {
    auto r = store_->ReadFeed(after, 1000);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : std::vector<FeedEntry>{};
  }
  // A connection of our own to the database (to break it on purpose).
  Result<std::unique_ptr<sql::Db>> Raw() {
    if (postgres()) {
      HOUSTON_ASSIGN_OR_RETURN(auto db, postgres::PgDb::Connect(url_, clock_));
      return std::unique_ptr<sql::Db>(std::move(db));
    }
    HOUSTON_ASSIGN_OR_RETURN(auto db,
                             sqlite::SqliteDb::Open((dir_ / "houston.db").string(), false));
    return std::unique_ptr<sql::Db>(std::move(db));
  }
  static std::vector<std::pair<std::string, std::string>> Kinds(const std::vector<FeedEntry>& v) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : v) out.emplace_back(std::string(ToString(e.type)), e.id);
    return out;
  }
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(FeedTypeTest, OneStringTableBothWays) {
  for (int i = 0; i <= static_cast<int>(FeedType::kActionItemUpdated); ++i) {
    auto t = static_cast<FeedType>(i);
    EXPECT_NE(ToString(t), "unknown");
    EXPECT_EQ(ParseFeedType(ToString(t)), t);
  }
  EXPECT_EQ(ToString(FeedType::kIncidentUpdated), "incident.updated");
  EXPECT_FALSE(ParseFeedType("incident.exploded"));
}

TEST_P(FeedContractTest, ChangesAreRecordedInCommitOrder) {
  auto bounds = store_->ReadFeedBounds();
  ASSERT_TRUE(bounds);
  EXPECT_EQ(bounds->newest, 0);
  auto first = Apply(Trigger("k1"));
  Apply(Trigger("k1"));  // a repeat: the alert's count changed
  auto acked = Wait<core::Alert>([&](auto cb) {
    store_->AcknowledgeAlert(first.alert_id, Actor{"token", "t", "api"}, cb);
  });
  ASSERT_TRUE(acked);
  auto note = Wait<AuditRecord>([&](auto cb) {
    store_->AddNote(first.incident_id, "looking", Actor{"token", "t", "api"}, cb);
  });
  ASSERT_TRUE(note);
  const std::string a = std::to_string(first.alert_id), i = std::to_string(first.incident_id);
  auto all = All();
  EXPECT_EQ(Kinds(all), (Pairs{{"incident.created", i},
                               {"alert.created", a},
                               {"alert.updated", a},
                               {"alert.updated", a},
                               {"incident.updated", i},
                               {"timeline.added", i}}));
  for (size_t k = 1; k < all.size(); ++k) EXPECT_GT(all[k].seq, all[k - 1].seq);
  EXPECT_EQ(all.front().at, clock_.Now());
  // After a sequence number: only what came later.
  EXPECT_EQ(All(all[2].seq), std::vector<FeedEntry>(all.begin() + 3, all.end()));
  bounds = store_->ReadFeedBounds();
  ASSERT_TRUE(bounds);
  EXPECT_EQ(bounds->oldest, all.front().seq);
  EXPECT_EQ(bounds->newest, all.back().seq);
}

TEST_P(FeedContractTest, SurvivesReopenAndKeepsCounting) {
  Apply(Trigger("k1"));
  auto before = All();
  ASSERT_EQ(before.size(), 2u);
  Reopen();
  EXPECT_EQ(All(), before);
  Apply(Trigger("k2"));
  auto after = All(before.back().seq);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_GT(after.front().seq, before.back().seq);
}

TEST_P(FeedContractTest, ARolledBackWriteRecordsNothing) {
  auto o = Apply(Trigger("k1"));
  auto before = All();
  // Notes now fail after the write recorded its feed entry (the audit insert is refused).
  auto raw = Raw();
  ASSERT_TRUE(raw) << raw.error().ToString();
  if (postgres()) {
    ASSERT_TRUE((*raw)
                    ->Exec(R"(
CREATE FUNCTION refuse_notes() RETURNS trigger AS $$
BEGIN IF NEW.action = 'incident.note' THEN RAISE EXCEPTION 'notes refused'; END IF;
RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_notes BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_notes();
)")
                    .ok());
  } else {
    ASSERT_TRUE((*raw)
                    ->Exec("CREATE TRIGGER refuse_notes BEFORE INSERT ON audit_log WHEN "
                           "NEW.action = 'incident.note' BEGIN SELECT RAISE(ABORT, 'notes "
                           "refused'); END;")
                    .ok());
  }
  raw->reset();
  Reopen();  // fresh connections see the trigger
  auto note = Wait<AuditRecord>([&](auto cb) {
    store_->AddNote(o.incident_id, "nope", Actor{"token", "t", "api"}, cb);
  });
  ASSERT_FALSE(note);
  EXPECT_EQ(All(), before);
  // The next write records as usual.
  Apply(Trigger("k2"));
  EXPECT_EQ(All().size(), before.size() + 2);
}

TEST_P(FeedContractTest, OverridesNotificationsAndOrgAreRecorded) {
  ScheduleOverride ov;
  ov.schedule_id = "primary";
  ov.user_id = "alice";
  ov.start = clock_.Now();
  ov.end = clock_.Now() + std::chrono::hours(1);
  auto made = Wait<std::vector<ScheduleOverride>>([&](auto cb) {
    store_->CreateOverrides({ov}, Actor{"token", "t", "api"}, cb);
  });
  ASSERT_TRUE(made);
  auto cancelled = Wait<ScheduleOverride>([&](auto cb) {
    store_->UpdateOverride(made->at(0).id, std::nullopt, Actor{"token", "t", "api"}, cb);
  });
  ASSERT_TRUE(cancelled);
  auto applied = Wait<int>([&](auto cb) {
    store_->ApplyOrg({OrgObject{"user", "alice", "{}"}}, {}, "users: []", "org.yaml",
                     Actor{"token", "t", "cli"}, cb);
  });
  ASSERT_TRUE(applied);
  EXPECT_EQ(Kinds(All()), (Pairs{{"override.created", "primary"},
                                 {"override.updated", "primary"},
                                 {"org.applied", "org.yaml"}}));
}

TEST_P(FeedContractTest, PruningKeepsTheNewestAndReportsTheOldest) {
  for (int k = 0; k < 5; ++k) Apply(Trigger("k" + std::to_string(k)));
  auto all = All();
  ASSERT_EQ(all.size(), 10u);
  // By count.
  auto pruned = Wait<int64_t>([&](auto cb) {
    store_->PruneFeed(FeedRetention{.max_age = std::chrono::hours(1), .max_rows = 4}, cb);
  });
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 6);
  auto bounds = store_->ReadFeedBounds();
  ASSERT_TRUE(bounds);
  EXPECT_EQ(bounds->oldest, all[6].seq);
  EXPECT_EQ(bounds->newest, all.back().seq);
  // By age: everything but the newest, which says where the sequence stands.
  clock_.Advance(std::chrono::hours(2));
  pruned = Wait<int64_t>([&](auto cb) {
    store_->PruneFeed(FeedRetention{.max_age = std::chrono::hours(1), .max_rows = 100}, cb);
  });
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 3);
  bounds = store_->ReadFeedBounds();
  EXPECT_EQ(bounds->oldest, all.back().seq);
  EXPECT_EQ(bounds->newest, all.back().seq);
  Reopen();
  Apply(Trigger("again"));
  auto next = All(all.back().seq);
  ASSERT_FALSE(next.empty());
  EXPECT_GT(next.front().seq, all.back().seq);
}

TEST_P(FeedContractTest, TwoServersWritingAtOnceNeverGoBackwards) {
  if (!postgres()) GTEST_SKIP() << "one writer per SQLite file";
  auto other = Open();
  ASSERT_TRUE(other) << other.error().ToString();
  std::vector<std::promise<void>> done(200);
  for (int k = 0; k < 100; ++k) {
    store_->ApplyAlertEvents({Trigger("a" + std::to_string(k))}, {},
                             [&, k](auto) { done[k].set_value(); });
    (*other)->ApplyAlertEvents({Trigger("b" + std::to_string(k))}, {},
                               [&, k](auto) { done[100 + k].set_value(); });
  }
  for (auto& d : done) d.get_future().wait();
  auto all = All();
  EXPECT_EQ(all.size(), 400u);
  for (size_t k = 1; k < all.size(); ++k) EXPECT_GT(all[k].seq, all[k - 1].seq);
}

HOUSTON_STORE_CONTRACT(FeedContractTest);

}  // namespace
}  // namespace houston::store
