#include "learning/noise_rollup.h"

#include "store/store.h"

namespace houston::learning {

NoiseRollUp::NoiseRollUp(store::AnalyticsStore& store, Clock& clock, NoiseRollUpOptions options)
    : store_(store), clock_(clock), options_(options) {}

Result<int64_t> NoiseRollUp::Fold() {
  return store::Wait<int64_t>(
      [&](auto done) { store_.RollUpNoise(clock_.Now(), options_.batch, std::move(done)); });
}

Result<std::optional<TimePoint>> NoiseRollUp::RunOnce() {
  HOUSTON_ASSIGN_OR_RETURN(int64_t folded, Fold());
  return folded < options_.batch ? clock_.Now() + options_.idle : clock_.Now();
}

Result<int64_t> NoiseRollUp::CatchUp() {
  int64_t total = 0;
  for (;;) {
    HOUSTON_ASSIGN_OR_RETURN(int64_t folded, Fold());
    total += folded;
    if (folded < options_.batch) return total;
  }
}

}  // namespace houston::learning
