// The incident store under two writers at once: two stores (two connections, as two servers
// would have) on one database, on SQLite (one file) and on PostgreSQL (one database). Each test
// runs many rounds in which both writers start at the same moment on real threads, and asserts
// what must hold for every interleaving: nothing is lost, each rule decided on the incident as
// it was when its write ran, and the timeline is in commit order.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <boost/json.hpp>
#include <latch>
#include <thread>

#include "testing/store_backend.h"

namespace houston::store {
namespace {

using core::IncidentAction;
using core::IncidentStatus;
using std::chrono::minutes;

constexpr int kRounds = 20;
const Actor kAlice{"token", "alice", "api"};
const Actor kBob{"token", "bob", "cli"};

// Runs `a` and `b` at the same moment, each on its own thread, and waits for both.
template <typename A, typename B>
void AtOnce(A&& a, B&& b) {
  std::latch go(2);
  std::thread other([&] {
    go.arrive_and_wait();
    b();
  });
  go.arrive_and_wait();
  a();
  other.join();
}

boost::json::object Details(const AuditRecord& r) {
  return boost::json::parse(r.details_json).as_object();
}

class IncidentConcurrencyTest : public houston::testing::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    auto o = Open();
    ASSERT_TRUE(o) << o.error().ToString();
    other_ = std::move(*o);
  }
  void TearDown() override {
    other_.reset();
    StoreBackendTest::TearDown();
  }

  core::Incident Declare(NewIncident n) {
    auto r = Wait<core::Incident>([&](auto cb) {
      store_->DeclareIncident(std::move(n), {"token", "me", "cli"}, cb);
    });
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : core::Incident{};
  }
  core::AlertEvent Ev(std::string key, std::string service, std::string group) {
    core::AlertEvent e;
    e.integration_key = "rk-" + service;
    e.service_id = std::move(service);
    e.dedup_key = std::move(key);
    e.group_key = std::move(group);
    e.summary = "alert " + e.dedup_key;
    e.source = "test";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    e.escalation_policy = "main";
    return e;
  }
  // An incident opened by `alerts` alerts of `service`.
  core::IncidentId FromAlerts(const std::string& service, int alerts) {
    std::vector<core::AlertEvent> events;
    for (int i = 0; i < alerts; ++i)
      events.push_back(Ev(fmt::format("{}-{}", service, i), service, "g"));
    auto r = Wait<std::vector<EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents(std::move(events), {"integration", "t", "integration"}, cb);
    });
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->front().incident_id : 0;
  }
  std::vector<AuditRecord> Records(core::IncidentId id, std::string_view action) {
    std::vector<AuditRecord> out;
    auto t = store_->ListTimeline(id);
    EXPECT_TRUE(t) << t.error().ToString();
    if (!t) return out;
    for (const auto& e : *t) {
      if (e.record.action == action) out.push_back(e.record);
    }
    return out;
  }

  std::unique_ptr<Store> other_;
};

TEST_P(IncidentConcurrencyTest, ConcurrentStatusUpdatesAreAllStoredInOneOrder) {
  auto inc = Declare({.title = "Checkout 500s", .sev = "SEV2", .services = {"checkout"}});
  auto update = [&](const std::string& text) {
    StatusUpdate u;
    u.incident_id = inc.id;
    u.author = text;
    u.via = "api";
    u.phase = "investigating";
    u.fields_json = "{}";
    u.renderings = {{"public", "S", text}};
    return u;
  };
  for (int round = 0; round < kRounds; ++round) {
    Result<StatusUpdate> a, b;
    AtOnce(
        [&] {
          a = Wait<StatusUpdate>([&](auto cb) {
            store_->PublishStatusUpdateFor(update(fmt::format("a{}", round)), inc, kAlice, cb);
          });
        },
        [&] {
          b = Wait<StatusUpdate>([&](auto cb) {
            other_->PublishStatusUpdateFor(update(fmt::format("b{}", round)), inc, kBob, cb);
          });
        });
    ASSERT_TRUE(a) << "round " << round << ": " << a.error().ToString();
    ASSERT_TRUE(b) << "round " << round << ": " << b.error().ToString();
    EXPECT_NE(a->id, b->id);
    clock_.Advance(std::chrono::seconds(1));
  }
  auto updates = store_->ListStatusUpdates({.incident_id = inc.id, .limit = 1000});
  ASSERT_TRUE(updates);
  ASSERT_EQ(updates->size(), 2u * kRounds);        // none lost
  std::reverse(updates->begin(), updates->end());  // oldest first
  for (size_t i = 1; i < updates->size(); ++i) {
    EXPECT_LT((*updates)[i - 1].id, (*updates)[i].id);
    EXPECT_LE((*updates)[i - 1].at, (*updates)[i].at) << "update " << (*updates)[i].id;
  }
  EXPECT_EQ(store_->GetIncident(inc.id)->last_update_at, updates->back().at);
  // The timeline lists them in the order they were stored, numbered 1, 2, ... without a gap or
  // a repeat (each writer counted the updates committed before it).
  auto published = Records(inc.id, "status_update.published");
  ASSERT_EQ(published.size(), updates->size());
  for (size_t i = 0; i < published.size(); ++i) {
    auto d = Details(published[i]);
    EXPECT_EQ(d["update_id"].as_int64(), (*updates)[i].id);
    EXPECT_EQ(d["number"].as_int64(), static_cast<int64_t>(i + 1));
  }
}

