#include "live/feed.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/test_dir.h"

namespace houston::live {
namespace {

// A WebSocket that keeps what it is sent, up to `capacity` messages (then it is "cut off").
class FakeSocket : public http::WebSocket {
 public:
  explicit FakeSocket(size_t capacity = 1'000'000) : capacity_(capacity) {}
  bool Send(std::shared_ptr<const std::string> text) override {
    if (!open_) return false;
    if (sent.size() >= capacity_) {
      open_ = false;
      return false;
    }
    sent.push_back(*text);
    return true;
  }
  bool SendFrames(std::shared_ptr<const http::TextFrames> frames) override {
    handed.push_back(frames);
    return WebSocket::SendFrames(std::move(frames));
  }
  void Close(uint16_t, std::string) override { open_ = false; }
  bool is_open() const override { return open_; }

  std::vector<std::string> sent;
  std::vector<std::shared_ptr<const http::TextFrames>> handed;  // each SendFrames

 private:
  size_t capacity_;
  bool open_ = true;
};

// How often streams are handed what is new (FeedOptions' default).
constexpr std::chrono::milliseconds kInterval = FeedOptions{}.fanout_interval;

class FeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "houston.db").string();
    o.clock = &clock_;
    o.synchronous_full = false;
    auto s = store::sqlite::SqliteStore::Open(std::move(o));
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    feed_ = std::make_unique<Feed>(*store_, clock_, FeedOptions{.read_batch = 3, .max_replay = 10});
  }
  void TearDown() override {
    feed_.reset();
    store_.reset();
  }

  // A new alert in a new incident: two entries (incident.created, alert.created).
  store::EventOutcome Trigger(std::string key) {
    core::AlertEvent e;
    e.integration_key = "rk1";
    e.service_id = "checkout";
    e.action = core::EventAction::kTrigger;
    e.dedup_key = std::move(key);
    e.summary = "disk full";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    auto r = store::Wait<std::vector<store::EventOutcome>>(
        [&](auto cb) { store_->ApplyAlertEvents({e}, {}, cb); });
    EXPECT_TRUE(r);
    return r ? r->at(0) : store::EventOutcome{};
  }
  void Run() {
    auto r = feed_->RunOnce();
    ASSERT_TRUE(r) << r.error().ToString();
  }
  // Seq of a rendered message.
  static int64_t SeqOf(const std::string& json) {
    auto at = json.find("\"seq\":");
    return at == std::string::npos ? -1 : std::stoll(json.substr(at + 6));
  }
  std::vector<int64_t> Seqs(const FakeSocket& s) {
    std::vector<int64_t> out;
    for (const auto& m : s.sent) out.push_back(SeqOf(m));
    return out;
  }
  // Polls and runs the feed once; the answer if it came. A poll left waiting is answered later
  // into its own slot (the feed keeps the callback until then), never into a dead stack frame.
  std::optional<Result<Page>> PollNow(std::optional<int64_t> since,
                                      std::chrono::milliseconds wait = {}) {
    auto got = std::make_shared<std::optional<Result<Page>>>();
    feed_->Poll(since, wait, [got](Result<Page> p) { *got = std::move(p); });
    Run();
    return *got;
  }

  testing::FakeClock clock_;
  testing::TestDir dir_{"houston-live"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Feed> feed_;
};

TEST_F(FeedTest, RendersOneJsonObjectPerEntry) {
  store::FeedEntry e{7, store::FeedType::kIncidentUpdated, "42",
                     TimePoint(std::chrono::milliseconds(1'767'225'600'000))};
  EXPECT_EQ(Feed::EntryJson(e),
            R"({"seq":7,"type":"incident.updated","id":"42","at":"2026-01-01T00:00:00.000Z"})");
  EXPECT_EQ(
      Feed::PageJson(Page{{e}, 7, false}),
      R"({"changes":[{"seq":7,"type":"incident.updated","id":"42","at":"2026-01-01T00:00:00.000Z"}],"next":7})");
  EXPECT_EQ(Feed::PageJson(Page{{}, 9, true}), R"({"changes":[],"next":9,"resync":true})");
}

