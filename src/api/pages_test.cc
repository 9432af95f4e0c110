// Pages for people: the web UI's page and files, signed incident pages and episode-bound action
// links, and the status page cache, through the real Router, Api and SqliteStore (temp file).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>

#include "api/api.h"
#include "notify/notify.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"
#include "web/assets.h"

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

TEST_F(PagesTest, EveryUiPathAnswersWithTheUiPageUnderAStrictPolicy) {
  for (const char* path : {"/", "/incidents", "/incidents/42", "/oncall", "/schedules/payments",
                           "/signin", "/tokens", "/incidents/42/postmortem"}) {
    for (auto verb : {bhttp::verb::get, bhttp::verb::head}) {
      auto r = Call(verb, path);
      ASSERT_EQ(r.result(), bhttp::status::ok) << path;
      EXPECT_EQ(r[bhttp::field::content_type], "text/html; charset=utf-8") << path;
      EXPECT_EQ(r[bhttp::field::cache_control], "no-cache") << path;
      // Scripts, styles and connections from this server only; never framed.
      std::string csp(r["Content-Security-Policy"]);
      EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
      EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
      EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
      EXPECT_EQ(r["X-Frame-Options"], "DENY");
    }
  }
  auto page = Call(bhttp::verb::get, "/incidents");
  const std::string& html = page.body();
  // The page names this build's files, and loads nothing from elsewhere.
  std::string app = "/ui/" + std::string(web::BuildId()) + "/app.js";
  EXPECT_NE(html.find("src=\"" + app + "\""), std::string::npos) << html;
  EXPECT_EQ(html.find("http://"), std::string::npos) << html;
  EXPECT_EQ(html.find("https://"), std::string::npos) << html;
  EXPECT_EQ(html.find("<script>"), std::string::npos) << "no inline script";
  // Its ETag is the build's: a new build is fetched again, an unchanged one is a 304.
  EXPECT_EQ(page[bhttp::field::etag], "\"" + std::string(web::BuildId()) + "\"");
}

TEST_F(PagesTest, UiFilesAreImmutablePerBuildGzippedAndRevalidatedByEtag) {
  std::string app = "/ui/" + std::string(web::BuildId()) + "/app.js";
  http::Request raw{bhttp::verb::get, app, 11};
  auto call = [&](http::Request& rq) {
    auto m = router_.Find(rq.method(), rq.target());
    EXPECT_NE(m.handler, nullptr);
    http::HttpRequest req{rq, rq.target(), "", m.params, "127.0.0.1", "test"};
    std::promise<http::Response> p;
    (*m.handler)(req, [&p](http::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto plain = call(raw);
  ASSERT_EQ(plain.result(), bhttp::status::ok);
  EXPECT_EQ(plain[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(plain[bhttp::field::cache_control], "public, max-age=31536000, immutable");
  EXPECT_EQ(plain[bhttp::field::content_encoding], "");
  EXPECT_NE(plain.body().find("import"), std::string::npos);
  EXPECT_EQ(plain[bhttp::field::vary], "Accept-Encoding");

  raw.set(bhttp::field::accept_encoding, "br, gzip;q=0.8");
  auto gz = call(raw);
  ASSERT_EQ(gz.result(), bhttp::status::ok);
  EXPECT_EQ(gz[bhttp::field::content_encoding], "gzip");
  ASSERT_GE(gz.body().size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz.body()[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz.body()[1]), 0x8b);
  EXPECT_LT(gz.body().size(), plain.body().size());
  raw.set(bhttp::field::accept_encoding, "gzip;q=0");
  EXPECT_EQ(call(raw)[bhttp::field::content_encoding], "") << "q=0 refuses gzip";

  // Revalidation by content hash.
  raw.set(bhttp::field::if_none_match, plain[bhttp::field::etag]);
  auto same = call(raw);
  EXPECT_EQ(same.result(), bhttp::status::not_modified);
  EXPECT_TRUE(same.body().empty());
  raw.set(bhttp::field::if_none_match, "\"something-else\"");
  EXPECT_EQ(call(raw).result(), bhttp::status::ok);

  // The libraries import each other as files served next to them.
  http::Request hooks{bhttp::verb::get, "/ui/" + std::string(web::BuildId()) + "/hooks.js", 11};
  auto h = call(hooks);
  ASSERT_EQ(h.result(), bhttp::status::ok);
  EXPECT_NE(h.body().find("from\"./preact.js\""), std::string::npos);
  EXPECT_EQ(h.body().find("from\"preact\""), std::string::npos);
  EXPECT_EQ(h.body().find("sourceMappingURL"), std::string::npos);

  // A tab from an older build gets this build's file, not to be kept.
  http::Request old{bhttp::verb::get, "/ui/0123456789ab/app.js", 11};
  auto o = call(old);
  ASSERT_EQ(o.result(), bhttp::status::ok);
  EXPECT_EQ(o[bhttp::field::cache_control], "no-cache");
  // Unknown files, and the page itself under /ui/, are 404.
  for (const char* bad : {"/ui/x/nope.js", "/ui/x/index.html"}) {
    http::Request rq{bhttp::verb::get, bad, 11};
    EXPECT_EQ(call(rq).result(), bhttp::status::not_found) << bad;
  }
}

TEST_F(PagesTest, TheApiRootListsTheResources) {
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
