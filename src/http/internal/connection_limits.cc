#include "http/internal/connection_limits.h"

#include <sys/resource.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace houston::http::internal {

std::optional<size_t> RaiseOpenFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::nullopt;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return std::numeric_limits<size_t>::max();
  return static_cast<size_t>(rl.rlim_cur);
}

size_t ConnectionBound(size_t configured, std::optional<size_t> open_file_limit) {
  size_t bound = configured;
  if (open_file_limit) {
    size_t limit = *open_file_limit;
    size_t reserve = std::clamp<size_t>(limit / 8, 64, 1024);
    bound = std::min(bound, limit > 2 * reserve ? limit - reserve : limit / 2);
  }
  return std::max<size_t>(bound, 1);
}

uint64_t LogThrottle::Event(SteadyPoint now) {
  ++held_;
  if (last_line_ && now - *last_line_ < interval_) return 0;
  last_line_ = now;
  uint64_t n = held_;
  held_ = 0;
  return n;
}

AcceptBackoff::Pause AcceptBackoff::Failed(SteadyPoint now) {
  ++failures_;
  pause_ = pause_.count() == 0 ? kFirstPause : std::min(pause_ * 2, kMaxPause);
  return Pause{pause_, failure_log_.Event(now)};
}

uint64_t AcceptBackoff::Succeeded(SteadyPoint now) {
  if (failures_ == 0) return 0;
  unreported_recovered_ += failures_;
  failures_ = 0;
  pause_ = std::chrono::milliseconds(0);
  if (recovery_log_.Event(now) == 0) return 0;
  return std::exchange(unreported_recovered_, 0);
}

}  // namespace houston::http::internal
