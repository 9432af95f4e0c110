// Alerts that resolve by time (AlertEvent::expires_at): the store contract on both backends.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <latch>
#include <thread>

#include "testing/store_backend.h"

namespace houston::store {
namespace {

using core::AlertEvent;
using core::AlertStatus;
using core::EventAction;
using core::IncidentStatus;
using std::chrono::minutes;
using std::chrono::seconds;
using Kind = EventOutcome::Kind;

class AlertExpiryTest : public houston::testing::StoreBackendTest {
 protected:
  AlertEvent Trigger(std::string dedup_key, std::optional<TimePoint> expires_at,
                     std::string group_key = "") {
    AlertEvent e;
    e.integration_key = "prom-main";
    e.service_id = "checkout";
    e.action = EventAction::kTrigger;
    e.dedup_key = std::move(dedup_key);
    e.group_key = std::move(group_key);
    e.summary = "HighErrorRate";
    e.source = "api:9090";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.escalation_policy = "checkout-ep";
    e.first_step_delay = minutes(0);
    e.expires_at = expires_at;
    return e;
  }
  EventOutcome Apply(AlertEvent ev) {
    auto r = Wait<std::vector<EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents({std::move(ev)}, Actor{"integration", "test", "integration"}, cb);
    });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? r->at(0) : EventOutcome{};
  }
  int Expire(Store& s) {
    auto r = Wait<int>([&](auto cb) { s.ExpireAlerts(clock_.Now(), 100, cb); });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(-1);
  }
  std::optional<TimePoint> Next() {
    auto r = store_->NextAlertExpiry();
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(std::nullopt);
  }
  int ResolvedRecords(core::AlertId id) {
    auto audit = store_->ListAudit({.resource_type = "alert", .resource_id = std::to_string(id)});
    EXPECT_TRUE(audit.has_value());
    int n = 0;
    for (const auto& r : *audit) n += r.action == "alert.resolved";
    return n;
  }
};

TEST_P(AlertExpiryTest, RepeatsMoveTheDeadlineAndTheAlertResolvesWhenItPasses) {
  const TimePoint t0 = clock_.Now();
  auto first = Apply(Trigger("fp1", t0 + minutes(4)));
  ASSERT_EQ(first.kind, Kind::kCreated);
  EXPECT_EQ(Next(), t0 + minutes(4));
  EXPECT_EQ(Expire(*store_), 0);

  clock_.Advance(minutes(1));
  auto repeat = Apply(Trigger("fp1", t0 + minutes(5)));
  EXPECT_EQ(repeat.kind, Kind::kDeduplicated);
  EXPECT_EQ(repeat.alert_id, first.alert_id);
  EXPECT_EQ(Next(), t0 + minutes(5));

  clock_.Set(t0 + minutes(4) + seconds(30));  // past the first deadline, not the renewed one
  EXPECT_EQ(Expire(*store_), 0);
  EXPECT_EQ(store_->GetAlert(first.alert_id)->status, AlertStatus::kTriggered);

  clock_.Set(t0 + minutes(5));
  EXPECT_EQ(Expire(*store_), 1);
  auto a = store_->GetAlert(first.alert_id);
  EXPECT_EQ(a->status, AlertStatus::kResolved);
  EXPECT_EQ(a->resolved_at, t0 + minutes(5));
  EXPECT_EQ(a->event_count, 2);
  auto inc = store_->GetIncident(first.incident_id);
  EXPECT_EQ(inc->status, IncidentStatus::kResolved);
  auto esc = store_->GetEscalation(first.incident_id);
  ASSERT_TRUE(esc.has_value() && esc->has_value());
  EXPECT_EQ((*esc)->state, core::EscalationState::kDone);
  EXPECT_EQ(Next(), std::nullopt);
  EXPECT_EQ(Expire(*store_), 0);  // nothing twice
  EXPECT_EQ(ResolvedRecords(first.alert_id), 1);

  // Firing again after it expired: a new alert (and incident), as after any resolve.
  auto again = Apply(Trigger("fp1", clock_.Now() + minutes(4)));
  EXPECT_EQ(again.kind, Kind::kCreated);
  EXPECT_NE(again.alert_id, first.alert_id);
}

