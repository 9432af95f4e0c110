// Handler-level tests: requests go through the real Router, Api and SqliteStore (on a temp
// file), without sockets.
#include "api/api.h"
#include "api/platform_routes.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::api {
namespace {

namespace bhttp = http::bhttp;

constexpr const char* kOrg = R"yaml(
users:
  - id: alice
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
      - {type: events_v2, key: "limited-key-0001", rate_limit_per_second: 2}
      - {type: alertmanager, key: "am-checkout"}
      - {type: alertmanager, key: "am-limited", rate_limit_per_second: 5}
)yaml";

// A path that `pattern` matches: each "{name}" segment becomes "1".
std::string SamplePath(const std::string& pattern) {
  std::string path;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      path += pattern[i];
      continue;
    }
    path += '1';
    i = pattern.find('}', i);
  }
  return path;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(65536); }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }
  void Open(size_t capacity, ApiOptions options = {}) {
    api_.reset();
    store_.reset();
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    o.queue_capacity = capacity;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    api_ = std::make_unique<Api>(*store_, metrics_, clock_, std::move(options));
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
    router_ = http::Router();
    api_->Register(router_);
  }
  std::string Token(store::Role role) {
    std::string token = NewApiToken();
    auto t = store::Wait<store::Token>([&](auto cb) {
      store_->CreateToken(std::string(store::ToString(role)), role, TokenHash(token), "", {}, cb);
    });
    EXPECT_TRUE(t);
    return token;
  }
  http::Response Call(bhttp::verb verb, const std::string& target, std::string body = "",
                      const std::string& token = "") {
    http::Request raw{verb, target, 11};
    raw.body() = std::move(body);
    if (!token.empty()) raw.set(bhttp::field::authorization, "Bearer " + token);
    std::string_view t = raw.target();
    std::string_view path = t.substr(0, t.find('?'));
    std::string_view query = t.find('?') == std::string_view::npos ? "" : t.substr(t.find('?') + 1);
    auto m = router_.Find(verb, path);
    EXPECT_NE(m.handler, nullptr) << target;
    http::HttpRequest req{raw, path, query, m.params, "127.0.0.1", "test"};
    std::promise<http::Response> p;
    (*m.handler)(req, [&p](http::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  static std::string Trigger(const std::string& key, const std::string& dedup) {
    return R"({"routing_key":")" + key + R"(","event_action":"trigger","dedup_key":")" + dedup +
           R"(","payload":{"summary":"s","source":"h","severity":"error"}})";
  }

  testing::TestDir dir_{"houston-api-test"};
  houston::testing::FakeClock clock_;
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<Api> api_;
  http::Router router_;
};

// The API with workers (as `houston serve` runs it): which handlers run where, and what a
// worker pool that is full or stopping answers.
class ApiWorkersTest : public ApiTest {
 protected:
  void Reopen(int workers, size_t queue) {
    Open(65536, ApiOptions{.workers = workers, .worker_queue = queue});
  }
  // Adds a route whose handler records the thread it ran on and answers 200, or waits for
  // `gate` first when given.
  void AddRecorder(bhttp::verb verb, std::string pattern, Access access,
                   std::shared_future<void> gate = {}) {
    api_->table_for_testing().Add(
        verb, std::move(pattern), access,
        [this, gate](const http::HttpRequest& req, const auth::Principal*, http::Responder r) {
          {
            std::lock_guard lock(mu_);
            ran_on_[std::string(req.path)] = std::this_thread::get_id();
          }
          if (gate.valid()) gate.wait();
          r(http::JsonResponse(bhttp::status::ok, "{}"));
        });
  }
  void Reregister() {
    router_ = http::Router();
    api_->Register(router_);
  }
  std::thread::id RanOn(const std::string& path) {
    std::lock_guard lock(mu_);
    return ran_on_[path];
  }

  std::mutex mu_;
  std::map<std::string, std::thread::id> ran_on_;
};