TEST_F(FeedTest, LiveStreamsGetEveryNewEntryInOrder) {
  Trigger("before");  // not sent: the streams start from now
  auto a = std::make_shared<FakeSocket>(), b = std::make_shared<FakeSocket>();
  feed_->AddStream(a, std::nullopt);
  feed_->AddStream(b, std::nullopt);
  Run();
  EXPECT_TRUE(a->sent.empty());
  EXPECT_EQ(feed_->streams(), 2u);
  Trigger("k1");
  Trigger("k2");  // four entries: more than one read of three
  Run();
  EXPECT_EQ(Seqs(*a), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(a->sent, b->sent);
  EXPECT_NE(a->sent[0].find(R"("type":"incident.created")"), std::string::npos);
  Run();  // nothing new: nothing sent twice
  EXPECT_EQ(a->sent.size(), 4u);
}

TEST_F(FeedTest, SinceReplaysWhatWasMissedThenGoesLive) {
  Trigger("k1");
  Trigger("k2");
  Run();
  auto s = std::make_shared<FakeSocket>();
  feed_->AddStream(s, 1);
  Trigger("k3");  // committed before the stream is caught up: sent once
  Run();
  EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{2, 3, 4, 5, 6}));
  Trigger("k4");
  Run();
  EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{2, 3, 4, 5, 6, 7, 8}));
}

TEST_F(FeedTest, ASinceNoLongerKeptOrUnknownGetsAResync) {
  for (int i = 0; i < 4; ++i) Trigger("k" + std::to_string(i));
  ASSERT_TRUE(store::Wait<int64_t>([&](auto cb) {
    store_->PruneFeed(store::FeedRetention{.max_age = std::chrono::hours(1), .max_rows = 3}, cb);
  }));
  Run();
  auto pruned = std::make_shared<FakeSocket>(), ahead = std::make_shared<FakeSocket>(),
       kept = std::make_shared<FakeSocket>();
  feed_->AddStream(pruned, 2);  // 3 and 4 are gone
  feed_->AddStream(ahead, 99);
  feed_->AddStream(kept, 6);
  Run();
  EXPECT_EQ(pruned->sent, std::vector<std::string>{R"({"type":"resync"})"});
  EXPECT_EQ(ahead->sent, std::vector<std::string>{R"({"type":"resync"})"});
  EXPECT_EQ(Seqs(*kept), (std::vector<int64_t>{7, 8}));
  // Further than max_replay behind: a resync rather than a long replay.
  for (int i = 0; i < 6; ++i) Trigger("m" + std::to_string(i));
  Run();
  auto far = std::make_shared<FakeSocket>();
  feed_->AddStream(far, 6);
  Run();
  EXPECT_EQ(far->sent, std::vector<std::string>{R"({"type":"resync"})"});
  // After a resync the stream is live (from the next hand-over to the streams).
  Trigger("n");
  clock_.Advance(kInterval);
  Run();
  EXPECT_EQ(far->sent.size(), 3u);
  EXPECT_EQ(pruned->sent.size(), 1u + 6 * 2 + 2);
}

TEST_F(FeedTest, AStreamThatCannotKeepUpIsDroppedAndTheOthersGoOn) {
  auto slow = std::make_shared<FakeSocket>(3), fine = std::make_shared<FakeSocket>();
  feed_->AddStream(slow, std::nullopt);
  feed_->AddStream(fine, std::nullopt);
  Run();
  for (int i = 0; i < 3; ++i) Trigger("k" + std::to_string(i));
  Run();
  EXPECT_FALSE(slow->is_open());
  EXPECT_EQ(fine->sent.size(), 6u);
  EXPECT_EQ(feed_->streams(), 1u);
  Trigger("k9");
  clock_.Advance(kInterval);
  Run();
  EXPECT_EQ(fine->sent.size(), 8u);
  EXPECT_EQ(slow->sent.size(), 3u);
}

