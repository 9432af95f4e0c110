#include "engine/heartbeat_monitor.h"

#include <spdlog/spdlog.h>

namespace houston::engine {

Result<std::optional<TimePoint>> HeartbeatMonitor::RunOnce() {
  TimePoint now = clock_.Now();
  auto missed = store::Wait<int>([&](auto cb) { store_.CheckHeartbeats(now, cb); });
  if (!missed) return std::unexpected(missed.error());
  if (*missed > 0) spdlog::warn("{} heartbeat(s) missed: alerts opened", *missed);
  return store_.NextHeartbeatDeadline();
}

void HeartbeatMonitor::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void HeartbeatMonitor::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void HeartbeatMonitor::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HeartbeatMonitor::Loop() {
  constexpr auto kMaxSleep = std::chrono::seconds(30);
  for (;;) {
    auto next = RunOnce();
    auto sleep = std::chrono::milliseconds(kMaxSleep);
    if (!next) {
      spdlog::error("heartbeat check failed: {}", next.error().ToString());
      sleep = std::chrono::seconds(1);
    } else if (*next) {
      auto until = **next - clock_.Now();
      sleep = std::clamp<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(until),
          std::chrono::milliseconds(10), std::chrono::milliseconds(kMaxSleep));
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, sleep, [&] { return stop_ || woken_; });
    if (stop_) return;
    woken_ = false;
  }
}

}  // namespace houston::engine
