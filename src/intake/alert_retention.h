// AlertRetention: deletes alerts long after they resolved (store::AlertStore::PruneResolvedAlerts),
// so that the alerts table does not grow without end.
//
// The policy: an alert is deleted once it and its incident are resolved and it resolved more
// than `retention` ago (`houston serve --alert-retention-days`, 400 by default, so that a year of
// history stays for the analytics and the weekly report; 0 keeps every alert). Incidents, their
// timelines and audit records, postmortems and the noise report's roll-ups are kept: only the
// alert rows go. The work is a sweep over the old end of the table in small writes (each looks at
// kBatch alerts after where the last one stopped, with a pause between them) in the store's
// queue, so intake keeps its turn however many old alerts are kept by open incidents; after a
// sweep it rests kIdle. Several servers on one database may all run it: each alert is deleted
// once.
#pragma once

#include <chrono>

#include "core/clock.h"
#include "core/deadline_loop.h"
#include "store/store.h"

namespace houston::intake {

// Start and Stop are thread-safe; RunOnce runs on the loop's thread (or a test's).
class AlertRetention {
 public:
  static constexpr int kBatch = 1000;
  // Between two steps of a sweep: the writer is free for other writes meanwhile.
  static constexpr std::chrono::milliseconds kPause{200};
  // After a sweep reached the newest old alert: alerts age into the cutoff slowly.
  static constexpr std::chrono::minutes kIdle{10};

  // `retention` > 0.
  AlertRetention(store::AlertStore& store, Clock& clock, std::chrono::hours retention)
      : store_(store),
        clock_(clock),
        retention_(retention),
        loop_(
            "alert retention", clock, [this] { return RunOnce(); }, kPause, kIdle) {}
  ~AlertRetention() { Stop(); }

  // One step of the sweep: deletes what may go among the next kBatch alerts old enough at
  // `clock.Now()`; returns when to come back. Deterministic; tests call it with a FakeClock.
  Result<std::optional<TimePoint>> RunOnce();

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

 private:
  store::AlertStore& store_;
  Clock& clock_;
  const std::chrono::hours retention_;
  core::AlertId cursor_ = 0;  // where the sweep goes on; 0: from the start
  DeadlineLoop loop_;
};

}  // namespace houston::intake
