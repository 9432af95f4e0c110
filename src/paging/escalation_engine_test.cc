// The escalation engine and notification dispatcher on a FakeClock, with the real SQLite store
// (temp file) and a FakeSender. Nothing sleeps: time moves only when a test advances it.
#include "paging/escalation_engine.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "paging/notification_dispatcher.h"
#include "paging/schedules.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_sender.h"
#include "testing/status_matchers.h"
#include "testing/test_dir.h"

namespace houston::paging {
namespace {

using ::houston::testing::StatusIs;

using std::chrono::minutes;
using Outcome = notify::Outcome;

constexpr const char* kOrg = R"yaml(
users:
  - id: alice
    contact_methods:
      - {id: alice-hook, type: webhook, url: "http://127.0.0.1:9/alice", secret: s3cret}
      - {id: alice-mail, type: email, address: alice@example.com}
    notification_rules:
      - {contact_method: alice-hook, delay_minutes: 0}
      - {contact_method: alice-mail, delay_minutes: 5}
  - id: bob
    contact_methods:
      - {id: bob-hook, type: webhook, url: "http://127.0.0.1:9/bob"}
  - id: carol
    contact_methods:
      - {id: carol-hook, type: webhook, url: "http://127.0.0.1:9/carol"}
teams:
  - {id: payments, members: [bob, carol]}
schedules:
  - id: primary
    timezone: UTC
    layers:
      - {name: l1, start: "2025-01-06T09:00:00", rotation: {type: weekly, length: 1}, users: [alice]}
escalation_policies:
  - id: main
    repeat: 2
    steps:
      - {delay_minutes: 0, targets: [{schedule: primary}]}
      - {delay_minutes: 15, targets: [{user: bob}, {team: payments}]}
  - id: forever
    repeat: 1000
    steps:
      - {delay_minutes: 10, targets: [{user: bob}]}
  - id: acktimeout
    ack_timeout_minutes: 30
    steps:
      - {delay_minutes: 0, targets: [{user: bob}]}
  - id: rr
    repeat: 3
    steps:
      - {delay_minutes: 0, round_robin: true, targets: [{user: bob}, {user: carol}]}
services:
  - {id: checkout, escalation_policy: main}
  - {id: batch, escalation_policy: forever}
  - {id: acky, escalation_policy: acktimeout}
  - {id: rrsvc, escalation_policy: rr}
  - {id: quiet, escalation_policy: main}
maintenance_windows:
  - {id: upgrade, services: [quiet], start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z"}
silences:
  - id: noisy-disk
    matchers: [{field: summary, op: "=~", value: "down: disk-.*"}]
    expires_at: "2026-01-01T06:00:00Z"
)yaml";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 2026-01-01T00:00:00Z: inside the "upgrade" maintenance window for service quiet.
    clock_.Set(TimePoint(std::chrono::milliseconds(1'767'225'600'000)));
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString() << " " << (org ? "" : org.error().details()[0]);
    org_ = std::make_shared<const config::Org>(std::move(*org));
    Open();
  }
  void TearDown() override {
    dispatcher_.reset();
    engine_.reset();
    store_.reset();
  }
  void Open() {
    dispatcher_.reset();
    engine_.reset();
    store_.reset();
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    o.synchronous_full = false;  // durability is the store tests' subject; keep these fast
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_OK(s);
    store_ = std::move(*s);
    auto org = [this] { return org_; };
    // The schedule "primary" has alice on call whenever it is asked.
    engine_ = std::make_unique<EscalationEngine>(
        *store_, clock_, org, [](const config::Org&, const std::string& id, TimePoint) {
          return id == "primary" ? std::vector<std::string>{"alice"} : std::vector<std::string>{};
        });
    DispatcherOptions d;
    d.link_key = "link-key";
    d.max_per_minute = 100;
    d.first_backoff = std::chrono::seconds(30);
    dispatcher_ = std::make_unique<NotificationDispatcher>(*store_, clock_, sender_, org, d);
  }
  core::IncidentId Trigger(const std::string& service, const std::string& key) {
    core::AlertEvent e;
    e.integration_key = "k-" + service;
    e.service_id = service;
    e.dedup_key = key;
    e.summary = "down: " + key;
    e.source = "test";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.escalation_policy = config::FindService(*org_, service)->escalation_policy;
    auto r = store::Wait<std::vector<store::EventOutcome>>(
        [&](auto cb) { store_->ApplyAlertEvents({e}, {}, cb); });
    EXPECT_TRUE(r);
    return r ? r->at(0).incident_id : 0;
  }
  // Replaces the dispatcher with one that claims and records through `outbox`.
  void DispatchThrough(store::OutboxStore& outbox, DispatcherOptions d) {
    dispatcher_ = std::make_unique<NotificationDispatcher>(
        outbox, *store_, clock_, sender_, [this] { return org_; }, std::move(d));
  }
  // Runs the engine and the dispatcher once at the current fake time.
  void Tick() {
    ASSERT_TRUE(engine_->RunOnce());
    ASSERT_TRUE(dispatcher_->RunOnce());
  }
  // Advances the clock minute by minute, ticking each time.
  void Run(minutes total) {
    for (minutes m{0}; m < total; ++m) {
      clock_.Advance(minutes(1));
      Tick();
    }
  }
  std::vector<std::string> Recipients() {
    std::vector<std::string> out;
    for (const auto& s : sender_.sent()) out.push_back(s.message.user_id + "/" + s.channel.type);
    return out;
  }

