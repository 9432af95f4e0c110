// Handler-level tests of the incident resources and the public status page: requests go
// through the real Router, Api and SqliteStore (temp file), without sockets.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>

#include "api/api.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::api {
namespace {

namespace bhttp = http::bhttp;
namespace json = boost::json;

constexpr const char* kOrg = R"yaml(
severities:
  - {id: SEV1, description: Critical, update_every_minutes: 30}
  - {id: SEV2, description: Major, update_every_minutes: 60}
  - {id: SEV3, description: Minor}
users:
  - {id: alice, name: Alice Example}
  - {id: bob, name: Bob Example}
escalation_policies:
  - id: ep
    steps:
      - {delay_minutes: 0, targets: [{user: alice}]}
services:
  - {id: checkout, name: Checkout API, tier: 1, escalation_policy: ep, depends_on: [db]}
  - {id: db, name: Payments DB, escalation_policy: ep}
  - {id: internal-tool, escalation_policy: ep}
  - {id: search-svc, escalation_policy: ep}
incident_roles:
  - {id: security_lead, name: Security lead}
audiences:
  - id: board
    template: "Board: {{incident.title}} ({{update.impact}})"
status_page:
  title: Shop Status
  components:
    - {id: shop, name: Shop, services: [checkout, db]}
    - {id: search, name: Search, services: [search-svc]}
)yaml";

class IncidentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    o.synchronous_full = false;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    ApiOptions options;
    options.base_url = "https://houston.example";
    api_ = std::make_unique<Api>(*store_, metrics_, clock_, options);
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString()
                     << (org || org.error().details().empty() ? "" : org.error().details()[0]);
    api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
    api_->Register(router_);
    responder_ = Token(store::Role::kResponder);
    viewer_ = Token(store::Role::kViewer);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }
  std::string Token(store::Role role) {
    std::string token = NewApiToken();
    auto t = store::Wait<store::Token>([&](auto cb) {
      store_->CreateToken(std::string(store::ToString(role)), role, TokenHash(token), "", {}, cb);
    });
    EXPECT_TRUE(t) << t.error().ToString();
    return token;
  }
  http::Response Call(bhttp::verb verb, const std::string& target, std::string body = "",
                      std::string token = "") {
    if (token.empty() && !target.starts_with("/status")) token = responder_;
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
  json::value Json(const http::Response& r) { return json::parse(r.body()); }
  int64_t DeclareOk(const std::string& body) {
    auto r = Call(bhttp::verb::post, "/api/v1/incidents", body);
    EXPECT_EQ(r.result(), bhttp::status::created) << r.body();
    return r.result() == bhttp::status::created ? Json(r).at("incident").at("id").as_int64() : 0;
  }

  testing::TestDir dir_{"houston-incident-api-test"};
  houston::testing::FakeClock clock_;
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<Api> api_;
  http::Router router_;
  std::string responder_, viewer_;
};

TEST_F(IncidentApiTest, DeclareNamesEveryProblemAndStoresNothing) {
  auto r = Call(bhttp::verb::post, "/api/v1/incidents",
                R"({"title":"x","sev":"9","service":"nope","commander":"zed",)"
                R"("roles":{"chief":"alice"},"colour":"red","impact_started_at":"yesterday"})");
  EXPECT_EQ(r.result(), bhttp::status::bad_request);
  std::string all = json::serialize(Json(r).at("error").at("details"));
  for (const char* want :
       {"'sev': unknown severity '9': use one of SEV1, SEV2, SEV3",
        "'service': unknown service 'nope' (services: checkout, db, internal-tool, search-svc)",
        "'commander': unknown user 'zed' (users: alice, bob)",
        "'roles.chief': unknown role 'chief' (roles: commander, communications_lead, scribe, "
        "security_lead)",
        "unknown field 'colour'", "'impact_started_at'"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << " not in " << all;
  }
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/incidents", R"({"service":"checkout"})").result(),
            bhttp::status::bad_request);  // no title, no sev
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/incidents", "not json").result(),
            bhttp::status::bad_request);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/incidents",
                 R"({"title":"x","sev":2,"service":"checkout"})", viewer_)
                .result(),
            bhttp::status::forbidden);
  EXPECT_TRUE(store_->ListIncidents({})->empty());
}

