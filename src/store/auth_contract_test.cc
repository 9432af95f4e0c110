// The store contract for sign-in: password hashes and sessions, on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "testing/store_backend.h"

namespace houston::store {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

class AuthContractTest : public houston::testing::StoreBackendTest {
 protected:
  const Actor kCli{"user", "", "cli"};

  Session NewSession(std::string user, TimePoint now) {
    Session s;
    s.user_id = std::move(user);
    s.client = "192.0.2.7";
    s.created_at = now;
    s.last_seen_at = now;
    s.idle_expires_at = now + hours(12);
    s.expires_at = now + hours(24 * 7);
    return s;
  }
  Result<Session> Create(std::string user, std::string hash) {
    TimePoint now = clock_.Now();
    return Wait<Session>([&](auto cb) {
      store_->CreateSession(NewSession(user, now), hash, Actor{"user", user, "web"}, cb);
    });
  }
  Result<int> SetPassword(const std::string& user, const std::string& hash) {
    return Wait<int>([&](auto cb) { store_->SetPassword(user, hash, kCli, cb); });
  }
  std::vector<AuditRecord> UserAudit(const std::string& user) {
    AuditFilter f;
    f.resource_type = "user";
    f.resource_id = user;
    auto r = store_->ListAudit(f);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : std::vector<AuditRecord>{};
  }
};

TEST_P(AuthContractTest, PasswordIsSetReplacedAndRead) {
  auto none = store_->GetPasswordHash("alice");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(SetPassword("alice", "$argon2id$first"));
  EXPECT_EQ(store_->GetPasswordHash("alice").value_or(""), "$argon2id$first");
  ASSERT_TRUE(SetPassword("alice", "$argon2id$second"));
  EXPECT_EQ(store_->GetPasswordHash("alice").value_or(""), "$argon2id$second");
  EXPECT_FALSE(store_->GetPasswordHash("bob"));
  auto audit = UserAudit("alice");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "user.password_set");
  // The hash is no business of the audit log.
  for (const auto& a : audit) EXPECT_EQ(a.details_json.find("argon2"), std::string::npos);
}

TEST_P(AuthContractTest, SessionIsCreatedFoundTouchedAndDeleted) {
  auto s = Create("alice", "hash-1");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_GT(s->id, 0);
  auto found = store_->FindSessionByHash("hash-1");
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(found->id, s->id);
  EXPECT_EQ(found->user_id, "alice");
  EXPECT_EQ(found->client, "192.0.2.7");
  EXPECT_EQ(found->created_at, clock_.Now());
  EXPECT_EQ(found->idle_expires_at, clock_.Now() + hours(12));
  EXPECT_EQ(found->expires_at, clock_.Now() + hours(24 * 7));
  EXPECT_FALSE(found->revoked_at);
  EXPECT_EQ(store_->FindSessionByHash("hash-2").error().code(), StatusCode::kNotFound);
  // A second session with the same hash is refused.
  EXPECT_EQ(Create("bob", "hash-1").error().code(), StatusCode::kAlreadyExists);

  clock_.Advance(hours(1));
  TimePoint now = clock_.Now();
  auto touched = Wait<int>([&](auto cb) { store_->TouchSession(s->id, now, now + hours(12), cb); });
  ASSERT_TRUE(touched);
  EXPECT_EQ(*touched, 1);
  found = store_->FindSessionByHash("hash-1");
  EXPECT_EQ(found->last_seen_at, now);
  EXPECT_EQ(found->idle_expires_at, now + hours(12));
  // An older touch (another server, late) does not move it back.
  EXPECT_EQ(*Wait<int>([&](auto cb) {
    store_->TouchSession(s->id, now - minutes(5), now + hours(11), cb);
  }),
            0);
  EXPECT_EQ(store_->FindSessionByHash("hash-1")->last_seen_at, now);
  // The idle expiry never passes the absolute one.
  Wait<int>([&](auto cb) { store_->TouchSession(s->id, now, now + hours(24 * 30), cb); });
  found = store_->FindSessionByHash("hash-1");
  EXPECT_EQ(found->idle_expires_at, found->expires_at);

  auto deleted = Wait<Session>([&](auto cb) {
    store_->DeleteSession(s->id, Actor{"user", "alice", "web"}, cb);
  });
  ASSERT_TRUE(deleted) << deleted.error().ToString();
  EXPECT_EQ(deleted->user_id, "alice");
  EXPECT_EQ(store_->FindSessionByHash("hash-1").error().code(), StatusCode::kNotFound);
  auto again = Wait<Session>([&](auto cb) {
    store_->DeleteSession(s->id, Actor{"user", "alice", "web"}, cb);
  });
  EXPECT_EQ(again.error().code(), StatusCode::kNotFound);

  auto audit = UserAudit("alice");
  ASSERT_EQ(audit.size(), 2u);  // newest first
  EXPECT_EQ(audit[0].action, "user.signed_out");
  EXPECT_EQ(audit[1].action, "user.signed_in");
  EXPECT_EQ(audit[1].actor.type, "user");
  EXPECT_EQ(audit[1].actor.id, "alice");
  EXPECT_NE(audit[1].details_json.find("192.0.2.7"), std::string::npos);
  for (const auto& a : audit) EXPECT_EQ(a.details_json.find("hash-1"), std::string::npos);
}

