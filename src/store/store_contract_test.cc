#include "testing/store_backend.h"

#include <gtest/gtest.h>

#include <set>

#include <filesystem>
#include <future>
#include <thread>

#include "testing/fake_clock.h"

namespace houston::store {
namespace {

using core::AlertEvent;
using core::AlertStatus;
using core::EventAction;
using core::IncidentStatus;
using Kind = EventOutcome::Kind;

class StoreContractTest : public houston::testing::StoreBackendTest {
 protected:
  static AlertEvent Ev(EventAction action, std::string key, std::string routing = "rk1",
                       std::string group = "") {
    AlertEvent e;
    e.integration_key = std::move(routing);
    e.service_id = "checkout";
    e.action = action;
    e.dedup_key = std::move(key);
    e.group_key = std::move(group);
    e.summary = "disk full on db1";
    e.source = "db1";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    return e;
  }

  Result<std::vector<EventOutcome>> Apply(std::vector<AlertEvent> evs) {
    return Wait<std::vector<EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents(std::move(evs), Actor{"integration", "test", "integration"}, cb);
    });
  }
  EventOutcome Apply1(AlertEvent ev) {
    auto r = Apply({std::move(ev)});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? r->at(0) : EventOutcome{};
  }
};

TEST_P(StoreContractTest, TriggerOpensAlertAndIncident) {
  auto o = Apply1(Ev(EventAction::kTrigger, "k1"));
  EXPECT_EQ(o.kind, Kind::kCreated);
  EXPECT_TRUE(o.incident_created);
  auto a = store_->GetAlert(o.alert_id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, AlertStatus::kTriggered);
  EXPECT_EQ(a->dedup_key, "k1");
  EXPECT_EQ(a->event_count, 1);
  auto i = store_->GetIncident(o.incident_id);
  ASSERT_TRUE(i);
  EXPECT_EQ(i->status, IncidentStatus::kTriggered);
  EXPECT_EQ(i->title, "disk full on db1");
}

TEST_P(StoreContractTest, RepeatTriggerDeduplicatesAndKeepsLatestPayload) {
  auto first = Apply1(Ev(EventAction::kTrigger, "k1"));
  clock_.Advance(std::chrono::seconds(30));
  auto again = Ev(EventAction::kTrigger, "k1");
  again.summary = "disk full on db1 (99%)";
  auto o = Apply1(again);
  EXPECT_EQ(o.kind, Kind::kDeduplicated);
  EXPECT_EQ(o.alert_id, first.alert_id);
  EXPECT_FALSE(o.incident_created);
  auto a = store_->GetAlert(first.alert_id);
  EXPECT_EQ(a->event_count, 2);
  EXPECT_EQ(a->summary, "disk full on db1 (99%)");
  EXPECT_EQ(a->last_event_at - a->created_at, std::chrono::seconds(30));
}

TEST_P(StoreContractTest, DedupIsScopedPerRoutingKey) {
  auto a = Apply1(Ev(EventAction::kTrigger, "same", "rk1"));
  auto b = Apply1(Ev(EventAction::kTrigger, "same", "rk2"));
  EXPECT_EQ(b.kind, Kind::kCreated);
  EXPECT_NE(a.alert_id, b.alert_id);
  // An acknowledge through the other routing key is dropped.
  auto c = Apply1(Ev(EventAction::kAcknowledge, "same", "rk3"));
  EXPECT_EQ(c.kind, Kind::kDropped);
}

TEST_P(StoreContractTest, AckAndResolveMoveAlertAndIncident) {
  auto t = Apply1(Ev(EventAction::kTrigger, "k1"));
  EXPECT_EQ(Apply1(Ev(EventAction::kAcknowledge, "k1")).kind, Kind::kAcknowledged);
  EXPECT_EQ(store_->GetIncident(t.incident_id)->status, IncidentStatus::kAcknowledged);
  EXPECT_EQ(Apply1(Ev(EventAction::kAcknowledge, "k1")).kind, Kind::kUnchanged);
  // A new trigger on an acknowledged alert is folded in; it stays acknowledged.
  EXPECT_EQ(Apply1(Ev(EventAction::kTrigger, "k1")).kind, Kind::kDeduplicated);
  EXPECT_EQ(store_->GetAlert(t.alert_id)->status, AlertStatus::kAcknowledged);
  EXPECT_EQ(Apply1(Ev(EventAction::kResolve, "k1")).kind, Kind::kResolved);
  EXPECT_EQ(store_->GetAlert(t.alert_id)->status, AlertStatus::kResolved);
  EXPECT_EQ(store_->GetIncident(t.incident_id)->status, IncidentStatus::kResolved);
}