TEST_F(IncidentApiTest, DeclareRunAndResolve) {
  int64_t id =
      DeclareOk(R"({"title":"Checkout 500s","sev":2,"service":"checkout","commander":"alice",)"
                R"("summary":"pool exhausted","tags":["db"]})");
  auto inc = Json(Call(bhttp::verb::get, "/api/v1/incidents/" + std::to_string(id)));
  EXPECT_EQ(inc.at("incident").at("sev"), "SEV2");
  EXPECT_EQ(inc.at("incident").at("commander"), "alice");
  auto path = "/api/v1/incidents/" + std::to_string(id);
  EXPECT_EQ(Call(bhttp::verb::post, path + "/mitigate").result(), bhttp::status::ok);
  EXPECT_EQ(Call(bhttp::verb::post, path + "/resolve").result(), bhttp::status::ok);
  auto illegal = Call(bhttp::verb::post, path + "/mitigate");
  EXPECT_EQ(illegal.result(), bhttp::status::conflict);
  EXPECT_NE(illegal.body().find("already resolved"), std::string::npos) << illegal.body();
  EXPECT_EQ(Call(bhttp::verb::post, path + "/reopen").result(), bhttp::status::ok);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/incidents/99/acknowledge").result(),
            bhttp::status::not_found);
  // Filters: open incidents, by SEV (number or id).
  auto open = Json(Call(bhttp::verb::get, "/api/v1/incidents?open=true&sev=2"));
  EXPECT_EQ(open.at("incidents").as_array().size(), 1u);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/incidents?sev=7").result(), bhttp::status::bad_request);
}

TEST_F(IncidentApiTest, PatchChecksTheImpactWindowAndSaysWhatCanChange) {
  int64_t id = DeclareOk(R"({"title":"x","sev":"SEV3","service":"checkout"})");
  auto path = "/api/v1/incidents/" + std::to_string(id);
  auto r = Call(bhttp::verb::patch, path,
                R"({"impact_started_at":"2025-12-31T23:00:00Z","roles":{"scribe":"bob"},)"
                R"("add_tags":["db"],"services":["checkout","db"]})");
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  auto inc = Json(r).at("incident");
  EXPECT_EQ(inc.at("impact_started_at"), "2025-12-31T23:00:00.000Z");
  EXPECT_EQ(inc.at("roles").at("scribe"), "bob");
  EXPECT_EQ(inc.at("services").as_array().size(), 2u);
  auto bad = Call(bhttp::verb::patch, path, R"({"detected_at":"2025-12-31T22:00:00Z"})");
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
  EXPECT_NE(bad.body().find("before 'impact_started_at'"), std::string::npos) << bad.body();
  auto empty = Call(bhttp::verb::patch, path, "{}");
  EXPECT_EQ(empty.result(), bhttp::status::bad_request);
  EXPECT_NE(empty.body().find("nothing to change"), std::string::npos);
  EXPECT_EQ(Call(bhttp::verb::patch, path, R"({"sev":"SEV9"})").result(),
            bhttp::status::bad_request);
  EXPECT_EQ(Call(bhttp::verb::post, path + "/roles", R"({"role":"king","user":"alice"})").result(),
            bhttp::status::bad_request);
}

