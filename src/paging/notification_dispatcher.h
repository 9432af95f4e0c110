// NotificationDispatcher: the outbox worker. Claims due notifications (the store cancels those
// whose incident was acknowledged or resolved meanwhile, and bundles several pages for one
// contact method into one message), sends them through notify::Sender on a small pool of
// worker threads, and records the outcome: sent, retried later with exponential backoff, failed
// (dead letter), or unknown (never silently resent). The escalation engine never waits for it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "notify/notify.h"
#include "paging/escalation_engine.h"
#include "store/store.h"

namespace houston::paging {

struct DispatcherOptions {
  std::string base_url = "http://127.0.0.1:8080";  // for incident and action links
  std::string link_key;                            // HMAC key for signed action links
  std::chrono::hours link_lifetime{24};
  int max_attempts = 5;  // transient failures are retried up to this many sends in all
  std::chrono::seconds first_backoff{30};
  std::chrono::seconds max_backoff{600};
  int max_per_minute = 6;  // per contact method; more are deferred and bundled
  int workers = 8;
  // How long a claim is this dispatcher's (store::ClaimOptions::lease). A batch whose claim is
  // older than the lease minus `lease_margin` when its turn to be sent comes (this process was
  // paused or starved) is not sent: another server may have taken it over. The age is measured
  // on the steady clock, so that a step of the wall clock neither fences a fresh claim nor
  // lets this server take back a claim it is still sending.
  std::chrono::milliseconds lease{std::chrono::minutes(2)};
  std::chrono::milliseconds lease_margin{std::chrono::seconds(15)};
  // Recording a send's outcome that failed because the database was unavailable (PostgreSQL
  // restarting, a lost connection) or its write queue full is tried again after this pause,
  // doubling up to `record_retry_max`, until it is recorded or the dispatcher stops. The page went
  // out: an outcome forgotten leaves the claim "sending", and it is sent again once its lease
  // runs out. (The ids stay in flight meanwhile, so this server never takes the claim back.)
  std::chrono::milliseconds record_retry{200};
  std::chrono::milliseconds record_retry_max{std::chrono::seconds(5)};
  // Whether this is the only server on its database: then, at start, sends interrupted by a
  // crash are resent at once instead of when their lease runs out.
  bool sole_server = true;
  // Called after each message's send with its channel type (webhook, slack, email, ...;
  // "unknown" when its destination is gone from the org), the outcome recorded (sent, failed,
  // unknown, retried, dead) and how long the send took (0 when nothing was sent). Optional, for
  // metrics; runs on a worker thread.
  std::function<void(std::string_view channel, std::string_view outcome,
                     std::chrono::microseconds took)>
      on_delivery;
};

// Where a claimed batch goes: a user's contact method, an audience subscriber
// ("audience:<id>/<subscriber>") or an outbound incident webhook ("webhook:<id>"); nullopt when
// the org no longer has it.
std::optional<notify::Channel> ChannelFor(const config::Org& org, const store::ClaimedBatch& b);

// The backoff before attempt `attempts + 1`, after `attempts` failed sends.
std::chrono::seconds Backoff(const DispatcherOptions& o, int attempts);

// Thread-safe.
class NotificationDispatcher {
 public:
  // `outbox`: the notifications it claims and completes; `changes`: the suspect changes that
  // pages name.
  NotificationDispatcher(store::OutboxStore& outbox, store::AlertStore& changes, Clock& clock,
                         notify::Sender& sender, OrgProvider org, DispatcherOptions options);
  NotificationDispatcher(store::Store& store, Clock& clock, notify::Sender& sender, OrgProvider org,
                         DispatcherOptions options)
      : NotificationDispatcher(store, store, clock, sender, std::move(org), std::move(options)) {}
  ~NotificationDispatcher() { Stop(); }

  // Claims what is due now and sends it on the calling thread. Returns batches sent.
  Result<int> RunOnce();
  // The message for a claimed batch (exposed for tests).
  notify::Message BuildMessage(const config::Org& org, const store::ClaimedBatch& batch) const;

  // Sets the base of incident and action links. Call before Start().
  void set_base_url(std::string url) { options_.base_url = std::move(url); }

  void Start();
  void Wake();
  void Stop();

 private:
  // What sending a batch came to, to be recorded in the store.
  struct Recording {
    std::vector<store::ClaimRef> claims;
    store::SendResult result;
    int failures = 0;  // tries to record it that failed so far
  };
  // A claimed batch and when it was claimed on the steady clock; or, when `record` is set, only
  // the outcome of a batch already sent, to record again after a pause.
  struct Work {
    store::ClaimedBatch batch;
    SteadyPoint claimed;
    std::optional<Recording> record;
  };

  // Sends one batch. Returns its outcome to record, or nullopt when it was not this server's to
  // send any more (its claim was past its lease).
  std::optional<Recording> Deliver(const Work& work);
  // Records an outcome on the calling thread, trying again while the store is unavailable
  // (RunOnce: deterministic).
  void RecordNow(Recording r);
  // Records an outcome without waiting (the workers). Should it fail while the store is
  // unavailable, a worker tries again after a pause. The claims stay in flight until it is done.
  void RecordLater(Recording r);
  // Counts a failure to record `r`; whether it is worth trying again.
  bool RecordAgain(Recording& r, const Status& error) const;
  std::chrono::milliseconds RecordPause(const Recording& r) const;
  // Waits out the pause before recording `r` again; false when the dispatcher stops first.
  bool WaitToRecordAgain(const Recording& r);
  // Logs an outcome that will never be recorded (the dispatcher stopped first).
  static void Abandon(const Recording& r);
  // The claims are no longer this server's to keep: the claimer may claim again. Holds mu_.
  void ReleaseLocked(const std::vector<store::ClaimRef>& claims);
  void ClaimLoop();
  void WorkerLoop();

  store::OutboxStore& store_;
  store::AlertStore& changes_;
  Clock& clock_;
  notify::Sender& sender_;
  OrgProvider org_;
  DispatcherOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;       // the claimer waits on it
  std::condition_variable work_cv_;  // workers wait on it
  std::deque<Work> work_;            // guarded by mu_
  std::vector<int64_t> in_flight_;   // ids claimed and not yet recorded; guarded by mu_
  size_t busy_ = 0;                  // batches being sent; guarded by mu_
  size_t recording_ = 0;             // RecordLater writes not yet answered; guarded by mu_
  bool stop_ = false;                // guarded by mu_
  bool woken_ = false;               // guarded by mu_
  std::thread claimer_;
  std::vector<std::thread> workers_;
};

}  // namespace houston::paging
