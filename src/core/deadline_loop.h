// DeadlineLoop: the thread that drives one of the engine's deterministic state machines.
//
// It calls `tick` (which does everything due at the clock's now and returns when the next work
// is due), then sleeps until that time, at most `max_sleep` and at least `min_sleep`, or until
// Wake(). A failed tick is logged and retried after a second. The state machines themselves
// never sleep; tests call their RunOnce() with a FakeClock instead of starting a loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/status.h"

namespace houston {

// Thread-safe.
class DeadlineLoop {
 public:
  using Tick = std::function<Result<std::optional<TimePoint>>()>;
  DeadlineLoop(std::string name, Clock& clock, Tick tick,
               std::chrono::milliseconds min_sleep = std::chrono::milliseconds(5),
               std::chrono::milliseconds max_sleep = std::chrono::seconds(30));
  ~DeadlineLoop() { Stop(); }

  void Start();
  // Ticks again at once (something changed).
  void Wake();
  // Stops after the current tick; idempotent.
  void Stop();

 private:
  void Run();

  const std::string name_;
  Clock& clock_;
  const Tick tick_;
  const std::chrono::milliseconds min_sleep_, max_sleep_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  bool woken_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace houston
