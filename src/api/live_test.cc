// GET /api/v1/live through the real Router, Api, Feed and SqliteStore, without sockets: the feed
// runs on the test's thread (Feed::RunOnce) with a FakeClock.
#include <gtest/gtest.h>

#include <filesystem>

#include "api/api.h"
#include "live/feed.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::api {
namespace {

namespace bhttp = http::bhttp;

class Socket : public http::WebSocket {
 public:
  bool Send(std::shared_ptr<const std::string> text) override {
    sent.push_back(*text);
    return true;
  }
  void Close(uint16_t, std::string) override {}
  bool is_open() const override { return true; }
  std::vector<std::string> sent;
};

class LiveApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "h.db").string();
    o.clock = &clock_;
    o.synchronous_full = false;
    auto s = store::sqlite::SqliteStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    feed_ = std::make_unique<live::Feed>(*store_, clock_);
    ApiOptions options;
    options.live = feed_.get();
    options.live_socket.max_buffered_bytes = 12345;
    api_ = std::make_unique<Api>(*store_, metrics_, clock_, options);
    api_->Register(router_);
    std::string token = NewApiToken();
    ASSERT_TRUE(store::Wait<store::Token>([&](auto cb) {
      store_->CreateToken("viewer", store::Role::kViewer, TokenHash(token), "", {}, cb);
    }));
    viewer_ = token;
  }
  void TearDown() override {
    api_.reset();
    feed_.reset();
    store_.reset();
  }

  struct Call {
    std::optional<http::Response> answer;
    std::optional<http::WebSocketOptions> accepted;
    http::WebSocketOpen open;
  };
  // Sends GET `target`; a WebSocket handshake when `upgrade`. The feed does not run.
  std::shared_ptr<Call> Get(const std::string& target, bool upgrade = false,
                            const std::string& origin = "", bool token = true) {
    auto call = std::make_shared<Call>();
    raw_ = std::make_unique<http::Request>(bhttp::verb::get, target, 11);
    raw_->set(bhttp::field::host, "houston.example:8080");
    if (token) raw_->set(bhttp::field::authorization, "Bearer " + viewer_);
    if (!origin.empty()) raw_->set(bhttp::field::origin, origin);
    std::string_view t = raw_->target();
    std::string_view path = t.substr(0, t.find('?'));
    std::string_view query = t.find('?') == std::string_view::npos ? "" : t.substr(t.find('?') + 1);
    auto m = router_.Find(bhttp::verb::get, path);
    EXPECT_NE(m.handler, nullptr);
    http::HttpRequest req{*raw_, path, query, m.params, "127.0.0.1", "test"};
    if (upgrade) {
      req.accept_websocket = [call](http::WebSocketOptions o, http::WebSocketOpen open) {
        call->accepted = std::move(o);
        call->open = std::move(open);
      };
    }
    (*m.handler)(req, [call](http::Response r) { call->answer = std::move(r); });
    return call;
  }
  void RunFeed() {
    auto r = feed_->RunOnce();
    ASSERT_TRUE(r) << r.error().ToString();
  }
  void Trigger(const std::string& key) {
    core::AlertEvent e;
    e.integration_key = "rk";
    e.service_id = "checkout";
    e.action = core::EventAction::kTrigger;
    e.dedup_key = key;
    e.summary = "s";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    ASSERT_TRUE(store::Wait<std::vector<store::EventOutcome>>(
        [&](auto cb) { store_->ApplyAlertEvents({e}, {}, cb); }));
  }

  testing::TestDir dir_{"houston-live-api"};
  houston::testing::FakeClock clock_;
  http::Metrics metrics_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<live::Feed> feed_;
  std::unique_ptr<Api> api_;
  http::Router router_;
  std::unique_ptr<http::Request> raw_;
  std::string viewer_;
};

TEST_F(LiveApiTest, NeedsAToken) {
  auto c = Get("/api/v1/live", false, "", /*token=*/false);
  ASSERT_TRUE(c->answer);
  EXPECT_EQ(c->answer->result(), bhttp::status::unauthorized);
  c = Get("/api/v1/live", true, "", /*token=*/false);
  ASSERT_TRUE(c->answer);
  EXPECT_EQ(c->answer->result(), bhttp::status::unauthorized);
  EXPECT_FALSE(c->accepted);
}

TEST_F(LiveApiTest, BadParametersAreNamed) {
  for (std::string target : {"/api/v1/live?since=abc", "/api/v1/live?since=-1",
                             "/api/v1/live?since=0&wait=61", "/api/v1/live?wait=x"}) {
    auto c = Get(target);
    ASSERT_TRUE(c->answer) << target;
    EXPECT_EQ(c->answer->result(), bhttp::status::bad_request) << target;
    std::string name = target.find("wait") != std::string::npos ? "'wait'" : "'since'";
    EXPECT_NE(c->answer->body().find(name), std::string::npos) << c->answer->body();
  }
}

TEST_F(LiveApiTest, LongPollAnswersWithChangesOrWhenOneArrivesOrEmptyAfterTheWait) {
  Trigger("k1");
  auto c = Get("/api/v1/live?since=0");
  RunFeed();
  ASSERT_TRUE(c->answer);
  EXPECT_EQ(c->answer->result(), bhttp::status::ok);
  EXPECT_NE(c->answer->body().find(R"("type":"alert.created")"), std::string::npos);
  EXPECT_NE(c->answer->body().find(R"("next":2)"), std::string::npos) << c->answer->body();

  c = Get("/api/v1/live?since=2&wait=30");
  RunFeed();
  EXPECT_FALSE(c->answer);
  Trigger("k2");
  RunFeed();
  ASSERT_TRUE(c->answer);
  EXPECT_NE(c->answer->body().find(R"("next":4)"), std::string::npos) << c->answer->body();

  c = Get("/api/v1/live?since=4&wait=5");
  RunFeed();
  EXPECT_FALSE(c->answer);
  clock_.Advance(std::chrono::seconds(5));
  RunFeed();
  ASSERT_TRUE(c->answer);
  EXPECT_EQ(c->answer->body(), R"({"changes":[],"next":4})");
}

TEST_F(LiveApiTest, WebSocketFromAForeignOriginIsRefused) {
  auto c = Get("/api/v1/live", true, "https://evil.example");
  ASSERT_TRUE(c->answer);
  EXPECT_EQ(c->answer->result(), bhttp::status::forbidden);
  EXPECT_NE(c->answer->body().find("evil.example"), std::string::npos);
  EXPECT_FALSE(c->accepted);
}

TEST_F(LiveApiTest, WebSocketReplaysSinceThenStreams) {
  Trigger("k1");
  for (std::string origin : {"", "http://houston.example:8080"}) {
    auto c = Get("/api/v1/live?since=1", true, origin);
    EXPECT_FALSE(c->answer);
    ASSERT_TRUE(c->accepted) << origin;
    EXPECT_EQ(c->accepted->max_buffered_bytes, 12345u);
    auto s = std::make_shared<Socket>();
    c->open(s);
    RunFeed();
    ASSERT_EQ(s->sent.size(), 1u);
    EXPECT_NE(s->sent[0].find(R"("seq":2,"type":"alert.created")"), std::string::npos);
  }
}

}  // namespace
}  // namespace houston::api
