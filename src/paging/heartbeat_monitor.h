// HeartbeatMonitor: opens an alert when a heartbeat integration misses its interval.
//
// The monitor owns no state of its own: due times live in the store (last beat + interval), so
// a restart continues where it stopped. A thread sleeps until the earliest due time (or until
// Wake() after the org changed) and asks the store to open alerts for overdue heartbeats.
#pragma once

#include "core/clock.h"
#include "core/deadline_loop.h"
#include "store/store.h"

namespace houston::paging {

// Thread-safe.
class HeartbeatMonitor {
 public:
  HeartbeatMonitor(store::HeartbeatStore& store, Clock& clock)
      : store_(store),
        clock_(clock),
        loop_(
            "heartbeat check", clock, [this] { return RunOnce(); }, std::chrono::milliseconds(10)) {
  }
  ~HeartbeatMonitor() { Stop(); }

  // Checks once at `clock.Now()`: opens alerts for overdue heartbeats and returns the next due
  // time (nullopt if nothing is watched). Deterministic; tests call it with a FakeClock.
  Result<std::optional<TimePoint>> RunOnce();

  void Start() { loop_.Start(); }
  // Re-reads due times now (call after the org changed).
  void Wake() { loop_.Wake(); }
  void Stop() { loop_.Stop(); }

 private:
  store::HeartbeatStore& store_;
  Clock& clock_;
  DeadlineLoop loop_;
};

}  // namespace houston::paging
