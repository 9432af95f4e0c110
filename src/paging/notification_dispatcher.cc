#include "paging/notification_dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "core/thread_name.h"
#include "incidents/suspects.h"

namespace houston::paging {

namespace {

// `first` doubled once per failure after the first, at most `most` (and never less than `first`).
template <typename Duration>
Duration Doubled(Duration first, Duration most, int failures) {
  Duration d = first;
  for (int i = 1; i < failures && d < most; ++i) d *= 2;
  return std::min(d, std::max(first, most));
}

}  // namespace

std::chrono::seconds Backoff(const DispatcherOptions& o, int attempts) {
  return Doubled(o.first_backoff, o.max_backoff, attempts);
}

NotificationDispatcher::NotificationDispatcher(store::OutboxStore& outbox,
                                               store::AlertStore& changes, Clock& clock,
                                               notify::Sender& sender, OrgProvider org,
                                               DispatcherOptions options)
    : store_(outbox),
      changes_(changes),
      clock_(clock),
      sender_(sender),
      org_(std::move(org)),
      options_(std::move(options)) {}

notify::Message NotificationDispatcher::BuildMessage(const config::Org& org,
                                                     const store::ClaimedBatch& batch) const {
  notify::Message m;
  const auto& first = batch.notifications.front();
  m.id = fmt::format("ntf-{}", first.id);
  m.event = first.step == 0 && first.loop == 0 ? "incident.triggered" : "incident.escalated";
  boost::json::object payload;
  {
    boost::system::error_code ec;
    auto v = boost::json::parse(first.payload_json, ec);
    if (!ec && v.is_object()) payload = std::move(v.as_object());
  }
  auto str = [&payload](std::string_view key) -> std::string {
    const auto* v = payload.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  m.user_id = batch.user_id;
  m.step = first.step;
  m.loop = first.loop;
  m.created_at = first.created_at;
  if (const auto* user = config::FindUser(org, batch.user_id)) m.user_name = user->name;
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (const auto& inc : batch.incidents) {
    notify::IncidentRef ref;
    ref.id = inc.id;
    ref.title = inc.title;
    ref.service = inc.service_id;
    ref.service_name = inc.service_id;
    if (const auto* svc = config::FindService(org, inc.service_id)) {
      ref.service_name = svc->name;
      if (m.runbook_url.empty()) m.runbook_url = svc->runbook_url;
    }
    ref.severity = std::string(core::ToString(inc.severity));
    ref.status = std::string(core::ToString(inc.status));
    ref.url = notify::IncidentPageUrl(base, options_.link_key, inc.id, inc.episode,
                                      clock_.Now() + notify::kViewLinkLifetime, batch.user_id);
    ref.sev = inc.sev;
    m.incidents.push_back(std::move(ref));
  }
  const std::string& kind = batch.kind;
  if (kind == "webhook") {
    m.event = "incident.event";
    m.body_json = first.payload_json;
    if (auto* e = payload.if_contains("event"); e && e->is_string()) {
      m.event = std::string(e->as_string());
    }
    return m;
  }
  if (kind == "update") {
    m.event = "status_update_published";
    m.subject = str("subject");
    m.text = str("text");
    // Public subscribers are outside the company: they get the public text and nothing about
    // the incident's internals (its title, services, internal links).
    if (str("audience") == core::kPublicAudience) {
      notify::IncidentRef pub;
      pub.id = first.incident_id;
      pub.title = str("public_title");
      pub.status = str("phase");
      pub.url = str("status_url");
      m.incidents = {std::move(pub)};
      m.runbook_url.clear();
      m.user_id.clear();
      m.user_name.clear();
    }
    return m;
  }
  const notify::IncidentRef* inc = m.incidents.empty() ? nullptr : &m.incidents.front();
  std::string about = inc ? fmt::format("#{}{} {}", inc->id,
                                        inc->sev.empty() ? "" : " (" + inc->sev + ")", inc->title)
                          : std::string("an incident");
  // Reminders the learning domain wrote in full (overdue postmortems and action items).
  if (kind == "postmortem_reminder" || kind == "action_item_reminder") {
    m.event = str("event");
    m.subject = str("subject");
    m.text = str("text");
    return m;
  }
  if (kind == "role") {
    m.event = "incident.role_assigned";
    std::string role = str("role_name");
    bool responder = str("role").empty();
    m.subject = responder ? fmt::format("You were added as a responder to {}", about)
                          : fmt::format("You are the {} of {}", role, about);
    m.text = responder ? fmt::format("You were added as a responder to incident {}.", about)
                       : fmt::format("You were assigned the role {} on incident {}.", role, about);
    if (inc) m.text += fmt::format("\nStatus: {}. Service: {}.", inc->status, inc->service_name);
    return m;
  }
  if (kind == "reminder") {
    m.event = "incident.update_overdue";
    int64_t overdue = 0;
    if (auto* v = payload.if_contains("overdue_minutes"); v && v->is_int64()) {
      overdue = v->as_int64();
    }
    m.subject = fmt::format("Status update overdue for {}", about);
    m.text = fmt::format(
        "A status update for incident {} is due{}. Publish one for every audience with: "
        "houston incident update {} --message ...",
        about, overdue > 0 ? fmt::format(" (overdue by {} min)", overdue) : "",
        inc ? inc->id : first.incident_id);
    return m;
  }
  // What may have caused it: the changes just before impact, for the first incident.
  if (!batch.incidents.empty()) {
    auto suspects = incidents::FindSuspects(changes_, org, batch.incidents.front(), 3);
    if (suspects) {
      for (const auto& sc : *suspects) m.suspects.push_back(incidents::SuspectLine(sc));
    } else {
      spdlog::warn("suspect changes for incident {}: {}", batch.incidents.front().id,
                   suspects.error().ToString());
    }
  }
  if (!options_.link_key.empty() && !batch.incidents.empty()) {
    TimePoint expires = clock_.Now() + options_.link_lifetime;
    int64_t id = batch.incidents.front().id;
    // A bundled message's ack link acknowledges every incident in it (by its batch id, which is
    // the first notification's id).
    bool bundled = batch.incidents.size() > 1;
    m.ack_url =
        fmt::format("{}/actions/{}", base,
                    notify::MakeActionToken(options_.link_key, bundled ? first.id : id,
                                            bundled ? "ack_batch" : "ack", expires, batch.user_id,
                                            bundled ? 0 : batch.incidents.front().episode));
    m.resolve_url =
        fmt::format("{}/actions/{}", base,
                    notify::MakeActionToken(options_.link_key, id, "resolve", expires,
                                            batch.user_id, batch.incidents.front().episode));
  }
  return m;
}

namespace {

notify::Channel ToChannel(const config::ContactMethod& cm) {
  notify::Channel channel;
  channel.type = std::string(config::ToString(cm.type));
  channel.url = cm.url;
  channel.address = cm.address;
  channel.secret = cm.secret;
  channel.body_template = cm.body_template;
  channel.headers = cm.headers;
  return channel;
}

}  // namespace

std::optional<notify::Channel> ChannelFor(const config::Org& org, const store::ClaimedBatch& b) {
  const std::string& cm = b.contact_method_id;
  if (cm.starts_with("webhook:")) {
    for (const auto& wh : org.webhooks) {
      if ("webhook:" + wh.id != cm) continue;
      notify::Channel channel;
      channel.type = "webhook";
      channel.url = wh.url;
      channel.secret = wh.secret;
      channel.headers = wh.headers;
      return channel;
    }
    return std::nullopt;
  }
  if (cm.starts_with("audience:")) {
    auto slash = cm.find('/');
    if (slash == std::string::npos) return std::nullopt;
    const config::Audience* aud = config::FindAudience(org, cm.substr(9, slash - 9));
    if (!aud) return std::nullopt;
    for (const auto& sub : aud->subscribers) {
      if (sub.id == cm.substr(slash + 1)) return ToChannel(sub);
    }
    return std::nullopt;
  }
  if (const config::User* user = config::FindUser(org, b.user_id)) {
    for (const auto& c : user->contact_methods) {
      if (c.id == cm) return ToChannel(c);
    }
  }
  return std::nullopt;
}

std::optional<NotificationDispatcher::Recording> NotificationDispatcher::Deliver(const Work& work) {
  const store::ClaimedBatch& batch = work.batch;
  std::vector<store::ClaimRef> claims;
  int attempts = 0;
  for (const auto& n : batch.notifications) {
    claims.push_back({n.id, n.attempts});
    attempts = std::max(attempts, n.attempts);
  }
  // Fencing: a claim this old may have been taken over by another server (this process was
  // paused, e.g. SIGSTOP, or starved). Sending now could page twice: leave it to the new claim.
  const auto age = clock_.SteadyNow() - work.claimed;
  if (age > options_.lease - options_.lease_margin) {
    spdlog::warn("notification {}: claimed {} ms ago, past its lease; not sent by this server",
                 claims.front().id,
                 std::chrono::duration_cast<std::chrono::milliseconds>(age).count());
    return std::nullopt;
  }
  store::SendResult result;
  auto org = org_();
  auto channel = org ? ChannelFor(*org, batch) : std::nullopt;
  std::chrono::microseconds took{0};
  if (!channel) {
    result.state = core::NotificationState::kFailed;
    result.detail = fmt::format("destination {}{}{} no longer exists in the org", batch.user_id,
                                batch.user_id.empty() ? "" : "/", batch.contact_method_id);
  } else {
    notify::Message message = BuildMessage(*org, batch);
    SteadyPoint started = clock_.SteadyNow();
    notify::Delivery d = sender_.Send(*channel, message);
    took = std::chrono::duration_cast<std::chrono::microseconds>(clock_.SteadyNow() - started);
    result.detail = d.detail;
    switch (d.outcome) {
      case notify::Outcome::kSent:
        result.state = core::NotificationState::kSent;
        break;
      case notify::Outcome::kFailed:
        result.state = core::NotificationState::kFailed;
        break;
      case notify::Outcome::kUnknown:
        result.state = core::NotificationState::kUnknown;
        break;
      case notify::Outcome::kRetry:
        if (attempts >= options_.max_attempts) {
          result.state = core::NotificationState::kDead;
          result.detail = fmt::format("gave up after {} attempts: {}", attempts, d.detail);
        } else {
          auto wait = std::max(Backoff(options_, attempts),
                               d.retry_after.value_or(std::chrono::seconds(0)));
          result.state = core::NotificationState::kPending;
          result.retry_at = clock_.Now() + wait;
        }
        break;
    }
  }
  if (options_.on_delivery) {
    options_.on_delivery(channel ? std::string_view(channel->type) : "unknown",
                         result.state == core::NotificationState::kPending
                             ? "retried"
                             : core::ToString(result.state),
                         took);
  }
  if (result.state != core::NotificationState::kSent) {
    spdlog::warn("notification {} to {}/{}: {} ({})", claims.front().id, batch.user_id,
                 batch.contact_method_id, core::ToString(result.state), result.detail);
  }
  return Recording{std::move(claims), std::move(result)};
}

bool NotificationDispatcher::RecordAgain(Recording& r, const Status& error) const {
  ++r.failures;
  const bool transient =
      error.code() == StatusCode::kUnavailable || error.code() == StatusCode::kResourceExhausted;
  if (!transient) {
    spdlog::error("recording the outcome ({}) of notification {} failed: {}",
                  core::ToString(r.result.state), r.claims.front().id, error.ToString());
    return false;
  }
  spdlog::warn(
      "recording the outcome ({}) of notification {} failed (try {}), trying again in {} ms: {}",
      core::ToString(r.result.state), r.claims.front().id, r.failures, RecordPause(r).count(),
      error.ToString());
  return true;
}

std::chrono::milliseconds NotificationDispatcher::RecordPause(const Recording& r) const {
  return Doubled(options_.record_retry, options_.record_retry_max, r.failures);
}

bool NotificationDispatcher::WaitToRecordAgain(const Recording& r) {
  std::unique_lock lock(mu_);
  return !work_cv_.wait_for(lock, RecordPause(r), [&] { return stop_; });
}

void NotificationDispatcher::Abandon(const Recording& r) {
  spdlog::error(
      "notification {}: its outcome ({}) was not recorded before houston stopped; it is sent "
      "again (same message id) when its claim runs out or houston starts again",
      r.claims.front().id, core::ToString(r.result.state));
}

void NotificationDispatcher::RecordNow(Recording r) {
  for (;;) {
    auto done =
        store::Wait<int>([&](auto cb) { store_.CompleteNotifications(r.claims, r.result, cb); });
    if (done || !RecordAgain(r, done.error())) return;
    if (!WaitToRecordAgain(r)) {
      Abandon(r);
      return;
    }
  }
}

void NotificationDispatcher::RecordLater(Recording r) {
  {
    std::lock_guard lock(mu_);
    ++recording_;
  }
  auto claims = r.claims;
  auto result = r.result;
  store_.CompleteNotifications(std::move(claims), std::move(result),
                               [this, r = std::move(r)](Result<int> done) mutable {
                                 const bool again = !done && RecordAgain(r, done.error());
                                 bool abandoned = false;
                                 {
                                   std::lock_guard lock(mu_);
                                   if (again && !stop_) {
                                     work_.push_back({.record = std::move(r)});
                                     work_cv_.notify_one();
                                   } else {
                                     abandoned = again;
                                     ReleaseLocked(r.claims);
                                   }
                                   --recording_;
                                   // Under the lock: once it is released, Stop() may return
                                   // and this object be gone.
                                   cv_.notify_all();
                                 }
                                 if (abandoned) Abandon(r);  // static; `r` is this callback's
                               });
}

void NotificationDispatcher::ReleaseLocked(const std::vector<store::ClaimRef>& claims) {
  for (const auto& c : claims) std::erase(in_flight_, c.id);
  woken_ = true;
}

Result<int> NotificationDispatcher::RunOnce() {
  store::ClaimOptions o;
  o.now = clock_.Now();
  o.max_per_minute = options_.max_per_minute;
  o.lease = options_.lease;
  int sent = 0;
  // Ordered destinations release their next message only when the previous one is done:
  // claim again until nothing more is due now.
  for (int round = 0; round < 1000; ++round) {
    SteadyPoint claimed = clock_.SteadyNow();
    HOUSTON_ASSIGN_OR_RETURN(auto batches, store::Wait<std::vector<store::ClaimedBatch>>(
                                               [&](auto cb) { store_.ClaimNotifications(o, cb); }));
    if (batches.empty()) break;
    for (auto& b : batches) {
      if (auto r = Deliver({std::move(b), claimed})) RecordNow(std::move(*r));
    }
    sent += static_cast<int>(batches.size());
  }
  return sent;
}

void NotificationDispatcher::Start() {
  auto recovered = options_.sole_server
                       ? store::Wait<int>([&](auto cb) { store_.RecoverInterruptedSends(cb); })
                       : Result<int>(0);
  if (recovered && *recovered > 0) {
    spdlog::warn(
        "{} notification(s) were being sent when houston stopped: sent again, with the same "
        "message id",
        *recovered);
  }
  claimer_ = std::thread([this] {
    NameThisThread("page-claimer");
    ClaimLoop();
  });
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] {
      NameThisThread("notify-worker");
      WorkerLoop();
    });
  }
}

