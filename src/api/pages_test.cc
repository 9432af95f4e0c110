// Pages for people: the root page, signed incident pages and episode-bound action links, and
// the status page cache, through the real Router, Api and SqliteStore (temp file).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>

#include "api/api.h"
#include "notify/notify.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::api {
namespace {

namespace bhttp = http::bhttp;
using core::IncidentAction;
using core::IncidentStatus;

constexpr std::string_view kKey = "a link key for the pages test";

constexpr const char* kOrg = R"yaml(
users:
  - {id: alice, name: Alice Example}
escalation_policies:
  - id: ep
    steps:
      - delay_minutes: 0
        targets: [{user: alice}]
services:
  - id: checkout
    name: Checkout API
    escalation_policy: ep
status_page:
  title: Shop Status
  components:
    - {id: shop, name: Shop, services: [checkout]}
)yaml";

class PagesTest : public ::testing::Test {
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
    options.link_key = std::string(kKey);
    options.version = "1.2.3";
    api_ = std::make_unique<Api>(*store_, metrics_, clock_, options);
    auto org = config::ParseOrg(kOrg, "org.yaml");
    ASSERT_TRUE(org) << org.error().ToString();
    api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
    api_->Register(router_);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }
  http::Response Call(bhttp::verb verb, const std::string& target, bool host = true) {
    http::Request raw{verb, target, 11};
    if (host) raw.set(bhttp::field::host, "houston.test:8123");
    std::string_view path = raw.target();
    auto m = router_.Find(verb, path);
    EXPECT_NE(m.handler, nullptr) << target;
    http::HttpRequest req{raw, path, "", m.params, "127.0.0.1", "test"};
    std::promise<http::Response> p;
    (*m.handler)(req, [&p](http::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  core::Incident Declare() {
    store::NewIncident n;
    n.title = "Checkout 500s";
    n.sev = "SEV2";
    n.services = {"checkout"};
    n.roles = {{"commander", "alice"}};
    n.escalation_policy = "ep";
    auto inc = store::Wait<core::Incident>([&](auto cb) {
      store_->DeclareIncident(n, {"token", "tester", "api"}, cb);
    });
    EXPECT_TRUE(inc) << inc.error().ToString();
    return *inc;
  }
  core::Incident Move(core::IncidentId id, IncidentAction a) {
    auto inc = store::Wait<core::Incident>([&](auto cb) {
      store_->TransitionIncident(id, a, {"token", "tester", "api"}, cb);
    });
    EXPECT_TRUE(inc) << inc.error().ToString();
    return *inc;
  }
  std::string Link(const core::Incident& inc, std::string_view action, int64_t episode) {
    return "/actions/" + notify::MakeActionToken(kKey, inc.id, action,
                                                 clock_.Now() + std::chrono::hours(24), "alice",
                                                 episode);
  }
  // The path a form on `html` posts to for `label`.
  static std::string FormAction(const std::string& html, std::string_view label) {
    size_t button = html.find(std::string(">") + std::string(label) + "</button>");
    if (button == std::string::npos) return "";
    size_t form = html.rfind("<form method=\"post\" action=\"", button);
    if (form == std::string::npos) return "";
    size_t start = form + std::string_view("<form method=\"post\" action=\"").size();
    return html.substr(start, html.find('"', start) - start);
  }

  testing::TestDir dir_{"houston-pages-test"};
  houston::testing::FakeClock clock_{TimePoint(std::chrono::milliseconds(1'796'378'400'000))};
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<Api> api_;
  http::Router router_;
};

TEST_F(PagesTest, RootIsASmallPageForPeople) {
  for (auto verb : {bhttp::verb::get, bhttp::verb::head}) {
    auto r = Call(verb, "/");
    ASSERT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r[bhttp::field::content_type], "text/html; charset=utf-8");
    const std::string& html = r.body();
    for (const char* link : {"href=\"/status\"", "href=\"/status.json\"", "href=\"/healthz\"",
                             "href=\"/metrics\"", "href=\"/api/v1\""}) {
      EXPECT_NE(html.find(link), std::string::npos) << link;
    }
    for (const char* doc : {"README.md", "docs/config.md"}) {
      EXPECT_NE(html.find(doc), std::string::npos) << doc;
    }
    EXPECT_NE(html.find("HOUSTON_URL=http://houston.test:8123"), std::string::npos);
    EXPECT_NE(html.find("version 1.2.3"), std::string::npos);
    // Self-contained: nothing is loaded from elsewhere.
    EXPECT_EQ(html.find("src="), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
  }
  // Without a Host header (HTTP/1.0): the listen address.
  api_->set_listen_url("http://127.0.0.1:9999");
  EXPECT_NE(Call(bhttp::verb::get, "/", false).body().find("HOUSTON_URL=http://127.0.0.1:9999"),
            std::string::npos);

  auto root = Call(bhttp::verb::get, "/api/v1");
  ASSERT_EQ(root.result(), bhttp::status::ok);
  auto v = boost::json::parse(root.body());
  EXPECT_EQ(v.at("version"), "1.2.3");
  bool incidents = false;
  for (const auto& r : v.at("resources").as_array()) incidents |= r == "/api/v1/incidents";
  EXPECT_TRUE(incidents) << root.body();
}

TEST_F(PagesTest, AViewLinkShowsTheIncidentAndGetNeverActs) {
  auto inc = Declare();
  std::string url = notify::IncidentPageUrl("http://h", kKey, inc.id, inc.episode,
                                            clock_.Now() + notify::kViewLinkLifetime, "alice");
  std::string path = url.substr(std::string_view("http://h").size());
  auto r = Call(bhttp::verb::get, path);
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  const std::string& html = r.body();
  for (const char* want : {"Incident #1: Checkout 500s", "triggered", "SEV2", "Checkout API",
                           "Commander: Alice Example", "Recent timeline", "triggered",
                           ">Acknowledge</button>", ">Resolve</button>"}) {
    EXPECT_NE(html.find(want), std::string::npos) << want << "\n" << html;
  }
  EXPECT_EQ(store_->GetIncident(inc.id)->status, IncidentStatus::kTriggered);
  // A view link is not an action.
  EXPECT_EQ(Call(bhttp::verb::post, path).result(), bhttp::status::forbidden);
  EXPECT_EQ(store_->GetIncident(inc.id)->status, IncidentStatus::kTriggered);
  // Its buttons post to acknowledge/resolve links of this episode.
  std::string ack = FormAction(html, "Acknowledge");
  ASSERT_TRUE(ack.starts_with("/actions/v1.1.ack.")) << ack;
  EXPECT_EQ(Call(bhttp::verb::post, ack).result(), bhttp::status::ok);
  auto acked = *store_->GetIncident(inc.id);
  EXPECT_EQ(acked.status, IncidentStatus::kAcknowledged);
  // Acknowledged: no Acknowledge button any more, Resolve still.
  std::string after = Call(bhttp::verb::get, path).body();
  EXPECT_EQ(FormAction(after, "Acknowledge"), "");
  EXPECT_NE(FormAction(after, "Resolve"), "");
  // Resolved: read-only.
  Move(inc.id, IncidentAction::kResolve);
  std::string resolved = Call(bhttp::verb::get, path).body();
  EXPECT_EQ(resolved.find("<form"), std::string::npos);
  EXPECT_NE(resolved.find("resolved"), std::string::npos);
  // Tampered: refused.
  std::string bad = path;
  bad.back() = bad.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call(bhttp::verb::get, bad).result(), bhttp::status::forbidden);
}

TEST_F(PagesTest, AnOldLinkDoesNothingToALaterEpisode) {
  auto inc = Declare();
  std::string old_ack = Link(inc, "ack", 0);
  std::string old_resolve = Link(inc, "resolve", 0);
  std::string old_view = Link(inc, "view", 0);
  Move(inc.id, IncidentAction::kResolve);
  clock_.Advance(std::chrono::minutes(5));
  auto reopened = Move(inc.id, IncidentAction::kReopen);
  ASSERT_EQ(reopened.episode, 1);
  auto esc_before = *store_->GetEscalation(inc.id);

  // The confirmation page says so, and has nothing to press.
  auto page = Call(bhttp::verb::get, old_ack);
  EXPECT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("This link was for an earlier episode of incident #1"),
            std::string::npos)
      << page.body();
  EXPECT_NE(page.body().find("resolved at 2026-12-04T10:00:00.000Z"), std::string::npos)
      << page.body();
  EXPECT_NE(page.body().find("it has been reopened since"), std::string::npos);
  EXPECT_EQ(page.body().find("<form"), std::string::npos);
  // Posting does nothing: the incident stays triggered and keeps paging.
  for (const auto& link : {old_ack, old_resolve}) {
    auto r = Call(bhttp::verb::post, link);
    EXPECT_EQ(r.result(), bhttp::status::conflict) << link;
    EXPECT_NE(r.body().find("earlier episode"), std::string::npos);
  }
  auto now = *store_->GetIncident(inc.id);
  EXPECT_EQ(now.status, IncidentStatus::kTriggered);
  EXPECT_EQ((*store_->GetEscalation(inc.id))->state, esc_before->state);
  // The old view link still shows the incident, without buttons.
  std::string view = Call(bhttp::verb::get, old_view).body();
  EXPECT_NE(view.find("earlier episode"), std::string::npos);
  EXPECT_EQ(view.find("<form"), std::string::npos);
  // A link for this episode works.
  EXPECT_EQ(Call(bhttp::verb::post, Link(inc, "ack", 1)).result(), bhttp::status::ok);
  EXPECT_EQ(store_->GetIncident(inc.id)->status, IncidentStatus::kAcknowledged);
}

