#include "core/clock.h"

namespace houston {
namespace {
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
  SteadyPoint SteadyNow() const override { return std::chrono::steady_clock::now(); }
};
}  // namespace

Clock& RealClock() {
  static SystemClock clock;
  return clock;
}
}  // namespace houston