TEST_F(IncidentApiTest, StatusUpdatesAreRenderedPerAudienceAndKeptConsistent) {
  int64_t id = DeclareOk(R"({"title":"Checkout 500s","sev":1,"service":"checkout",)"
                         R"("commander":"alice"})");
  auto path = "/api/v1/incidents/" + std::to_string(id) + "/updates";
  // The status page may never say resolved while the incident is open.
  auto early = Call(bhttp::verb::post, path, R"({"phase":"resolved","message":"fixed?"})");
  EXPECT_EQ(early.result(), bhttp::status::bad_request);
  EXPECT_NE(early.body().find("resolve the incident first"), std::string::npos) << early.body();
  EXPECT_EQ(Call(bhttp::verb::post, path, R"({"audiences":["nobody"],"message":"m"})").result(),
            bhttp::status::bad_request);
  EXPECT_EQ(Call(bhttp::verb::post, path, "{}").result(), bhttp::status::bad_request);
  // A dry run shows every rendering and stores nothing.
  std::string body =
      R"({"phase":"identified","message":"pool exhausted on db-7.internal","impact":"orders fail",)"
      R"("eta":"within the hour","public_message":"Some orders fail."})";
  auto dry = Call(bhttp::verb::post, path + "?dry_run=true", body);
  ASSERT_EQ(dry.result(), bhttp::status::ok) << dry.body();
  EXPECT_TRUE(store_->ListStatusUpdates({})->empty());
  auto r = Call(bhttp::verb::post, path, body);
  ASSERT_EQ(r.result(), bhttp::status::created) << r.body();
  std::map<std::string, std::string> text;
  auto published = Json(r);
  for (const auto& x : published.at("update").at("renderings").as_array()) {
    text[std::string(x.at("audience").as_string())] = x.at("text").as_string();
  }
  ASSERT_EQ(text.size(), 5u);  // public, executives, engineering, support, board
  EXPECT_EQ(text["public"],
            "Some orders fail. We expect to resolve it within the hour. Next update in 30 min.");
  EXPECT_NE(text["engineering"].find("db-7.internal"), std::string::npos);
  EXPECT_EQ(text["executives"].find("db-7.internal"), std::string::npos) << text["executives"];
  EXPECT_EQ(text["board"], "Board: Checkout 500s (orders fail)");
  // After resolution only a "resolved" update is consistent.
  ASSERT_EQ(
      Call(bhttp::verb::post, "/api/v1/incidents/" + std::to_string(id) + "/resolve").result(),
      bhttp::status::ok);
  EXPECT_EQ(Call(bhttp::verb::post, path, R"({"phase":"monitoring","message":"m"})").result(),
            bhttp::status::bad_request);
  EXPECT_EQ(
      Call(bhttp::verb::post, path, R"({"phase":"resolved","public_message":"Fixed."})").result(),
      bhttp::status::created);
  EXPECT_EQ(Json(Call(bhttp::verb::get, path)).at("updates").as_array().size(), 2u);
}