TEST_P(AlertExpiryTest, WithoutDeadlineNeverExpiresAndARepeatWithoutOneClearsIt) {
  auto never = Apply(Trigger("no-end", std::nullopt));
  auto cleared = Apply(Trigger("cleared", clock_.Now() + minutes(4)));
  EXPECT_EQ(Next(), clock_.Now() + minutes(4));
  Apply(Trigger("cleared", std::nullopt));
  EXPECT_EQ(Next(), std::nullopt);
  clock_.Advance(std::chrono::hours(24 * 30));
  EXPECT_EQ(Expire(*store_), 0);
  EXPECT_EQ(store_->GetAlert(never.alert_id)->status, AlertStatus::kTriggered);
  EXPECT_EQ(store_->GetAlert(cleared.alert_id)->status, AlertStatus::kTriggered);
}

TEST_P(AlertExpiryTest, AResolveEventOrAPersonFirstLeavesNothingToExpire) {
  auto by_event = Apply(Trigger("ev", clock_.Now() + minutes(4)));
  auto by_person = Apply(Trigger("person", clock_.Now() + minutes(4)));
  AlertEvent resolve = Trigger("ev", std::nullopt);
  resolve.action = EventAction::kResolve;
  EXPECT_EQ(Apply(resolve).kind, Kind::kResolved);
  ASSERT_TRUE(Wait<core::Alert>([&](auto cb) {
    store_->ResolveAlert(by_person.alert_id, Actor{"token", "alice", "api"}, cb);
  }));
  EXPECT_EQ(Next(), std::nullopt);
  clock_.Advance(minutes(10));
  EXPECT_EQ(Expire(*store_), 0);
  EXPECT_EQ(ResolvedRecords(by_event.alert_id), 1);
  EXPECT_EQ(ResolvedRecords(by_person.alert_id), 1);
}

TEST_P(AlertExpiryTest, AnAcknowledgedAlertStillExpires) {
  auto o = Apply(Trigger("acked", clock_.Now() + minutes(4)));
  ASSERT_TRUE(Wait<core::Alert>([&](auto cb) {
    store_->AcknowledgeAlert(o.alert_id, Actor{"token", "alice", "api"}, cb);
  }));
  clock_.Advance(minutes(4));
  EXPECT_EQ(Expire(*store_), 1);
  EXPECT_EQ(store_->GetAlert(o.alert_id)->status, AlertStatus::kResolved);
  EXPECT_EQ(store_->GetIncident(o.incident_id)->status, IncidentStatus::kResolved);
}

TEST_P(AlertExpiryTest, AGroupedIncidentResolvesWithItsLastAlert) {
  const TimePoint t0 = clock_.Now();
  auto a = Apply(Trigger("a", t0 + minutes(4), "checkout/alertname=HighErrorRate"));
  auto b = Apply(Trigger("b", t0 + minutes(6), "checkout/alertname=HighErrorRate"));
  ASSERT_EQ(a.incident_id, b.incident_id);
  EXPECT_FALSE(b.incident_created);
  clock_.Set(t0 + minutes(4));
  EXPECT_EQ(Expire(*store_), 1);
  EXPECT_EQ(store_->GetIncident(a.incident_id)->status, IncidentStatus::kTriggered);
  EXPECT_EQ(Next(), t0 + minutes(6));
  clock_.Set(t0 + minutes(7));
  EXPECT_EQ(Expire(*store_), 1);
  EXPECT_EQ(store_->GetIncident(a.incident_id)->status, IncidentStatus::kResolved);
}

TEST_P(AlertExpiryTest, ManyDueAreTakenInBatchesOfTheLimit) {
  for (int i = 0; i < 5; ++i) Apply(Trigger("k" + std::to_string(i), clock_.Now() + seconds(i)));
  clock_.Advance(minutes(1));
  auto two = Wait<int>([&](auto cb) { store_->ExpireAlerts(clock_.Now(), 2, cb); });
  EXPECT_EQ(two.value_or(-1), 2);
  EXPECT_EQ(Next(), clock_.Now() - minutes(1) + seconds(2));  // the earliest left is still due
  EXPECT_EQ(Expire(*store_), 3);
}

// Two servers on one database expire the same alerts at the same moment: each alert is resolved
// once (one alert.resolved record), whichever server did it.
TEST_P(AlertExpiryTest, TwoServersExpireEachAlertOnce) {
  auto other = Open();
  ASSERT_TRUE(other) << other.error().ToString();
  for (int round = 0; round < 10; ++round) {
    std::vector<EventOutcome> opened;
    for (int i = 0; i < 3; ++i) {
      opened.push_back(Apply(Trigger(fmt::format("r{}-{}", round, i), clock_.Now() + seconds(1),
                                     i < 2 ? fmt::format("group-{}", round) : "")));
    }
    clock_.Advance(seconds(2));
    int mine = 0, theirs = 0;
    std::latch go(2);
    std::thread t([&] {
      go.arrive_and_wait();
      theirs = Expire(**other);
    });
    go.arrive_and_wait();
    mine = Expire(*store_);
    t.join();
    EXPECT_EQ(mine + theirs, 3) << "round " << round;
    for (const auto& o : opened) {
      EXPECT_EQ(store_->GetAlert(o.alert_id)->status, AlertStatus::kResolved);
      EXPECT_EQ(ResolvedRecords(o.alert_id), 1) << "round " << round;
      EXPECT_EQ(store_->GetIncident(o.incident_id)->status, IncidentStatus::kResolved);
    }
  }
}