void NotificationDispatcher::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void NotificationDispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  work_cv_.notify_all();
  if (claimer_.joinable()) claimer_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  // Outcomes being recorded: their callbacks use this object. A write answers promptly (the
  // store stops after the dispatcher); once stopping, a failed one is not tried again.
  std::deque<Work> left;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return recording_ == 0; });
    left.swap(work_);
  }
  for (const auto& w : left) {
    if (w.record) Abandon(*w.record);
  }
}

void NotificationDispatcher::ClaimLoop() {
  constexpr auto kMaxSleep = std::chrono::seconds(15);
  for (;;) {
    {
      // Claim only when the workers have room, so a slow receiver backs up here, not in RAM.
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || work_.size() + busy_ < size_t(options_.workers); });
      if (stop_) return;
    }
    store::ClaimOptions o;
    {
      std::lock_guard lock(mu_);
      o.in_flight = in_flight_;
    }
    SteadyPoint claimed = clock_.SteadyNow();
    o.now = clock_.Now();
    o.max_per_minute = options_.max_per_minute;
    o.limit = options_.workers * 4;
    o.lease = options_.lease;
    auto batches = store::Wait<std::vector<store::ClaimedBatch>>(
        [&](auto cb) { store_.ClaimNotifications(o, cb); });
    std::chrono::milliseconds sleep = kMaxSleep;
    if (!batches) {
      spdlog::error("claiming notifications failed: {}", batches.error().ToString());
      sleep = std::chrono::seconds(1);
    } else if (!batches->empty()) {
      std::lock_guard lock(mu_);
      for (auto& b : *batches) {
        for (const auto& n : b.notifications) in_flight_.push_back(n.id);
        work_.push_back({std::move(b), claimed});
      }
      work_cv_.notify_all();
      continue;
    } else if (auto next = store_.NextNotificationDue(options_.lease); next && *next) {
      sleep = std::clamp<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(**next - clock_.Now()),
          std::chrono::milliseconds(20), kMaxSleep);
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, sleep, [&] { return stop_ || woken_; });
    if (stop_) return;
    woken_ = false;
  }
}

void NotificationDispatcher::WorkerLoop() {
  for (;;) {
    Work work;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !work_.empty(); });
      if (stop_) return;
      work = std::move(work_.front());
      work_.pop_front();
      ++busy_;
    }
    const bool retry = work.record.has_value();
    if (retry) {
      // An outcome whose recording failed: try again after a pause (the database may be
      // restarting), unless the dispatcher stops meanwhile.
      if (!WaitToRecordAgain(*work.record)) {
        {
          std::lock_guard lock(mu_);
          ReleaseLocked(work.record->claims);
          --busy_;
        }
        Abandon(*work.record);
        return;
      }
      RecordLater(std::move(*work.record));
    } else if (auto r = Deliver(work)) {
      RecordLater(std::move(*r));
    } else {
      std::lock_guard lock(mu_);
      for (const auto& n : work.batch.notifications) std::erase(in_flight_, n.id);
    }
    {
      // A worker is free: after a send, the claimer may claim again. (An ordered destination's
      // next message is claimable once the previous one's outcome is recorded: RecordLater
      // wakes the claimer then.)
      std::lock_guard lock(mu_);
      --busy_;
      if (!retry) woken_ = true;
    }
    cv_.notify_all();
  }
}

}  // namespace houston::paging
