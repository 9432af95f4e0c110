// Fuzz target: ingest::ParseChangeEvent, PagerDuty Change Events bodies (POST
// /v2/change/enqueue).
#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  auto parsed = ingest::ParseChangeEvent(fuzz::AsText(data, size));
  if (!parsed) {
    fuzz::Check(!parsed.error().message().empty(), "an error without a message");
    return 0;
  }
  fuzz::Check(fuzz::JsonOfKind(parsed->details_json, true), "details_json is not a JSON object");
  fuzz::Check(fuzz::JsonOfKind(parsed->links_json, false), "links_json is not a JSON array");
  return 0;
}
