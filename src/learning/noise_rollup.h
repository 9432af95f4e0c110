// NoiseRollUp: keeps the alert noise roll-ups caught up (store::AnalyticsStore::RollUpNoise),
// so that the noise analytics read days of counts instead of every alert of a year. It runs
// beside intake, never on its path: each pass folds a batch of alerts in one short write, then
// lets other writes in; it keeps going while there is a backlog (after an upgrade, or an alert
// storm) and otherwise looks once a minute. The roll-ups only make the noise query fast: it
// answers the same without them.
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

  // Folds batches until caught up or `batches_per_run` batches; answers when to run again.
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
                     std::chrono::milliseconds(50), std::chrono::minutes(1)};
};

}  // namespace houston::learning
