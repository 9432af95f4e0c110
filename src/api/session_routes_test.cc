// People signing in through the API: sessions, cookies, CSRF and Origin, expiry, revocation,
// the sign-in throttle and roles from org.yaml. Requests go through the real Router, Api and
// SqliteStore (on a temp file), without sockets; time is a FakeClock.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>

#include "api/api.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::api {
namespace {

namespace bhttp = http::bhttp;
using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kOrg = R"yaml(
users:
  - id: alice
  - {id: vera, role: viewer}
  - {id: ada, role: admin}
  - id: nopass
teams:
  - {id: payments, members: [alice, ada]}
  - {id: platform, members: [ada]}
  - {id: web, members: [vera, alice]}
escalation_policies:
  - id: ep
    steps:
      - delay_minutes: 0
        targets: [{user: alice}]
services:
  - id: checkout
    escalation_policy: ep
    integrations:
      - {type: events_v2, key: "0123456789abcdef0123456789abcdef"}
)yaml";

constexpr const char* kPassword = "correct horse battery";
constexpr const char* kHost = "houston.test:8080";
constexpr const char* kOrigin = "http://houston.test:8080";

using Headers = std::map<std::string, std::string>;

class SessionApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    MakeApi(ApiOptions{});
    for (const char* user : {"alice", "vera", "ada"}) SetPassword(user, kPassword);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }
  void MakeApi(ApiOptions options) {
    options.sessions.idle = hours(1);
    options.sessions.lifetime = hours(24);
    options.sessions.cost = auth::kMinimum;  // unknown users are checked against this cost
    options.sessions.throttle.max_failures_per_user = 5;
    options.sessions.throttle.max_failures_per_client = 20;
    options.sessions.throttle.window = minutes(15);
    api_.reset();
    api_ = std::make_unique<Api>(*store_, metrics_, clock_, std::move(options));
    SetOrg(kOrg);
    router_ = http::Router();
    api_->Register(router_);
  }
  void SetOrg(const std::string& yaml) {
    auto org = config::ParseOrg(yaml, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
  }
  void SetPassword(const std::string& user, const std::string& password) {
    auto hash = auth::HashPassword(password, auth::kMinimum);
    ASSERT_TRUE(hash);
    ASSERT_TRUE(store::Wait<int>([&](auto cb) { store_->SetPassword(user, *hash, {}, cb); }));
  }
  std::string Token(store::Role role) {
    std::string token = NewApiToken();
    auto t = store::Wait<store::Token>([&](auto cb) {
      store_->CreateToken(std::string(store::ToString(role)), role, TokenHash(token), "", {}, cb);
    });
    EXPECT_TRUE(t);
    return token;
  }
  // Waits until every write queued so far (e.g. a session's recorded use) has committed.
  void Flush() {
    ASSERT_TRUE(store::Wait<int64_t>(
        [&](auto cb) { store_->RecordAudit({}, "test.flush", "test", "", "{}", cb); }));
  }

  http::Response Call(bhttp::verb verb, const std::string& target, std::string body = "",
                      const Headers& headers = {}, const std::string& remote = "192.0.2.10") {
    http::Request raw{verb, target, 11};
    raw.body() = std::move(body);
    raw.set(bhttp::field::host, kHost);
    for (const auto& [name, value] : headers) raw.set(name, value);
    std::string_view t = raw.target();
    std::string_view path = t.substr(0, t.find('?'));
    std::string_view query = t.find('?') == std::string_view::npos ? "" : t.substr(t.find('?') + 1);
    auto m = router_.Find(verb, path);
    EXPECT_NE(m.handler, nullptr) << target;
    http::HttpRequest req{raw, path, query, m.params, remote, "test"};
    std::promise<http::Response> p;
    (*m.handler)(req, [&p](http::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  static std::string Credentials(const std::string& user, const std::string& password) {
    return R"({"user":")" + user + R"(","password":")" + password + R"("})";
  }
  http::Response SignInRaw(const std::string& user, const std::string& password,
                           const std::string& remote = "192.0.2.10", const Headers& h = {}) {
    return Call(bhttp::verb::post, "/api/v1/session", Credentials(user, password), h, remote);
  }

  // A signed-in browser: its cookie and CSRF token.
  struct Browser {
    std::string cookie;  // "houston_session=..."
    std::string csrf;
    Headers Reading() const { return {{"Cookie", cookie}}; }
    Headers Changing() const {
      return {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", kOrigin}};
    }
  };
  Browser SignIn(const std::string& user) {
    auto r = SignInRaw(user, kPassword);
    EXPECT_EQ(r.result(), bhttp::status::ok) << r.body();
    Browser b;
    std::string set_cookie(r[bhttp::field::set_cookie]);
    b.cookie = set_cookie.substr(0, set_cookie.find(';'));
    std::string body = r.body();
    size_t at = body.find("\"csrf_token\":\"");
    EXPECT_NE(at, std::string::npos) << body;
    if (at != std::string::npos) {
      at += 14;
      b.csrf = body.substr(at, body.find('"', at) - at);
    }
    return b;
  }
  std::string Trigger() {
    auto r = Call(bhttp::verb::post, "/v2/enqueue",
                  R"({"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger",)"
                  R"("dedup_key":"k1","payload":{"summary":"s","source":"h","severity":"error"}})");
    EXPECT_EQ(r.result(), bhttp::status::accepted) << r.body();
    return "1";
  }
  std::vector<store::AuditRecord> Audit(const std::string& user) {
    store::AuditFilter f;
    f.resource_type = "user";
    f.resource_id = user;
    auto r = store_->ListAudit(f);
    EXPECT_TRUE(r);
    return r ? *r : std::vector<store::AuditRecord>{};
  }
  static bool Has(const http::Response& r, std::string_view text) {
    return r.body().find(text) != std::string::npos;
  }

  testing::TestDir dir_{"houston-session-test"};
  houston::testing::FakeClock clock_;
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<Api> api_;
  http::Router router_;
};

TEST_F(SessionApiTest, SignInSetsASessionCookieAndSaysWhoIsSignedIn) {
  auto r = SignInRaw("alice", kPassword);
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  std::string cookie(r[bhttp::field::set_cookie]);
  EXPECT_TRUE(cookie.starts_with("houston_session=")) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly; SameSite=Lax; Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << cookie;  // plain HTTP
  EXPECT_EQ(r[bhttp::field::cache_control], "no-store");
  EXPECT_TRUE(Has(r, R"("user":"alice","role":"responder","method":"session","csrf_token":")"))
      << r.body();

  Browser b = SignIn("alice");
  auto me = Call(bhttp::verb::get, "/api/v1/session", "", b.Reading());
  EXPECT_EQ(me.result(), bhttp::status::ok);
  EXPECT_TRUE(Has(me, R"("user":"alice","role":"responder")")) << me.body();
  EXPECT_TRUE(Has(me, b.csrf)) << me.body();
  // Her name (her id when the org gives none) and teams (the web UI's "my teams").
  EXPECT_TRUE(Has(me, R"("name":"alice","teams":["payments","web"])")) << me.body();
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts", "", b.Reading()).result(), bhttp::status::ok);

  // Nobody signed in: 401.
  auto nobody = Call(bhttp::verb::get, "/api/v1/session");
  EXPECT_EQ(nobody.result(), bhttp::status::unauthorized);
  EXPECT_TRUE(Has(nobody, "POST /api/v1/session")) << nobody.body();
  // A token says who it is too.
  auto tok = Call(bhttp::verb::get, "/api/v1/session", "",
                  {{"Authorization", "Bearer " + Token(store::Role::kViewer)}});
  EXPECT_TRUE(Has(tok, R"({"token":"viewer","role":"viewer","method":"token"})")) << tok.body();

  // Audited, without secrets.
  auto audit = Audit("alice");
  ASSERT_GE(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "user.signed_in");
  EXPECT_EQ(audit[0].actor.type, "user");
  EXPECT_EQ(audit[0].actor.method, "web");
  std::string session_id = b.cookie.substr(b.cookie.find('=') + 1);
  for (const auto& a : audit) {
    EXPECT_EQ(a.details_json.find(session_id), std::string::npos);
    EXPECT_EQ(a.details_json.find(kPassword), std::string::npos);
  }
}

TEST_F(SessionApiTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  auto wrong = SignInRaw("alice", "not the password");
  auto unknown = SignInRaw("mallory", kPassword);
  auto no_password = SignInRaw("nopass", kPassword);
  for (const auto* r : {&wrong, &unknown, &no_password}) {
    EXPECT_EQ(r->result(), bhttp::status::unauthorized);
    EXPECT_EQ(r->body(), wrong.body());
    EXPECT_EQ((*r)[bhttp::field::set_cookie], "");
  }
  EXPECT_TRUE(Has(wrong, "wrong user or password")) << wrong.body();
  for (const char* user : {"alice", "mallory", "nopass"}) {
    auto audit = Audit(user);  // newest first
    ASSERT_GE(audit.size(), 1u) << user;
    EXPECT_EQ(audit[0].action, "user.sign_in_failed") << user;
    EXPECT_NE(audit[0].details_json.find("192.0.2.10"), std::string::npos);
    EXPECT_EQ(audit[0].details_json.find("not the password"), std::string::npos);
    EXPECT_EQ(audit[0].details_json.find(kPassword), std::string::npos);
  }
}

TEST_F(SessionApiTest, SignInBodyIsChecked) {
  auto r = Call(bhttp::verb::post, "/api/v1/session", R"({"user":"alice"})");
  EXPECT_EQ(r.result(), bhttp::status::bad_request);
  EXPECT_TRUE(Has(r, "'password' is required")) << r.body();
  r = Call(bhttp::verb::post, "/api/v1/session", R"({"user":"alice","password":"x","otp":"1"})");
  EXPECT_EQ(r.result(), bhttp::status::bad_request);
  EXPECT_TRUE(Has(r, "unknown field 'otp'")) << r.body();
  r = Call(bhttp::verb::post, "/api/v1/session", "user=alice");
  EXPECT_EQ(r.result(), bhttp::status::bad_request);
}

TEST_F(SessionApiTest, SignOutEndsTheSessionOnTheServer) {
  Browser b = SignIn("alice");
  Browser other = SignIn("alice");  // another browser of hers stays signed in
  auto out = Call(bhttp::verb::delete_, "/api/v1/session", "", b.Changing());
  ASSERT_EQ(out.result(), bhttp::status::ok) << out.body();
  std::string cleared(out[bhttp::field::set_cookie]);
  EXPECT_TRUE(cleared.starts_with("houston_session=;")) << cleared;
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos) << cleared;
  // The old cookie (a copy kept by someone) no longer works.
  auto after = Call(bhttp::verb::get, "/api/v1/session", "", b.Reading());
  EXPECT_EQ(after.result(), bhttp::status::unauthorized);
  EXPECT_TRUE(std::string(after[bhttp::field::set_cookie]).starts_with("houston_session=;"));
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/session", "", other.Reading()).result(),
            bhttp::status::ok);
  EXPECT_EQ(Audit("alice")[0].action, "user.signed_out");
  // Signing out needs the CSRF token too (a foreign page must not sign people out).
  EXPECT_EQ(Call(bhttp::verb::delete_, "/api/v1/session", "", other.Reading()).result(),
            bhttp::status::forbidden);
  // A token cannot sign out.
  auto tok = Call(bhttp::verb::delete_, "/api/v1/session", "",
                  {{"Authorization", "Bearer " + Token(store::Role::kViewer)}});
  EXPECT_EQ(tok.result(), bhttp::status::bad_request);
}

TEST_F(SessionApiTest, ChangesBySessionNeedTheCsrfToken) {
  Trigger();
  Browser b = SignIn("alice");
  auto none = Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", b.Reading());
  EXPECT_EQ(none.result(), bhttp::status::forbidden);
  EXPECT_TRUE(Has(none, "X-CSRF-Token")) << none.body();
  // Its first character changed (to one it is not: a token may start with '0').
  std::string changed = (b.csrf[0] == '0' ? "1" : "0") + b.csrf.substr(1);
  auto wrong = Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "",
                    {{"Cookie", b.cookie}, {"X-CSRF-Token", changed}});
  EXPECT_EQ(wrong.result(), bhttp::status::forbidden);
  EXPECT_TRUE(Has(wrong, "does not match")) << wrong.body();
  // Another session's token is not this one's.
  Browser other = SignIn("alice");
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "",
                 {{"Cookie", b.cookie}, {"X-CSRF-Token", other.csrf}})
                .result(),
            bhttp::status::forbidden);
  EXPECT_EQ(store_->GetAlert(1)->status, core::AlertStatus::kTriggered);  // nothing happened
  // The pre-body check refuses the same requests before reading a body.
  for (const auto& headers : {b.Reading(), Headers{{"Cookie", b.cookie}, {"X-CSRF-Token", "x"}}}) {
    http::Request raw{bhttp::verb::post, "/api/v1/incidents", 11};
    for (const auto& [name, value] : headers) raw.set(name, value);
    auto m = router_.Find(bhttp::verb::post, "/api/v1/incidents");
    ASSERT_NE(m.check, nullptr);
    auto refused = (*m.check)(http::HttpRequest{raw, "/api/v1/incidents", "", {}, "1", "t"});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->result(), bhttp::status::forbidden);
  }
  // With it: done, and the audit log names her.
  auto ack = Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", b.Changing());
  EXPECT_EQ(ack.result(), bhttp::status::ok) << ack.body();
  store::AuditFilter f;
  f.resource_type = "alert";
  auto audit = store_->ListAudit(f);
  ASSERT_TRUE(audit && !audit->empty());
  EXPECT_EQ((*audit)[0].action, "alert.acknowledged");
  EXPECT_EQ((*audit)[0].actor.type, "user");
  EXPECT_EQ((*audit)[0].actor.id, "alice");
  EXPECT_EQ((*audit)[0].actor.method, "web");
}