TEST_F(FeedTest, StreamsAreHandedWhatIsNewAtMostOncePerInterval) {
  auto a = std::make_shared<FakeSocket>(), b = std::make_shared<FakeSocket>();
  feed_->AddStream(a, std::nullopt);
  feed_->AddStream(b, std::nullopt);
  Run();
  // The first change after a quiet spell goes out at once.
  Trigger("k1");
  Run();
  EXPECT_EQ(Seqs(*a), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a->handed.size(), 1u);
  // The next ones wait until the interval has passed (however many commits wake the feed)...
  Trigger("k2");
  auto next = feed_->RunOnce();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(**next, clock_.Now() + kInterval);
  Trigger("k3");
  clock_.Advance(kInterval - std::chrono::milliseconds(1));
  Run();
  EXPECT_EQ(a->sent.size(), 2u);
  // ...meanwhile the table is read (a new stream is caught up from it at once, a long poll
  // answered from it, and where the feed stands is known)...
  auto late = std::make_shared<FakeSocket>();
  feed_->AddStream(late, 0);
  Run();
  EXPECT_EQ(Seqs(*late), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(feed_->head(), 6);
  auto polled = PollNow(2);
  ASSERT_TRUE(polled && *polled);
  EXPECT_EQ((*polled)->next, 5);  // read_batch 3
  EXPECT_EQ(a->sent.size(), 2u);
  // ...then go out together: one hand-over, each change its own message, in order.
  clock_.Advance(std::chrono::milliseconds(1));
  Run();
  EXPECT_EQ(Seqs(*a), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a->handed.size(), 2u);
  EXPECT_EQ(a->handed[1]->messages().size(), 4u);
  EXPECT_EQ(b->sent, a->sent);
  EXPECT_EQ(late->sent, a->sent);
  // Quiet for an interval: the next change goes out at once again.
  clock_.Advance(kInterval);
  Trigger("k4");
  Run();
  EXPECT_EQ(a->sent.size(), 8u);
  EXPECT_EQ(a->handed.size(), 3u);
}

TEST_F(FeedTest, EveryStreamIsHandedTheSameFramedBuffer) {
  std::vector<std::shared_ptr<FakeSocket>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_shared<FakeSocket>());
    feed_->AddStream(streams.back(), std::nullopt);
  }
  Run();
  Trigger("k1");
  Run();
  for (const auto& s : streams) {
    ASSERT_EQ(s->handed.size(), 1u);
    EXPECT_EQ(s->handed[0], streams[0]->handed[0]);  // one buffer, shared
  }
  // Framed once: each message as one final, unmasked text frame.
  const auto& frames = *streams[0]->handed[0];
  std::string expected;
  for (const auto& m : frames.messages()) {
    ASSERT_LT(m->size(), 126u);
    expected += '\x81';
    expected += static_cast<char>(m->size());
    expected += *m;
  }
  EXPECT_EQ(frames.wire(), expected);
  EXPECT_EQ(Seqs(*streams[2]), (std::vector<int64_t>{1, 2}));
}

TEST_F(FeedTest, PollsAnswerAtOnceWhenThereIsSomethingAndWaitOtherwise) {
  // Where the feed stands.
  auto r = PollNow(std::nullopt);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->next, 0);
  Trigger("k1");
  Trigger("k2");
  // Behind: at once, one read's worth.
  r = PollNow(0);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->changes.size(), 3u);
  EXPECT_EQ((*r)->next, 3);
  r = PollNow(3);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->changes.size(), 1u);
  EXPECT_EQ((*r)->next, 4);
  // Up to date: waits for the next commit.
  r = PollNow(4, std::chrono::seconds(30));
  EXPECT_FALSE(r);
  std::optional<Result<Page>> waited;
  feed_->Poll(4, std::chrono::seconds(30), [&](Result<Page> p) { waited = std::move(p); });
  Run();
  EXPECT_FALSE(waited);
  Trigger("k3");
  Run();
  ASSERT_TRUE(waited && *waited);
  EXPECT_EQ((*waited)->changes.size(), 2u);
  EXPECT_EQ((*waited)->next, 6);
  // ...or answers empty when its wait is over.
  waited.reset();
  auto next = feed_->RunOnce();
  feed_->Poll(6, std::chrono::seconds(30), [&](Result<Page> p) { waited = std::move(p); });
  next = feed_->RunOnce();
  ASSERT_TRUE(next && *next);
  EXPECT_LE(**next, clock_.Now() + std::chrono::seconds(30));
  clock_.Advance(std::chrono::seconds(29));
  Run();
  EXPECT_FALSE(waited);
  clock_.Advance(std::chrono::seconds(1));
  Run();
  ASSERT_TRUE(waited && *waited);
  EXPECT_TRUE((*waited)->changes.empty());
  EXPECT_EQ((*waited)->next, 6);
  // Ahead of the feed: resync.
  r = PollNow(50);
  ASSERT_TRUE(r && *r);
  EXPECT_TRUE((*r)->resync);
  EXPECT_EQ((*r)->next, 6);
}

}  // namespace
}  // namespace houston::live