TEST_P(IncidentConcurrencyTest, ConcurrentRoleAssignmentsAreBothRecordedInCommitOrder) {
  auto inc = Declare({.title = "x", .sev = "SEV2", .services = {"checkout"}});
  for (int round = 0; round < kRounds; ++round) {
    std::string first = fmt::format("alice{}", round), second = fmt::format("bob{}", round);
    Result<core::Incident> a, b;
    AtOnce(
        [&] {
          IncidentPatch p;
          p.set_roles = {{"commander", first}};
          a = Wait<core::Incident>(
              [&](auto cb) { store_->UpdateIncident(inc.id, std::move(p), kAlice, cb); });
        },
        [&] {
          IncidentPatch p;
          p.set_roles = {{"commander", second}};
          b = Wait<core::Incident>(
              [&](auto cb) { other_->UpdateIncident(inc.id, std::move(p), kBob, cb); });
        });
    ASSERT_TRUE(a) << a.error().ToString();
    ASSERT_TRUE(b) << b.error().ToString();
  }
  // Every assignment is on the timeline; each one's "previous" is the one committed before it,
  // and the commander now is the last one committed.
  auto assigned = Records(inc.id, "incident.role_assigned");
  ASSERT_EQ(assigned.size(), 2u * kRounds);
  std::string holder;
  for (const auto& r : assigned) {
    auto d = Details(r);
    EXPECT_EQ(std::string(d["previous"].as_string()), holder) << "record " << r.id;
    holder = std::string(d["user"].as_string());
  }
  auto now = store_->GetIncident(inc.id);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->roles, (std::vector<std::pair<std::string, std::string>>{{"commander", holder}}));
}

TEST_P(IncidentConcurrencyTest, ConcurrentPatchesOfTitleAndSevLoseNeither) {
  auto inc = Declare({.title = "x", .sev = "SEV3", .services = {"checkout"}});
  const std::vector<std::string> sevs = {"SEV1", "SEV2", "SEV3"};
  for (int round = 0; round < kRounds; ++round) {
    std::string title = fmt::format("title {}", round), sev = sevs[round % sevs.size()];
    if (sev == store_->GetIncident(inc.id)->sev) sev = sevs[(round + 1) % sevs.size()];
    Result<core::Incident> a, b;
    AtOnce(
        [&] {
          a = Wait<core::Incident>([&](auto cb) {
            store_->UpdateIncident(inc.id, IncidentPatch{.title = title}, kAlice, cb);
          });
        },
        [&] {
          b = Wait<core::Incident>([&](auto cb) {
            other_->UpdateIncident(inc.id, IncidentPatch{.sev = sev}, kBob, cb);
          });
        });
    ASSERT_TRUE(a) << a.error().ToString();
    ASSERT_TRUE(b) << b.error().ToString();
    auto now = store_->GetIncident(inc.id);
    ASSERT_TRUE(now);
    EXPECT_EQ(now->title, title) << "round " << round;
    EXPECT_EQ(now->sev, sev) << "round " << round;
  }
  // Each change is one record, and each record's "old" value is what the one before it left.
  auto updated = Records(inc.id, "incident.updated");
  ASSERT_EQ(updated.size(), 2u * kRounds);
  std::string title = "x", sev = "SEV3";
  for (const auto& r : updated) {
    auto changes = Details(r)["changes"].as_object();
    for (auto [field, value] : {std::pair{"title", &title}, std::pair{"sev", &sev}}) {
      if (!changes.contains(field)) continue;
      EXPECT_EQ(std::string(changes[field].as_array()[0].as_string()), *value) << "record " << r.id;
      *value = std::string(changes[field].as_array()[1].as_string());
    }
  }
}