TEST_F(SessionApiTest, AForeignOriginIsRefused) {
  Trigger();
  Browser b = SignIn("alice");
  Headers h = b.Changing();
  h["Origin"] = "https://evil.example";
  auto r = Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", h);
  EXPECT_EQ(r.result(), bhttp::status::forbidden);
  EXPECT_TRUE(Has(r, "cross-origin")) << r.body();
  h["Origin"] = "http://houston.test:9090";
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", h).result(),
            bhttp::status::forbidden);
  // No Origin at all (not every client sends one): the CSRF token suffices.
  h.erase("Origin");
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", h).result(),
            bhttp::status::ok);
  // A foreign page cannot sign a browser in either.
  auto in = SignInRaw("alice", kPassword, "192.0.2.10", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(in.result(), bhttp::status::forbidden);
  EXPECT_EQ(in[bhttp::field::set_cookie], "");
  EXPECT_EQ(SignInRaw("alice", kPassword, "192.0.2.10", {{"Origin", kOrigin}}).result(),
            bhttp::status::ok);
}

TEST_F(SessionApiTest, TheConfiguredBaseUrlIsTheServersOrigin) {
  ApiOptions o;
  o.base_url = "https://houston.example.com";
  MakeApi(std::move(o));
  Trigger();
  auto r = SignInRaw("alice", kPassword, "192.0.2.10", {{"Origin", "https://houston.example.com"}});
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  // An https public URL: the cookie is only sent back over HTTPS.
  EXPECT_NE(std::string(r[bhttp::field::set_cookie]).find("; Secure"), std::string::npos);
  Browser b = SignIn("alice");
  Headers h = b.Changing();
  h["Origin"] = "https://houston.example.com";
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", h).result(),
            bhttp::status::ok);
}

