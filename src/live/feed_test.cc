#include "live/feed.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

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

TEST_F(FeedTest, AReplayTooLargeForTheStreamsBufferIsAResync) {
  feed_ = std::make_unique<Feed>(
      *store_, clock_, FeedOptions{.read_batch = 3, .max_replay = 10, .max_replay_bytes = 200});
  Trigger("k1");
  Trigger("k2");  // four entries of about 80 bytes each
  Run();
  auto near = std::make_shared<FakeSocket>(), far = std::make_shared<FakeSocket>();
  feed_->AddStream(near, 2);  // two entries: they fit
  feed_->AddStream(far, 0);   // four: they do not
  Run();
  EXPECT_EQ(Seqs(*near), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(far->sent, (std::vector<std::string>{std::string(Feed::kResyncJson)}));
  EXPECT_TRUE(far->is_open());
  Trigger("k3");  // both go on live
  clock_.Advance(kInterval);
  Run();
  EXPECT_EQ(Seqs(*far).back(), 6);
  EXPECT_EQ(Seqs(*near).back(), 6);
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

TEST_F(FeedTest, AClosedStreamLeavesTheCountWithoutWaitingForAChange) {
  auto a = std::make_shared<FakeSocket>(), b = std::make_shared<FakeSocket>();
  feed_->AddStream(a, std::nullopt);
  feed_->AddStream(b, std::nullopt);
  Run();
  EXPECT_EQ(feed_->streams(), 2u);
  a->Close(1000, "");
  Run();  // a poll tick: nothing new
  EXPECT_EQ(feed_->streams(), 1u);
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

TEST_F(FeedTest, ManyStreamsAreHandedWhatIsNewLessOften) {
  // A budget of 30 writes/s: one hand-over per 100 ms suits 3 streams; 6 need 200 ms.
  feed_ = std::make_unique<Feed>(*store_, clock_,
                                 FeedOptions{.read_batch = 3, .max_writes_per_second = 30});
  std::vector<std::shared_ptr<FakeSocket>> streams;
  auto add = [&](int n) {
    for (int i = 0; i < n; ++i) {
      streams.push_back(std::make_shared<FakeSocket>());
      feed_->AddStream(streams.back(), std::nullopt);
    }
    Run();
  };
  add(3);
  Trigger("k1");
  Run();  // the first change after a quiet spell: at once
  Trigger("k2");
  auto next = feed_->RunOnce();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(**next, clock_.Now() + kInterval);
  clock_.Advance(kInterval);
  add(3);  // handed k2 (to three streams); then six
  EXPECT_EQ(streams[0]->sent.size(), 4u);
  Trigger("k3");
  clock_.Advance(kInterval);
  Run();  // handed to six streams: the next in 200 ms
  EXPECT_EQ(streams[0]->sent.size(), 6u);
  EXPECT_EQ(Seqs(*streams[5]), (std::vector<int64_t>{5, 6}));
  Trigger("k4");
  next = feed_->RunOnce();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(**next, clock_.Now() + 2 * kInterval);
  clock_.Advance(2 * kInterval - std::chrono::milliseconds(1));
  Run();
  EXPECT_EQ(streams[0]->sent.size(), 6u);
  clock_.Advance(std::chrono::milliseconds(1));
  Run();
  for (const auto& s : streams) EXPECT_EQ(Seqs(*s).back(), 8) << Seqs(*s).size();
}

TEST_F(FeedTest, AStormGoesToStreamsAsOneCountingMessagePerType) {
  feed_ = std::make_unique<Feed>(
      *store_, clock_, FeedOptions{.read_batch = 3, .max_replay = 10, .max_ids_per_type = 2});
  auto a = std::make_shared<FakeSocket>();
  feed_->AddStream(a, std::nullopt);
  Run();
  Trigger("k1");  // the first change after a quiet spell: at once, one message per change
  Run();
  EXPECT_EQ(Seqs(*a), (std::vector<int64_t>{1, 2}));
  // Three alerts (in three incidents) within one interval: more objects of each type than 2.
  for (const char* key : {"k2", "k3", "k4"}) Trigger(key);
  clock_.Advance(kInterval);
  Run();
  ASSERT_EQ(a->sent.size(), 4u);
  EXPECT_TRUE(a->sent[2].starts_with(R"({"seq":3,"type":"incident.created","count":3,"at")"))
      << a->sent[2];
  EXPECT_TRUE(a->sent[3].starts_with(R"({"seq":4,"type":"alert.created","count":3,"at")"))
      << a->sent[3];
  // A stream that goes on from the last seq it got is sent every change after it.
  auto resumed = std::make_shared<FakeSocket>();
  feed_->AddStream(resumed, 4);
  Run();
  EXPECT_EQ(Seqs(*resumed), (std::vector<int64_t>{5, 6, 7, 8}));
}

store::FeedEntry Entry(int64_t seq, store::FeedType type, std::string id) {
  return store::FeedEntry{seq, type, std::move(id), TimePoint(std::chrono::seconds(seq))};
}

// A field of a rendered message ("" if absent).
std::string FieldOf(const std::string& json, std::string_view name) {
  const std::string key = fmt::format(R"("{}":)", name);
  auto at = json.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  if (json[at] == '"') return json.substr(at + 1, json.find('"', at + 1) - at - 1);
  return json.substr(at, json.find_first_of(",}", at) - at);
}

TEST(CoalesceTest, EachObjectOnceAsItsFirstChange) {
  using store::FeedType;
  std::vector<store::FeedEntry> in = {
      Entry(1, FeedType::kIncidentCreated, "7"), Entry(2, FeedType::kAlertCreated, "1"),
      Entry(3, FeedType::kIncidentUpdated, "7"), Entry(4, FeedType::kIncidentUpdated, "7"),
      Entry(5, FeedType::kAlertUpdated, "1"),    Entry(6, FeedType::kIncidentUpdated, "8")};
  auto out = Feed::Coalesce(in, 50);
  std::vector<std::string> got;
  for (const auto& m : out) got.push_back(*m);
  EXPECT_EQ(got, (std::vector<std::string>{Feed::EntryJson(in[0]), Feed::EntryJson(in[1]),
                                           Feed::EntryJson(in[2]), Feed::EntryJson(in[4]),
                                           Feed::EntryJson(in[5])}));
  EXPECT_TRUE(Feed::Coalesce({}, 50).empty());
}

TEST(CoalesceTest, ATypeWithMoreObjectsThanTheLimitIsOneMessageThatCountsItsChanges) {
  using store::FeedType;
  std::vector<store::FeedEntry> in = {
      Entry(1, FeedType::kIncidentUpdated, "7"), Entry(2, FeedType::kAlertCreated, "1"),
      Entry(3, FeedType::kAlertCreated, "2"),    Entry(4, FeedType::kIncidentUpdated, "7"),
      Entry(5, FeedType::kAlertCreated, "3"),    Entry(6, FeedType::kAlertCreated, "2"),
      Entry(7, FeedType::kIncidentUpdated, "9")};
  auto out = Feed::Coalesce(in, 2);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(*out[0], Feed::EntryJson(in[0]));
  EXPECT_EQ(*out[1],
            R"({"seq":2,"type":"alert.created","count":4,"at":"1970-01-01T00:00:02.000Z"})");
  EXPECT_EQ(*out[2], Feed::EntryJson(in[6]));
  // At the limit, every object is still named.
  EXPECT_EQ(Feed::Coalesce(in, 3).size(), 5u);
}

// Every type, the last ones too (a postmortem or an action item changing once cut every live
// stream off: the table of types ended before them).
TEST(CoalesceTest, EveryTypeIsCoalesced) {
  std::vector<store::FeedEntry> in;
  for (size_t t = 0; t < store::kFeedTypeCount; ++t) {
    for (int id : {1, 2, 1}) {
      in.push_back(Entry(static_cast<int64_t>(in.size()) + 1, static_cast<store::FeedType>(t),
                         std::to_string(id)));
    }
  }
  auto out = Feed::Coalesce(in, 50);
  EXPECT_EQ(out.size(), 2 * store::kFeedTypeCount);
  auto counted = Feed::Coalesce(in, 1);
  ASSERT_EQ(counted.size(), store::kFeedTypeCount);
  EXPECT_EQ(FieldOf(*counted.back(), "type"), "action_item.updated");
  EXPECT_EQ(FieldOf(*counted.back(), "count"), "3");
}

// Whatever the mix, a client that received messages up to one with seq S, and goes on with
// ?since=S, misses no change: every change at or before S was named (or counted) by a message
// it received, at or before the change's own place. Seqs rise from message to message.
TEST(CoalesceTest, GoingOnFromTheLastSeqReceivedNeverMissesAChange) {
  using store::FeedType;
  std::mt19937 rng(17);
  const FeedType kinds[] = {FeedType::kAlertCreated, FeedType::kAlertUpdated,
                            FeedType::kIncidentUpdated};
  for (int round = 0; round < 300; ++round) {
    std::vector<store::FeedEntry> in;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 1; i <= n; ++i) {
      in.push_back(Entry(100 + i, kinds[rng() % 3], std::to_string(rng() % 6)));
    }
    const int limit = 1 + static_cast<int>(rng() % 6);
    auto out = Feed::Coalesce(in, limit);
    struct Message {
      int64_t seq;
      std::string type, id;
      int64_t count;
    };
    std::vector<Message> got;
    for (const auto& m : out) {
      std::string count = FieldOf(*m, "count");
      got.push_back({std::stoll(FieldOf(*m, "seq")), FieldOf(*m, "type"), FieldOf(*m, "id"),
                     count.empty() ? 0 : std::stoll(count)});
      ASSERT_TRUE(got.back().id.empty() != count.empty()) << *m;
      if (got.size() > 1) {
        ASSERT_LT(got[got.size() - 2].seq, got.back().seq);
      }
    }
    for (size_t received = 1; received <= got.size(); ++received) {
      const int64_t since = got[received - 1].seq;
      for (const auto& e : in) {
        if (e.seq > since) continue;  // sent again from ?since=
        bool covered = false;
        for (size_t k = 0; k < received && !covered; ++k) {
          covered = got[k].type == store::ToString(e.type) && got[k].seq <= e.seq &&
                    (got[k].id.empty() || got[k].id == e.id);
        }
        ASSERT_TRUE(covered) << "round " << round << ": change " << e.seq << " missed";
      }
    }
    // The counts add up to the changes of their type.
    for (const auto& m : got) {
      if (m.count == 0) continue;
      EXPECT_EQ(m.count, std::ranges::count_if(
                             in, [&](const auto& e) { return store::ToString(e.type) == m.type; }));
    }
  }
}

}  // namespace
}  // namespace houston::live
