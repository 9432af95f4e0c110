// FakeClock: a Clock that moves only when a test tells it to.
#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.h"

namespace houston::testing {

// Thread-safe: Now() may be read from any thread while the test advances it.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::milliseconds(1'767'225'600'000)))
      : now_ms_(start.time_since_epoch().count()) {}

  TimePoint Now() const override {
    return TimePoint(std::chrono::milliseconds(now_ms_.load() + wall_step_ms_.load()));
  }
  SteadyPoint SteadyNow() const override {
    return SteadyPoint(std::chrono::milliseconds(now_ms_.load()));
  }
  void Advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }
  void Set(TimePoint t) { now_ms_ = t.time_since_epoch().count(); }
  // Steps the wall clock alone, forward or back (as an operator or NTP setting the time would);
  // the steady clock does not move.
  void StepWall(std::chrono::milliseconds d) { wall_step_ms_ += d.count(); }

 private:
  std::atomic<int64_t> now_ms_;
  std::atomic<int64_t> wall_step_ms_{0};
};

}  // namespace houston::testing
