// NoiseRollUp: keeps the alert noise roll-ups caught up (store::AnalyticsStore::RollUpNoise),
// so that the noise analytics read days of counts instead of every alert of a year. It runs
// beside intake, never on its path: each pass folds one batch of alerts in one short write on
// the store's writer, then leaves the writer to others for at least as long as the loop's
// shortest sleep (a backlog, after an upgrade or an alert storm, is folded at a few thousand
// alerts a second without starving intake); when caught up it looks once a minute. The
// roll-ups only make the noise query fast: it answers the same without them.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/clock.h"
#include "core/deadline_loop.h"
#include "core/status.h"
#include "store/analytics_store.h"

namespace houston::learning {

struct NoiseRollUpOptions {
  int batch = 500;           // alerts per write
  int batches_per_run = 20;  // then other loop work, and Stop, get in
  std::chrono::milliseconds idle{std::chrono::minutes(1)};  // how often to look when caught up
};

class NoiseRollUp {
 public:
  NoiseRollUp(store::AnalyticsStore& store, Clock& clock, NoiseRollUpOptions options = {});
  ~NoiseRollUp() { Stop(); }

  // Folds one batch; answers when to run again (at once, after the loop's shortest sleep, while
  // there is a backlog).
  Result<std::optional<TimePoint>> RunOnce();
  // Folds until caught up; answers how many alerts were folded (for tests and benchmarks).
  Result<int64_t> CatchUp();

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

 private:
  // One batch: how many alerts were folded.
  Result<int64_t> Fold();

  store::AnalyticsStore& store_;
  Clock& clock_;
  const NoiseRollUpOptions options_;
  DeadlineLoop loop_{"noise roll-up", clock_, [this] { return RunOnce(); },
                     std::chrono::milliseconds(50), options_.idle};
};

}  // namespace houston::learning
