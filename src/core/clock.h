// Clock: the one seam through which houston reads time.
//
// Nothing outside RealClock() reads the system clock. Persisted deadlines use wall-clock
// TimePoints (they survive restarts); intervals and timeouts use the steady clock.
#pragma once

#include <chrono>

namespace houston {

// Wall-clock instants are stored and compared at millisecond precision (UTC).
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;
using SteadyPoint = std::chrono::steady_clock::time_point;

// Thread-safe: implementations must allow concurrent calls.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual SteadyPoint SteadyNow() const = 0;
};

// The process-wide system clock.
Clock& RealClock();

}  // namespace houston
