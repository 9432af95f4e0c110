// Fuzz target: ingest::ParsePrometheusAlerts, Alertmanager API v2 bodies as Prometheus posts
// them (POST /api/v2/alerts, /api/v1/alerts).
#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  // A fixed "now" (2026-01-01T00:00:00Z): replays behave the same on any day.
  const TimePoint now = TimePoint(std::chrono::seconds(1767225600));
  auto parsed = ingest::ParsePrometheusAlerts(fuzz::AsText(data, size), "fuzz-key", now);
  if (!parsed) {
    fuzz::Check(!parsed.error().message().empty(), "an error without a message");
    return 0;
  }
  for (const ingest::PrometheusAlert& a : parsed->alerts) {
    fuzz::Check(!a.labels.empty(), "an accepted alert without labels");
    fuzz::Check(!a.event.dedup_key.empty(), "an alert without a dedup key");
    fuzz::CheckEvent(a.event);
  }
  return 0;
}