TEST_P(StoreContractTest, AckOrResolveOfUnknownOrResolvedKeyIsDropped) {
  EXPECT_EQ(Apply1(Ev(EventAction::kAcknowledge, "nope")).kind, Kind::kDropped);
  EXPECT_EQ(Apply1(Ev(EventAction::kResolve, "nope")).kind, Kind::kDropped);
  Apply1(Ev(EventAction::kTrigger, "k1"));
  Apply1(Ev(EventAction::kResolve, "k1"));
  EXPECT_EQ(Apply1(Ev(EventAction::kResolve, "k1")).kind, Kind::kDropped);
  EXPECT_EQ(Apply1(Ev(EventAction::kAcknowledge, "k1")).kind, Kind::kDropped);
  auto alerts = store_->ListAlerts({});
  ASSERT_TRUE(alerts);
  EXPECT_EQ(alerts->size(), 1u);  // nothing was created by the dropped events
}

TEST_P(StoreContractTest, TriggerAfterResolveOpensNewAlertAndIncident) {
  auto first = Apply1(Ev(EventAction::kTrigger, "k1"));
  Apply1(Ev(EventAction::kResolve, "k1"));
  auto second = Apply1(Ev(EventAction::kTrigger, "k1"));
  EXPECT_EQ(second.kind, Kind::kCreated);
  EXPECT_NE(second.alert_id, first.alert_id);
  EXPECT_NE(second.incident_id, first.incident_id);
}

TEST_P(StoreContractTest, KeylessTriggerGetsGeneratedKey) {
  auto a = Apply1(Ev(EventAction::kTrigger, ""));
  auto b = Apply1(Ev(EventAction::kTrigger, ""));
  EXPECT_EQ(a.dedup_key.size(), 36u);
  EXPECT_NE(a.dedup_key, b.dedup_key);
  EXPECT_NE(a.alert_id, b.alert_id);
  EXPECT_EQ(store_->GetAlert(a.alert_id)->dedup_key, a.dedup_key);
}

TEST_P(StoreContractTest, GroupedAlertsShareIncidentUntilAllResolve) {
  auto a = Apply1(Ev(EventAction::kTrigger, "fp1", "am", "{}:{alertname=\"X\"}"));
  auto b = Apply1(Ev(EventAction::kTrigger, "fp2", "am", "{}:{alertname=\"X\"}"));
  EXPECT_TRUE(a.incident_created);
  EXPECT_FALSE(b.incident_created);
  EXPECT_EQ(a.incident_id, b.incident_id);
  EXPECT_EQ(store_->GetIncident(a.incident_id)->alert_count, 2);
  Apply1(Ev(EventAction::kResolve, "fp1", "am", "{}:{alertname=\"X\"}"));
  EXPECT_EQ(store_->GetIncident(a.incident_id)->status, IncidentStatus::kTriggered);
  Apply1(Ev(EventAction::kResolve, "fp2", "am", "{}:{alertname=\"X\"}"));
  EXPECT_EQ(store_->GetIncident(a.incident_id)->status, IncidentStatus::kResolved);
  // The group fires again: a new incident.
  auto c = Apply1(Ev(EventAction::kTrigger, "fp1", "am", "{}:{alertname=\"X\"}"));
  EXPECT_TRUE(c.incident_created);
}

TEST_P(StoreContractTest, BatchIsAtomicAndOrdered) {
  auto r = Apply({Ev(EventAction::kTrigger, "k1"), Ev(EventAction::kTrigger, "k1"),
                  Ev(EventAction::kResolve, "k1")});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].kind, Kind::kCreated);
  EXPECT_EQ((*r)[1].kind, Kind::kDeduplicated);
  EXPECT_EQ((*r)[2].kind, Kind::kResolved);
}

