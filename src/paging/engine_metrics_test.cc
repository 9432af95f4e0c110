// What the engines and the store report for metrics: the store's committed domain events
// (incidents opened/acknowledged/resolved, escalation steps fired, pages created, heartbeats
// missed), the dispatcher's delivery outcomes by channel, and the open-work counts behind the
// gauges. Real SQLite store on a temp file, FakeClock, FakeSender; nothing sleeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "paging/escalation_engine.h"
#include "paging/notification_dispatcher.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_sender.h"
#include "testing/status_matchers.h"
#include "testing/test_dir.h"

namespace houston::paging {
namespace {

using std::chrono::minutes;

constexpr const char* kOrg = R"yaml(
users:
  - id: alice
    contact_methods:
      - {id: alice-hook, type: webhook, url: "http://127.0.0.1:9/alice"}
      - {id: alice-mail, type: email, address: alice@example.com}
    notification_rules:
      - {contact_method: alice-hook, delay_minutes: 0}
      - {contact_method: alice-mail, delay_minutes: 0}
escalation_policies:
  - id: main
    steps:
      - {delay_minutes: 0, targets: [{user: alice}]}
      - {delay_minutes: 5, targets: [{user: alice}]}
services:
  - {id: checkout, escalation_policy: main}
)yaml";

class EngineMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_OK(org);
    org_ = std::make_shared<const config::Org>(std::move(*org));
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    o.synchronous_full = false;
    o.on_events = [this](const store::EventCounts& counted) {
      std::lock_guard lock(mu_);
      for (const auto& [name, n] : counted) events_[name] += n;
    };
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_OK(s);
    store_ = std::move(*s);
    auto provider = [this] { return org_; };
    engine_ = std::make_unique<EscalationEngine>(
        *store_, clock_, provider, [](const config::Org&, const std::string&, TimePoint) {
          return std::vector<std::string>{};
        });
    DispatcherOptions d;
    d.max_per_minute = 100;
    d.first_backoff = std::chrono::seconds(30);
    d.on_delivery = [this](std::string_view channel, std::string_view outcome,
                           std::chrono::microseconds took) {
      std::lock_guard lock(mu_);
      deliveries_.push_back(std::string(channel) + "/" + std::string(outcome));
      EXPECT_GE(took.count(), 0);
    };
    dispatcher_ = std::make_unique<NotificationDispatcher>(*store_, clock_, sender_, provider, d);
  }
  void TearDown() override {
    dispatcher_.reset();
    engine_.reset();
    store_.reset();
  }
  core::IncidentId Trigger(const std::string& key) {
    core::AlertEvent e;
    e.integration_key = "k-checkout";
    e.service_id = "checkout";
    e.dedup_key = key;
    e.summary = "down: " + key;
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.escalation_policy = "main";
    auto r = store::Wait<std::vector<store::EventOutcome>>(
        [&](auto cb) { store_->ApplyAlertEvents({e}, {}, cb); });
    EXPECT_OK(r);
    return r ? r->at(0).incident_id : 0;
  }
  void Tick() {
    ASSERT_TRUE(engine_->RunOnce());
    ASSERT_TRUE(dispatcher_->RunOnce());
  }
  void Act(core::IncidentId id, core::IncidentAction action) {
    auto r = store::Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncident(id, action, {"token", "t", "api"}, cb);
    });
    ASSERT_OK(r);
  }
  store::EventCounts Events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> Deliveries() {
    std::lock_guard lock(mu_);
    return deliveries_;
  }
  store::OpenWork Work() {
    auto w = store_->CountOpenWork(clock_.Now());
    EXPECT_OK(w);
    return w ? *w : store::OpenWork{};
  }

  testing::TestDir dir_{"houston-engine-metrics-test"};
  houston::testing::FakeClock clock_;
  houston::testing::FakeSender sender_;
  std::shared_ptr<const config::Org> org_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<EscalationEngine> engine_;
  std::unique_ptr<NotificationDispatcher> dispatcher_;
  std::mutex mu_;
  store::EventCounts events_;            // guarded by mu_
  std::vector<std::string> deliveries_;  // guarded by mu_
};

