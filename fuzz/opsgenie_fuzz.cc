// Fuzz target: the Opsgenie Alert API bodies (ingest::ParseOpsgenieCreate, ParseOpsgenieAction,
// ParseOpsgenieUpdate), the parser chosen by the first byte, and the alert event a create
// makes; and every input as the search query of GET /v2/alerts (ingest::ParseOpsgenieQuery).
#include <algorithm>
#include <iterator>

#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

namespace {

template <typename T>
void CheckRefusal(const houston::ingest::OpsgenieResult<T>& r) {
  if (r) return;
  houston::fuzz::Check(!r.error().message.empty(), "a refusal without a message");
  houston::fuzz::Check(r.error().malformed || !r.error().errors.empty(),
                       "a 422 refusal that names no field");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  if (size == 0) return 0;
  std::string_view body = fuzz::AsText(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      auto c = ingest::ParseOpsgenieCreate(body);
      CheckRefusal(c);
      if (!c) break;
      fuzz::Check(!c->message.empty(), "a create without a message");
      fuzz::Check(c->priority >= 1 && c->priority <= 5, "a priority outside P1..P5");
      static constexpr std::array<core::Severity, 5> kSeverities = {
          core::Severity::kCritical, core::Severity::kError, core::Severity::kWarning,
          core::Severity::kInfo, core::Severity::kInfo};
      fuzz::CheckEvent(ingest::OpsgenieAlertEvent(*c, "fuzz-key", kSeverities));
      break;
    }
    case 1:
      CheckRefusal(ingest::ParseOpsgenieAction(body, false));
      break;
    case 2:
      CheckRefusal(ingest::ParseOpsgenieAction(body, true));
      break;
    case 3:
      CheckRefusal(ingest::ParseOpsgenieUpdate(body, "message"));
      break;
    case 4:
      CheckRefusal(ingest::ParseOpsgenieUpdate(body, "description"));
      break;
    case 5: {
      auto u = ingest::ParseOpsgenieUpdate(body, "priority");
      CheckRefusal(u);
      if (u) {
        fuzz::Check(
            u->value.size() == 2 && u->value[0] == 'P' && u->value[1] >= '1' && u->value[1] <= '5',
            "an updated priority that is not P1..P5");
      }
      break;
    }
  }
  // The search query: accepted only when every term is one houston knows.
  if (auto q = ingest::ParseOpsgenieQuery(body)) {
    std::string_view rest = body;
    while (!rest.empty()) {
      size_t space = rest.find(' ');
      std::string_view term = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      static constexpr std::string_view kKnown[] = {"",
                                                    "AND",
                                                    "and",
                                                    "status:open",
                                                    "status=open",
                                                    "status:closed",
                                                    "status=closed",
                                                    "acknowledged:true",
                                                    "acknowledged=true",
                                                    "acknowledged:false",
                                                    "acknowledged=false"};
      fuzz::Check(std::find(std::begin(kKnown), std::end(kKnown), term) != std::end(kKnown),
                  "a query term houston does not know was accepted");
    }
  } else {
    fuzz::Check(q.error().message().find("is not supported") != std::string::npos,
                "a refused query that does not say which term");
  }
  return 0;
}
