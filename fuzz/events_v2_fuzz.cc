// Fuzz target: ingest::ParseEventsV2, PagerDuty Events API v2 bodies (POST /v2/enqueue).
#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  auto parsed = ingest::ParseEventsV2(fuzz::AsText(data, size));
  // Every refusal says why, in a message and one detail line per problem.
  if (!parsed) {
    fuzz::Check(!parsed.error().message().empty(), "an error without a message");
    return 0;
  }
  fuzz::CheckEvent(*parsed);
  return 0;
}