// Intake's writes, the probes and the web UI's files run on the I/O thread (here: the caller);
// every other handler (reads, changes, sign-in, public pages, signed links, intake's reads) on
// a worker.
TEST_F(ApiWorkersTest, OnlyIntakeWritesProbesAndUiFilesRunOnTheIoThread) {
  Reopen(2, 16);
  using enum api::Open;
  struct Case {
    bhttp::verb verb;
    std::string path;
    Access access;
    bool on_io_thread;
  };
  const std::vector<Case> cases = {
      {bhttp::verb::post, "/t/intake", kIntegrationKey, true},
      {bhttp::verb::put, "/t/intake-put", kIntegrationKey, true},
      {bhttp::verb::get, "/t/intake-read", kIntegrationKey, false},
      {bhttp::verb::get, "/t/probe", kProbe, true},
      {bhttp::verb::get, "/t/ui", kWebUi, true},
      {bhttp::verb::post, "/t/sign-in", kPassword, false},
      {bhttp::verb::get, "/t/public", kPublicPage, false},
      {bhttp::verb::post, "/t/link", kSignedLink, false},
      {bhttp::verb::get, "/t/read", store::Role::kViewer, false},
      {bhttp::verb::post, "/t/change", store::Role::kResponder, false},
  };
  for (const auto& c : cases) AddRecorder(c.verb, c.path, c.access);
  Reregister();
  std::string token = Token(store::Role::kAdmin);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    auto r = Call(c.verb, c.path, "", c.access.min_role ? token : "");
    EXPECT_EQ(r.result(), bhttp::status::ok) << r.body();
    EXPECT_EQ(RanOn(c.path) == std::this_thread::get_id(), c.on_io_thread);
  }
  // The real routes agree, e.g. a list read, the Opsgenie alert list, a probe, Events v2.
  for (const auto& spec : api_->routes()) {
    bool expected = spec.open == kProbe || spec.open == kWebUi ||
                    (spec.open == kIntegrationKey && spec.method != bhttp::verb::get);
    EXPECT_EQ(RunsOnIoThread(spec), expected) << spec.pattern;
  }
  auto list = Call(bhttp::verb::get, "/api/v1/incidents", "", token);
  EXPECT_EQ(list.result(), bhttp::status::ok) << list.body();
  auto event =
      Call(bhttp::verb::post, "/v2/enqueue", Trigger("0123456789abcdef0123456789abcdef", "k1"));
  EXPECT_EQ(event.result(), bhttp::status::accepted) << event.body();
}

TEST_F(ApiWorkersTest, AFullQueueAnswers503WithRetryAfter) {
  Reopen(1, 0);  // nothing may wait
  auto r = Call(bhttp::verb::get, "/api/v1/incidents", "", Token(store::Role::kViewer));
  EXPECT_EQ(r.result(), bhttp::status::service_unavailable) << r.body();
  EXPECT_EQ(r[bhttp::field::retry_after], "1");
  EXPECT_NE(r.body().find("too many API requests are waiting"), std::string::npos) << r.body();
  // The I/O thread's routes do not wait for a worker.
  EXPECT_EQ(Call(bhttp::verb::get, "/healthz").result(), bhttp::status::ok);
}

// Stop (at shutdown, after the HTTP server let in-flight requests finish): a running handler
// finishes, a waiting request is answered 503, a new one too.
TEST_F(ApiWorkersTest, StopFinishesRunningRequestsAndAnswersWaitingOnes503) {
  Reopen(1, 1);
  std::promise<void> release;
  AddRecorder(bhttp::verb::get, "/t/slow", store::Role::kViewer, release.get_future().share());
  AddRecorder(bhttp::verb::get, "/t/next", store::Role::kViewer);
  Reregister();
  std::string token = Token(store::Role::kViewer);
  auto slow =
      std::async(std::launch::async, [&] { return Call(bhttp::verb::get, "/t/slow", "", token); });
  while (RanOn("/t/slow") == std::thread::id()) std::this_thread::yield();  // the worker is held
  auto waiting =
      std::async(std::launch::async, [&] { return Call(bhttp::verb::get, "/t/next", "", token); });
  while (api_->worker_requests() < 2) std::this_thread::yield();  // the queue (of 1) is full
  // A request answered at once, on this thread: refused.
  auto refused = [&] {
    http::Request raw{bhttp::verb::get, "/t/next", 11};
    raw.set(bhttp::field::authorization, "Bearer " + token);
    auto m = router_.Find(bhttp::verb::get, "/t/next");
    http::HttpRequest req{raw, "/t/next", "", m.params, "127.0.0.1", "test"};
    std::optional<http::Response> answer;
    (*m.handler)(req, [&answer](http::Response r) { answer = std::move(r); });
    EXPECT_TRUE(answer);
    return answer ? answer->body() : std::string();
  };
  EXPECT_NE(refused().find("too many API requests are waiting"), std::string::npos);
  std::thread stopper([this] { api_->Stop(); });
  // Stop takes the queue it answers in the step that makes new requests "shutting down".
  while (refused().find("shutting down") == std::string::npos) std::this_thread::yield();
  release.set_value();
  stopper.join();
  EXPECT_EQ(slow.get().result(), bhttp::status::ok);
  auto w = waiting.get();
  EXPECT_EQ(w.result(), bhttp::status::service_unavailable) << w.body();
  EXPECT_NE(w.body().find("shutting down"), std::string::npos) << w.body();
  EXPECT_EQ(RanOn("/t/next"), std::thread::id());  // never ran
}