TEST_F(SessionApiTest, TlsServersSetSecureCookies) {
  ApiOptions o;
  o.tls = true;
  MakeApi(std::move(o));
  auto r = SignInRaw("alice", kPassword, "192.0.2.10", {{"Origin", "https://houston.test:8080"}});
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  EXPECT_NE(std::string(r[bhttp::field::set_cookie]).find("; Secure"), std::string::npos);
  Browser b = SignIn("alice");
  auto out = Call(bhttp::verb::delete_, "/api/v1/session", "",
                  {{"Cookie", b.cookie}, {"X-CSRF-Token", b.csrf}});
  EXPECT_NE(std::string(out[bhttp::field::set_cookie]).find("; Secure"), std::string::npos);
}

TEST_F(SessionApiTest, BearerTokensNeedNoCsrfToken) {
  Trigger();
  std::string token = Token(store::Role::kResponder);
  auto r = Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "",
                {{"Authorization", "Bearer " + token}, {"Origin", "https://elsewhere.example"}});
  EXPECT_EQ(r.result(), bhttp::status::ok) << r.body();
  store::AuditFilter f;
  f.resource_type = "alert";
  auto audit = store_->ListAudit(f);
  EXPECT_EQ((*audit)[0].actor.type, "token");
  EXPECT_EQ((*audit)[0].actor.id, "responder");
  EXPECT_EQ((*audit)[0].actor.method, "api");
}

