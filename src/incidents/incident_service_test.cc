// IncidentService on both store backends (SQLite, PostgreSQL): the rules it owns, that each
// operation is one write, and that two services on one database (two servers) lose nothing.
#include "incidents/incident_service.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "testing/store_backend.h"

namespace houston::incidents {
namespace {

using core::IncidentStatus;
using store::TimelineKind;

const store::Actor kMe{"token", "me", "api"};

class IncidentServiceTest : public houston::testing::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    service_ = std::make_unique<IncidentService>(*store_);
  }
  void TearDown() override {
    service_.reset();
    StoreBackendTest::TearDown();
  }

  template <typename T, typename Start>
  Result<T> Run(Start&& start) {
    return store::Wait<T>(std::forward<Start>(start));
  }
  core::Incident Declare() {
    auto r = Run<core::Incident>([&](auto cb) {
      service_->Declare({.title = "Checkout 500s", .sev = "SEV2", .services = {"checkout"}}, kMe,
                        cb);
    });
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : core::Incident{};
  }
  std::vector<std::string> Actions(core::IncidentId id) {
    std::vector<std::string> out;
    auto timeline = store_->ListTimeline(id);
    EXPECT_TRUE(timeline) << timeline.error().ToString();
    if (!timeline) return out;
    for (const auto& e : *timeline) out.push_back(e.record.action);
    return out;
  }
  store::StatusUpdate Update(const core::Incident& inc, std::string phase) {
    store::StatusUpdate u;
    u.incident_id = inc.id;
    u.author = "me";
    u.via = "api";
    u.phase = std::move(phase);
    u.renderings = {{"public", "S", "we are looking into it"}};
    return u;
  }

  std::unique_ptr<IncidentService> service_;
};