  testing::TestDir dir_{"houston-engine-test"};
  houston::testing::FakeClock clock_;
  houston::testing::FakeSender sender_;
  std::shared_ptr<const config::Org> org_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<EscalationEngine> engine_;
  std::unique_ptr<NotificationDispatcher> dispatcher_;
};

TEST_F(EngineTest, NewIncidentPagesAtOnceThenEscalatesAndRepeats) {
  auto id = Trigger("checkout", "a");
  Tick();  // no time passes: step 0 pages the schedule's on-call user at once
  ASSERT_EQ(Recipients(), std::vector<std::string>{"alice/webhook"});
  const notify::Message first = sender_.sent()[0].message;
  EXPECT_EQ(first.event, "incident.triggered");
  EXPECT_EQ(first.incidents.at(0).id, id);
  EXPECT_FALSE(first.ack_url.empty());
  Run(minutes(5));  // alice's email rule fires 5 minutes later
  EXPECT_EQ(sender_.count(), 2u);
  Run(minutes(10));  // 15 minutes in: step 1, bob (once, though he is also in the team) and carol
  EXPECT_EQ(sender_.count(), 4u);
  // Two repeats of two steps, 15 minutes apart: 6 firings in all, then it stops.
  Run(minutes(24 * 60));
  // Per run: alice hook + mail, bob, carol = 4 messages; 3 runs.
  EXPECT_EQ(sender_.count(), 12u);
  auto esc = store_->GetEscalation(id);
  ASSERT_TRUE(esc && *esc);
  EXPECT_EQ((*esc)->state, core::EscalationState::kExhausted);
}

TEST_F(EngineTest, AWeekOfEscalationsRunsInMilliseconds) {
  Trigger("batch", "nightly");
  // repeat 1000, one step every 10 minutes: in a week, 7*24*6 = 1008 > 1001 firings.
  for (int i = 0; i < 7 * 24 * 6; ++i) {
    clock_.Advance(minutes(10));
    Tick();
  }
  EXPECT_EQ(sender_.count(), 1001u);  // exactly 1 + repeat, no hidden cap, nothing twice
  if (sender_.count() != 1001u) {
    auto all = store_->ListNotifications({.limit = 5});
    for (const auto& n : *all) {
      ADD_FAILURE() << n.id << " " << n.state << " loop " << n.loop << " step " << n.step << " "
                    << n.last_error;
    }
    auto esc = store_->GetEscalation(1);
    ADD_FAILURE() << (*esc)->state << " loop " << (*esc)->loop;
  }
}

TEST_F(EngineTest, AcknowledgeStopsPagingAndCancelsPendingPages) {
  auto id = Trigger("checkout", "a");
  Tick();
  EXPECT_EQ(sender_.count(), 1u);  // alice's webhook; her email is due in 5 minutes
  ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(id, core::IncidentAction::kAcknowledge, {"user", "alice", "api"},
                               cb);
  }));
  Run(minutes(120));
  EXPECT_EQ(sender_.count(), 1u);  // the email was cancelled at claim; no escalation
  auto cancelled = store_->ListNotifications({.state = core::NotificationState::kCancelled});
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->size(), 1u);
  // A new trigger on the acknowledged incident does not re-page.
  Trigger("checkout", "a");
  Run(minutes(60));
  EXPECT_EQ(sender_.count(), 1u);
}

