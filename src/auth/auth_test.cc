#include "auth/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <optional>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::auth {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(Password, HashesVerifyAndAreSalted) {
  auto a = HashPassword("correct horse battery", kMinimum);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_TRUE(a->starts_with("$argon2id$")) << *a;
  EXPECT_TRUE(VerifyPassword(*a, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*a, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(*a, ""));
  auto b = HashPassword("correct horse battery", kMinimum);
  ASSERT_TRUE(b);
  EXPECT_NE(*a, *b);  // a salt of its own
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("not a hash", "x"));
  EXPECT_FALSE(VerifyPassword(std::string(500, '$'), "x"));
}

TEST(Password, InteractiveCostIsTheDefault) {
  auto h = HashPassword("correct horse battery");
  ASSERT_TRUE(h);
  EXPECT_NE(h->find("m=65536"), std::string::npos) << *h;  // 64 MiB
  EXPECT_TRUE(VerifyPassword(*h, "correct horse battery"));
}

TEST(Password, PolicyRefusesShortAndHugePasswords) {
  EXPECT_EQ(CheckPasswordPolicy("short").code(), StatusCode::kInvalidArgument);
  EXPECT_NE(CheckPasswordPolicy("short").message().find("at least 12"), std::string::npos);
  EXPECT_TRUE(CheckPasswordPolicy("twelve chars").ok());
  EXPECT_EQ(CheckPasswordPolicy(std::string(kMaxPasswordLength + 1, 'x')).code(),
            StatusCode::kInvalidArgument);
}

TEST(Session, IdsAreRandomAndOnlyTheirHashesAreKept) {
  std::string a = NewSessionId(), b = NewSessionId();
  EXPECT_NE(a, b);
  EXPECT_GE(a.size(), 40u);
  EXPECT_EQ(SessionHash(a), SessionHash(a));
  EXPECT_NE(SessionHash(a), a);
  EXPECT_NE(CsrfTokenFor(a), SessionHash(a));
  EXPECT_NE(CsrfTokenFor(a), CsrfTokenFor(b));
  EXPECT_EQ(CsrfTokenFor(a).find(a), std::string::npos);
}

