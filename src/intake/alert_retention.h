// AlertRetention: deletes alerts long after they resolved (store::AlertStore::PruneResolvedAlerts),
// so that the alerts table does not grow without end.
//
// The policy: an alert is deleted once it and its incident are resolved and it resolved more
// than `retention` ago (`houston serve --alert-retention-days`, 400 by default, so that a year of
// history stays for the analytics and the weekly report; 0 keeps every alert). Incidents, their
// timelines and audit records, postmortems and the noise report's roll-ups are kept: only the
// alert rows go. The work is done in small writes (kBatch alerts each, one pause between them)
// in the store's queue, so intake keeps its turn; a pass that found nothing comes back after
// kIdle. Several servers on one database may all run it: each alert is deleted once.
#pragma once

#include <chrono>

#include "core/clock.h"
#include "core/deadline_loop.h"
#include "store/store.h"

namespace houston::intake {

// Thread-safe.
class AlertRetention {
 public:
  static constexpr int kBatch = 1000;
  // Between two full batches: the writer is free for other writes meanwhile.
  static constexpr std::chrono::milliseconds kPause{200};
  // After a pass with less than a full batch: alerts age into the cutoff slowly.
  static constexpr std::chrono::minutes kIdle{10};

  // `retention` > 0.
  AlertRetention(store::AlertStore& store, Clock& clock, std::chrono::hours retention)
      : store_(store),
        clock_(clock),
        retention_(retention),
        loop_(
            "alert retention", clock, [this] { return RunOnce(); }, kPause, kIdle) {}
  ~AlertRetention() { Stop(); }

  // Deletes one batch of alerts past the retention at `clock.Now()`; returns when to come back.
  // Deterministic; tests call it with a FakeClock.
  Result<std::optional<TimePoint>> RunOnce();

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

 private:
  store::AlertStore& store_;
  Clock& clock_;
  const std::chrono::hours retention_;
  DeadlineLoop loop_;
};

}  // namespace houston::intake
