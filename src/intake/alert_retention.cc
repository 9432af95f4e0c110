#include "intake/alert_retention.h"

#include <spdlog/spdlog.h>

namespace houston::intake {

Result<std::optional<TimePoint>> AlertRetention::RunOnce() {
  TimePoint now = clock_.Now();
  auto step = store::Wait<store::PruneStep>(
      [&](auto cb) { store_.PruneResolvedAlerts(now - retention_, cursor_, kBatch, cb); });
  if (!step) return std::unexpected(step.error());
  if (step->deleted > 0) {
    spdlog::info("retention: deleted {} alert(s) resolved more than {} days ago", step->deleted,
                 retention_.count() / 24);
  }
  // Mid-sweep, the next window after a short pause; at its end, the next sweep after a rest.
  cursor_ = step->scanned_through;
  return std::optional<TimePoint>(
      now + (cursor_ != 0 ? std::chrono::milliseconds(kPause) : std::chrono::milliseconds(kIdle)));
}

}  // namespace houston::intake
