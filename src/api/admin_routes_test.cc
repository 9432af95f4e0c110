// The admin routes of the web UI and what they read: API tokens (create shows the secret once,
// list never does, revoke stops it at once), the org as applied (per object and whole, secrets
// masked), and the service list (keys for admins only, open incidents, last event). Requests go
// through the real Router, Api and SqliteStore (on a temp file), without sockets.
#include <gmock/gmock.h>
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
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kOrg = R"yaml(
# Who is paged.
users:
  - id: alice
    role: admin
    contact_methods:
      - {id: alice-hook, type: webhook, url: "http://127.0.0.1:9000/alice", secret: "hook-s3cret"}
      - id: alice-sms
        type: sms_provider
        url: "https://sms-user:sms-pass@sms.example.com/send"
        address: "+15555550100"
        headers:
          Authorization: Bearer provider-t0ken
  - id: bob
teams:
  - {id: payments, name: Payments, members: [alice, bob]}
escalation_policies:
  - id: ep
    steps:
      - delay_minutes: 0
        targets: [{user: alice}]
services:
  - id: checkout
    name: Checkout API
    team: payments
    tier: 1
    runbook_url: "https://wiki.example.com/runbooks/checkout"
    escalation_policy: ep
    integrations:
      - {type: events_v2, key: "0123456789abcdef0123456789abcdef"}
      - {type: heartbeat, key: "hb-checkout", interval_minutes: 5}
  - id: quiet
    escalation_policy: ep
webhooks:
  - id: chatops
    url: "http://127.0.0.1:9000/incident-events"
    secret: 'chat''ops-s3cret'
settings:
  suspect_lookback_hours: 24
)yaml";

constexpr const char* kEventsKey = "0123456789abcdef0123456789abcdef";

class AdminRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    api_ = std::make_unique<Api>(*store_, metrics_, clock_);
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
    api_->Register(router_);
    admin_ = Token("root", store::Role::kAdmin);
    responder_ = Token("resp", store::Role::kResponder);
    viewer_ = Token("view", store::Role::kViewer);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }
  std::string Token(const std::string& name, store::Role role) {
    std::string token = NewApiToken();
    auto t = store::Wait<store::Token>([&](auto cb) {
      store_->CreateToken(name, role, TokenHash(token), token.substr(0, 8), {}, cb);
    });
    EXPECT_TRUE(t);
    return token;
  }
  // Stores `yaml` as the applied org document, as `houston apply` by `who` does.
  void ApplyOrg(const std::string& yaml, const std::string& who) {
    auto changed = store::Wait<int>([&](auto cb) {
      store_->ApplyOrg({store::OrgObject{"user", "alice", "{}"}}, {}, yaml, "/etc/houston/org.yaml",
                       store::Actor{"user", who, "cli"}, cb);
    });
    ASSERT_TRUE(changed) << changed.error().ToString();
  }
  http::Response Call(bhttp::verb verb, const std::string& target, const std::string& token,
                      std::string body = "") {
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
  static json::value Json(const http::Response& r) { return json::parse(r.body()); }

  testing::TestDir dir_{"houston-admin-routes-test"};
  houston::testing::FakeClock clock_;
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<Api> api_;
  http::Router router_;
  std::string admin_, responder_, viewer_;
};

// ---- API tokens

TEST_F(AdminRoutesTest, TokensAreForAdminsOnly) {
  for (const std::string& who : {responder_, viewer_}) {
    EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/tokens", who).result(), bhttp::status::forbidden);
    EXPECT_EQ(
        Call(bhttp::verb::post, "/api/v1/tokens", who, R"({"name":"x","role":"admin"})").result(),
        bhttp::status::forbidden);
    EXPECT_EQ(Call(bhttp::verb::delete_, "/api/v1/tokens/1", who).result(),
              bhttp::status::forbidden);
  }
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/tokens", "").result(), bhttp::status::unauthorized);
}

