// HeartbeatMonitor: opens an alert when a heartbeat integration misses its interval.
//
// The monitor owns no state of its own: due times live in the store (last beat + interval), so
// a restart continues where it stopped. A thread sleeps until the earliest due time (or until
// Wake() after the org changed) and asks the store to open alerts for overdue heartbeats.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "store/store.h"

namespace houston::engine {

// Thread-safe.
class HeartbeatMonitor {
 public:
  HeartbeatMonitor(store::Store& store, Clock& clock) : store_(store), clock_(clock) {}
  ~HeartbeatMonitor() { Stop(); }

  // Checks once at `clock.Now()`: opens alerts for overdue heartbeats and returns the next due
  // time (nullopt if nothing is watched). Deterministic; tests call it with a FakeClock.
  Result<std::optional<TimePoint>> RunOnce();

  void Start();
  // Re-reads due times now (call after the org changed).
  void Wake();
  void Stop();

 private:
  void Loop();
  store::Store& store_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  bool woken_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace houston::engine