TEST_F(EngineMetricsTest, LifecycleEscalationAndDeliveriesAreCountedOnce) {
  auto id = Trigger("a");
  Trigger("a");  // deduplicated: no second incident
  EXPECT_EQ(Events(), (store::EventCounts{{"incident.opened", 1}}));
  auto work = Work();
  EXPECT_EQ(work.incidents_by_status["triggered"], 1);
  EXPECT_EQ(work.incidents_by_status["acknowledged"], 0);

  sender_.Script({notify::Outcome::kSent, notify::Outcome::kRetry});
  ASSERT_TRUE(engine_->RunOnce());  // step 0: two pages (hook and mail)
  EXPECT_EQ(Events()["escalation.step_fired"], 1);
  EXPECT_EQ(Events()["page.created"], 2);
  work = Work();
  EXPECT_EQ(work.notifications_pending, 2);
  EXPECT_EQ(work.notifications_due, 2);
  ASSERT_TRUE(dispatcher_->RunOnce());
  auto d = Deliveries();
  std::sort(d.begin(), d.end());
  EXPECT_EQ(d, (std::vector<std::string>{"email/retried", "webhook/sent"}));
  work = Work();
  EXPECT_EQ(work.notifications_pending, 1);  // the retry waits for its backoff
  EXPECT_EQ(work.notifications_due, 0);

  clock_.Advance(minutes(5));
  Tick();  // the retry goes out, and step 1 fires
  EXPECT_EQ(Events()["escalation.step_fired"], 2);
  EXPECT_EQ(Events()["page.created"], 4);
  // The retried email and step 1's email page leave bundled as one message.
  d = Deliveries();
  std::sort(d.begin() + 2, d.end());
  EXPECT_EQ(d.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(d.begin() + 2, d.end()),
            (std::vector<std::string>{"email/sent", "webhook/sent"}));

  Act(id, core::IncidentAction::kAcknowledge);
  Act(id, core::IncidentAction::kAcknowledge);  // no change: not counted again
  EXPECT_EQ(Work().incidents_by_status["acknowledged"], 1);
  Act(id, core::IncidentAction::kResolve);
  Act(id, core::IncidentAction::kReopen);
  Act(id, core::IncidentAction::kResolve);
  auto e = Events();
  EXPECT_EQ(e["incident.opened"], 1);
  EXPECT_EQ(e["incident.acknowledged"], 1);
  EXPECT_EQ(e["incident.resolved"], 2);
  EXPECT_EQ(e["incident.reopened"], 1);
  work = Work();
  EXPECT_EQ(work.incidents_by_status["triggered"], 0);
  EXPECT_EQ(work.incidents_by_status["acknowledged"], 0);
}

TEST_F(EngineMetricsTest, AFailedWriteCountsNothing) {
  // Resolving a resolved incident fails: its events must not be reported.
  auto id = Trigger("b");
  Act(id, core::IncidentAction::kResolve);
  auto before = Events();
  auto r = store::Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(id, core::IncidentAction::kResolve, {"token", "t", "api"}, cb);
  });
  EXPECT_FALSE(r);
  EXPECT_EQ(Events(), before);
}

TEST_F(EngineMetricsTest, MissedHeartbeatsAreCounted) {
  store::Heartbeat h;
  h.integration_key = "hb-checkout";
  h.service_id = "checkout";
  h.escalation_policy = "main";
  h.interval = minutes(5);
  auto applied = store::Wait<int>([&](auto cb) {
    store_->ApplyOrg({}, {h}, "", "org.yaml", {"system", "test", "cli"}, cb);
  });
  ASSERT_OK(applied);
  ASSERT_TRUE(
      store::Wait<store::Heartbeat>([&](auto cb) { store_->RecordHeartbeat("hb-checkout", cb); }));
  clock_.Advance(minutes(6));
  auto missed = store::Wait<int>([&](auto cb) { store_->CheckHeartbeats(clock_.Now(), cb); });
  ASSERT_TRUE(missed);
  EXPECT_EQ(*missed, 1);
  EXPECT_EQ(Events()["heartbeat.missed"], 1);
  EXPECT_EQ(Events()["incident.opened"], 1);
}

}  // namespace
}  // namespace houston::paging
