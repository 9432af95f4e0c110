#include "intake/alert_retention.h"

#include <spdlog/spdlog.h>

namespace houston::intake {

Result<std::optional<TimePoint>> AlertRetention::RunOnce() {
  TimePoint now = clock_.Now();
  auto pruned =
      store::Wait<int>([&](auto cb) { store_.PruneResolvedAlerts(now - retention_, kBatch, cb); });
  if (!pruned) return std::unexpected(pruned.error());
  if (*pruned > 0) {
    spdlog::info("retention: deleted {} alert(s) resolved more than {} days ago", *pruned,
                 retention_.count() / 24);
  }
  // A full batch may have left more: the next one after a short pause.
  return std::optional<TimePoint>(now + (*pruned == kBatch ? std::chrono::milliseconds(kPause)
                                                           : std::chrono::milliseconds(kIdle)));
}

}  // namespace houston::intake
