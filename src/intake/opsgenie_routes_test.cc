#include "intake/opsgenie_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/request.h"

namespace houston::intake {
namespace {

TEST(OpsgeniePaths, AnyPrefixButHoustonsOwnIntegrationPaths) {
  EXPECT_TRUE(IsOpsgeniePath("/v2/alerts"));
  EXPECT_TRUE(IsOpsgeniePath("/v2/alerts/"));
  EXPECT_TRUE(IsOpsgeniePath("/houston/v2/alerts/abc/close"));
  EXPECT_TRUE(IsOpsgeniePath("/a/b/v2/heartbeats/hb/ping"));
  EXPECT_TRUE(IsOpsgeniePath("/api/v2/alerts"));  // an api_url of http://host/api/
  EXPECT_FALSE(IsOpsgeniePath("/v2/enqueue"));
  EXPECT_FALSE(IsOpsgeniePath("/v2/change/enqueue"));
  EXPECT_FALSE(IsOpsgeniePath("/api/v1/alerts"));
  EXPECT_FALSE(IsOpsgeniePath("/integrations/prometheus/key/api/v2/alerts"));
  EXPECT_FALSE(IsOpsgeniePath("/v2alerts"));
  EXPECT_FALSE(IsOpsgeniePath(""));
}

TEST(OpsgeniePaths, ErrorsBeforeAHandlerInOpsgeniesShape) {
  auto r = OpsgenieRoutes::RenderError("/p/v2/alerts/x/snooze", NotFound("no route"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result(), http::bhttp::status::not_found);
  auto body = boost::json::parse(r->body()).as_object();
  EXPECT_EQ(body.at("message"), "no route");
  EXPECT_EQ(body.at("code"), 404);
  EXPECT_TRUE(body.contains("took"));
  EXPECT_EQ(body.at("requestId").as_string().size(), 36u);
  EXPECT_EQ((*r)["X-Request-ID"], body.at("requestId").as_string());
  auto big = OpsgenieRoutes::RenderError("/v2/alerts", ResourceExhausted("too big"));
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->result(), http::bhttp::status::payload_too_large);
  EXPECT_FALSE(OpsgenieRoutes::RenderError("/v2/enqueue", NotFound("x")).has_value());
}

TEST(OpsgenieHeartbeats, PrefersTheKeysServiceThenAUniqueName) {
  auto org = std::make_shared<config::Org>();
  auto service = [&](std::string id, std::vector<config::Integration> integrations) {
    config::Service s;
    s.id = id;
    s.escalation_policy = "ep";
    for (auto& i : integrations) i.service_id = id;
    s.integrations = std::move(integrations);
    org->services.push_back(std::move(s));
  };
  auto hb = [](std::string key, std::string name) {
    config::Integration i;
    i.type = core::IntegrationType::kHeartbeat;
    i.key = std::move(key);
    i.name = std::move(name);
    i.interval_minutes = 5;
    return i;
  };
  config::Integration og;
  og.type = core::IntegrationType::kOpsgenie;
  og.key = "og-key-checkout";
  og.name = "opsgenie";
  og.priorities = config::kDefaultOpsgeniePriorities;
  (*og.priorities)[0] = core::Severity::kError;
  service("checkout", {og, hb("hb-checkout-nightly", "nightly"), hb("hb-checkout-db", "db")});
  service("payments", {hb("hb-payments-nightly", "nightly"), hb("hb-payments-cron", "cron")});
  service("search", {hb("hb-search-cron", "cron"), hb("hb-search-backup", "backup")});
  auto view = MakeOpsgenieView(org);
  ASSERT_EQ(view->keys.count(api::TokenHash("og-key-checkout")), 1u);
  EXPECT_EQ(view->keys.at(api::TokenHash("og-key-checkout")).priorities[0], core::Severity::kError);
  bool ambiguous = true;
  EXPECT_EQ(ResolveHeartbeat(*view, "nightly", "checkout", &ambiguous), "hb-checkout-nightly");
  EXPECT_FALSE(ambiguous);
  EXPECT_EQ(ResolveHeartbeat(*view, "backup", "checkout", &ambiguous), "hb-search-backup");
  EXPECT_EQ(ResolveHeartbeat(*view, "cron", "checkout", &ambiguous), std::nullopt);
  EXPECT_TRUE(ambiguous);
  EXPECT_EQ(ResolveHeartbeat(*view, "missing", "checkout", &ambiguous), std::nullopt);
  EXPECT_FALSE(ambiguous);
}

}  // namespace
}  // namespace houston::intake