TEST_F(SessionApiTest, AnIdleSessionExpires) {
  Browser b = SignIn("alice");
  // Used every 50 minutes, it lives on past its first hour...
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(minutes(50));
    auto r = Call(bhttp::verb::get, "/api/v1/session", "", b.Reading());
    ASSERT_EQ(r.result(), bhttp::status::ok) << i << r.body();
    Flush();  // its use is recorded asynchronously
  }
  // ...until it goes unused for the idle lifetime.
  clock_.Advance(hours(1));
  auto r = Call(bhttp::verb::get, "/api/v1/session", "", b.Reading());
  EXPECT_EQ(r.result(), bhttp::status::unauthorized);
  EXPECT_TRUE(Has(r, "expired after 1h without use")) << r.body();
  EXPECT_TRUE(std::string(r[bhttp::field::set_cookie]).starts_with("houston_session=;"));
}

TEST_F(SessionApiTest, ASessionExpiresAtItsLifetimeHoweverMuchItIsUsed) {
  TimePoint signed_in = clock_.Now();
  Browser b = SignIn("alice");
  for (int i = 0; i < 40; ++i) {  // 40 * 50 min > 24 h
    clock_.Advance(minutes(50));
    auto r = Call(bhttp::verb::get, "/api/v1/session", "", b.Reading());
    if (clock_.Now() < signed_in + hours(24)) {
      ASSERT_EQ(r.result(), bhttp::status::ok) << i << r.body();
      Flush();  // its use is recorded asynchronously
      continue;
    }
    EXPECT_EQ(r.result(), bhttp::status::unauthorized) << i;
    EXPECT_TRUE(Has(r, "sessions last 1d at most")) << r.body();
    return;
  }
  FAIL() << "the session outlived its lifetime";
}