TEST_F(ApiWorkersTest, AHandlerThatThrowsIsAnswered500) {
  Reopen(1, 16);
  api_->table_for_testing().Add(
      bhttp::verb::get, "/t/throws", store::Role::kViewer,
      [](const http::HttpRequest&, const auth::Principal*, http::Responder) {
        throw std::runtime_error("a library's exception escaped");
      });
  Reregister();
  auto r = Call(bhttp::verb::get, "/t/throws", "", Token(store::Role::kViewer));
  EXPECT_EQ(r.result(), bhttp::status::internal_server_error) << r.body();
  EXPECT_EQ(Call(bhttp::verb::get, "/healthz").result(), bhttp::status::ok);
}

// The access policy, written as rules over paths (not as a copy of the route table): who may
// call a route. A route the rules do not cover has no expected decision and fails the test, so
// a new route must be placed here.
std::optional<Access> ExpectedAccess(bhttp::verb method, std::string_view pattern) {
  using enum Open;
  auto under = [&](std::string_view prefix) { return pattern.starts_with(prefix); };
  // Intake: the integration key (path, header or body) is the credential.
  if (under("/v2/") || under("{prefix*}/v2/") || under("/integrations/")) return kIntegrationKey;
  if (under("/actions/") || under("/calendars/")) return kSignedLink;
  if (pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics") return kProbe;
  if (pattern == "/status" || under("/status.") || under("/status/")) return kPublicPage;
  // The web UI's one page (no data in it; the data comes from the API per role) and its files.
  const auto& ui = PlatformRoutes::UiPaths();
  if (std::ranges::find(ui, pattern) != ui.end() || pattern == "/ui/{build}/{file}" ||
      pattern == "/api/v1") {
    return method == bhttp::verb::get ? std::optional<Access>(kWebUi) : std::nullopt;
  }
  if (pattern == "/api/v1/session") {
    if (method == bhttp::verb::post) return kPassword;  // signing in
    return store::Role::kViewer;                        // who am I, signing out
  }
  if (!under("/api/v1/")) return std::nullopt;
  // Administration: tokens, the org with its (masked) secrets, the audit log, sessions.
  if (under("/api/v1/tokens") || pattern == "/api/v1/org" || pattern == "/api/v1/audit" ||
      pattern == "/api/v1/users/{id}/sessions") {
    return store::Role::kAdmin;
  }
  // Everyone signed in reads; responders change.
  return method == bhttp::verb::get ? store::Role::kViewer : store::Role::kResponder;
}

std::string Describe(const std::optional<store::Role>& role, const std::optional<Open>& open) {
  if (role) return fmt::format("role {}", store::ToString(*role));
  if (open) return fmt::format("open ({})", ToString(*open));
  return "no decision";
}

// Every route of the real table (every domain's, including Opsgenie's and Prometheus's intake,
// learning, pages, the live feed, sessions, administration and the web UI) states one access
// decision, and it is the one the policy above expects.
TEST_F(ApiTest, EveryRouteHasARoleDecision) {
  std::set<std::string> seen;
  for (const auto& r : api_->routes()) {
    std::string name =
        fmt::format("{} {}", std::string_view(bhttp::to_string(r.method)), r.pattern);
    seen.insert(name);
    EXPECT_TRUE(r.decided()) << name << ": " << Describe(r.min_role, r.open);
    EXPECT_NE(r.handler, nullptr) << name;
    std::optional<Access> want = ExpectedAccess(r.method, r.pattern);
    ASSERT_TRUE(want) << name << " is not covered by the access policy of this test";
    EXPECT_EQ(Describe(r.min_role, r.open), Describe(want->min_role, want->open)) << name;
  }
  // The table is the whole surface: spot-check routes of every domain and of later issues.
  for (std::string_view must : {"POST /v2/enqueue",
                                "POST {prefix*}/v2/alerts",
                                "GET {prefix*}/v2/heartbeats/{name}/ping",
                                "POST /integrations/prometheus/{key}/api/v2/alerts",
                                "POST /integrations/generic/{key}",
                                "GET /actions/{token}",
                                "POST /actions/{token}",
                                "GET /calendars/{token}",
                                "GET /status",
                                "GET /metrics",
                                "GET /api/v1/live",
                                "POST /api/v1/session",
                                "DELETE /api/v1/users/{id}/sessions",
                                "POST /api/v1/tokens",
                                "GET /api/v1/org",
                                "GET /api/v1/audit",
                                "PUT /api/v1/incidents/{id}/postmortem",
                                "PATCH /api/v1/action-items/{id}",
                                "GET /api/v1/analytics/noise",
                                "GET /incidents/{id}",
                                "GET /ui/{build}/{file}"}) {
    EXPECT_TRUE(seen.contains(std::string(must))) << must;
  }
  EXPECT_GT(seen.size(), 100u);
  EXPECT_EQ(seen.size(), api_->routes().size()) << "a method and path registered twice";
}

// A route added without an access decision serves nobody: before its body (pre-body check) and
// when it has none (the handler never runs), with or without an admin token.
TEST_F(ApiTest, ARouteWithoutADecisionIsDenied) {
  bool ran = false;
  api_->table_for_testing().Add(
      bhttp::verb::post, "/api/v1/undecided", Access{},
      [&ran](const http::HttpRequest&, const auth::Principal*, http::Responder respond) {
        ran = true;
        respond(http::JsonResponse(bhttp::status::ok, "{}"));
      });
  api_->table_for_testing().Add(
      bhttp::verb::get, "/undecided-page", Access{},
      [&ran](const http::HttpRequest&, const auth::Principal*, http::Responder respond) {
        ran = true;
        respond(http::JsonResponse(bhttp::status::ok, "{}"));
      });
  router_ = http::Router();
  api_->Register(router_);
  std::string admin = Token(store::Role::kAdmin);
  for (const std::string& token : {std::string(), admin}) {
    auto post = Call(bhttp::verb::post, "/api/v1/undecided", "{}", token);
    EXPECT_EQ(post.result(), bhttp::status::forbidden) << post.body();
    EXPECT_NE(post.body().find("no access decision"), std::string::npos) << post.body();
    EXPECT_EQ(Call(bhttp::verb::get, "/undecided-page", "", token).result(),
              bhttp::status::forbidden);
    // The pre-body check refuses it too.
    auto m = router_.Find(bhttp::verb::post, "/api/v1/undecided");
    ASSERT_NE(m.check, nullptr);
    http::Request raw{bhttp::verb::post, "/api/v1/undecided", 11};
    if (!token.empty()) raw.set(bhttp::field::authorization, "Bearer " + token);
    auto early = (*m.check)(http::HttpRequest{raw, "/api/v1/undecided", "", {}, "127.0.0.1", "t"});
    ASSERT_TRUE(early);
    EXPECT_EQ(early->result(), bhttp::status::forbidden);
  }
  EXPECT_FALSE(ran);
}

// Every route that needs a role, called through its handler (as a bodyless request reaches it,
// without the pre-body check): no token is 401, a token below the route's role is 403, a token
// with the role gets past authorization (whatever the handler then answers).
TEST_F(ApiTest, EveryRoleRouteRefusesLowerRolesThroughItsHandler) {
  const store::Role kRoles[] = {store::Role::kViewer, store::Role::kResponder, store::Role::kAdmin};
  int checked = 0;
  for (const auto& spec : api_->routes()) {
    if (!spec.min_role) continue;
    std::string path = SamplePath(spec.pattern);
    std::string name = std::string(bhttp::to_string(spec.method)) + " " + path;
    auto none = Call(spec.method, path);
    EXPECT_EQ(none.result(), bhttp::status::unauthorized) << name;
    EXPECT_EQ(Call(spec.method, path, "", "hou_not_a_token").result(), bhttp::status::unauthorized)
        << name;
    for (store::Role role : kRoles) {
      // A fresh token per call: a route may revoke tokens (DELETE /api/v1/tokens/1).
      auto r = Call(spec.method, path, "", Token(role));
      if (role < *spec.min_role) {
        EXPECT_EQ(r.result(), bhttp::status::forbidden) << name << " as " << ToString(role);
      } else {
        EXPECT_NE(r.result(), bhttp::status::unauthorized) << name << " as " << ToString(role);
        EXPECT_NE(r.result(), bhttp::status::forbidden)
            << name << " as " << ToString(role) << ": " << r.body();
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 60);
}

TEST_F(ApiTest, EventsV2AcceptsAndAnswersLikePagerDuty) {
  auto r =
      Call(bhttp::verb::post, "/v2/enqueue", Trigger("0123456789abcdef0123456789abcdef", "k1"));
  EXPECT_EQ(r.result(), bhttp::status::accepted);
  EXPECT_EQ(r.body(), R"({"status":"success","message":"Event processed","dedup_key":"k1"})");
  auto bad = Call(bhttp::verb::post, "/v2/enqueue", Trigger("not-a-key", "k1"));
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
  EXPECT_EQ(
      bad.body(),
      R"({"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]})");
  // Alertmanager's key is not an Events API key.
  auto wrong_type = Call(bhttp::verb::post, "/v2/enqueue", Trigger("am-checkout", "k1"));
  EXPECT_EQ(wrong_type.result(), bhttp::status::bad_request);
  EXPECT_EQ(store_->ListAlerts({})->size(), 1u);
}

TEST_F(ApiTest, RateLimitAnswers429WithRetryAfterAndStoresNothing) {
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Call(bhttp::verb::post, "/v2/enqueue", Trigger("limited-key-0001", "a")).result(),
              bhttp::status::accepted);
  }
  auto limited = Call(bhttp::verb::post, "/v2/enqueue", Trigger("limited-key-0001", "b"));
  EXPECT_EQ(limited.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(limited[bhttp::field::retry_after], "1");
  EXPECT_NE(limited.body().find("\"status\":\"throttle event\""), std::string::npos);
  clock_.Advance(std::chrono::milliseconds(500));  // one token back at 2/s
  EXPECT_EQ(Call(bhttp::verb::post, "/v2/enqueue", Trigger("limited-key-0001", "c")).result(),
            bhttp::status::accepted);
  auto alerts = store_->ListAlerts({});
  ASSERT_TRUE(alerts);
  EXPECT_EQ(alerts->size(), 2u);  // "a" (twice, deduplicated) and "c"; never "b"
}

