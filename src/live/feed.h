// The live feed: pushes the store's change feed (store/feed.h) to WebSocket streams and answers
// long polls (GET /api/v1/live).
//
// One loop reads the feed table and serves everyone: when woken (a commit on this server recorded
// entries, or another server's NOTIFY said it did), it reads what is new once. Streams are handed
// what is new at most once per FeedOptions::fanout_interval (further apart with thousands of
// streams: max_writes_per_second), so their cost is bounded by streams x hand-overs per second,
// whatever the intake rate. A hand-over is coalesced (Coalesce: a change is a hint to reload, so
// an object changed several times gets one message, and a type with many objects changed, an
// alert storm, one message that counts them), so a stream's bytes per hand-over are bounded
// too; it is framed once (http::TextFrames), and that one buffer is shared by every stream.
// Queuing never blocks: a stream whose bounded buffer is full is cut off by the HTTP layer
// (http::WebSocket::Send), so a stalled client slows neither the store's commits, nor the I/O
// threads, nor the other clients. New streams first get what they missed since the sequence
// number they name (read from the table by the same loop, every change its own message), or
// {"type":"resync"} when that is no longer kept.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/deadline_loop.h"
#include "core/status.h"
#include "http/http.h"
#include "store/store.h"

namespace houston::live {

struct FeedOptions {
  int read_batch = 1000;  // entries per read of the table (and per long-poll answer at most)
  // A stream or poll further behind than this many entries gets a resync, not a replay.
  int64_t max_replay = 5000;
  // A replay of more bytes than this gets a resync instead (0: no bound): queued at once, it
  // would overfill the stream's bounded buffer and cut the stream off. The stream's buffer size.
  size_t max_replay_bytes = 0;
  // While anyone listens, the table is read at least this often even without a wake-up (a
  // notification from another server can be lost while its listener reconnects).
  std::chrono::milliseconds poll_interval{2000};
  // Streams are handed what is new at most once per interval (the first change after a quiet
  // spell goes out at once; later ones wait for the interval to pass, and go out together).
  // (The table is still read at every wake-up, for long polls and new streams.) 0: at every run.
  std::chrono::milliseconds fanout_interval{100};
  // Hand-overs are spaced further apart when there are so many streams that one per
  // fanout_interval would take more writes than this per second (each stream costs a write, a
  // system call, per hand-over): 2,000 streams are handed what is new every 400 ms. 0: no limit.
  int max_writes_per_second = 5000;
  // In one hand-over, a type with more objects changed than this goes out as one message that
  // counts its changes (no id): a screen then reloads its list once, instead of taking a message
  // per alert of a storm. (Replays to new streams and long polls list every change.)
  int max_ids_per_type = 50;
};

// A long poll's answer: the entries after its `since` (at most read_batch), and where to go on
// from. `resync`: `since` is older than what is kept (or unknown); reload, then go on from `next`.
struct Page {
  std::vector<store::FeedEntry> changes;
  int64_t next = 0;
  bool resync = false;
};

// Thread-safe. RunOnce() runs on one thread at a time (the loop's, or a test's).
class Feed {
 public:
  Feed(store::Store& store, Clock& clock, FeedOptions options = {});
  ~Feed();

  // Reads where the feed stands and starts the loop thread.
  void Start();
  void Stop();
  // Something was committed: read the table now. Never blocks.
  void Wake();

  // Sends the entries after `since` (nullopt: from now on) to `ws`, one JSON text message each.
  void AddStream(std::shared_ptr<http::WebSocket> ws, std::optional<int64_t> since);
  // Answers with the entries after `since` at once if there are any (or at once with where the
  // feed stands when `since` is nullopt, or with a resync); else when one is committed, or with
  // none once `wait` has passed. `answer` runs on the feed's thread and must not block.
  using Answer = std::move_only_function<void(Result<Page>)>;
  void Poll(std::optional<int64_t> since, std::chrono::milliseconds wait, Answer answer);

  // Does what is due at the clock's now: reads new entries and sends them, catches new streams
  // up, answers polls. Returns when to run again at the latest.
  Result<std::optional<TimePoint>> RunOnce();

  // {"seq":N,"type":"incident.updated","id":"42","at":"2026-...Z"}
  static std::string EntryJson(const store::FeedEntry& e);
  // The messages of a hand-over of `entries` (in sequence order). Each object (type and id)
  // changed gets one message, its first change's (seq and at). A type with more than
  // `max_ids_per_type` objects gets one message instead, with its first change's seq and at,
  // that counts its changes and names no id:
  // {"seq":N,"type":"alert.created","count":912,"at":"..."}. So a client that goes on from the
  // last seq it got (?since=) may be sent a change again but never misses one: every change at
  // or before that seq was in a message it got. (And `at` gives the oldest change a message
  // stands for: now - at is the longest any of them took to arrive.)
  static std::vector<std::shared_ptr<const std::string>> Coalesce(
      std::span<const store::FeedEntry> entries, int max_ids_per_type);
  static constexpr std::string_view kResyncJson = R"({"type":"resync"})";
  // {"changes":[...],"next":M} (with "resync":true when so)
  static std::string PageJson(const Page& page);

  size_t streams() const;
  int64_t head() const;

 private:
  struct Stream {
    std::shared_ptr<http::WebSocket> ws;
    int64_t cursor = 0;  // the last entry it was sent
  };
  struct Waiter {
    int64_t since = 0;
    TimePoint deadline{};
    Answer answer;
  };
  // The entries in (after, up_to], or nullopt when they are no longer all kept.
  Result<std::optional<std::vector<store::FeedEntry>>> Backlog(int64_t after, int64_t up_to);
  Status Init();
  // The time from one hand-over to the next with `streams` streams.
  std::chrono::milliseconds FanoutInterval(size_t streams) const;

  store::Store& store_;
  Clock& clock_;
  const FeedOptions options_;
  DeadlineLoop loop_;

  mutable std::mutex mu_;
  std::vector<Stream> new_streams_;  // guarded by mu_
  std::vector<Waiter> new_polls_;    // guarded by mu_
  size_t stream_count_ = 0;          // guarded by mu_
  int64_t head_ = 0;                 // guarded by mu_ (written by RunOnce only)
  bool initialized_ = false;         // guarded by mu_

  // RunOnce's own.
  std::optional<TimePoint> next_fanout_;  // set after a hand-over to streams: the next is due then
  // Read, not yet handed to the streams.
  std::vector<store::FeedEntry> held_;
  std::vector<Stream> streams_;
  std::vector<Waiter> waiting_;
};

}  // namespace houston::live