TEST(Credentials, BearerSchemeInAnyCaseWithSpacesDropped) {
  EXPECT_EQ(BearerCredentials("Bearer hou_abc"), "hou_abc");
  EXPECT_EQ(BearerCredentials("bEaReR   hou_abc  "), "hou_abc");
  EXPECT_EQ(BearerCredentials("Bearer "), std::nullopt);
  EXPECT_EQ(BearerCredentials("Bearer    "), std::nullopt);
  EXPECT_EQ(BearerCredentials("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(BearerCredentials("Bearerhou_abc"), std::nullopt);
  EXPECT_EQ(BearerCredentials(""), std::nullopt);
}

TEST(Session, Cookies) {
  EXPECT_EQ(SessionCookie("abc", seconds(3600), false),
            "houston_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600");
  EXPECT_EQ(SessionCookie("abc", seconds(60), true),
            "houston_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure");
  EXPECT_EQ(ClearSessionCookie(false),
            "houston_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
  EXPECT_EQ(CookieValue("houston_session=abc", "houston_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; houston_session=abc; b=2", "houston_session"), "abc");
  EXPECT_EQ(CookieValue("a=1;houston_session=\"abc\"", "houston_session"), "abc");
  EXPECT_EQ(CookieValue("xhouston_session=abc", "houston_session"), std::nullopt);
  EXPECT_EQ(CookieValue("", "houston_session"), std::nullopt);
  EXPECT_EQ(CookieValue("houston_session", "houston_session"), std::nullopt);
}

TEST(Duration, ParsesUnitsAndRefusesTheRest) {
  EXPECT_EQ(ParseDuration("90"), seconds(90));
  EXPECT_EQ(ParseDuration("30s"), seconds(30));
  EXPECT_EQ(ParseDuration("15m"), minutes(15));
  EXPECT_EQ(ParseDuration("12h"), std::chrono::hours(12));
  EXPECT_EQ(ParseDuration("7d"), std::chrono::hours(24 * 7));
  for (std::string_view bad : {"", "h", "0h", "-1h", "1.5h", "12 h", "3w", "99999999999d"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(FormatDuration(std::chrono::hours(24 * 7)), "7d");
  EXPECT_EQ(FormatDuration(std::chrono::hours(12)), "12h");
  EXPECT_EQ(FormatDuration(minutes(90)), "90m");
  EXPECT_EQ(FormatDuration(seconds(61)), "61s");
}

TEST(Principal, ActorsOfTokensAndPeople) {
  Principal token{.id = "ci", .role = core::Role::kResponder, .method = Method::kToken};
  auto a = token.Actor();
  EXPECT_EQ(a.type, "token");
  EXPECT_EQ(a.id, "ci");
  EXPECT_EQ(a.method, "api");
  EXPECT_EQ(token.Actor("cli").method, "cli");
  Principal person{.id = "alice", .role = core::Role::kViewer, .method = Method::kSession};
  a = person.Actor("cli");
  EXPECT_EQ(a.type, "user");
  EXPECT_EQ(a.id, "alice");
  EXPECT_EQ(a.method, "web");
}

// ---- CSRF and Origin

class CsrfTest : public ::testing::Test {
 protected:
  Principal session_{.id = "alice",
                     .role = core::Role::kResponder,
                     .method = Method::kSession,
                     .session_id = 1,
                     .csrf_token = "good-token"};
  Principal token_{.id = "ci", .role = core::Role::kResponder, .method = Method::kToken};
  RequestSite Site(std::string_view method, std::string_view csrf, std::string_view origin = "") {
    return RequestSite{.method = method,
                       .csrf_token = csrf,
                       .origin = origin,
                       .host = "houston.example:8080",
                       .tls = false,
                       .base_url = ""};
  }
};

TEST_F(CsrfTest, ChangesBySessionNeedTheSessionsToken) {
  EXPECT_TRUE(CheckCsrf(session_, Site("POST", "good-token")).ok());
  Status missing = CheckCsrf(session_, Site("POST", ""));
  EXPECT_EQ(missing.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(missing.message().find("X-CSRF-Token"), std::string::npos);
  Status wrong = CheckCsrf(session_, Site("DELETE", "good-tokeN"));
  EXPECT_EQ(wrong.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.message().find("does not match"), std::string::npos);
  EXPECT_EQ(CheckCsrf(session_, Site("PATCH", "good")).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckCsrf(session_, Site("PUT", "")).code(), StatusCode::kPermissionDenied);
}

TEST_F(CsrfTest, ReadsAndTokensNeedNoCsrfToken) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS"}) {
    EXPECT_TRUE(CheckCsrf(session_, Site(m, "")).ok()) << m;
    EXPECT_TRUE(CheckCsrf(session_, Site(m, "", "https://evil.example")).ok()) << m;
  }
  EXPECT_TRUE(CheckCsrf(token_, Site("POST", "")).ok());
  EXPECT_TRUE(CheckCsrf(token_, Site("POST", "", "https://evil.example")).ok());
}

TEST_F(CsrfTest, AForeignOriginIsRefusedEvenWithTheToken) {
  EXPECT_TRUE(CheckCsrf(session_, Site("POST", "good-token", "http://houston.example:8080")).ok());
  EXPECT_TRUE(CheckCsrf(session_, Site("POST", "good-token", "HTTP://Houston.Example:8080")).ok());
  for (std::string_view origin :
       {"https://evil.example", "http://houston.example", "https://houston.example:8080",
        "http://houston.example:8081", "null", "http://houston.example:8080.evil.example"}) {
    Status st = CheckCsrf(session_, Site("POST", "good-token", origin));
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << origin;
    EXPECT_NE(st.message().find("cross-origin"), std::string::npos) << origin;
  }
}

TEST_F(CsrfTest, TheConfiguredBaseUrlIsTheServersOriginToo) {
  RequestSite site = Site("POST", "good-token", "https://houston.example.com");
  site.host = "10.0.0.5:8080";  // behind a proxy
  EXPECT_EQ(CheckCsrf(session_, site).code(), StatusCode::kPermissionDenied);
  site.base_url = "https://houston.example.com:443/some/path";
  EXPECT_TRUE(CheckCsrf(session_, site).ok());
  site.tls = true;
  site.host = "houston.example:443";
  site.base_url = "";
  site.origin = "https://houston.example";
  EXPECT_TRUE(CheckCsrf(session_, site).ok());  // default ports compare equal
}

TEST(Origin, Normalizes) {
  EXPECT_EQ(NormalizeOrigin("HTTPS://Example.COM:443/x?y"), "https://example.com");
  EXPECT_EQ(NormalizeOrigin("http://example.com:80"), "http://example.com");
  EXPECT_EQ(NormalizeOrigin("http://example.com:8080"), "http://example.com:8080");
  EXPECT_EQ(NormalizeOrigin("https://example.com:80"), "https://example.com:80");
  EXPECT_EQ(NormalizeOrigin("null"), "");
  EXPECT_EQ(NormalizeOrigin("example.com"), "");
  EXPECT_EQ(NormalizeOrigin("http://"), "");
}

// ---- Throttle (time from a FakeClock; nothing sleeps)

TEST(Throttle, FailuresPerUserAreLimitedOverTheWindow) {
  testing::FakeClock clock;
  SignInThrottle t(clock, ThrottleOptions{.max_failures_per_user = 3,
                                          .max_failures_per_client = 100,
                                          .window = minutes(10)});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.Begin("alice", "10.0.0." + std::to_string(i)), 0) << i;
    clock.Advance(minutes(1));
  }
  // Three failures at t=0,1,2 min; now t=3 min: the first ages out at t=10 min.
  EXPECT_EQ(t.Begin("alice", "10.0.0.9"), 7 * 60);
  EXPECT_EQ(t.Begin("bob", "10.0.0.9"), 0);  // another user is not affected
  clock.Advance(minutes(7) - seconds(1));
  EXPECT_EQ(t.Begin("alice", "10.0.0.9"), 1);
  clock.Advance(seconds(1));
  EXPECT_EQ(t.Begin("alice", "10.0.0.9"), 0);   // one slot free again...
  EXPECT_EQ(t.Begin("alice", "10.0.0.9"), 60);  // ...and used
}

TEST(Throttle, FailuresPerClientAreLimitedAcrossUsers) {
  testing::FakeClock clock;
  SignInThrottle t(clock, ThrottleOptions{.max_failures_per_user = 100,
                                          .max_failures_per_client = 4,
                                          .window = minutes(15)});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(t.Begin("user" + std::to_string(i), "192.0.2.1"), 0);
  EXPECT_EQ(t.Begin("someone-else", "192.0.2.1"), 15 * 60);
  EXPECT_EQ(t.Begin("someone-else", "192.0.2.2"), 0);  // another address is not affected
}

TEST(Throttle, SuccessForgetsTheUsersFailures) {
  testing::FakeClock clock;
  SignInThrottle t(
      clock, ThrottleOptions{
                 .max_failures_per_user = 2, .max_failures_per_client = 3, .window = minutes(15)});
  EXPECT_EQ(t.Begin("alice", "a"), 0);
  EXPECT_EQ(t.Begin("alice", "a"), 0);
  EXPECT_GT(t.Begin("alice", "a"), 0);
  clock.Advance(minutes(15));
  EXPECT_EQ(t.Begin("alice", "a"), 0);
  t.Succeeded("alice", "a");
  // The success no longer counts against the address either: 2 more for alice, then blocked.
  EXPECT_EQ(t.Begin("alice", "a"), 0);
  EXPECT_EQ(t.Begin("alice", "a"), 0);
  EXPECT_GT(t.Begin("alice", "a"), 0);
}

TEST(Throttle, MemoryIsBounded) {
  testing::FakeClock clock;
  SignInThrottle t(clock, ThrottleOptions{.max_failures_per_user = 1,
                                          .max_failures_per_client = 1'000'000,
                                          .window = minutes(15),
                                          .max_keys = 100});
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(t.Begin("u" + std::to_string(i), "c"), 0);
  // Still answers; the most recent names are remembered.
  EXPECT_GT(t.Begin("u999", "c"), 0);
}

// Password checks run one at a time on the Authenticator's own thread, with at most
// max_pending_sign_ins waiting: one more is refused at once (Unavailable, retry in 1 s), and
// every sign-in is answered exactly once, the one still waiting when the Authenticator goes too.
TEST(AuthenticatorTest, SignInsBeyondTheQueueAreRefusedAndEachIsAnsweredOnce) {
  testing::TestDir dir("houston-auth-test");
  testing::FakeClock clock;
  store::sqlite::SqliteOptions so;
  so.path = (dir.path() / "h.db").string();
  so.clock = &clock;
  auto store = store::sqlite::SqliteStore::Open(so);
  ASSERT_TRUE(store) << store.error().ToString();
  // The first check holds the worker (its role lookup runs there) until released.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  auto role_of = [&](std::string_view user) -> std::optional<core::Role> {
    if (user == "first") {
      entered.set_value();
      released.wait();
    }
    return std::nullopt;  // unknown users: the same check against a dummy hash
  };
  SessionOptions options;
  options.cost = kMinimum;
  options.max_pending_sign_ins = 1;
  // An answer may come from the store's thread, after the check that recorded a failure.
  std::array<std::atomic<int>, 3> answers{};
  std::array<std::optional<SignInResult>, 3> results;
  std::array<std::promise<void>, 3> answered;
  auto record = [&](int i) {
    return [&, i](SignInResult r) {
      if (++answers[i] > 1) return;
      results[i] = std::move(r);
      answered[i].set_value();
    };
  };
  {
    Authenticator auth(**store, clock, options, role_of);
    // Lets the first check finish when this block ends, however it ends, so that the
    // Authenticator's destructor, which waits for a running check, returns.
    struct Release {
      std::promise<void>& p;
      ~Release() { p.set_value(); }
    } release_at_end{release};
    auth.SignIn({"first", "a password", "10.0.0.1"}, record(0));
    entered.get_future().wait();
    auth.SignIn({"second", "a password", "10.0.0.2"}, record(1));  // waits: the queue is full
    auth.SignIn({"third", "a password", "10.0.0.3"}, record(2));   // refused at once
    ASSERT_EQ(answers[2].load(), 1);
    ASSERT_TRUE(results[2].has_value());
    ASSERT_FALSE(results[2]->has_value());
    EXPECT_EQ(results[2]->error().status.code(), StatusCode::kUnavailable);
    EXPECT_THAT(results[2]->error().status.message(),
                ::testing::HasSubstr("too many sign-ins are waiting"));
    EXPECT_EQ(results[2]->error().retry_after, 1);
    EXPECT_EQ(answers[0].load(), 0);
    EXPECT_EQ(answers[1].load(), 0);
  }
  for (int i = 0; i < 2; ++i) {  // a guard against hanging, not a timing: answers take ms
    ASSERT_EQ(answered[i].get_future().wait_for(std::chrono::seconds(60)),
              std::future_status::ready)
        << "sign-in " << i << " was never answered";
  }
  (*store)->Shutdown();  // no answer is left in flight
  for (int i = 0; i < 3; ++i) EXPECT_EQ(answers[i].load(), 1) << "sign-in " << i;
  ASSERT_FALSE(results[0]->has_value());
  EXPECT_EQ(results[0]->error().status.code(), StatusCode::kUnauthenticated);
  // The second ran before the Authenticator stopped, or was answered that it is stopping.
  ASSERT_FALSE(results[1]->has_value());
  const Status& second = results[1]->error().status;
  EXPECT_TRUE(second.code() == StatusCode::kUnauthenticated ||
              (second.code() == StatusCode::kUnavailable &&
               second.message().find("shutting down") != std::string::npos))
      << second.ToString();
}

}  // namespace
}  // namespace houston::auth