// An Alertmanager request of `n` firing alerts (alertnames "<prefix>0".."<prefix>n-1").
std::string AlertmanagerBatch(int n, const std::string& prefix) {
  std::string alerts;
  for (int i = 0; i < n; ++i) {
    if (i) alerts += ',';
    alerts += R"({"status":"firing","labels":{"alertname":")" + prefix + std::to_string(i) +
              R"("},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","fingerprint":")" + prefix +
              std::to_string(i) + R"("})";
  }
  return R"({"version":"4","groupKey":"g","status":"firing","receiver":"houston","alerts":[)" +
         alerts + "]}";
}

TEST_F(ApiTest, RateLimitCountsEveryAlertOfABatch) {
  // 5 events/s: a request of 3 alerts takes 3 of the 5 tokens; a second one does not fit.
  auto first =
      Call(bhttp::verb::post, "/integrations/alertmanager/am-limited", AlertmanagerBatch(3, "a"));
  EXPECT_EQ(first.result(), bhttp::status::accepted) << first.body();
  auto second =
      Call(bhttp::verb::post, "/integrations/alertmanager/am-limited", AlertmanagerBatch(3, "b"));
  EXPECT_EQ(second.result(), bhttp::status::too_many_requests) << second.body();
  EXPECT_EQ(second[bhttp::field::retry_after], "1");
  EXPECT_NE(second.body().find("carries 3 events"), std::string::npos) << second.body();
  clock_.Advance(std::chrono::milliseconds(200));  // 2 + 1 tokens: the batch fits again
  EXPECT_EQ(
      Call(bhttp::verb::post, "/integrations/alertmanager/am-limited", AlertmanagerBatch(3, "c"))
          .result(),
      bhttp::status::accepted);
  // More alerts than the bucket ever holds: never accepted, and the answer says why (400, so
  // that the sender does not retry it forever).
  clock_.Advance(std::chrono::seconds(10));
  auto huge =
      Call(bhttp::verb::post, "/integrations/alertmanager/am-limited", AlertmanagerBatch(6, "d"));
  EXPECT_EQ(huge.result(), bhttp::status::bad_request) << huge.body();
  EXPECT_NE(huge.body().find("carries 6 events, more than the 5"), std::string::npos)
      << huge.body();
  EXPECT_NE(huge.body().find("rate_limit_per_second to at least 6"), std::string::npos)
      << huge.body();
  // The refused batch took no tokens: a full bucket's worth still passes.
  EXPECT_EQ(
      Call(bhttp::verb::post, "/integrations/alertmanager/am-limited", AlertmanagerBatch(5, "e"))
          .result(),
      bhttp::status::accepted);
  auto alerts = store_->ListAlerts({});
  ASSERT_TRUE(alerts);
  EXPECT_EQ(alerts->size(), 3u + 3u + 5u);  // a*, c*, e*; never b* or d*
  EXPECT_NE(metrics_.Render().find(
                R"(houston_events_total{integration="alertmanager",result="rate_limited"} 9)"),
            std::string::npos)
      << metrics_.Render();
}

