// The analytics routes through the real Router, Api and SqliteStore: strict query validation
// (400 naming the field), the JSON shapes, and that queries run on the query pool (a full pool
// answers 503 with Retry-After).
#include "learning/analytics_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>

#include "api/api.h"
#include "core/time_util.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::learning {
namespace {

namespace bhttp = http::bhttp;
using ::testing::HasSubstr;

constexpr const char* kOrg = R"yaml(
users:
  - {id: alice, timezone: Europe/Berlin}
teams:
  - {id: shop, members: [alice]}
escalation_policies:
  - id: ep
    steps: [{targets: [{user: alice}]}]
services:
  - {id: checkout, escalation_policy: ep, team: shop,
     integrations: [{type: events_v2, key: "0123456789abcdef0123456789abcdef"}]}
)yaml";

class AnalyticsRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    clock_.Set(*ParseRfc3339("2026-03-10T12:00:00Z"));
    api_ = std::make_unique<api::Api>(*store_, metrics_, clock_);
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
    api_->Register(router_);
    std::string token = api::NewApiToken();
    auto t = store::Wait<store::Token>([&](auto cb) {
      store_->CreateToken("viewer", store::Role::kViewer, api::TokenHash(token), "", {}, cb);
    });
    ASSERT_TRUE(t);
    token_ = token;
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }
  http::Response Get(const std::string& target) {
    http::Request raw{bhttp::verb::get, target, 11};
    raw.set(bhttp::field::authorization, "Bearer " + token_);
    std::string_view t = raw.target();
    std::string_view path = t.substr(0, t.find('?'));
    std::string_view query = t.find('?') == std::string_view::npos ? "" : t.substr(t.find('?') + 1);
    auto m = router_.Find(bhttp::verb::get, path);
    EXPECT_NE(m.handler, nullptr) << target;
    http::HttpRequest req{raw, path, query, m.params, "127.0.0.1", "test"};
    std::promise<http::Response> p;
    (*m.handler)(req, [&p](http::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  // Expects 400 with `field` named in the message.
  void ExpectBad(const std::string& target, const std::string& field) {
    auto r = Get(target);
    EXPECT_EQ(r.result(), bhttp::status::bad_request) << target << ": " << r.body();
    EXPECT_THAT(r.body(), HasSubstr("'" + field + "'")) << target;
  }

  houston::testing::TestDir dir_{"houston-analytics-routes"};
  houston::testing::FakeClock clock_;
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<api::Api> api_;
  http::Router router_;
  std::string token_;
};

TEST_F(AnalyticsRoutesTest, BadQueriesAre400sNamingTheField) {
  const std::string inc = "/api/v1/analytics/incidents";
  ExpectBad(inc + "?from=yesterday", "from");
  ExpectBad(inc + "?to=2026-13-01", "to");
  ExpectBad(inc + "?from=2026-03-02&to=2026-03-01", "from");
  ExpectBad(inc + "?from=2025-01-01&to=2026-03-01", "to");  // over 400 days
  ExpectBad(inc + "?group_by=region", "group_by");
  ExpectBad(inc + "?interval=hour", "interval");
  ExpectBad(inc + "?tz=Mars/Olympus", "tz");
  ExpectBad(inc + "?team=nobody", "team");
  ExpectBad(inc + "?colour=red", "colour");
  ExpectBad("/api/v1/analytics/oncall-load?team=nobody", "team");
  ExpectBad("/api/v1/analytics/oncall-load?from=2026-03-01T00:00:00", "from");  // no offset
  ExpectBad("/api/v1/analytics/noise?window=0", "window");
  ExpectBad("/api/v1/analytics/noise?from=2026-03-05&to=2026-03-01", "from");
  ExpectBad("/api/v1/analytics/weekly?week=monday", "week");
  ExpectBad("/api/v1/analytics/weekly?team=nobody", "team");
  ExpectBad("/api/v1/analytics/weekly?tz=Nowhere", "tz");
  ExpectBad("/api/v1/users/nobody/record", "id");
  ExpectBad("/api/v1/users/alice/record?from=2026-03-05&to=2026-03-01", "from");
}

TEST_F(AnalyticsRoutesTest, AnswersWithTheDocumentedShapes) {
  auto inc =
      Get("/api/v1/analytics/incidents?from=2026-03-01&to=2026-03-03&interval=day&"
          "tz=Europe/Berlin&group_by=team");
  ASSERT_EQ(inc.result(), bhttp::status::ok) << inc.body();
  auto v = boost::json::parse(inc.body()).as_object();
  EXPECT_EQ(v["from"].as_string(), "2026-02-28T23:00:00.000Z");
  EXPECT_EQ(v["group_by"].as_string(), "team");
  ASSERT_EQ(v["buckets"].as_array().size(), 2u);
  EXPECT_EQ(v["buckets"].as_array()[1].as_object().at("label").as_string(), "2026-03-02");

  for (std::string target :
       {"/api/v1/analytics/oncall-load?team=shop", "/api/v1/analytics/noise?window=30",
        "/api/v1/analytics/weekly?week=2026-03-04&team=shop",
        "/api/v1/users/alice/record?from=2026-03-01"}) {
    auto r = Get(target);
    EXPECT_EQ(r.result(), bhttp::status::ok) << target << ": " << r.body();
    EXPECT_NO_THROW(boost::json::parse(r.body())) << target;
  }
  auto load = boost::json::parse(Get("/api/v1/analytics/oncall-load?team=shop").body());
  EXPECT_EQ(load.at("people").as_array().size(), 1u);
  EXPECT_EQ(load.at("people").at(0).at("timezone").as_string(), "Europe/Berlin");
  auto weekly = boost::json::parse(Get("/api/v1/analytics/weekly?week=2026-03-04").body());
  EXPECT_EQ(weekly.at("week").as_string(), "2026-03-02");
  // Integration keys are secrets: the noise report names integrations, never their keys.
  auto noise = Get("/api/v1/analytics/noise");
  EXPECT_EQ(noise.body().find("0123456789abcdef"), std::string::npos);
}

// The web UI's postmortem editor offers the org's sections and contributing-factor vocabulary
// (here the built-in ones: the test org has no `postmortems:`) to any viewer.
TEST_F(AnalyticsRoutesTest, ThePostmortemTemplateNamesTheSectionsAndTheVocabulary) {
  auto r = Get("/api/v1/postmortem-template");
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  auto v = boost::json::parse(r.body());
  const auto& sections = v.at("sections").as_array();
  ASSERT_EQ(sections.size(), 5u);
  EXPECT_EQ(sections[0].at("id").as_string(), "what_happened");
  EXPECT_EQ(sections[0].at("title").as_string(), "What happened");
  EXPECT_FALSE(sections[0].at("prompt").as_string().empty());
  const auto& factors = v.at("contributing_factors").as_array();
  EXPECT_EQ(factors.size(), 12u);
  EXPECT_EQ(factors[0].as_string(), "deploy");
  EXPECT_EQ(v.at("due_days").as_int64(), 5);
  EXPECT_TRUE(v.at("required_severities").is_array());
}

// A query that finds the pool's queue full is answered at once: 503 with Retry-After.
TEST_F(AnalyticsRoutesTest, AFullQueryPoolAnswers503WithRetryAfter) {
  api::Context ctx(*store_, metrics_, clock_, {});
  AnalyticsRoutes routes(ctx, {.threads = 1, .capacity = 0});
  api::RouteTable table;
  routes.AddTo(table);
  const auto& spec = *std::find_if(table.routes().begin(), table.routes().end(),
                                   [](const auto& r) { return r.pattern.ends_with("/noise"); });
  http::Request raw{bhttp::verb::get, "/api/v1/analytics/noise", 11};
  http::HttpRequest req{raw, "/api/v1/analytics/noise", "", {}, "127.0.0.1", "test"};
  std::optional<http::Response> answer;
  spec.handler(req, nullptr, [&answer](http::Response r) { answer = std::move(r); });
  ASSERT_TRUE(answer);  // answered on this thread, before returning
  EXPECT_EQ(answer->result(), bhttp::status::service_unavailable) << answer->body();
  EXPECT_EQ((*answer)[bhttp::field::retry_after], "1");
  EXPECT_THAT(answer->body(), HasSubstr("too many analytics queries"));
}

}  // namespace
}  // namespace houston::learning