// Retention: an alert is deleted once it and its incident resolved before the cutoff, and only
// after the noise roll-up has folded it; oldest first, in batches of the limit; one audit record
// per call; what stays (the incident, its count, its timeline) stays.
TEST_P(AlertExpiryTest, RetentionDeletesOnlyOldResolvedAlertsOfResolvedIncidents) {
  auto prune = [&](TimePoint before, int limit) {
    auto r = Wait<PruneStep>([&](auto cb) { store_->PruneResolvedAlerts(before, 0, limit, cb); });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? r->deleted : -1;
  };
  auto roll_up = [&] {
    auto r = Wait<int64_t>([&](auto cb) { store_->RollUpNoise(clock_.Now(), 1000, cb); });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
  };
  auto resolve = [&](core::AlertId id) {
    auto r = Wait<core::Alert>([&](auto cb) {
      store_->ResolveAlert(id, Actor{"user", "alice", "api"}, cb);
    });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
  };
  // Old: three alerts resolved 40 days ago, two of them in one grouped incident.
  auto a1 = Apply(Trigger("old-1", std::nullopt, "g-old"));
  auto a2 = Apply(Trigger("old-2", std::nullopt, "g-old"));
  auto a3 = Apply(Trigger("old-3", std::nullopt));
  ASSERT_EQ(a1.incident_id, a2.incident_id);
  for (auto id : {a1.alert_id, a2.alert_id, a3.alert_id}) resolve(id);
  // Old but kept: resolved 40 days ago, its incident still open through a newer alert.
  auto k1 = Apply(Trigger("kept-1", std::nullopt, "g-open"));
  auto k2 = Apply(Trigger("kept-2", std::nullopt, "g-open"));
  resolve(k1.alert_id);
  clock_.Advance(std::chrono::hours(24 * 40));
  // New: resolved now.
  auto n1 = Apply(Trigger("new-1", std::nullopt));
  resolve(n1.alert_id);
  const TimePoint cutoff = clock_.Now() - std::chrono::hours(24 * 30);

  // Not folded into the noise roll-up yet: nothing goes.
  EXPECT_EQ(prune(cutoff, 100), 0);
  roll_up();
  EXPECT_EQ(prune(cutoff, 2), 2);  // the oldest two first
  EXPECT_FALSE(store_->GetAlert(a1.alert_id).has_value());
  EXPECT_FALSE(store_->GetAlert(a2.alert_id).has_value());
  EXPECT_TRUE(store_->GetAlert(a3.alert_id).has_value());
  EXPECT_EQ(prune(cutoff, 100), 1);
  EXPECT_EQ(prune(cutoff, 100), 0);
  EXPECT_FALSE(store_->GetAlert(a3.alert_id).has_value());
  for (auto id : {k1.alert_id, k2.alert_id, n1.alert_id}) {
    EXPECT_TRUE(store_->GetAlert(id).has_value()) << id;
  }
  // The incident stays, with its count and its timeline.
  auto inc = store_->GetIncident(a1.incident_id);
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->status, IncidentStatus::kResolved);
  EXPECT_EQ(inc->alert_count, 2);
  EXPECT_EQ(ResolvedRecords(a1.alert_id), 1);
  // One record per call that deleted something.
  auto audit = store_->ListAudit({.resource_type = "alerts"});
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 2u);
  for (const auto& r : *audit) EXPECT_EQ(r.action, "alerts.pruned");
  // The noise report still counts the deleted alerts (from its roll-ups).
  auto noise = store_->Noise({.from = cutoff - std::chrono::hours(24 * 20), .to = cutoff});
  ASSERT_TRUE(noise.has_value()) << noise.error().ToString();
  EXPECT_EQ(noise->alerts, 5);
}

