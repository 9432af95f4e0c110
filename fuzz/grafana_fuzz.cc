// Fuzz target: ingest::ParseGrafana, Grafana unified-alerting webhook (version 1) bodies.
#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  fuzz::CheckBatch(ingest::ParseGrafana(fuzz::AsText(data, size), "fuzz-key"), "fuzz-key");
  return 0;
}