TEST_F(ApiTest, FullWriteQueueAnswers503AndStoresNothing) {
  Open(/*capacity=*/0);
  auto r = Call(bhttp::verb::post, "/v2/enqueue", Trigger("0123456789abcdef0123456789abcdef", "k"));
  EXPECT_EQ(r.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(r[bhttp::field::retry_after], "1");
  EXPECT_NE(r.body().find("overloaded"), std::string::npos);
  EXPECT_EQ(store_->ListAlerts({})->size(), 0u);
}

TEST_F(ApiTest, RestNeedsATokenWithTheRightRole) {
  Call(bhttp::verb::post, "/v2/enqueue", Trigger("0123456789abcdef0123456789abcdef", "k1"));
  auto none = Call(bhttp::verb::get, "/api/v1/alerts");
  EXPECT_EQ(none.result(), bhttp::status::unauthorized);
  EXPECT_NE(none.body().find("\"code\":\"unauthenticated\""), std::string::npos);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts", "", "hou_wrong").result(),
            bhttp::status::unauthorized);
  std::string viewer = Token(store::Role::kViewer);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts", "", viewer).result(), bhttp::status::ok);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", viewer).result(),
            bhttp::status::forbidden);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/audit", "", viewer).result(), bhttp::status::forbidden);
  std::string responder = Token(store::Role::kResponder);
  auto ack = Call(bhttp::verb::post, "/api/v1/alerts/1/acknowledge", "", responder);
  EXPECT_EQ(ack.result(), bhttp::status::ok);
  EXPECT_NE(ack.body().find("\"status\":\"acknowledged\""), std::string::npos);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/alerts/99/resolve", "", responder).result(),
            bhttp::status::not_found);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts/abc", "", responder).result(),
            bhttp::status::bad_request);
  std::string admin = Token(store::Role::kAdmin);
  auto audit = Call(bhttp::verb::get, "/api/v1/audit?resource_type=alert", "", admin);
  EXPECT_EQ(audit.result(), bhttp::status::ok);
  EXPECT_NE(audit.body().find("\"action\":\"alert.acknowledged\""), std::string::npos);
  EXPECT_NE(audit.body().find("\"id\":\"responder\""), std::string::npos);
}