TEST_F(AdminRoutesTest, CreatedTokenIsShownOnceWorksAndStopsWhenRevoked) {
  auto created =
      Call(bhttp::verb::post, "/api/v1/tokens", admin_, R"({"name":"grafana","role":"responder"})");
  ASSERT_EQ(created.result(), bhttp::status::created) << created.body();
  EXPECT_EQ(created[bhttp::field::cache_control], "no-store");
  auto v = Json(created);
  std::string secret(v.at("secret").as_string());
  ASSERT_TRUE(secret.starts_with("hou_")) << secret;
  const auto& token = v.at("token").as_object();
  EXPECT_EQ(token.at("name").as_string(), "grafana");
  EXPECT_EQ(token.at("role").as_string(), "responder");
  EXPECT_EQ(token.at("prefix").as_string(), secret.substr(0, 8));
  EXPECT_TRUE(token.at("revoked_at").is_null());
  int64_t id = token.at("id").as_int64();

  // The secret works as a bearer token, with the role it was given.
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/incidents", secret).result(), bhttp::status::ok);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/audit", secret).result(), bhttp::status::forbidden);

  // Listings never show it again.
  auto list = Call(bhttp::verb::get, "/api/v1/tokens", admin_);
  ASSERT_EQ(list.result(), bhttp::status::ok);
  EXPECT_THAT(list.body(), Not(HasSubstr(secret)));
  EXPECT_THAT(list.body(), HasSubstr(R"("name":"grafana","role":"responder")"));
  EXPECT_THAT(list.body(), Not(HasSubstr("hash")));

  auto revoked = Call(bhttp::verb::delete_, "/api/v1/tokens/" + std::to_string(id), admin_);
  ASSERT_EQ(revoked.result(), bhttp::status::ok) << revoked.body();
  EXPECT_FALSE(Json(revoked).at("token").at("revoked_at").is_null());
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/incidents", secret).result(),
            bhttp::status::unauthorized);
  auto again = Call(bhttp::verb::delete_, "/api/v1/tokens/" + std::to_string(id), admin_);
  EXPECT_EQ(again.result(), bhttp::status::conflict) << again.body();
  EXPECT_THAT(again.body(), HasSubstr("already revoked"));

  // Both writes are audited with who did them.
  auto audit = Call(bhttp::verb::get, "/api/v1/audit?resource_type=token", admin_);
  EXPECT_THAT(audit.body(), HasSubstr(R"("action":"token.created")"));
  EXPECT_THAT(audit.body(), HasSubstr(R"("action":"token.revoked")"));
  EXPECT_THAT(audit.body(), HasSubstr(R"("actor":{"type":"token","id":"root"})"));
  EXPECT_THAT(audit.body(), Not(HasSubstr(secret)));
}

TEST_F(AdminRoutesTest, CreateTokenSaysWhatIsWrong) {
  auto missing = Call(bhttp::verb::post, "/api/v1/tokens", admin_, R"({"role":"admin"})");
  EXPECT_EQ(missing.result(), bhttp::status::bad_request);
  EXPECT_THAT(missing.body(), HasSubstr("'name' is missing"));
  auto empty = Call(bhttp::verb::post, "/api/v1/tokens", admin_, R"({"name":" ","role":"admin"})");
  EXPECT_EQ(empty.result(), bhttp::status::bad_request);
  EXPECT_THAT(empty.body(), HasSubstr("'name' must not be empty"));
  auto role = Call(bhttp::verb::post, "/api/v1/tokens", admin_, R"({"name":"x","role":"root"})");
  EXPECT_EQ(role.result(), bhttp::status::bad_request);
  EXPECT_THAT(role.body(), HasSubstr("'role' must be one of admin, responder, viewer, not 'root'"));
  auto no_role = Call(bhttp::verb::post, "/api/v1/tokens", admin_, R"({"name":"x"})");
  EXPECT_THAT(no_role.body(), HasSubstr("'role' is missing"));
  auto unknown = Call(bhttp::verb::post, "/api/v1/tokens", admin_,
                      R"({"name":"x","role":"viewer","expires":"never"})");
  EXPECT_EQ(unknown.result(), bhttp::status::bad_request);
  EXPECT_THAT(unknown.body(), HasSubstr("expires"));
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/tokens", admin_, "not json").result(),
            bhttp::status::bad_request);
  auto list = Call(bhttp::verb::get, "/api/v1/tokens", admin_);
  EXPECT_THAT(list.body(), Not(HasSubstr(R"("name":"x")")));  // nothing was created

  auto unknown_id = Call(bhttp::verb::delete_, "/api/v1/tokens/999", admin_);
  EXPECT_EQ(unknown_id.result(), bhttp::status::not_found) << unknown_id.body();
  auto bad_id = Call(bhttp::verb::delete_, "/api/v1/tokens/abc", admin_);
  EXPECT_EQ(bad_id.result(), bhttp::status::bad_request);
  EXPECT_THAT(bad_id.body(), HasSubstr("token id 'abc' is not a positive integer"));
}

