// Micro-benchmarks of the intake parsers (one thread, no I/O).
//
//   build/bench/ingest_bench --benchmark_min_time=1
// items/s is events/s for BM_ParseEventsV2 and alerts/s for BM_ParseAlertmanager.

#include <benchmark/benchmark.h>

#include <string>

#include "ingest/ingest.h"

namespace houston::ingest {
namespace {

// A realistic trigger of about 500 bytes, as a monitoring agent sends it.
constexpr std::string_view kTrigger =
    R"json({"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger",)json"
    R"json("dedup_key":"db-7.prod/disk/var","payload":{"summary":)json"
    R"json("Disk /var on db-7.prod is 97% full (threshold 90%)",)json"
    R"json("source":"db-7.prod.example.com","severity":"critical",)json"
    R"json("timestamp":"2026-01-05T09:00:00.123+0000","component":"postgres",)json"
    R"json("group":"prod-db","class":"disk","custom_details":{"mount":"/var",)json"
    R"json("used_bytes":521838559232,"used_pct":97.0}},"client":"node-checker",)json"
    R"json("links":[{"href":"https://wiki.example.com/runbooks/disk-full","text":"Runbook"}]})json";

std::string AlertmanagerPayload(int alerts) {
  std::string body =
      R"({"receiver":"houston","status":"firing","version":"4","groupKey":)"
      R"("{}/{team=\"db\"}:{alertname=\"DiskFull\"}","truncatedAlerts":0,)"
      R"("externalURL":"http://alertmanager:9093","groupLabels":{"alertname":"DiskFull"},)"
      R"("commonLabels":{"alertname":"DiskFull","team":"db"},"commonAnnotations":{},"alerts":[)";
  for (int i = 0; i < alerts; ++i) {
    if (i > 0) body += ',';
    std::string n = std::to_string(i);
    body += R"({"status":"firing","labels":{"alertname":"DiskFull","device":"/dev/sda1",)"
            R"("instance":"db-)" +
            n +
            R"(.prod:9100","job":"node","severity":"critical","team":"db"},"annotations":{)"
            R"("summary":"Disk /dev/sda1 on db-)" +
            n +
            R"( is 97% full","runbook_url":"https://wiki.example.com/disk"},)"
            R"("startsAt":"2026-01-05T09:00:00.123Z","endsAt":"0001-01-01T00:00:00Z",)"
            R"("generatorURL":"http://prometheus:9090/graph?g0.expr=disk_used_ratio+%3E+0.9",)"
            R"("fingerprint":"7f3a9c0d1e2b)" +
            std::string(4 - n.size(), '0') + n + "\"}";
  }
  body += "]}";
  return body;
}

void BM_ParseEventsV2(benchmark::State& state) {
  for (auto _ : state) {
    Result<core::AlertEvent> r = ParseEventsV2(kTrigger);
    if (!r.has_value()) state.SkipWithError(r.error().ToString().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kTrigger.size()));
}
BENCHMARK(BM_ParseEventsV2);

void BM_ParseAlertmanager(benchmark::State& state) {
  const std::string body = AlertmanagerPayload(10);
  for (auto _ : state) {
    Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(body, "am-key");
    if (!r.has_value() || r->size() != 10) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 10);  // alerts
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseAlertmanager);

}  // namespace
}  // namespace houston::ingest

BENCHMARK_MAIN();