TEST_F(PagesTest, StatusPageIsBuiltOncePerChange) {
  auto json = [&] { return Call(bhttp::verb::get, "/status.json").body(); };
  std::string first = json();
  for (const char* page : {"/status", "/status.json", "/status/feed.atom", "/status/feed.rss"}) {
    EXPECT_EQ(Call(bhttp::verb::get, page).result(), bhttp::status::ok);
  }
  EXPECT_EQ(api_->status_page_builds(), 1u);
  EXPECT_EQ(json(), first);
  // A change made anywhere (here straight in the store, as the engine would) shows at once.
  auto inc = Declare();
  std::string open = json();
  EXPECT_EQ(api_->status_page_builds(), 2u);
  EXPECT_NE(open.find("\"partial_outage\""), std::string::npos) << open;
  Move(inc.id, IncidentAction::kResolve);
  std::string resolved = json();
  EXPECT_EQ(api_->status_page_builds(), 3u);
  // Resolved without a public update: a closing entry that promises nothing more.
  auto v = boost::json::parse(resolved);
  const auto& updates = v.at("history").at(0).at("updates").as_array();
  ASSERT_EQ(updates.size(), 1u) << resolved;
  EXPECT_EQ(updates[0].at("status"), "resolved");
  EXPECT_EQ(updates[0].at("text"), "This incident has been resolved.");
  // A new org rebuilds it; so does time passing (windows, the history's edge), within a second.
  auto org = config::ParseOrg(kOrg, "org.yaml");
  api_->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
  json();
  EXPECT_EQ(api_->status_page_builds(), 4u);
  clock_.Advance(std::chrono::milliseconds(999));
  json();
  EXPECT_EQ(api_->status_page_builds(), 4u);
  clock_.Advance(std::chrono::milliseconds(1));
  json();
  EXPECT_EQ(api_->status_page_builds(), 5u);
}

}  // namespace
}  // namespace houston::api