// ---- The org as applied

TEST_F(AdminRoutesTest, OrgIsForAdminsAndEmptyBeforeAnyApply) {
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/org", responder_).result(), bhttp::status::forbidden);
  auto r = Call(bhttp::verb::get, "/api/v1/org", admin_);
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  auto v = Json(r);
  EXPECT_FALSE(v.at("applied").as_bool());
  EXPECT_TRUE(v.at("sections").as_array().empty());
  EXPECT_TRUE(v.at("last_change").is_null());
}

TEST_F(AdminRoutesTest, OrgShowsEachObjectsYamlWithSecretsMasked) {
  ApplyOrg(kOrg, "alice");
  auto r = Call(bhttp::verb::get, "/api/v1/org", admin_);
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  EXPECT_EQ(r[bhttp::field::cache_control], "no-store");
  for (const char* secret : {"hook-s3cret", "provider-t0ken", "sms-pass", "ops-s3cret"}) {
    EXPECT_THAT(r.body(), Not(HasSubstr(secret))) << secret;
  }
  auto v = Json(r);
  EXPECT_TRUE(v.at("applied").as_bool());
  EXPECT_EQ(v.at("source_name").as_string(), "/etc/houston/org.yaml");
  EXPECT_FALSE(v.at("applied_at").is_null());
  EXPECT_EQ(v.at("last_change").at("actor").at("id").as_string(), "alice");

  // The whole document keeps its comments and layout; only the secrets changed.
  std::string yaml(v.at("yaml").as_string());
  EXPECT_FALSE(v.at("yaml_reformatted").as_bool());
  EXPECT_THAT(yaml, HasSubstr("# Who is paged."));
  EXPECT_THAT(yaml, HasSubstr(R"(secret: "***"})"));
  EXPECT_THAT(yaml, HasSubstr(R"(Authorization: "***")"));
  EXPECT_THAT(yaml, HasSubstr(R"(url: "https://sms-user:***@sms.example.com/send")"));
  EXPECT_THAT(yaml, HasSubstr(R"(secret: "***")"));
  // It is the original otherwise: masking it back gives what was applied.
  std::string restored = yaml;
  auto put_back = [&](std::string_view masked, std::string_view original) {
    size_t at = restored.find(masked);
    ASSERT_NE(at, std::string::npos) << masked;
    restored.replace(at, masked.size(), original);
  };
  put_back(R"("***")", R"("hook-s3cret")");
  put_back(R"("https://sms-user:***@sms.example.com/send")",
           R"("https://sms-user:sms-pass@sms.example.com/send")");
  put_back(R"("***")", "Bearer provider-t0ken");
  put_back(R"("***")", R"('chat''ops-s3cret')");
  EXPECT_EQ(restored, kOrg);

  std::vector<std::string> masked;
  for (const auto& m : v.at("masked").as_array()) masked.emplace_back(m.as_string());
  EXPECT_EQ(masked, (std::vector<std::string>{
                        "users[alice].contact_methods[alice-hook].secret",
                        "users[alice].contact_methods[alice-sms].url",
                        "users[alice].contact_methods[alice-sms].headers.Authorization",
                        "webhooks[chatops].secret",
                    }));

  // Per section, each object with its own YAML.
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::vector<std::string> order;
  for (const auto& s : v.at("sections").as_array()) {
    std::string name(s.at("name").as_string());
    order.push_back(name);
    for (const auto& o : s.at("objects").as_array()) {
      sections[name][std::string(o.at("id").as_string())] = o.at("yaml").as_string();
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"users", "teams", "escalation_policies", "services",
                                             "webhooks", "settings"}));
  ASSERT_TRUE(sections["services"].contains("checkout"));
  const std::string& checkout = sections["services"]["checkout"];
  EXPECT_THAT(checkout, HasSubstr("id: checkout\nname: Checkout API\n"));
  EXPECT_THAT(checkout, HasSubstr("runbook_url: https://wiki.example.com/runbooks/checkout"));
  EXPECT_THAT(checkout, Not(HasSubstr("quiet")));
  EXPECT_THAT(sections["teams"]["payments"], HasSubstr("members: [alice, bob]"));
  EXPECT_THAT(sections["users"]["alice"], HasSubstr("secret: \"***\""));
  EXPECT_EQ(sections["settings"]["settings"], "suspect_lookback_hours: 24");
}

// A Slack incoming-webhook URL is Slack's credential: its path is masked, its host kept.
TEST_F(AdminRoutesTest, OrgMasksTheSlackWebhookUrlsPath) {
  ApplyOrg(R"yaml(users:
  - id: alice
    role: admin
    contact_methods:
      - {id: alice-slack, type: slack, url: "https://hooks.slack.com/services/T0/B0/XsEcReT"}
      - {id: alice-hook, type: webhook, url: "https://hooks.example.com/services/T0/B0/kept"}
)yaml",
           "alice");
  auto r = Call(bhttp::verb::get, "/api/v1/org", admin_);
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  EXPECT_THAT(r.body(), Not(HasSubstr("XsEcReT")));
  auto v = Json(r);
  std::string yaml(v.at("yaml").as_string());
  EXPECT_THAT(yaml, HasSubstr(R"(url: "https://hooks.slack.com/***")"));
  EXPECT_THAT(yaml, HasSubstr("https://hooks.example.com/services/T0/B0/kept"));
  std::vector<std::string> masked;
  for (const auto& m : v.at("masked").as_array()) masked.emplace_back(m.as_string());
  EXPECT_EQ(masked, std::vector<std::string>{"users[alice].contact_methods[alice-slack].url"});
}

TEST_F(AdminRoutesTest, OrgFallsBackToReformattedYamlWhenASecretCannotBeFoundInPlace) {
  // A block scalar cannot be masked where it stands: the document is emitted again instead.
  ApplyOrg(
      "users:\n  - id: alice\n    contact_methods:\n      - id: hook\n        type: webhook\n"
      "        url: http://127.0.0.1:9000/x\n        secret: |\n          multi\n"
      "          line\n",
      "alice");
  auto v = Json(Call(bhttp::verb::get, "/api/v1/org", admin_));
  EXPECT_TRUE(v.at("yaml_reformatted").as_bool());
  std::string yaml(v.at("yaml").as_string());
  EXPECT_THAT(yaml, Not(HasSubstr("multi")));
  EXPECT_THAT(yaml, HasSubstr("secret: \"***\""));
}

// ---- Services

TEST_F(AdminRoutesTest, ServicesShowKeysToAdminsOnlyAndWhatIsHappening) {
  auto before = Json(Call(bhttp::verb::get, "/api/v1/services", viewer_));
  const auto& quiet = before.at("services").as_array()[1];
  EXPECT_TRUE(quiet.at("last_event_at").is_null());
  EXPECT_EQ(quiet.at("open_incidents").as_int64(), 0);

  auto trigger = std::string(R"({"routing_key":")") + kEventsKey +
                 R"(","event_action":"trigger","dedup_key":"k1","payload":{"summary":"s",)"
                 R"("source":"h","severity":"error"}})";
  ASSERT_EQ(Call(bhttp::verb::post, "/v2/enqueue", "", trigger).result(), bhttp::status::accepted);

  for (const std::string& who : {viewer_, responder_}) {
    auto r = Call(bhttp::verb::get, "/api/v1/services", who);
    ASSERT_EQ(r.result(), bhttp::status::ok);
    EXPECT_THAT(r.body(), Not(HasSubstr(kEventsKey)));
    EXPECT_THAT(r.body(), Not(HasSubstr("hb-checkout")));
    EXPECT_THAT(r.body(), Not(HasSubstr("\"key\"")));
  }
  auto r = Call(bhttp::verb::get, "/api/v1/services", admin_);
  auto v = Json(r);
  const auto& checkout = v.at("services").as_array()[0].as_object();
  EXPECT_EQ(checkout.at("id").as_string(), "checkout");
  EXPECT_EQ(checkout.at("team_name").as_string(), "Payments");
  EXPECT_EQ(checkout.at("open_incidents").as_int64(), 1);
  EXPECT_FALSE(checkout.at("last_event_at").is_null());
  const auto& integrations = checkout.at("integrations").as_array();
  EXPECT_EQ(integrations[0].at("key").as_string(), kEventsKey);
  EXPECT_EQ(integrations[1].at("key").as_string(), "hb-checkout");
  EXPECT_TRUE(integrations[1].at("last_beat_at").is_null());  // never beaten
}

}  // namespace
}  // namespace houston::api
