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

  TimePoint Now() const override { return TimePoint(std::chrono::milliseconds(now_ms_.load())); }
  SteadyPoint SteadyNow() const override {
    return SteadyPoint(std::chrono::milliseconds(now_ms_.load()));
  }
  void Advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }
  void Set(TimePoint t) { now_ms_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace houston::testing
