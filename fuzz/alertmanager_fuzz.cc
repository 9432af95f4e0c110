// Fuzz target: ingest::ParseAlertmanager, Alertmanager webhook (version 4) bodies.
#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  fuzz::CheckBatch(ingest::ParseAlertmanager(fuzz::AsText(data, size), "fuzz-key"), "fuzz-key");
  return 0;
}