TEST_P(IncidentServiceTest, AnEmptyPatchIsRefusedAndChangesNothing) {
  auto inc = Declare();
  auto before = Actions(inc.id);
  auto r = Run<core::Incident>([&](auto cb) { service_->Patch(inc.id, {}, kMe, cb); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.error().message().starts_with("nothing to change: send one or more of title"));
  EXPECT_EQ(Actions(inc.id), before);
}

TEST_P(IncidentServiceTest, RolesAndRespondersAreOneRecordEach) {
  auto inc = Declare();
  ASSERT_TRUE(Run<core::Incident>(
      [&](auto cb) { service_->AssignRole(inc.id, "commander", "alice", kMe, cb); }));
  ASSERT_TRUE(
      Run<core::Incident>([&](auto cb) { service_->AddResponder(inc.id, "bob", kMe, cb); }));
  auto now =
      Run<core::Incident>([&](auto cb) { service_->AssignRole(inc.id, "commander", "", kMe, cb); });
  ASSERT_TRUE(now);
  EXPECT_TRUE(now->roles.empty());
  now = Run<core::Incident>([&](auto cb) { service_->RemoveResponder(inc.id, "bob", kMe, cb); });
  ASSERT_TRUE(now);
  EXPECT_TRUE(now->responders.empty());
  auto actions = Actions(inc.id);
  ASSERT_EQ(actions.size(), 5u);
  EXPECT_EQ(actions[0], ToString(TimelineKind::kTriggered));
  EXPECT_EQ(actions[1], ToString(TimelineKind::kRoleAssigned));
  EXPECT_EQ(actions[2], ToString(TimelineKind::kResponderAdded));
  EXPECT_EQ(actions[3], ToString(TimelineKind::kRoleUnassigned));
  EXPECT_EQ(actions[4], ToString(TimelineKind::kResponderRemoved));
}

TEST_P(IncidentServiceTest, TagsAreReplacedOnWhatIsStored) {
  auto inc = Declare();
  ASSERT_TRUE(Run<core::Incident>([&](auto cb) {
    service_->Patch(inc.id, {.add_tags = {"db", "old"}}, kMe, cb);
  }));
  auto now = Run<core::Incident>([&](auto cb) {
    service_->Patch(inc.id, {.tags = std::vector<std::string>{"db", "new"}}, kMe, cb);
  });
  ASSERT_TRUE(now) << now.error().ToString();
  EXPECT_EQ(now->tags, (std::vector<std::string>{"db", "new"}));
}

TEST_P(IncidentServiceTest, APinnedNoteIsOneWrite) {
  auto inc = Declare();
  auto entry = Run<store::TimelineEntry>(
      [&](auto cb) { service_->AddNote(inc.id, "rolled back", true, kMe, cb); });
  ASSERT_TRUE(entry) << entry.error().ToString();
  EXPECT_TRUE(entry->pinned);
  EXPECT_EQ(entry->record.action, ToString(TimelineKind::kNote));
  auto timeline = *store_->ListTimeline(inc.id);
  ASSERT_EQ(timeline.size(), 3u);  // triggered, the note (pinned), pinned
  EXPECT_TRUE(timeline[1].pinned);
  EXPECT_EQ(timeline[2].record.action, ToString(TimelineKind::kPinned));
  // A note for no incident writes nothing.
  auto missing = Run<store::TimelineEntry>(
      [&](auto cb) { service_->AddNote(inc.id + 100, "x", true, kMe, cb); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST(IncidentServicePhaseTest, PhaseFitsTheIncidentStatus) {
  core::Incident open;
  open.id = 7;
  open.status = IncidentStatus::kAcknowledged;
  core::Incident resolved = open;
  resolved.status = IncidentStatus::kResolved;
  EXPECT_EQ(IncidentService::PhaseProblem(open, "monitoring"), std::nullopt);
  EXPECT_EQ(IncidentService::PhaseProblem(resolved, "resolved"), std::nullopt);
  EXPECT_EQ(IncidentService::PhaseProblem(open, "resolved"),
            "'phase' is resolved but incident 7 is acknowledged: resolve the incident first, or "
            "say monitoring");
  EXPECT_EQ(IncidentService::PhaseProblem(resolved, "identified"),
            "incident 7 is resolved: a new update must say phase 'resolved' (or reopen the "
            "incident)");
  EXPECT_EQ(IncidentService::PhaseProblem(open, "done"),
            "'phase' must be one of investigating, identified, monitoring, resolved, not 'done'");
  EXPECT_EQ(IncidentService::DefaultPhase(open), "investigating");
}

TEST_P(IncidentServiceTest, AnUpdateComposedFromAnOlderIncidentIsRefused) {
  auto inc = Declare();
  auto first = Run<store::StatusUpdate>(
      [&](auto cb) { service_->PublishUpdate(Update(inc, "investigating"), inc, kMe, cb); });
  ASSERT_TRUE(first) << first.error().ToString();
  // Someone resolves it while an update saying "investigating" is being written.
  ASSERT_TRUE(Run<core::Incident>([&](auto cb) { service_->Resolve(inc.id, kMe, cb); }));
  auto stale = Run<store::StatusUpdate>(
      [&](auto cb) { service_->PublishUpdate(Update(inc, "investigating"), inc, kMe, cb); });
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.error().message().find(store::kIncidentChanged), std::string::npos)
      << stale.error().message();
  EXPECT_EQ(store_->ListStatusUpdates({.incident_id = inc.id})->size(), 1u);
  // Composed again from the incident as it is now, it goes through.
  auto now = *service_->Get(inc.id);
  auto fresh = Run<store::StatusUpdate>(
      [&](auto cb) { service_->PublishUpdate(Update(now, "resolved"), now, kMe, cb); });
  ASSERT_TRUE(fresh) << fresh.error().ToString();
  // A phase that does not fit is refused in the write too, whatever the caller checked.
  auto wrong = Run<store::StatusUpdate>(
      [&](auto cb) { service_->PublishUpdate(Update(now, "monitoring"), now, kMe, cb); });
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ListStatusUpdates({.incident_id = inc.id})->size(), 2u);
}

TEST_P(IncidentServiceTest, AnOldEpisodesLinkDoesNothing) {
  auto inc = Declare();
  ASSERT_TRUE(Run<core::Incident>([&](auto cb) { service_->Resolve(inc.id, kMe, cb); }));
  ASSERT_TRUE(Run<core::Incident>([&](auto cb) { service_->Reopen(inc.id, kMe, cb); }));
  const store::Actor link{"user", "bob", "link"};
  auto old = Run<core::Incident>([&](auto cb) {
    service_->TransitionInEpisode(inc.id, core::IncidentAction::kAcknowledge, inc.episode, "", link,
                                  cb);
  });
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      old.error().message().starts_with(fmt::format("incident {} has been reopened since", inc.id)))
      << old.error().message();
  EXPECT_EQ(service_->Get(inc.id)->status, IncidentStatus::kTriggered);
  auto current = Run<core::Incident>([&](auto cb) {
    service_->TransitionInEpisode(inc.id, core::IncidentAction::kAcknowledge, inc.episode + 1, "",
                                  link, cb);
  });
  ASSERT_TRUE(current) << current.error().ToString();
  EXPECT_EQ(current->status, IncidentStatus::kAcknowledged);
}

TEST_P(IncidentServiceTest, TwoServersPatchingAtOnceLoseNothing) {
  auto other_store = Open();
  ASSERT_TRUE(other_store) << other_store.error().ToString();
  IncidentService other(**other_store);
  auto inc = Declare();
  for (int round = 0; round < 10; ++round) {
    std::latch go(2);
    Result<core::Incident> a, b;
    std::thread t([&] {
      go.arrive_and_wait();
      b = Run<core::Incident>([&](auto cb) {
        other.AssignRole(inc.id, "scribe", "s" + std::to_string(round), kMe, cb);
      });
    });
    go.arrive_and_wait();
    a = Run<core::Incident>([&](auto cb) {
      service_->Patch(inc.id, {.summary = "summary " + std::to_string(round)}, kMe, cb);
    });
    t.join();
    ASSERT_TRUE(a && b);
    auto now = *service_->Get(inc.id);
    EXPECT_EQ(now.summary, "summary " + std::to_string(round));
    EXPECT_EQ(now.roles, (std::vector<std::pair<std::string, std::string>>{
                             {"scribe", "s" + std::to_string(round)}}));
  }
}

TEST(TimelineKindTest, OneStringTableBothWays) {
  for (int k = 0; k <= static_cast<int>(TimelineKind::kAlertsResolved); ++k) {
    auto kind = static_cast<TimelineKind>(k);
    EXPECT_EQ(store::ParseTimelineKind(ToString(kind)), kind) << ToString(kind);
  }
  EXPECT_EQ(ToString(TimelineKind::kStatusUpdate), "status_update.published");
  EXPECT_EQ(ToString(TimelineKind::kNote), "incident.note");
  EXPECT_EQ(store::ParseTimelineKind("incident.nope"), std::nullopt);
}

HOUSTON_STORE_CONTRACT(IncidentServiceTest);

}  // namespace
}  // namespace houston::incidents
