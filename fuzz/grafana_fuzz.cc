// Fuzz target: ingest::ParseGrafana, Grafana unified-alerting webhook (version 1) bodies.
#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  auto parsed = ingest::ParseGrafana(fuzz::AsText(data, size), "fuzz-key");
  if (!parsed) {
    fuzz::Check(!parsed.error().message().empty(), "an error without a message");
    return 0;
  }
  for (const core::AlertEvent& e : *parsed) {
    fuzz::Check(!e.dedup_key.empty(), "an alert without a dedup key");
    fuzz::CheckEvent(e);
  }
  return 0;
}
