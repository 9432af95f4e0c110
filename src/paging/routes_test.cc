// The on-call routes through the real Router, Api and SqliteStore with schedules wired the way
// the server wires them: GET /api/v1/oncall (who is on call for every schedule, until when, who
// is next; whom each escalation step reaches) and the segments of GET .../shifts.
#include "paging/routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>

#include "api/api.h"
#include "core/time_util.h"
#include "paging/schedules.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::paging {
namespace {

namespace bhttp = http::bhttp;
namespace json = boost::json;
using ::testing::HasSubstr;

constexpr const char* kOrg = R"yaml(
users: [{id: a}, {id: b}, {id: c}, {id: d}]
teams:
  - {id: ops, members: [b, c]}
schedules:
  - id: main
    name: Main
    timezone: America/New_York
    layers:
      - name: base
        start: "2026-01-05T00:00:00"
        rotation: {type: weekly, length: 1}
        users: [a, b]
    overrides:
      - {user: d, start: "2026-01-06T17:00:00Z", end: "2026-01-06T19:00:00Z"}
escalation_policies:
  - id: ep
    name: Escalation
    repeat: 1
    steps:
      - {targets: [{schedule: main}]}
      - {delay_minutes: 10, round_robin: true, targets: [{user: d}, {team: ops}]}
services:
  - id: checkout
    escalation_policy: ep
    integrations: [{type: events_v2, key: "0123456789abcdef0123456789abcdef"}]
)yaml";

class OnCallRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    clock_.Set(*ParseRfc3339("2026-01-06T16:00:00Z"));
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    org_ = std::make_shared<const config::Org>(std::move(*org));
    book_ = ScheduleBook::Build(*org_);
    api::ApiOptions options;
    options.on_call = [this](const config::Org&, const std::string& id, TimePoint t) {
      return book_->OnCall(id, t);
    };
    options.schedule = [this](const config::Org&, const std::string& id) {
      return book_->Find(id);
    };
    api_ = std::make_unique<api::Api>(*store_, metrics_, clock_, options);
    api_->SetOrg(org_);
    api_->Register(router_);
    token_ = api::NewApiToken();
    auto t = store::Wait<store::Token>([&](auto cb) {
      store_->CreateToken("viewer", store::Role::kViewer, api::TokenHash(token_), "", {}, cb);
    });
    ASSERT_TRUE(t);
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
  json::value GetJson(const std::string& target) {
    auto r = Get(target);
    EXPECT_EQ(r.result(), bhttp::status::ok) << target << ": " << r.body();
    return json::parse(r.body());
  }

  testing::TestDir dir_{"houston-oncall-routes-test"};
  houston::testing::FakeClock clock_;
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::shared_ptr<const config::Org> org_;
  std::shared_ptr<const ScheduleBook> book_;
  std::unique_ptr<api::Api> api_;
  http::Router router_;
  std::string token_;
};

TEST_F(OnCallRoutesTest, OnCallNowAnswersForEverySchedule) {
  // 16:00Z on Tuesday 6 January: `a` (base layer, first week), then d's override at 17:00Z.
  auto v = GetJson("/api/v1/oncall");
  EXPECT_EQ(v.at("at"), "2026-01-06T16:00:00.000Z");
  const auto& s = v.at("schedules").as_array().at(0);
  EXPECT_EQ(s.at("id"), "main");
  EXPECT_EQ(s.at("name"), "Main");
  EXPECT_EQ(s.at("timezone"), "America/New_York");
  EXPECT_EQ(s.at("users"), json::array({"a"}));
  EXPECT_EQ(s.at("source"), "layer");
  EXPECT_EQ(s.at("layer"), "base");
  EXPECT_EQ(s.at("until"), "2026-01-06T17:00:00.000Z");
  EXPECT_EQ(s.at("next").at("users"), json::array({"d"}));
  EXPECT_EQ(s.at("next").at("start"), "2026-01-06T17:00:00.000Z");
  EXPECT_EQ(s.at("next").at("until"), "2026-01-06T19:00:00.000Z");

  // ?at= asks about another instant: during the override.
  v = GetJson("/api/v1/oncall?at=2026-01-06T18:00:00Z");
  const auto& o = v.at("schedules").as_array().at(0);
  EXPECT_EQ(o.at("users"), json::array({"d"}));
  EXPECT_EQ(o.at("source"), "override");
  EXPECT_TRUE(o.at("layer").is_null());
}

TEST_F(OnCallRoutesTest, OnCallNowSaysWhomEachEscalationStepReaches) {
  auto v = GetJson("/api/v1/oncall?at=2026-01-06T18:00:00Z");
  const auto& p = v.at("escalation_policies").as_array().at(0);
  EXPECT_EQ(p.at("id"), "ep");
  EXPECT_EQ(p.at("name"), "Escalation");
  EXPECT_EQ(p.at("repeat"), 1);
  const auto& steps = p.at("steps").as_array();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].at("delay_minutes"), 0);
  EXPECT_EQ(steps[0].at("users"), json::array({"d"}));
  EXPECT_EQ(steps[0].at("targets").at(0).at("type"), "schedule");
  EXPECT_EQ(steps[0].at("targets").at(0).at("id"), "main");
  EXPECT_EQ(steps[1].at("delay_minutes"), 10);
  EXPECT_EQ(steps[1].at("round_robin"), true);
  EXPECT_EQ(steps[1].at("users"), json::array({"d", "b", "c"}));
  EXPECT_EQ(steps[1].at("targets").at(1).at("users"), json::array({"b", "c"}));
}

TEST_F(OnCallRoutesTest, OnCallNowRefusesABadInstant) {
  auto r = Get("/api/v1/oncall?at=yesterday");
  EXPECT_EQ(r.result(), bhttp::status::bad_request);
  EXPECT_THAT(r.body(), HasSubstr("'at'"));
}

TEST_F(OnCallRoutesTest, ShiftsCarrySegmentsThatNameTheirSource) {
  auto v =
      GetJson("/api/v1/schedules/main/shifts?from=2026-01-06T16:00:00Z&to=2026-01-06T20:00:00Z");
  // The shifts stay as they were; the segments add where each piece comes from.
  EXPECT_EQ(v.at("shifts").as_array().size(), 3u);
  const auto& seg = v.at("segments").as_array();
  ASSERT_EQ(seg.size(), 3u);
  EXPECT_EQ(seg[0].at("user"), "a");
  EXPECT_EQ(seg[0].at("source"), "layer");
  EXPECT_EQ(seg[0].at("layer"), "base");
  EXPECT_EQ(seg[1].at("user"), "d");
  EXPECT_EQ(seg[1].at("source"), "override");
  EXPECT_EQ(seg[1].at("start"), "2026-01-06T17:00:00.000Z");
  EXPECT_EQ(seg[1].at("end"), "2026-01-06T19:00:00.000Z");
  EXPECT_EQ(seg[2].at("source"), "layer");
}

}  // namespace
}  // namespace houston::paging