TEST_P(StoreContractTest, StateChangesAreAudited) {
  auto t = Apply1(Ev(EventAction::kTrigger, "k1"));
  Apply1(Ev(EventAction::kTrigger, "k1"));  // dedup: not a state change
  auto acked = Wait<core::Alert>([&](auto cb) {
    store_->AcknowledgeAlert(t.alert_id, Actor{"token", "alice-laptop", "api"}, cb);
  });
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->status, AlertStatus::kAcknowledged);
  auto audit = store_->ListAudit({.resource_type = "alert"});
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "alert.acknowledged");
  EXPECT_EQ((*audit)[0].actor.id, "alice-laptop");
  EXPECT_EQ((*audit)[0].actor.method, "api");
  EXPECT_EQ((*audit)[1].action, "alert.triggered");
}

TEST_P(StoreContractTest, ApiAckAndResolveErrors) {
  auto missing = Wait<core::Alert>([&](auto cb) { store_->AcknowledgeAlert(999, {}, cb); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  auto t = Apply1(Ev(EventAction::kTrigger, "k1"));
  ASSERT_TRUE(Wait<core::Alert>([&](auto cb) { store_->ResolveAlert(t.alert_id, {}, cb); }));
  auto again = Wait<core::Alert>([&](auto cb) { store_->ResolveAlert(t.alert_id, {}, cb); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreContractTest, ConcurrentWritersProduceOneAlertPerKey) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, failed{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = Apply({Ev(EventAction::kTrigger, "k" + std::to_string(i % 20))});
        if (!r) {
          ++failed;
        } else if ((*r)[0].kind == Kind::kCreated) {
          ++created;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), 20);
  auto open = store_->ListAlerts({.limit = 1000});
  ASSERT_TRUE(open);
  EXPECT_EQ(open->size(), 20u);
  int64_t total = 0;
  for (const auto& a : *open) total += a.event_count;
  EXPECT_EQ(total, 8 * 200);
  EXPECT_GT(store_->Stats().committed_writes, 0u);
}

TEST_P(StoreContractTest, AFailingWriteDoesNotFailItsBatch) {
  // Hold the writer inside a completion callback (they run on the writer thread) so that the
  // next three writes are queued together and committed as one batch.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> held;
  store_->CreateToken("first", Role::kViewer, "hash-1", "", {}, [&](Result<Token>) {
    held.set_value();
    released.wait();
  });
  held.get_future().wait();
  std::promise<Result<std::vector<EventOutcome>>> a, c;
  std::promise<Result<Token>> b;
  store_->ApplyAlertEvents({Ev(EventAction::kTrigger, "before")}, {},
                           [&](auto r) { a.set_value(std::move(r)); });
  store_->CreateToken("dup", Role::kViewer, "hash-1", "", {},
                      [&](auto r) { b.set_value(std::move(r)); });  // unique hash: fails
  store_->ApplyAlertEvents({Ev(EventAction::kTrigger, "after")}, {},
                           [&](auto r) { c.set_value(std::move(r)); });
  release.set_value();
  auto ra = a.get_future().get();
  auto rb = b.get_future().get();
  auto rc = c.get_future().get();
  ASSERT_TRUE(ra) << ra.error().ToString();
  ASSERT_FALSE(rb);
  EXPECT_EQ(rb.error().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(rc) << rc.error().ToString();
  EXPECT_EQ(store_->ListAlerts({})->size(), 2u);
  EXPECT_EQ(store_->Stats().failed_commits, 0u);
}

TEST_P(StoreContractTest, AWriteWhoseLaterStatementFailsFailsAloneInItsBatch) {
  // On PostgreSQL a repeat trigger's UPDATE is pipelined (RunLater): its error arrives with the
  // next statement, which may be the next write's or the flush before COMMIT. Text that is not
  // UTF-8 makes it fail there (SQLite stores any bytes).
  if (!postgres()) GTEST_SKIP() << "PostgreSQL pipelining";
  Apply1(Ev(EventAction::kTrigger, "dup"));
  // Runs the events as one batch, one write each (held back behind a write that waits).
  auto batch = [this](const std::vector<AlertEvent>& events) {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> held;
    store_->CreateToken("hold-" + events.front().dedup_key, Role::kViewer,
                        "hash-" + events.front().dedup_key, "", {}, [&](Result<Token>) {
                          held.set_value();
                          released.wait();
                        });
    held.get_future().wait();
    std::vector<std::promise<Result<std::vector<EventOutcome>>>> done(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      store_->ApplyAlertEvents({events[i]}, {},
                               [&, i](auto r) { done[i].set_value(std::move(r)); });
    }
    release.set_value();
    std::vector<Result<std::vector<EventOutcome>>> out;
    for (auto& d : done) out.push_back(d.get_future().get());
    return out;
  };
  AlertEvent bad = Ev(EventAction::kTrigger, "dup");
  bad.summary = "disk \xff full";
  auto expect_failed = [](const Result<std::vector<EventOutcome>>& r) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), StatusCode::kInternal) << r.error().ToString();
    EXPECT_NE(r.error().message().find("UPDATE alerts"), std::string::npos) << r.error().message();
  };
  // Reported by the next write's first statement...
  auto r = batch({Ev(EventAction::kTrigger, "before"), bad, Ev(EventAction::kTrigger, "after")});
  ASSERT_TRUE(r[0]) << r[0].error().ToString();
  expect_failed(r[1]);
  ASSERT_TRUE(r[2]) << r[2].error().ToString();
  // ...and by the flush before COMMIT when it is the last write.
  r = batch({Ev(EventAction::kTrigger, "last"), bad});
  ASSERT_TRUE(r[0]) << r[0].error().ToString();
  expect_failed(r[1]);
  auto alerts = store_->ListAlerts({});
  ASSERT_TRUE(alerts);
  ASSERT_EQ(alerts->size(), 4u);
  for (const auto& a : *alerts) {
    EXPECT_EQ(a.event_count, 1) << a.dedup_key;
    EXPECT_EQ(a.summary, "disk full on db1") << a.dedup_key;
  }
  EXPECT_EQ(store_->Stats().failed_commits, 0u);
}

TEST_P(StoreContractTest, FullQueueRefusesWithResourceExhausted) {
  Reopen(/*capacity=*/0);
  auto r = Apply({Ev(EventAction::kTrigger, "k1")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);
}

TEST_P(StoreContractTest, DataSurvivesReopen) {
  auto t = Apply1(Ev(EventAction::kTrigger, "k1"));
  Reopen();
  auto a = store_->GetAlert(t.alert_id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->dedup_key, "k1");
  EXPECT_EQ(Apply1(Ev(EventAction::kTrigger, "k1")).kind, Kind::kDeduplicated);
}

TEST_P(StoreContractTest, FiltersAndCursor) {
  for (int i = 0; i < 5; ++i) Apply1(Ev(EventAction::kTrigger, "k" + std::to_string(i)));
  Apply1(Ev(EventAction::kResolve, "k0"));
  auto open = store_->ListAlerts({.status = AlertStatus::kTriggered});
  EXPECT_EQ(open->size(), 4u);
  auto page1 = store_->ListAlerts({.limit = 2});
  ASSERT_EQ(page1->size(), 2u);
  auto page2 = store_->ListAlerts({.before_id = page1->back().id, .limit = 10});
  EXPECT_EQ(page2->size(), 3u);
  EXPECT_LT(page2->front().id, page1->back().id);
  EXPECT_EQ(store_->ListAlerts({.service_id = std::string("other")})->size(), 0u);
}

TEST_P(StoreContractTest, ApplyOrgDiffsAndRecordsSource) {
  auto apply = [&](std::vector<OrgObject> objs) {
    return Wait<int>([&](auto cb) {
      store_->ApplyOrg(objs, {}, "yaml: 1", "org.yaml", Actor{"user", "cli", "cli"}, cb);
    });
  };
  EXPECT_EQ(store_->OrgAppliedAt().value(), std::nullopt);
  EXPECT_EQ(apply({{"service", "a", "{}"}, {"service", "b", "{}"}}).value(), 2);
  auto first = store_->OrgAppliedAt().value();
  ASSERT_TRUE(first);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(apply({{"service", "a", "{}"}, {"service", "b", "{}"}}).value(), 0);
  // Applied again (even unchanged): servers polling OrgAppliedAt see a new revision.
  EXPECT_EQ(store_->OrgAppliedAt().value(), *first + std::chrono::seconds(1));
  EXPECT_EQ(apply({{"service", "a", "{\"x\":1}"}}).value(), 2);  // one changed, one removed
  auto snap = store_->LoadOrg();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->objects.size(), 1u);
  EXPECT_EQ(snap->objects[0].spec_json, "{\"x\":1}");
  EXPECT_EQ(snap->source_yaml, "yaml: 1");
  EXPECT_EQ(snap->source_name, "org.yaml");
  EXPECT_EQ(snap->applied_at, store_->OrgAppliedAt().value());
  EXPECT_EQ(store_->ListAudit({.resource_type = "org"})->size(), 2u);
}

TEST_P(StoreContractTest, MissedHeartbeatOpensAlertAndNextBeatResolvesIt) {
  Heartbeat hb{"hb-key", "checkout", std::chrono::minutes(5), {}, false};
  ASSERT_TRUE(Wait<int>([&](auto cb) { store_->ApplyOrg({}, {hb}, "", "", {}, cb); }));
  // Not watched before its first beat: a day without beats opens nothing.
  EXPECT_EQ(store_->NextHeartbeatDeadline().value(), std::nullopt);
  clock_.Advance(std::chrono::hours(24));
  EXPECT_EQ(Wait<int>([&](auto cb) { store_->CheckHeartbeats(clock_.Now(), cb); }).value(), 0);
  EXPECT_EQ(store_->ListHeartbeats()->front().last_beat_at, std::nullopt);
  ASSERT_TRUE(Wait<Heartbeat>([&](auto cb) { store_->RecordHeartbeat("hb-key", cb); }));
  EXPECT_EQ(store_->ListHeartbeats()->front().last_beat_at, clock_.Now());
  // Applying the org again keeps the last beat.
  ASSERT_TRUE(Wait<int>([&](auto cb) { store_->ApplyOrg({}, {hb}, "", "", {}, cb); }));
  EXPECT_EQ(store_->ListHeartbeats()->front().last_beat_at, clock_.Now());
  auto deadline = store_->NextHeartbeatDeadline();
  ASSERT_TRUE(deadline && deadline->has_value());
  EXPECT_EQ(**deadline, clock_.Now() + std::chrono::minutes(5));
  clock_.Advance(std::chrono::minutes(4));
  EXPECT_EQ(Wait<int>([&](auto cb) { store_->CheckHeartbeats(clock_.Now(), cb); }).value(), 0);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(Wait<int>([&](auto cb) { store_->CheckHeartbeats(clock_.Now(), cb); }).value(), 1);
  // Still missed: no second alert.
  EXPECT_EQ(Wait<int>([&](auto cb) { store_->CheckHeartbeats(clock_.Now(), cb); }).value(), 0);
  auto open = store_->ListAlerts({.status = AlertStatus::kTriggered});
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().severity, core::Severity::kCritical);
  ASSERT_TRUE(Wait<Heartbeat>([&](auto cb) { store_->RecordHeartbeat("hb-key", cb); }));
  EXPECT_EQ(store_->ListAlerts({.status = AlertStatus::kTriggered})->size(), 0u);
  auto unknown = Wait<Heartbeat>([&](auto cb) { store_->RecordHeartbeat("nope", cb); });
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, TwoServersMissingTheSameHeartbeatOpenOneAlert) {
  Heartbeat hb{"hb-key", "checkout", std::chrono::minutes(5), {}, false};
  ASSERT_TRUE(Wait<int>([&](auto cb) { store_->ApplyOrg({}, {hb}, "", "", {}, cb); }));
  ASSERT_TRUE(Wait<Heartbeat>([&](auto cb) { store_->RecordHeartbeat("hb-key", cb); }));
  auto other = Open();
  ASSERT_TRUE(other) << other.error().ToString();
  for (int round = 0; round < 10; ++round) {
    clock_.Advance(std::chrono::minutes(6));
    // Both servers find the heartbeat overdue at the same time.
    std::promise<Result<int>> mine, theirs;
    store_->CheckHeartbeats(clock_.Now(), [&](Result<int> r) { mine.set_value(std::move(r)); });
    (*other)->CheckHeartbeats(clock_.Now(), [&](Result<int> r) { theirs.set_value(std::move(r)); });
    auto a = mine.get_future().get();
    auto b = theirs.get_future().get();
    ASSERT_TRUE(a) << a.error().ToString();
    ASSERT_TRUE(b) << b.error().ToString();
    EXPECT_EQ(*a + *b, 1) << "round " << round;
    auto open = store_->ListAlerts({.status = AlertStatus::kTriggered});
    ASSERT_TRUE(open);
    ASSERT_EQ(open->size(), 1u) << "round " << round;
    EXPECT_EQ(open->front().event_count, 1) << "round " << round;
    // The next beat resolves it.
    ASSERT_TRUE(Wait<Heartbeat>([&](auto cb) { store_->RecordHeartbeat("hb-key", cb); }));
  }
  EXPECT_EQ(store_->ListAlerts({})->size(), 10u);
}