TEST_F(ApiTest, ListingValidatesQueryParameters) {
  std::string viewer = Token(store::Role::kViewer);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts?status=open", "", viewer).result(),
            bhttp::status::bad_request);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts?since=yesterday", "", viewer).result(),
            bhttp::status::bad_request);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/alerts?limit=5000", "", viewer).result(),
            bhttp::status::bad_request);
  for (int i = 0; i < 3; ++i) {
    Call(bhttp::verb::post, "/v2/enqueue",
         Trigger("0123456789abcdef0123456789abcdef", "k" + std::to_string(i)));
  }
  auto page = Call(bhttp::verb::get, "/api/v1/alerts?limit=2", "", viewer);
  EXPECT_NE(page.body().find("\"next_cursor\":\"2\""), std::string::npos) << page.body();
  auto rest = Call(bhttp::verb::get, "/api/v1/alerts?limit=2&cursor=2", "", viewer);
  EXPECT_NE(rest.body().find("\"next_cursor\":null"), std::string::npos) << rest.body();
  auto services = Call(bhttp::verb::get, "/api/v1/services", "", viewer);
  EXPECT_NE(services.body().find("\"open_incidents\":3"), std::string::npos) << services.body();
  // Integration keys are secrets: never listed.
  EXPECT_EQ(services.body().find("0123456789abcdef0123456789abcdef"), std::string::npos);
}