TEST_F(EngineTest, ResolveEndsEscalation) {
  auto id = Trigger("checkout", "a");
  Tick();
  ASSERT_TRUE(store::Wait<core::Incident>(
      [&](auto cb) { store_->TransitionIncident(id, core::IncidentAction::kResolve, {}, cb); }));
  Run(minutes(60));
  EXPECT_EQ(sender_.count(), 1u);
  EXPECT_EQ((*store_->GetEscalation(id))->state, core::EscalationState::kDone);
}

TEST_F(EngineTest, AckTimeoutRepagesAForgottenIncident) {
  auto id = Trigger("acky", "a");
  Tick();
  EXPECT_EQ(sender_.count(), 1u);
  ASSERT_TRUE(store::Wait<core::Incident>([&](auto cb) {
    store_->TransitionIncident(id, core::IncidentAction::kAcknowledge, {}, cb);
  }));
  Run(minutes(29));
  EXPECT_EQ(sender_.count(), 1u);
  Run(minutes(2));
  EXPECT_EQ(sender_.count(), 2u);  // re-paged after 30 minutes acknowledged
  EXPECT_EQ(store_->GetIncident(id)->status, core::IncidentStatus::kTriggered);
  auto audit = store_->ListAudit({.resource_type = std::string("incident")});
  bool saw = false;
  for (const auto& a : *audit) saw = saw || a.action == "incident.ack_timeout";
  EXPECT_TRUE(saw);
}

TEST_F(EngineTest, MaintenanceWindowSuppressesAndRecordsIt) {
  auto id = Trigger("quiet", "a");
  Run(minutes(60));
  EXPECT_EQ(sender_.count(), 0u);
  EXPECT_EQ((*store_->GetEscalation(id))->state, core::EscalationState::kStopped);
  auto audit = store_->ListAudit({.resource_type = std::string("incident")});
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->front().action, "incident.paging_suppressed");
  EXPECT_NE(audit->front().details_json.find("maintenance window upgrade"), std::string::npos);
}

TEST_F(EngineTest, RestartContinuesWithoutSkippingOrRepeating) {
  Trigger("checkout", "a");
  Tick();
  EXPECT_EQ(sender_.count(), 1u);
  Open();  // a new process on the same database
  Run(minutes(15));
  // alice's email (5 min) and step 1 (bob, carol) fired once each after the restart.
  EXPECT_EQ(Recipients(), (std::vector<std::string>{"alice/webhook", "alice/email", "bob/webhook",
                                                    "carol/webhook"}));
}

// Regression (fault injection, tests/e2e/fault_clock_test.py): an incident opened just before
// the wall clock was stepped back an hour waited that hour for its first page.
TEST_F(EngineTest, WallClockSteppedBackDoesNotHoldTheFirstPage) {
  Trigger("checkout", "a");
  clock_.StepWall(-std::chrono::hours(1));
  Tick();
  EXPECT_EQ(Recipients(), std::vector<std::string>{"alice/webhook"});
  // The next step still waits its full 15 minutes, counted from the first page.
  Run(minutes(14));
  EXPECT_EQ(sender_.count(), 2u);  // alice's email, 5 minutes in
  Run(minutes(1));
  EXPECT_EQ(sender_.count(), 4u);  // bob and carol
  // Once the clock passes the old time nothing fires twice: 3 runs of 4 messages, as without
  // the step.
  Run(minutes(24 * 60));
  EXPECT_EQ(sender_.count(), 12u);
}

// Regression (fault injection): the page was created, then the wall clock was stepped back
// before the dispatcher claimed it; it waited the size of the step.
TEST_F(EngineTest, WallClockSteppedBackDoesNotHoldAPageDueAtOnce) {
  Trigger("checkout", "a");
  ASSERT_TRUE(engine_->RunOnce());
  clock_.StepWall(-std::chrono::hours(1));
  ASSERT_TRUE(dispatcher_->RunOnce());
  EXPECT_EQ(Recipients(), std::vector<std::string>{"alice/webhook"});
  // A page with a delay keeps its time on the wall clock (here: 5 minutes after the first).
  Run(minutes(60));
  EXPECT_EQ(sender_.count(), 1u);
  Run(minutes(6));
  EXPECT_EQ(Recipients(), (std::vector<std::string>{"alice/webhook", "alice/email"}));
}

