// How many connections the server holds and how its accept loop behaves when the process runs
// out of file descriptors: pure decisions, tested without sockets or clocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/clock.h"

namespace houston::http::internal {

// Raises the soft RLIMIT_NOFILE to the hard limit. Returns the soft limit now in force, or
// std::nullopt if it cannot be read; a failure to raise it leaves the old one (not an error).
std::optional<size_t> RaiseOpenFileLimit();

// The most connections to hold open with `open_file_limit` descriptors (nullopt: unknown), at
// most `configured`. Leaves a reserve for what else the process opens (database files and
// connections, notification sends, logs): an eighth of the limit, between 64 and 1024, or
// half of a limit too small for that. Never less than 1.
size_t ConnectionBound(size_t configured, std::optional<size_t> open_file_limit);

// Lets one log line through per interval and counts the events held back in between.
// Thread-compatible.
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::milliseconds interval) : interval_(interval) {}
  // Records one event at `now`. Returns how many events a log line written now should report
  // (this one and those held back since the last line), or 0 to stay silent.
  uint64_t Event(SteadyPoint now);

 private:
  std::chrono::milliseconds interval_;
  std::optional<SteadyPoint> last_line_;
  uint64_t held_ = 0;
};

// Paces the accept loop while accepts fail (out of descriptors or memory: EMFILE, ENFILE,
// ENOBUFS, ENOMEM), instead of retrying at once forever: the pause doubles from kFirstPause to
// kMaxPause, and one log line per kLogInterval at most says how many accepts failed.
// Thread-compatible.
class AcceptBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirstPause{10};
  static constexpr std::chrono::milliseconds kMaxPause{1000};
  static constexpr std::chrono::milliseconds kLogInterval{10'000};

  struct Pause {
    std::chrono::milliseconds delay;  // before the next accept
    uint64_t log_failures = 0;        // > 0: log one line covering this many failures
  };
  // An accept failed at `now`.
  Pause Failed(SteadyPoint now);
  // An accept succeeded at `now`: the next failure pauses kFirstPause again. Returns how many
  // accepts had failed before it, for one line saying that accepting works again, or 0 to stay
  // silent (no backoff ended, or such a line was written less than kLogInterval ago: the count
  // then goes to the next one).
  uint64_t Succeeded(SteadyPoint now);

 private:
  std::chrono::milliseconds pause_{0};
  uint64_t failures_ = 0;              // since the last success
  uint64_t unreported_recovered_ = 0;  // failures of ended backoffs not yet logged
  LogThrottle failure_log_{kLogInterval};
  LogThrottle recovery_log_{kLogInterval};
};

}  // namespace houston::http::internal