TEST_P(IncidentConcurrencyTest, MergeWhileResolvingEndsWhollyOneWayOrTheOther) {
  int merged = 0, refused = 0;
  for (int round = 0; round < kRounds; ++round) {
    core::IncidentId source = FromAlerts(fmt::format("s{}", round), 2);
    core::IncidentId target = FromAlerts(fmt::format("t{}", round), 1);
    ASSERT_NE(source, target);
    // Even rounds resolve the incident being merged, odd ones the one it is merged into.
    core::IncidentId resolving = round % 2 == 0 ? source : target;
    Result<core::Incident> merge, resolve;
    AtOnce(
        [&] {
          merge = Wait<core::Incident>(
              [&](auto cb) { store_->MergeIncidents(source, target, kAlice, cb); });
        },
        [&] {
          resolve = Wait<core::Incident>([&](auto cb) {
            other_->TransitionIncident(resolving, IncidentAction::kResolve, kBob, cb);
          });
        });
    // One of them may be refused (its incident was resolved first), never both, and never for
    // anything else.
    ASSERT_TRUE(merge || resolve) << "round " << round;
    for (const auto* r : {&merge, &resolve}) {
      if (!*r) {
        EXPECT_EQ(r->error().code(), StatusCode::kFailedPrecondition) << r->error().ToString();
      }
    }
    auto s = store_->GetIncident(source), t = store_->GetIncident(target);
    ASSERT_TRUE(s && t);
    auto s_alerts = store_->ListAlerts({.incident_id = source});
    auto t_alerts = store_->ListAlerts({.incident_id = target});
    ASSERT_TRUE(s_alerts && t_alerts);
    if (merge) {
      ++merged;
      // Wholly merged: every alert moved, the source resolved as merged, the target knows.
      EXPECT_EQ(s->merged_into, target);
      EXPECT_EQ(s->status, IncidentStatus::kResolved);
      EXPECT_TRUE(s_alerts->empty());
      EXPECT_EQ(t_alerts->size(), 3u);
      EXPECT_EQ(t->alert_count, 3);
      EXPECT_EQ(Records(target, "incident.merged").size(), 1u);
    } else {
      ++refused;
      // Not merged at all.
      EXPECT_EQ(s->merged_into, 0);
      EXPECT_EQ(s_alerts->size(), 2u);
      EXPECT_EQ(t_alerts->size(), 1u);
      EXPECT_EQ(s->alert_count, 2);
      EXPECT_TRUE(Records(target, "incident.merged").empty());
    }
    if (resolve) {
      EXPECT_EQ(store_->GetIncident(resolving)->status, IncidentStatus::kResolved);
    }
    // A resolved incident has no open alert left.
    for (const auto& [inc, alerts] : {std::pair{*s, *s_alerts}, std::pair{*t, *t_alerts}}) {
      if (inc.status != IncidentStatus::kResolved) continue;
      for (const auto& a : alerts) {
        EXPECT_EQ(a.status, core::AlertStatus::kResolved) << "alert " << a.id << " of " << inc.id;
      }
    }
  }
  EXPECT_EQ(merged + refused, kRounds);
}