// Regression (fault injection): a claim whose sender is still at work is not taken back as
// expired when the wall clock is stepped past its lease; the claim of a sender that stopped is.
TEST_F(EngineTest, ClaimsInFlightAreNotTakenBackWhenTheWallClockJumps) {
  Trigger("checkout", "a");
  ASSERT_TRUE(engine_->RunOnce());
  auto claim = [&](std::vector<int64_t> in_flight) {
    store::ClaimOptions o;
    o.now = clock_.Now();
    o.in_flight = std::move(in_flight);
    auto r = store::Wait<std::vector<store::ClaimedBatch>>(
        [&](auto cb) { store_->ClaimNotifications(o, cb); });
    EXPECT_TRUE(r);
    return r ? *r : std::vector<store::ClaimedBatch>{};
  };
  auto first = claim({});
  ASSERT_EQ(first.size(), 1u);  // alice's webhook (her email waits 5 minutes)
  const int64_t id = first[0].notifications.at(0).id;
  auto attempts_of = [id](const std::vector<store::ClaimedBatch>& batches) {
    for (const auto& b : batches) {
      for (const auto& n : b.notifications) {
        if (n.id == id) return n.attempts;
      }
    }
    return 0;
  };
  clock_.StepWall(std::chrono::minutes(10));  // far past the 2-minute lease
  EXPECT_EQ(attempts_of(claim({id})), 0) << "a send in flight was claimed again";
  // Its sender is gone: taken back, the same notification, its second attempt.
  EXPECT_EQ(attempts_of(claim({})), 2);
}

TEST_F(EngineTest, TransientFailuresRetryWithBackoffThenDeadLetter) {
  sender_.Script(
      {Outcome::kRetry, Outcome::kRetry, Outcome::kRetry, Outcome::kRetry, Outcome::kRetry});
  Trigger("acky", "a");
  Tick();
  EXPECT_EQ(sender_.count(), 1u);
  clock_.Advance(std::chrono::seconds(29));
  Tick();
  EXPECT_EQ(sender_.count(), 1u);  // backoff 30 s not over
  clock_.Advance(std::chrono::seconds(1));
  Tick();
  EXPECT_EQ(sender_.count(), 2u);
  Run(minutes(30));  // 60 s, 120 s, 240 s later: 5 attempts in all, then dead
  EXPECT_EQ(sender_.count(), 5u);
  auto dead = store_->ListNotifications({.state = core::NotificationState::kDead});
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().attempts, 5);
}

TEST_F(EngineTest, UnknownOutcomeIsNotResent) {
  sender_.Script({Outcome::kUnknown});
  Trigger("acky", "a");
  Tick();
  Run(minutes(30));
  EXPECT_EQ(sender_.count(), 1u);
  EXPECT_EQ(store_->ListNotifications({.state = core::NotificationState::kUnknown})->size(), 1u);
}

TEST_F(EngineTest, ManyIncidentsForOnePersonAreThrottledAndBundled) {
  dispatcher_.reset();
  DispatcherOptions d;
  d.max_per_minute = 2;
  dispatcher_ = std::make_unique<NotificationDispatcher>(
      *store_, clock_, sender_, [this] { return org_; }, d);
  for (int i = 0; i < 10; ++i) Trigger("acky", "storm-" + std::to_string(i));
  ASSERT_TRUE(engine_->RunOnce());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(dispatcher_->RunOnce());
  // The first claim bundles all ten pages for bob's webhook into one message.
  ASSERT_EQ(sender_.count(), 1u);
  EXPECT_EQ(sender_.sent()[0].message.incidents.size(), 10u);
}

