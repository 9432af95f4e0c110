#include "paging/heartbeat_monitor.h"

#include <spdlog/spdlog.h>

namespace houston::paging {

Result<std::optional<TimePoint>> HeartbeatMonitor::RunOnce() {
  TimePoint now = clock_.Now();
  auto missed = store::Wait<int>([&](auto cb) { store_.CheckHeartbeats(now, cb); });
  if (!missed) return std::unexpected(missed.error());
  if (*missed > 0) spdlog::warn("{} heartbeat(s) missed: alerts opened", *missed);
  return store_.NextHeartbeatDeadline();
}

}  // namespace houston::paging
