#include "live/feed.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <unordered_set>
#include <utility>

#include "core/json_util.h"
#include "core/time_util.h"

namespace houston::live {

namespace {

// A poll that names no sequence number: it only asks where the feed stands.
constexpr int64_t kFromNow = -1;

std::shared_ptr<const std::string> Shared(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

}  // namespace

Feed::Feed(store::Store& store, Clock& clock, FeedOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      loop_("live feed", clock, [this] { return RunOnce(); }) {}

Feed::~Feed() { Stop(); }

void Feed::Start() {
  if (Status st = Init(); !st.ok()) {
    spdlog::warn("live feed: reading where the feed stands: {}", st.ToString());
  }
  loop_.Start();
}

void Feed::Stop() { loop_.Stop(); }

void Feed::Wake() { loop_.Wake(); }

Status Feed::Init() {
  {
    std::lock_guard lock(mu_);
    if (initialized_) return OkStatus();
  }
  HOUSTON_ASSIGN_OR_RETURN(store::FeedBounds b, store_.ReadFeedBounds());
  std::lock_guard lock(mu_);
  if (!initialized_) head_ = b.newest;
  initialized_ = true;
  return OkStatus();
}

void Feed::AddStream(std::shared_ptr<http::WebSocket> ws, std::optional<int64_t> since) {
  {
    std::lock_guard lock(mu_);
    new_streams_.push_back(Stream{std::move(ws), since.value_or(initialized_ ? head_ : kFromNow)});
  }
  Wake();
}

void Feed::Poll(std::optional<int64_t> since, std::chrono::milliseconds wait, Answer answer) {
  {
    std::lock_guard lock(mu_);
    new_polls_.push_back(Waiter{since.value_or(kFromNow), clock_.Now() + wait, std::move(answer)});
  }
  Wake();
}

size_t Feed::streams() const {
  std::lock_guard lock(mu_);
  return stream_count_;
}

int64_t Feed::head() const {
  std::lock_guard lock(mu_);
  return head_;
}

std::string Feed::EntryJson(const store::FeedEntry& e) {
  return fmt::format(R"({{"seq":{},"type":"{}","id":{},"at":"{}"}})", e.seq,
                     store::ToString(e.type), JsonQuote(e.id), FormatRfc3339(e.at));
}

std::vector<std::shared_ptr<const std::string>> Feed::Coalesce(
    std::span<const store::FeedEntry> entries, int max_ids_per_type) {
  struct Type {
    std::unordered_set<std::string_view> ids;
    size_t first = 0;  // index into entries
    int changes = 0;
  };
  std::array<Type, store::kFeedTypeCount> types;
  std::vector<size_t> firsts;  // each object's first change, in order
  for (size_t i = 0; i < entries.size(); ++i) {
    Type& t = types[static_cast<size_t>(entries[i].type)];
    if (t.changes++ == 0) t.first = i;
    if (t.ids.insert(entries[i].id).second) firsts.push_back(i);
  }
  std::vector<std::shared_ptr<const std::string>> out;
  out.reserve(firsts.size());
  for (size_t i : firsts) {
    const store::FeedEntry& e = entries[i];
    const Type& t = types[static_cast<size_t>(e.type)];
    if (std::cmp_less_equal(t.ids.size(), max_ids_per_type)) {
      out.push_back(Shared(EntryJson(e)));
    } else if (i == t.first) {
      out.push_back(Shared(fmt::format(R"({{"seq":{},"type":"{}","count":{},"at":"{}"}})", e.seq,
                                       store::ToString(e.type), t.changes, FormatRfc3339(e.at))));
    }
  }
  return out;
}

std::string Feed::PageJson(const Page& page) {
  std::string out = R"({"changes":[)";
  for (size_t i = 0; i < page.changes.size(); ++i) {
    if (i > 0) out += ',';
    out += EntryJson(page.changes[i]);
  }
  out += fmt::format(R"(],"next":{})", page.next);
  if (page.resync) out += R"(,"resync":true)";
  return out + "}";
}

Result<std::optional<std::vector<store::FeedEntry>>> Feed::Backlog(int64_t after, int64_t up_to) {
  std::vector<store::FeedEntry> out;
  if (after >= up_to) return out;
  if (up_to - after > options_.max_replay) return std::nullopt;
  HOUSTON_ASSIGN_OR_RETURN(store::FeedBounds b, store_.ReadFeedBounds());
  // The entries right after `after` were pruned (or `after` is from another database).
  if (b.oldest == 0 || after + 1 < b.oldest) return std::nullopt;
  while (after < up_to) {
    HOUSTON_ASSIGN_OR_RETURN(auto got, store_.ReadFeed(after, options_.read_batch));
    if (got.empty()) break;
    for (auto& e : got) {
      if (e.seq > up_to) break;
      after = e.seq;
      out.push_back(std::move(e));
    }
    if (static_cast<int>(got.size()) < options_.read_batch) break;
  }
  return out;
}

std::chrono::milliseconds Feed::FanoutInterval(size_t streams) const {
  if (options_.max_writes_per_second <= 0) return options_.fanout_interval;
  const auto spread = std::chrono::milliseconds(static_cast<int64_t>(streams) * 1000 /
                                                options_.max_writes_per_second);
  return std::max(options_.fanout_interval, spread);
}

Result<std::optional<TimePoint>> Feed::RunOnce() {
  HOUSTON_RETURN_IF_ERROR(Init());
  std::vector<Stream> added;
  std::vector<Waiter> polls;
  int64_t head;
  {
    std::lock_guard lock(mu_);
    added.swap(new_streams_);
    polls.swap(new_polls_);
    head = head_;
  }
  // Put back what was not handled if reading the table fails (the loop tries again).
  auto requeue = [&](Status st) -> Status {
    std::lock_guard lock(mu_);
    for (auto& s : added) new_streams_.push_back(std::move(s));
    for (auto& p : polls) new_polls_.push_back(std::move(p));
    return st;
  };

  // 1. What is new, read once for everyone.
  std::vector<store::FeedEntry> fresh;
  for (;;) {
    auto got = store_.ReadFeed(head, options_.read_batch);
    if (!got) return std::unexpected(requeue(got.error()));
    if (got->empty()) break;
    head = got->back().seq;
    const bool more = static_cast<int>(got->size()) >= options_.read_batch;
    for (auto& e : *got) fresh.push_back(std::move(e));
    if (!more) break;
  }

  // 2. Streams already live: what is new is held until the hand-over is due, then queued (never
  // blocks; a full buffer cuts one off). Every live stream stands where the last hand-over
  // ended, so all share one framed buffer.
  const TimePoint now = clock_.Now();
  if (streams_.empty()) {
    held_.clear();
  } else {
    held_.insert(held_.end(), fresh.begin(), fresh.end());  // fresh also answers long polls
  }
  if (!held_.empty() && (!next_fanout_ || *next_fanout_ <= now)) {
    auto all = std::make_shared<const http::TextFrames>(Coalesce(held_, options_.max_ids_per_type));
    const int64_t first = held_.front().seq, last = held_.back().seq;
    auto send_held = [&](Stream& s) {
      if (last <= s.cursor) return s.ws->is_open();
      std::shared_ptr<const http::TextFrames> frames = all;
      if (first <= s.cursor) {  // part of it (not so today, but cheap to be right)
        auto after = std::ranges::upper_bound(held_, s.cursor, {}, &store::FeedEntry::seq);
        frames = std::make_shared<const http::TextFrames>(
            Coalesce(std::span(after, held_.end()), options_.max_ids_per_type));
      }
      if (!s.ws->SendFrames(std::move(frames))) return false;
      s.cursor = last;
      return s.ws->is_open();
    };
    std::erase_if(streams_, [&](Stream& s) { return !send_held(s); });
    held_.clear();
    next_fanout_ = now + FanoutInterval(streams_.size());
  } else if (held_.empty()) {
    // Quiet: streams closed since the last hand-over leave the count (the gauge) now.
    std::erase_if(streams_, [](const Stream& s) { return !s.ws->is_open(); });
  }

  // 3. New streams: what they missed, then they are live.
  static const auto kResync = Shared(std::string(kResyncJson));
  for (auto& s : added) {
    if (s.cursor == kFromNow) s.cursor = head;
    bool ok = s.ws->is_open();
    if (ok && s.cursor != head) {
      std::optional<std::vector<store::FeedEntry>> missed;
      if (s.cursor < head) {
        auto backlog = Backlog(s.cursor, head);
        if (!backlog) {
          spdlog::warn("live feed: replay failed: {}", backlog.error().ToString());
          s.ws->Close(1011, "the feed could not be read; reconnect");
          continue;
        }
        missed = std::move(*backlog);
      }
      if (!missed) {  // too old, or ahead of the feed (another database): reload
        ok = s.ws->Send(kResync);
      } else {
        std::vector<std::shared_ptr<const std::string>> batch;
        size_t bytes = 0;
        for (const auto& e : *missed) {
          batch.push_back(Shared(EntryJson(e)));
          bytes += batch.back()->size();
        }
        if (options_.max_replay_bytes > 0 && bytes > options_.max_replay_bytes) {
          ok = s.ws->Send(kResync);  // too much to queue at once: reload instead
        } else if (!batch.empty()) {
          ok = s.ws->SendAll(std::move(batch));
        }
      }
      s.cursor = head;
    }
    if (ok) streams_.push_back(std::move(s));
  }

  // 4. Long polls.
  std::erase_if(waiting_, [&](Waiter& w) {
    Page page;
    for (const auto& e : fresh) {
      if (e.seq <= w.since) continue;
      if (static_cast<int>(page.changes.size()) >= options_.read_batch) break;
      page.changes.push_back(e);
    }
    if (page.changes.empty() && w.deadline > now) return false;
    page.next = page.changes.empty() ? w.since : page.changes.back().seq;
    w.answer(std::move(page));
    return true;
  });
  for (auto& p : polls) {
    Page page;
    page.next = head;
    if (p.since == kFromNow) {
      p.answer(std::move(page));
    } else if (p.since > head) {
      page.resync = true;
      p.answer(std::move(page));
    } else if (p.since == head) {
      waiting_.push_back(std::move(p));
    } else {
      auto backlog = Backlog(p.since, std::min(head, p.since + options_.read_batch));
      if (!backlog) {
        p.answer(std::unexpected(backlog.error()));
      } else if (!*backlog) {
        page.resync = true;
        p.answer(std::move(page));
      } else {
        page.changes = std::move(**backlog);
        page.next = page.changes.empty() ? head : page.changes.back().seq;
        p.answer(std::move(page));
      }
    }
  }

  {
    std::lock_guard lock(mu_);
    head_ = head;
    stream_count_ = streams_.size() + new_streams_.size();
  }
  std::optional<TimePoint> next;
  if (!streams_.empty() || !waiting_.empty()) next = now + options_.poll_interval;
  for (const auto& w : waiting_) next = std::min(*next, w.deadline);
  // Held for the streams: due when the hand-over is.
  if (!held_.empty()) next = std::min(*next, *next_fanout_);
  return next;
}

}  // namespace houston::live