TEST_F(EngineTest, ThrottledPagesWaitForTheirMinuteWithoutHoldingBackOthers) {
  dispatcher_.reset();
  DispatcherOptions d;
  d.max_per_minute = 2;
  dispatcher_ = std::make_unique<NotificationDispatcher>(
      *store_, clock_, sender_, [this] { return org_; }, d);
  // Two messages to bob's webhook, 10 s apart, use up his minute.
  const TimePoint first = clock_.Now();
  Trigger("acky", "first");
  Tick();
  clock_.Advance(std::chrono::seconds(10));
  Trigger("acky", "second");
  Tick();
  ASSERT_EQ(sender_.count(), 2u);
  // A storm for bob, more pages than one claim reads (100), waits until the first message
  // leaves his minute: not due before then, so nobody claims it again and again meanwhile.
  clock_.Advance(std::chrono::seconds(5));
  for (int i = 0; i < 120; ++i) Trigger("acky", "storm-" + std::to_string(i));
  Tick();  // the first claim reads 100 of them and puts them off,
  auto due = store_->NextNotificationDue(minutes(2));
  ASSERT_TRUE(due && *due);
  EXPECT_EQ(**due, clock_.Now());  // (the other 20 are still due now)
  // The next claim reads the other 20.
  Tick();
  EXPECT_EQ(sender_.count(), 2u);
  const TimePoint reopen = first + minutes(1) + std::chrono::milliseconds(1);
  due = store_->NextNotificationDue(minutes(2));
  ASSERT_TRUE(due && *due);
  EXPECT_EQ(**due, reopen);
  // Alice's page, queued behind the storm, goes out at once.
  Trigger("checkout", "elsewhere");
  Tick();
  ASSERT_EQ(Recipients(),
            (std::vector<std::string>{"bob/webhook", "bob/webhook", "alice/webhook"}));
  // At the reopening, one message bundles what one claim read; the rest waits for the next
  // opening (the second message's minute).
  clock_.Set(reopen - std::chrono::milliseconds(1));
  Tick();
  EXPECT_EQ(sender_.count(), 3u);
  clock_.Set(reopen);
  Tick();
  ASSERT_EQ(sender_.count(), 4u);
  EXPECT_EQ(sender_.sent()[3].message.user_id, "bob");
  EXPECT_EQ(sender_.sent()[3].message.incidents.size(), 100u);
  due = store_->NextNotificationDue(minutes(2));
  ASSERT_TRUE(due && *due);
  EXPECT_EQ(**due, first + std::chrono::seconds(10) + minutes(1) + std::chrono::milliseconds(1));
  clock_.Set(**due);
  Tick();
  ASSERT_EQ(sender_.count(), 5u);
  EXPECT_EQ(sender_.sent()[4].message.incidents.size(), 20u);
}

TEST_F(EngineTest, RoundRobinRotatesTargets) {
  auto a = Trigger("rrsvc", "a");
  auto b = Trigger("rrsvc", "b");
  Tick();
  auto r = Recipients();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[0], r[1]);  // consecutive incidents go to different people
  (void)a;
  (void)b;
}

TEST_F(EngineTest, SilenceSuppressesMatchingIncidentsUntilItExpires) {
  // Service acky pages once (one step, no repeat), so counts are exact.
  auto silenced = Trigger("acky", "disk-1");
  auto other = Trigger("acky", "cpu-1");
  Tick();
  ASSERT_EQ(sender_.count(), 1u);  // only the unsilenced incident pages
  EXPECT_EQ(sender_.sent()[0].message.incidents.at(0).id, other);
  EXPECT_EQ((*store_->GetEscalation(silenced))->state, core::EscalationState::kStopped);
  clock_.Advance(std::chrono::hours(7));  // the silence expired
  Trigger("acky", "disk-2");
  Tick();
  EXPECT_EQ(sender_.count(), 2u);
}

TEST_F(EngineTest, ScheduleTargetsResolveThroughTheScheduleBook) {
  auto book = ScheduleBook::Build(*org_);
  auto users = book->OnCall("primary", clock_.Now());
  ASSERT_TRUE(users);
  EXPECT_EQ(*users, std::vector<std::string>{"alice"});
  EXPECT_FALSE(book->OnCall("nope", clock_.Now()));
  // Before the layer starts, nobody is on call: the engine records it and keeps escalating.
  auto before = book->OnCall("primary", TimePoint(std::chrono::milliseconds(0)));
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->empty());
}