TEST_F(IncidentApiTest, StatusPageShowsPublicFactsOnly) {
  const std::string secret = "SECRET-db-7.internal";
  int64_t id = DeclareOk(R"({"title":"Checkout broken )" + secret +
                         R"(","sev":2,"service":"checkout","commander":"alice","summary":")" +
                         secret + R"("})");
  // An incident on a service no component shows never appears.
  DeclareOk(R"({"title":"internal tool down","sev":1,"service":"internal-tool"})");
  auto inc = "/api/v1/incidents/" + std::to_string(id);
  ASSERT_EQ(Call(bhttp::verb::post, inc + "/notes", R"({"text":")" + secret + R"("})").result(),
            bhttp::status::created);
  ASSERT_EQ(Call(bhttp::verb::post, inc + "/updates",
                 R"({"message":")" + secret + R"(","support_guidance":")" + secret +
                     R"(","public_message":"Some customers cannot pay."})")
                .result(),
            bhttp::status::created);
  auto check = [&](const std::string& stage) {
    for (const char* page : {"/status", "/status.json", "/status/feed.atom", "/status/feed.rss"}) {
      auto r = Call(bhttp::verb::get, page);
      ASSERT_EQ(r.result(), bhttp::status::ok) << page;
      EXPECT_EQ(r.body().find("SECRET"), std::string::npos) << stage << " " << page;
      EXPECT_EQ(r.body().find("alice"), std::string::npos) << stage << " " << page;
      EXPECT_EQ(r.body().find("internal tool"), std::string::npos) << stage << " " << page;
      EXPECT_EQ(r.body().find("checkout\""), std::string::npos) << stage << " " << page;
    }
  };
  check("open");
  auto status = Json(Call(bhttp::verb::get, "/status.json"));
  EXPECT_EQ(status.at("status").at("indicator"), "partial_outage");
  EXPECT_EQ(status.at("components").at(0).at("status"), "partial_outage");
  EXPECT_EQ(status.at("components").at(1).at("status"), "operational");
  ASSERT_EQ(status.at("incidents").as_array().size(), 1u);
  EXPECT_EQ(status.at("incidents").at(0).at("title"), "Service disruption affecting Shop");
  EXPECT_EQ(status.at("incidents").at(0).at("updates").at(0).at("text"),
            "Some customers cannot pay. Next update in 1 h.");
  ASSERT_EQ(Call(bhttp::verb::post, inc + "/mitigate").result(), bhttp::status::ok);
  check("mitigated");
  EXPECT_EQ(Json(Call(bhttp::verb::get, "/status.json")).at("status").at("indicator"),
            "degraded_performance");
  ASSERT_EQ(Call(bhttp::verb::post, inc + "/resolve").result(), bhttp::status::ok);
  check("resolved");
  status = Json(Call(bhttp::verb::get, "/status.json"));
  EXPECT_EQ(status.at("status").at("indicator"), "operational");
  EXPECT_TRUE(status.at("incidents").as_array().empty());
  ASSERT_EQ(status.at("history").as_array().size(), 1u);
  EXPECT_EQ(status.at("history").at(0).at("status"), "resolved");
  // 91 days later it has left the history.
  clock_.Advance(std::chrono::hours(24 * 91));
  EXPECT_TRUE(Json(Call(bhttp::verb::get, "/status.json")).at("history").as_array().empty());
}

TEST_F(IncidentApiTest, SuspectsRankChangesOnTheServiceAndItsDependencies) {
  auto change = [&](const std::string& service, const std::string& summary) {
    core::ChangeEvent c;
    c.integration_key = "k";
    c.service_id = service;
    c.summary = summary;
    c.source = "ci";
    ASSERT_TRUE(store::Wait<core::Change>([&](auto cb) { store_->RecordChange(c, cb); }));
  };
  change("db", "db flag flip");
  clock_.Advance(std::chrono::minutes(10));
  change("checkout", "checkout v42");
  change("internal-tool", "unrelated");
  clock_.Advance(std::chrono::minutes(12));
  int64_t id = DeclareOk(R"({"title":"x","sev":2,"service":"checkout"})");
  auto r = Json(Call(bhttp::verb::get, "/api/v1/incidents/" + std::to_string(id) + "/suspects"));
  const auto& s = r.at("suspects").as_array();
  ASSERT_EQ(s.size(), 2u) << r;
  EXPECT_EQ(s[0].at("change").at("summary"), "checkout v42");
  EXPECT_EQ(s[0].at("reason"), "12 min before impact started, on checkout (affected)");
  EXPECT_EQ(s[1].at("reason"), "22 min before impact started, on db, which checkout depends on");
  auto link = Call(bhttp::verb::post, "/api/v1/incidents/" + std::to_string(id) + "/changes",
                   R"({"change_id":2})");
  EXPECT_EQ(link.result(), bhttp::status::ok) << link.body();
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/incidents/" + std::to_string(id) + "/changes",
                 R"({"change_id":99})")
                .result(),
            bhttp::status::not_found);
}

}  // namespace
}  // namespace houston::api