TEST_F(SessionApiTest, AnAdminRevokesAUsersSessions) {
  Browser alice = SignIn("alice");
  Browser alice2 = SignIn("alice");
  Browser vera = SignIn("vera");
  // Only admins may.
  EXPECT_EQ(
      Call(bhttp::verb::delete_, "/api/v1/users/vera/sessions", "", alice.Changing()).result(),
      bhttp::status::forbidden);
  Browser ada = SignIn("ada");
  auto r = Call(bhttp::verb::delete_, "/api/v1/users/alice/sessions", "", ada.Changing());
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  EXPECT_EQ(r.body(), R"({"user":"alice","revoked":2})");
  for (const auto* b : {&alice, &alice2}) {
    auto gone = Call(bhttp::verb::get, "/api/v1/session", "", b->Reading());
    EXPECT_EQ(gone.result(), bhttp::status::unauthorized);
    EXPECT_TRUE(Has(gone, "revoked")) << gone.body();
  }
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/session", "", vera.Reading()).result(),
            bhttp::status::ok);
  auto audit = Audit("alice");
  EXPECT_EQ(audit[0].action, "user.sessions_revoked");
  EXPECT_EQ(audit[0].actor.id, "ada");
  // With an admin token as well.
  auto tok = Call(bhttp::verb::delete_, "/api/v1/users/vera/sessions", "",
                  {{"Authorization", "Bearer " + Token(store::Role::kAdmin)}});
  EXPECT_EQ(tok.body(), R"({"user":"vera","revoked":1})");
}