TEST_F(EngineTest, ApiOverridesWinOverTheOrgAndCoverRequestsOnlyOnceAccepted) {
  store::ScheduleOverride o;
  o.schedule_id = "primary";
  o.user_id = "carol";
  o.start = clock_.Now();
  o.end = clock_.Now() + std::chrono::hours(8);
  store::ScheduleOverride cover = o;
  cover.user_id = "";
  cover.kind = "cover";
  cover.state = core::OverrideState::kRequested;
  cover.start = o.end;
  cover.end = o.end + std::chrono::hours(8);
  auto made = store::Wait<std::vector<store::ScheduleOverride>>([&](auto cb) {
    store_->CreateOverrides({o, cover}, {}, cb);
  });
  ASSERT_TRUE(made);
  auto book = ScheduleBook::Build(*org_, *store_->ListOverrides("", clock_.Now()));
  EXPECT_EQ(*book->OnCall("primary", clock_.Now() + std::chrono::hours(1)),
            std::vector<std::string>{"carol"});
  EXPECT_EQ(*book->OnCall("primary", clock_.Now() + std::chrono::hours(9)),
            std::vector<std::string>{"alice"});  // the cover request is still open
  auto accepted = store::Wait<store::ScheduleOverride>(
      [&](auto cb) { store_->UpdateOverride((*made)[1].id, "bob", {}, cb); });
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->state, core::OverrideState::kActive);
  book = ScheduleBook::Build(*org_, *store_->ListOverrides("", clock_.Now()));
  EXPECT_EQ(*book->OnCall("primary", clock_.Now() + std::chrono::hours(9)),
            std::vector<std::string>{"bob"});
  // Cancelling removes it; accepting twice is refused.
  auto again = store::Wait<store::ScheduleOverride>(
      [&](auto cb) { store_->UpdateOverride((*made)[1].id, "carol", {}, cb); });
  ASSERT_FALSE(again);
  EXPECT_THAT(again, StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_TRUE(store::Wait<store::ScheduleOverride>(
      [&](auto cb) { store_->UpdateOverride((*made)[0].id, std::nullopt, {}, cb); }));
  book = ScheduleBook::Build(*org_, *store_->ListOverrides("", clock_.Now()));
  EXPECT_EQ(*book->OnCall("primary", clock_.Now() + std::chrono::hours(1)),
            std::vector<std::string>{"alice"});
}

// The outbox of a store whose writes of outcomes fail while the database is "down" (the way a
// PostgreSQL restart fails them), counting claims and outcomes recorded.
class FlakyOutbox final : public store::OutboxStore {
 public:
  explicit FlakyOutbox(store::OutboxStore& real) : real_(real) {}
  // The next `n` outcomes fail with `code`; n < 0: every one until Up().
  void Down(int n, StatusCode code = StatusCode::kUnavailable) {
    std::lock_guard lock(mu_);
    failing_ = n;
    code_ = code;
  }
  void Up() { Down(0); }
  struct Counts {
    int claims = 0;    // claims answered
    int recorded = 0;  // outcomes recorded
    int refused = 0;   // outcomes refused
  };
  Counts counts() const {
    std::lock_guard lock(mu_);
    return n_;
  }
  // Waits (bounded) until each count reaches `at_least`'s; false on timeout.
  bool WaitFor(Counts at_least) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] {
      return n_.claims >= at_least.claims && n_.recorded >= at_least.recorded &&
             n_.refused >= at_least.refused;
    });
  }

  void ClaimNotifications(store::ClaimOptions o,
                          store::Callback<std::vector<store::ClaimedBatch>> done) override {
    // Counted before `done`, which may end the test (and this object).
    real_.ClaimNotifications(std::move(o), [this, done = std::move(done)](auto r) {
      {
        std::lock_guard lock(mu_);
        ++n_.claims;
        cv_.notify_all();
      }
      done(std::move(r));
    });
  }
  void CompleteNotifications(std::vector<store::ClaimRef> claims, store::SendResult result,
                             store::Callback<int> done) override {
    std::unique_lock lock(mu_);
    if (failing_ != 0) {
      if (failing_ > 0) --failing_;
      ++n_.refused;
      cv_.notify_all();
      const Status error(code_, "connection to the database lost");
      lock.unlock();
      done(std::unexpected(error));
      return;
    }
    lock.unlock();
    real_.CompleteNotifications(std::move(claims), std::move(result),
                                [this, done = std::move(done)](Result<int> r) {
                                  {
                                    std::lock_guard lock(mu_);
                                    n_.recorded += r.has_value();
                                    cv_.notify_all();
                                  }
                                  done(std::move(r));
                                });
  }
  void RecoverInterruptedSends(store::Callback<int> done) override {
    real_.RecoverInterruptedSends(std::move(done));
  }
  Result<std::optional<TimePoint>> NextNotificationDue(std::chrono::milliseconds lease) override {
    return real_.NextNotificationDue(lease);
  }
  Result<std::vector<store::Notification>> ListNotifications(
      const store::NotificationFilter& f) override {
    return real_.ListNotifications(f);
  }

 private:
  store::OutboxStore& real_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int failing_ = 0;
  StatusCode code_ = StatusCode::kUnavailable;
  Counts n_;
};