TEST_P(AuthContractTest, RevokingAUsersSessionsLeavesOthersAlone) {
  auto a1 = Create("alice", "a1");
  auto a2 = Create("alice", "a2");
  auto b1 = Create("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);
  auto n = Wait<int>([&](auto cb) { store_->RevokeUserSessions("alice", kCli, cb); });
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(store_->FindSessionByHash("a1")->revoked_at, clock_.Now());
  EXPECT_EQ(store_->FindSessionByHash("a2")->revoked_at, clock_.Now());
  EXPECT_FALSE(store_->FindSessionByHash("b1")->revoked_at);
  // A revoked session is not touched back to life.
  TimePoint now = clock_.Now();
  EXPECT_EQ(*Wait<int>([&](auto cb) { store_->TouchSession(a1->id, now, now, cb); }), 0);
  // Nothing left to revoke: 0, still audited.
  EXPECT_EQ(*Wait<int>([&](auto cb) { store_->RevokeUserSessions("alice", kCli, cb); }), 0);
  auto audit = UserAudit("alice");
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "user.sessions_revoked");
  EXPECT_EQ(audit[0].details_json, R"({"sessions":0})");
  EXPECT_EQ(audit[1].details_json, R"({"sessions":2})");
}

TEST_P(AuthContractTest, SettingAPasswordRevokesTheUsersSessions) {
  ASSERT_TRUE(Create("alice", "a1"));
  ASSERT_TRUE(Create("bob", "b1"));
  auto revoked = SetPassword("alice", "$argon2id$new");
  ASSERT_TRUE(revoked);
  EXPECT_EQ(*revoked, 1);
  EXPECT_TRUE(store_->FindSessionByHash("a1")->revoked_at);
  EXPECT_FALSE(store_->FindSessionByHash("b1")->revoked_at);
}

TEST_P(AuthContractTest, SigningInClearsTheUsersEndedSessions) {
  ASSERT_TRUE(Create("alice", "old"));
  ASSERT_TRUE(Create("bob", "bob-old"));
  clock_.Advance(hours(13));  // past the idle expiry
  ASSERT_TRUE(Create("alice", "new"));
  EXPECT_EQ(store_->FindSessionByHash("old").error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->FindSessionByHash("new"));
  EXPECT_TRUE(store_->FindSessionByHash("bob-old"));  // only the signing-in user's
}

TEST_P(AuthContractTest, SessionsAndPasswordsSurviveARestart) {
  ASSERT_TRUE(SetPassword("alice", "$argon2id$x"));
  auto s = Create("alice", "h");
  ASSERT_TRUE(s);
  Reopen();
  EXPECT_EQ(store_->GetPasswordHash("alice").value_or(""), "$argon2id$x");
  EXPECT_EQ(store_->FindSessionByHash("h")->id, s->id);
}

TEST_P(AuthContractTest, RecordAuditWritesOneRecord) {
  auto id = Wait<int64_t>([&](auto cb) {
    store_->RecordAudit(Actor{"user", "mallory", "web"}, "user.sign_in_failed", "user", "mallory",
                        R"({"client":"192.0.2.9"})", cb);
  });
  ASSERT_TRUE(id) << id.error().ToString();
  auto audit = UserAudit("mallory");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].id, *id);
  EXPECT_EQ(audit[0].action, "user.sign_in_failed");
  EXPECT_EQ(audit[0].details_json, R"({"client":"192.0.2.9"})");
}

HOUSTON_STORE_CONTRACT(AuthContractTest);

}  // namespace
}  // namespace houston::store