TEST_F(SessionApiTest, RepeatedFailuresPerUserGet429WithRetryAfter) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(SignInRaw("alice", "guess number " + std::to_string(i)).result(),
              bhttp::status::unauthorized);
    clock_.Advance(minutes(1));
  }
  // Even the right password waits now; the first failure ages out 10 minutes from now.
  auto r = SignInRaw("alice", kPassword);
  EXPECT_EQ(r.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(r[bhttp::field::retry_after], "600");
  EXPECT_EQ(r[bhttp::field::set_cookie], "");
  // From another address too (the limit is per user), while another user is not held up.
  EXPECT_EQ(SignInRaw("alice", kPassword, "198.51.100.1").result(),
            bhttp::status::too_many_requests);
  EXPECT_EQ(SignInRaw("vera", kPassword).result(), bhttp::status::ok);
  clock_.Advance(minutes(10));
  EXPECT_EQ(SignInRaw("alice", kPassword).result(), bhttp::status::ok);
  // Success forgets her failures: five more tries before the next wait.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(SignInRaw("alice", "guess").result(), bhttp::status::unauthorized) << i;
  }
  EXPECT_EQ(SignInRaw("alice", "guess").result(), bhttp::status::too_many_requests);
}

TEST_F(SessionApiTest, RepeatedFailuresPerAddressGet429) {
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(SignInRaw("user" + std::to_string(i), "guess", "203.0.113.5").result(),
              bhttp::status::unauthorized);
  }
  auto r = SignInRaw("alice", kPassword, "203.0.113.5");
  EXPECT_EQ(r.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(r[bhttp::field::retry_after], "900");
  EXPECT_EQ(SignInRaw("alice", kPassword, "203.0.113.6").result(), bhttp::status::ok);
}

TEST_F(SessionApiTest, AViewersSessionIsDeniedResponderRoutes) {
  Trigger();
  Browser vera = SignIn("vera");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts", "", vera.Reading()).result(),
            bhttp::status::ok);
  auto r = Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", vera.Changing());
  EXPECT_EQ(r.result(), bhttp::status::forbidden);
  EXPECT_TRUE(Has(r, "this needs the responder role; user 'vera' has the viewer role")) << r.body();
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/audit", "", vera.Reading()).result(),
            bhttp::status::forbidden);
  Browser ada = SignIn("ada");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/audit", "", ada.Reading()).result(), bhttp::status::ok);
}

TEST_F(SessionApiTest, RolesFollowTheOrg) {
  Browser alice = SignIn("alice");
  SetOrg(std::string(kOrg).replace(std::string(kOrg).find("  - id: alice\n"), 14,
                                   "  - {id: alice, role: admin}\n"));
  auto me = Call(bhttp::verb::get, "/api/v1/session", "", alice.Reading());
  EXPECT_TRUE(Has(me, R"("role":"admin")")) << me.body();
  auto users = Call(bhttp::verb::get, "/api/v1/users", "", alice.Reading());
  EXPECT_TRUE(
      Has(users, R"("id":"alice","name":"alice","email":"","timezone":"UTC","role":"admin")"))
      << users.body();
  // A user removed from the org is signed out.
  SetOrg("users: [{id: vera}]\n");
  auto gone = Call(bhttp::verb::get, "/api/v1/session", "", alice.Reading());
  EXPECT_EQ(gone.result(), bhttp::status::unauthorized);
  EXPECT_TRUE(Has(gone, "no longer in the org")) << gone.body();
  EXPECT_EQ(SignInRaw("alice", kPassword).result(), bhttp::status::unauthorized);
}

TEST_F(SessionApiTest, NewPasswordEndsExistingSessions) {
  Browser b = SignIn("alice");
  SetPassword("alice", "another long password");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/session", "", b.Reading()).result(),
            bhttp::status::unauthorized);
  EXPECT_EQ(SignInRaw("alice", kPassword).result(), bhttp::status::unauthorized);
  EXPECT_EQ(SignInRaw("alice", "another long password").result(), bhttp::status::ok);
}

TEST_F(SessionApiTest, GarbageCookiesAreUnauthenticated) {
  for (const char* cookie : {"houston_session=nope", "houston_session=", "other=1"}) {
    auto r = Call(bhttp::verb::get, "/api/v1/alerts", "", {{"Cookie", cookie}});
    EXPECT_EQ(r.result(), bhttp::status::unauthorized) << cookie;
  }
  // A bearer token wins over a stale cookie.
  auto r = Call(bhttp::verb::get, "/api/v1/alerts", "",
                {{"Cookie", "houston_session=nope"},
                 {"Authorization", "Bearer " + Token(store::Role::kViewer)}});
  EXPECT_EQ(r.result(), bhttp::status::ok);
}

}  // namespace
}  // namespace houston::api
