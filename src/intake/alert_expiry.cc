#include "intake/alert_expiry.h"

#include <spdlog/spdlog.h>

namespace houston::intake {

Result<std::optional<TimePoint>> AlertExpiry::RunOnce() {
  TimePoint now = clock_.Now();
  auto resolved = store::Wait<int>([&](auto cb) { store_.ExpireAlerts(now, kBatch, cb); });
  if (!resolved) return std::unexpected(resolved.error());
  if (*resolved > 0) spdlog::info("{} alert(s) resolved: their endsAt passed", *resolved);
  // A full batch may have left more due now: come back at once.
  if (*resolved == kBatch) return std::optional<TimePoint>(now);
  return store_.NextAlertExpiry();
}

}  // namespace houston::intake
