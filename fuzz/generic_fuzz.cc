// Fuzz target: ingest::ParseGeneric, generic JSON webhook bodies, under one of three field
// mappings chosen by the first byte (the default one, nested paths with array indexes, and one
// with value tables).
#include "fuzz/event_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

namespace {

std::vector<houston::ingest::GenericMapping> Mappings() {
  houston::ingest::GenericMapping plain;
  houston::ingest::GenericMapping nested;
  nested.summary = "alert.title";
  nested.severity = "alert.labels.severity";
  nested.dedup_key = "alerts.0.id";
  nested.action = "state";
  nested.source = "origin.host";
  nested.details = "alert";
  houston::ingest::GenericMapping tables;
  tables.summary = "message";
  tables.details = "";
  tables.action_values = {{"firing", "trigger"}, {"ok", "resolve"}, {"ack", "acknowledge"}};
  tables.severity_values = {{"P1", "critical"}, {"P2", "error"}, {"P3", "warning"}};
  return {plain, nested, tables};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  static const std::vector<ingest::GenericMapping> mappings = Mappings();
  if (size == 0) return 0;
  const ingest::GenericMapping& m = mappings[data[0] % mappings.size()];
  auto parsed = ingest::ParseGeneric(fuzz::AsText(data + 1, size - 1), "fuzz-key", m);
  if (!parsed) {
    fuzz::Check(!parsed.error().message().empty(), "an error without a message");
    return 0;
  }
  fuzz::Check(!parsed->summary.empty(), "an accepted event without a summary");
  fuzz::CheckEvent(*parsed);
  return 0;
}