TEST_P(StoreContractTest, RevokedTokensStopWorking) {
  auto t = Wait<Token>(
      [&](auto cb) { store_->CreateToken("laptop", Role::kAdmin, "h-1", "hou_abcd", {}, cb); });
  ASSERT_TRUE(t);
  ASSERT_TRUE(store_->FindTokenByHash("h-1"));
  auto revoked = Wait<Token>([&](auto cb) {
    store_->RevokeToken(t->id, Actor{"user", "", "cli"}, cb);
  });
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(revoked->revoked_at.has_value());
  auto gone = store_->FindTokenByHash("h-1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), StatusCode::kNotFound);
  auto twice = Wait<Token>([&](auto cb) { store_->RevokeToken(t->id, {}, cb); });
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), StatusCode::kFailedPrecondition);
  auto missing = Wait<Token>([&](auto cb) { store_->RevokeToken(999, {}, cb); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  auto all = store_->ListTokens();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().prefix, "hou_abcd");
  EXPECT_TRUE(all->front().revoked_at.has_value());
  EXPECT_EQ(store_->ListAudit({.resource_type = std::string("token")})->front().action,
            "token.revoked");
}

TEST_P(StoreContractTest, ChangesAndTokens) {
  core::ChangeEvent ch;
  ch.integration_key = "rk1";
  ch.service_id = "checkout";
  ch.summary = "deploy v42";
  auto c = Wait<core::Change>([&](auto cb) { store_->RecordChange(ch, cb); });
  ASSERT_TRUE(c);
  EXPECT_EQ(c->timestamp, clock_.Now());
  EXPECT_EQ(store_->ListChanges({.service_id = std::string("checkout")})->size(), 1u);

  auto t = Wait<Token>(
      [&](auto cb) { store_->CreateToken("ci", Role::kResponder, "h4sh", "hou_", {}, cb); });
  ASSERT_TRUE(t);
  auto found = store_->FindTokenByHash("h4sh");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->role, Role::kResponder);
  EXPECT_FALSE(store_->FindTokenByHash("other"));
  auto dup = Wait<Token>(
      [&](auto cb) { store_->CreateToken("ci2", Role::kAdmin, "h4sh", "hou_", {}, cb); });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), StatusCode::kAlreadyExists);
}

HOUSTON_STORE_CONTRACT(StoreContractTest);

// One string table: every audit action has its own name, which reads back as that action, and
// none is also an incident timeline action.
TEST(AuditActionTest, EveryActionHasOneNameThatReadsBack) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(AuditAction::kActionItemReminded); ++i) {
    auto action = static_cast<AuditAction>(i);
    std::string_view name = ToString(action);
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(ParseAuditAction(name), action) << name;
    EXPECT_EQ(ParseTimelineKind(name), std::nullopt) << name;
  }
  EXPECT_EQ(ParseAuditAction("alert.nope"), std::nullopt);
  EXPECT_EQ(ParseAuditAction(ToString(TimelineKind::kNote)), std::nullopt);
}

}  // namespace
}  // namespace houston::store