// The routes that need a role refuse callers without it before the body is read (and before
// 100 Continue), with the answer the handler would give.
TEST_F(ApiTest, RoutesWithARoleCheckTheTokenBeforeTheBody) {
  std::string viewer = Token(store::Role::kViewer);
  std::string responder = Token(store::Role::kResponder);
  for (const auto& spec : api_->routes()) {
    std::string path = SamplePath(spec.pattern);
    auto m = router_.Find(spec.method, path);
    ASSERT_NE(m.handler, nullptr) << path;
    if (!spec.min_role) {
      EXPECT_EQ(m.check, nullptr) << path;
      continue;
    }
    ASSERT_NE(m.check, nullptr) << path;
    auto peek = [&](const std::string& token) {
      http::Request raw{spec.method, path, 11};
      if (!token.empty()) raw.set(bhttp::field::authorization, "Bearer " + token);
      return (*m.check)(http::HttpRequest{raw, path, "", m.params, "127.0.0.1", "test"});
    };
    auto anonymous = peek("");
    ASSERT_TRUE(anonymous) << path;
    EXPECT_EQ(anonymous->result(), bhttp::status::unauthorized) << path;
    EXPECT_EQ(peek("hou_wrong")->result(), bhttp::status::unauthorized) << path;
    if (*spec.min_role > store::Role::kViewer) {
      ASSERT_TRUE(peek(viewer)) << path;
      EXPECT_EQ(peek(viewer)->result(), bhttp::status::forbidden) << path;
    } else {
      EXPECT_FALSE(peek(viewer)) << path;
    }
    if (*spec.min_role <= store::Role::kResponder) {
      EXPECT_FALSE(peek(responder)) << path;
    }
  }
}

// HEAD asks about a heartbeat URL without recording a beat (HEAD has no side effects).
TEST_F(ApiTest, HeadOnAHeartbeatUrlRecordsNoBeat) {
  auto org = config::ParseOrg(std::string(kOrg) +
                                  "      - {type: heartbeat, key: hb-checkout, "
                                  "interval_minutes: 5}\n",
                              "org.yaml");
  ASSERT_TRUE(org) << org.error().ToString();
  api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
  // A beat, recorded or not (the test store does not watch the heartbeat), is counted.
  auto beats = [&] {
    std::string text = metrics_.Render();
    return text.find("integration=\"heartbeat\",result=\"accepted\"") != std::string::npos ||
           text.find("integration=\"heartbeat\",result=\"failed\"") != std::string::npos;
  };
  auto head = Call(bhttp::verb::head, "/integrations/heartbeat/hb-checkout");
  EXPECT_EQ(head.result(), bhttp::status::ok);
  EXPECT_EQ(Call(bhttp::verb::head, "/integrations/heartbeat/nope").result(),
            bhttp::status::not_found);
  EXPECT_FALSE(beats());
  Call(bhttp::verb::get, "/integrations/heartbeat/hb-checkout");
  EXPECT_TRUE(beats()) << metrics_.Render();
}

}  // namespace
}  // namespace houston::api
