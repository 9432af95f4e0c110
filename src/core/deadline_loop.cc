#include "core/deadline_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/thread_name.h"

namespace houston {

DeadlineLoop::DeadlineLoop(std::string name, Clock& clock, Tick tick,
                           std::chrono::milliseconds min_sleep, std::chrono::milliseconds max_sleep)
    : name_(std::move(name)),
      clock_(clock),
      tick_(std::move(tick)),
      min_sleep_(min_sleep),
      max_sleep_(max_sleep) {}

void DeadlineLoop::Start() {
  thread_ = std::thread([this] {
    NameThisThread(name_);
    Run();
  });
}

void DeadlineLoop::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void DeadlineLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeadlineLoop::Run() {
  for (;;) {
    auto next = tick_();
    std::chrono::milliseconds sleep = max_sleep_;
    if (!next) {
      spdlog::error("{}: {}", name_, next.error().ToString());
      sleep = std::chrono::seconds(1);
    } else if (*next) {
      sleep = std::clamp<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(**next - clock_.Now()), min_sleep_,
          max_sleep_);
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, sleep, [&] { return stop_ || woken_; });
    if (stop_) return;
    woken_ = false;
  }
}

}  // namespace houston