TEST_P(IncidentConcurrencyTest, AckWhileEscalatingTheAckWinsAndNobodyIsPagedAfterIt) {
  for (int round = 0; round < kRounds; ++round) {
    auto inc = Declare({.title = fmt::format("x{}", round),
                        .sev = "SEV2",
                        .services = {"checkout"},
                        .escalation_policy = "main",
                        .first_step_delay = minutes(0)});
    auto esc = store_->GetEscalation(inc.id);
    ASSERT_TRUE(esc && *esc);
    // The engine's decision for the first step, taken on what it read.
    EscalationUpdate step{.incident_id = inc.id,
                          .expected_version = (*esc)->version,
                          .state = core::EscalationState::kActive,
                          .step = 1,
                          .loop = 0,
                          .due_at = clock_.Now() + minutes(5),
                          .fired_step = 0,
                          .fired_loop = 0,
                          .pages = {{"alice", "alice-sms", "sms", clock_.Now(), "schedule:s", 0}},
                          .audit_action = "incident.escalated"};
    Result<core::Incident> ack;
    Result<int> escalated;
    AtOnce(
        [&] {
          ack = Wait<core::Incident>([&](auto cb) {
            store_->TransitionIncident(inc.id, IncidentAction::kAcknowledge, kAlice, cb);
          });
        },
        [&] { escalated = Wait<int>([&](auto cb) { other_->UpdateEscalations({step}, cb); }); });
    ASSERT_TRUE(ack) << ack.error().ToString();
    ASSERT_TRUE(escalated) << escalated.error().ToString();
    // The ack wins: paging is acknowledged whichever committed first.
    auto after = store_->GetEscalation(inc.id);
    ASSERT_TRUE(after && *after);
    EXPECT_EQ((*after)->state, core::EscalationState::kAcked) << "round " << round;
    auto acked = Records(inc.id, "incident.acknowledged");
    ASSERT_EQ(acked.size(), 1u);
    auto steps = Records(inc.id, "incident.escalated");
    auto pages = store_->ListNotifications({.incident_id = inc.id});
    ASSERT_TRUE(pages);
    if (*escalated == 1) {
      // The step committed before the ack (its record comes first), and its page with it.
      ASSERT_EQ(steps.size(), 1u);
      EXPECT_LT(steps[0].id, acked[0].id);
      EXPECT_EQ(pages->size(), 1u);
    } else {
      // Refused: the ack had committed first, so the step created nothing.
      EXPECT_EQ(*escalated, 0);
      EXPECT_TRUE(steps.empty());
      EXPECT_TRUE(pages->empty());
    }
    // Once the ack has committed, no page goes out: a claim, from either server, cancels it.
    auto claimed = Wait<std::vector<ClaimedBatch>>(
        [&](auto cb) { other_->ClaimNotifications({.now = clock_.Now()}, cb); });
    ASSERT_TRUE(claimed) << claimed.error().ToString();
    EXPECT_TRUE(claimed->empty()) << "round " << round;
    auto left = store_->ListNotifications({.incident_id = inc.id});
    ASSERT_TRUE(left);
    for (const auto& n : *left) {
      EXPECT_EQ(n.state, core::NotificationState::kCancelled) << "round " << round;
    }
  }
}

TEST_P(IncidentConcurrencyTest, OneOldLinkCannotActOnANewEpisode) {
  auto inc = Declare({.title = "x", .sev = "SEV2", .services = {"checkout"}});
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncident(inc.id, IncidentAction::kResolve, kAlice, cb);
    }));
    int64_t old_episode = store_->GetIncident(inc.id)->episode;
    // A reopen and an acknowledgement by a link of the resolved episode, at once.
    Result<core::Incident> reopen, ack;
    AtOnce(
        [&] {
          reopen = Wait<core::Incident>([&](auto cb) {
            store_->TransitionIncident(inc.id, IncidentAction::kReopen, kAlice, cb);
          });
        },
        [&] {
          ack = Wait<core::Incident>([&](auto cb) {
            other_->TransitionIncidentInEpisode(inc.id, IncidentAction::kAcknowledge, old_episode,
                                                "", {"user", "bob", "link"}, cb);
          });
        });
    ASSERT_TRUE(reopen) << reopen.error().ToString();
    // Either the link came first (acknowledging a resolved incident is refused) or after the
    // reopen (an earlier episode's link is refused): it never acknowledges the new episode.
    ASSERT_FALSE(ack) << "round " << round;
    EXPECT_EQ(ack.error().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(store_->GetIncident(inc.id)->status, IncidentStatus::kTriggered);
  }
}

HOUSTON_STORE_CONTRACT(IncidentConcurrencyTest);

}  // namespace
}  // namespace houston::store