// Retention sweeps: each step looks at a window of the old alerts after where the last one
// stopped, so the old alerts that must stay (their incident is open) are passed over once per
// sweep, not looked at again by every step; the step that reaches the end says so (0).
TEST_P(AlertExpiryTest, RetentionSweepsPastOldAlertsThatStay) {
  auto resolve = [&](core::AlertId id) {
    auto r = Wait<core::Alert>([&](auto cb) {
      store_->ResolveAlert(id, Actor{"user", "alice", "api"}, cb);
    });
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  };
  // The oldest three stay: their incident is still open (one of them resolved, two firing).
  std::vector<core::AlertId> kept;
  for (int i = 0; i < 3; ++i)
    kept.push_back(Apply(Trigger(fmt::format("k{}", i), std::nullopt, "open")).alert_id);
  resolve(kept[0]);
  // Then four that may go.
  std::vector<core::AlertId> gone;
  for (int i = 0; i < 4; ++i) {
    gone.push_back(Apply(Trigger(fmt::format("g{}", i), std::nullopt)).alert_id);
    resolve(gone.back());
  }
  clock_.Advance(std::chrono::hours(24 * 10));
  auto rolled = Wait<int64_t>([&](auto cb) { store_->RollUpNoise(clock_.Now(), 1000, cb); });
  ASSERT_TRUE(rolled.has_value()) << rolled.error().ToString();
  const TimePoint cutoff = clock_.Now() - std::chrono::hours(24);
  auto step = [&](core::AlertId after) {
    auto r = Wait<PruneStep>([&](auto cb) { store_->PruneResolvedAlerts(cutoff, after, 3, cb); });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(PruneStep{-1, -1});
  };
  PruneStep first = step(0);  // the three that stay: nothing deleted, the sweep goes on
  EXPECT_EQ(first.deleted, 0);
  EXPECT_EQ(first.scanned_through, kept[2]);
  PruneStep second = step(first.scanned_through);  // three of the four
  EXPECT_EQ(second.deleted, 3);
  EXPECT_EQ(second.scanned_through, gone[2]);
  PruneStep third = step(second.scanned_through);  // the last one, and the end
  EXPECT_EQ(third.deleted, 1);
  EXPECT_EQ(third.scanned_through, 0);
  for (auto id : gone) EXPECT_FALSE(store_->GetAlert(id).has_value()) << id;
  for (auto id : kept) EXPECT_TRUE(store_->GetAlert(id).has_value()) << id;
  // The next sweep starts over and finds only what stays.
  PruneStep again = step(0);
  EXPECT_EQ(again.deleted, 0);
  EXPECT_EQ(again.scanned_through, kept[2]);
  EXPECT_EQ(step(again.scanned_through).scanned_through, 0);
}

// Two servers prune at the same moment: every alert is deleted once, and the audit records'
// counts add up to what was deleted, not to what each found.
TEST_P(AlertExpiryTest, TwoServersPruneEachAlertOnce) {
  auto other = Open();
  ASSERT_TRUE(other) << other.error().ToString();
  std::vector<core::AlertId> ids;
  for (int i = 0; i < 30; ++i) {
    auto o = Apply(Trigger("p" + std::to_string(i), clock_.Now()));
    ids.push_back(o.alert_id);
  }
  EXPECT_EQ(Expire(*store_), 30);
  clock_.Advance(std::chrono::hours(24 * 10));
  auto rolled = Wait<int64_t>([&](auto cb) { store_->RollUpNoise(clock_.Now(), 1000, cb); });
  ASSERT_TRUE(rolled.has_value()) << rolled.error().ToString();
  const TimePoint cutoff = clock_.Now() - std::chrono::hours(24);
  auto prune = [&](Store& s) {
    auto r = Wait<PruneStep>([&](auto cb) { s.PruneResolvedAlerts(cutoff, 0, 1000, cb); });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? r->deleted : -1;
  };
  int mine = 0, theirs = 0;
  std::latch go(2);
  std::thread t([&] {
    go.arrive_and_wait();
    theirs = prune(**other);
  });
  go.arrive_and_wait();
  mine = prune(*store_);
  t.join();
  EXPECT_EQ(mine + theirs, 30);
  for (auto id : ids) EXPECT_FALSE(store_->GetAlert(id).has_value()) << id;
  auto audit = store_->ListAudit({.resource_type = "alerts"});
  ASSERT_TRUE(audit.has_value());
  int64_t recorded = 0;
  for (const auto& r : *audit) {
    auto count = r.details_json.find("\"count\":");
    ASSERT_NE(count, std::string::npos) << r.details_json;
    recorded += std::stoll(r.details_json.substr(count + 8));
  }
  EXPECT_EQ(recorded, 30);
}

HOUSTON_STORE_CONTRACT(AlertExpiryTest);

}  // namespace
}  // namespace houston::store