// A dispatcher's options for tests of recording: a refused outcome is tried again after 1 ms.
DispatcherOptions RetryingAtOnce() {
  DispatcherOptions d;
  d.link_key = "link-key";
  d.record_retry = std::chrono::milliseconds(1);
  return d;
}

// Regression (fault injection, seed 1334829334): PostgreSQL restarted while a page was being
// sent, recording that it was sent failed, the row stayed "sending", and the page went out
// again when its lease ran out.
TEST_F(EngineTest, ASentPageIsRecordedOnceTheDatabaseIsBackAndNotSentAgain) {
  FlakyOutbox outbox(*store_);
  DispatchThrough(outbox, RetryingAtOnce());
  outbox.Down(3);
  Trigger("acky", "a");
  Tick();
  EXPECT_EQ(outbox.counts().refused, 3);
  EXPECT_EQ(store_->ListNotifications({.state = core::NotificationState::kSent})->size(), 1u);
  Run(minutes(30));  // far past the 2-minute lease
  EXPECT_EQ(sender_.count(), 1u);
}

TEST_F(EngineTest, AnOutcomeRefusedForGoodIsNotTriedAgain) {
  FlakyOutbox outbox(*store_);
  DispatchThrough(outbox, RetryingAtOnce());
  outbox.Down(1, StatusCode::kInternal);
  Trigger("acky", "a");
  Tick();
  EXPECT_EQ(outbox.counts().refused, 1);
  EXPECT_EQ(store_->ListNotifications({.state = core::NotificationState::kSending})->size(), 1u);
}

// The workers' path: the outcome is tried again in the background, and meanwhile this server's
// claimer does not take the claim back, even once the wall clock is past its lease.
TEST_F(EngineTest, WorkersRecordASentPageOnceTheDatabaseIsBack) {
  FlakyOutbox outbox(*store_);
  DispatcherOptions d = RetryingAtOnce();
  d.workers = 2;
  d.record_retry_max = std::chrono::milliseconds(5);
  d.sole_server = false;
  // Declared after the outbox, so that it stops before the outbox goes (also when an assertion
  // ends the test early).
  NotificationDispatcher dispatcher(
      outbox, *store_, clock_, sender_, [this] { return org_; }, d);
  outbox.Down(-1);
  Trigger("acky", "a");
  ASSERT_TRUE(engine_->RunOnce());
  dispatcher.Start();
  ASSERT_TRUE(outbox.WaitFor({.claims = 1, .refused = 3}));
  clock_.StepWall(minutes(10));  // far past the 2-minute lease
  // Two claims that end after the step: the second one began after it.
  const int before = outbox.counts().claims;
  for (int i = 1; i <= 2; ++i) {
    dispatcher.Wake();
    ASSERT_TRUE(outbox.WaitFor({.claims = before + i}));
  }
  auto sending = store_->ListNotifications({.state = core::NotificationState::kSending});
  ASSERT_EQ(sending->size(), 1u);
  EXPECT_EQ(sending->front().attempts, 1) << "the claim was taken back while being recorded";
  outbox.Up();
  ASSERT_TRUE(outbox.WaitFor({.recorded = 1}));
  dispatcher.Stop();
  EXPECT_EQ(sender_.count(), 1u);
  EXPECT_EQ(store_->ListNotifications({.state = core::NotificationState::kSent})->size(), 1u);
}

TEST(Backoff, Doubles) {
  DispatcherOptions o;
  EXPECT_EQ(Backoff(o, 1), std::chrono::seconds(30));
  EXPECT_EQ(Backoff(o, 2), std::chrono::seconds(60));
  EXPECT_EQ(Backoff(o, 3), std::chrono::seconds(120));
  EXPECT_EQ(Backoff(o, 20), std::chrono::seconds(600));
}

}  // namespace
}  // namespace houston::paging
