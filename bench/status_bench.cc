// The public status page with 300 incidents in its history: what one request costs when the
// page is built for it (status_page_max_age 0: every request rebuilds, as before the cache) and
// when it comes from the cache (the default: rebuilt once per store commit, org or second).
//
//   build/bench/status_bench --benchmark_min_time=0.5
//
// Setup (not timed): a SQLite store (sync NORMAL) on a FakeClock with 300 declared SEV2
// incidents on a status page component over the last 90 days, each with one public status
// update and resolved, and one open; requests go through the real Router and Api, no sockets.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <future>

#include "api/api.h"
#include "config/config.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"

namespace houston::api {
namespace {

namespace fs = std::filesystem;
namespace bhttp = http::bhttp;

constexpr const char* kOrg = R"yaml(
users:
  - {id: u}
escalation_policies:
  - {id: ep, steps: [{delay_minutes: 0, targets: [{user: u}]}]}
services:
  - {id: checkout, name: Checkout, escalation_policy: ep}
status_page:
  title: Bench Status
  components:
    - {id: shop, name: Shop, services: [checkout]}
)yaml";

struct Fixture {
  fs::path dir;
  houston::testing::FakeClock clock;
  http::Metrics metrics;
  std::unique_ptr<store::sqlite::SqliteStore> store;
  std::unique_ptr<Api> api;
  http::Router router;

  Fixture(std::chrono::milliseconds max_age, int incidents) {
    dir = fs::temp_directory_path() / ("houston-status-bench-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    store::sqlite::SqliteOptions o;
    o.path = (dir / "h.db").string();
    o.clock = &clock;
    o.synchronous_full = false;
    store = std::move(*store::sqlite::SqliteStore::Open(o));
    ApiOptions options;
    options.status_page_max_age = max_age;
    api = std::make_unique<Api>(*store, metrics, clock, options);
    auto org = config::ParseOrg(kOrg, "bench.yaml");
    HOUSTON_CHECK(org.has_value());
    api->SetOrg(std::make_shared<const config::Org>(std::move(*org)));
    api->Register(router);
    store::Actor actor{"token", "bench", "api"};
    for (int i = 0; i < incidents; ++i) {
      store::NewIncident n;
      n.title = "incident " + std::to_string(i);
      n.sev = "SEV2";
      n.services = {"checkout"};
      auto inc =
          store::Wait<core::Incident>([&](auto cb) { store->DeclareIncident(n, actor, cb); });
      store::StatusUpdate u;
      u.incident_id = inc->id;
      u.author = "bench";
      u.via = "api";
      u.phase = "investigating";
      u.renderings = {
          {"public", "", "We are looking into errors at checkout. Next update in 30 min."}};
      (void)store::Wait<store::StatusUpdate>(
          [&](auto cb) { store->PublishStatusUpdate(u, actor, cb); });
      if (i + 1 < incidents) {
        (void)store::Wait<core::Incident>([&](auto cb) {
          store->TransitionIncident(inc->id, core::IncidentAction::kResolve, actor, cb);
        });
      }
      clock.Advance(std::chrono::hours(7));  // 300 incidents over about 87 days
    }
  }
  ~Fixture() {
    api.reset();
    store.reset();
    fs::remove_all(dir);
  }
  size_t Get(const std::string& target) {
    http::Request raw{bhttp::verb::get, target, 11};
    raw.set(bhttp::field::host, "status.bench");
    auto m = router.Find(bhttp::verb::get, target);
    http::HttpRequest req{raw, target, "", m.params, "127.0.0.1", "bench"};
    std::promise<http::Response> p;
    (*m.handler)(req, [&p](http::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get().body().size();
  }
};

void Run(benchmark::State& state, std::chrono::milliseconds max_age, const char* target) {
  Fixture f(max_age, static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) bytes = f.Get(target);
  state.counters["page_kib"] = static_cast<double>(bytes) / 1024;
  state.counters["builds"] = static_cast<double>(f.api->status_page_builds());
}

void BM_StatusHtmlRebuilt(benchmark::State& state) {
  Run(state, std::chrono::milliseconds(0), "/status");
}
void BM_StatusHtmlCached(benchmark::State& state) {
  Run(state, std::chrono::milliseconds(1000), "/status");
}
void BM_StatusJsonRebuilt(benchmark::State& state) {
  Run(state, std::chrono::milliseconds(0), "/status.json");
}
void BM_StatusJsonCached(benchmark::State& state) {
  Run(state, std::chrono::milliseconds(1000), "/status.json");
}
void BM_Healthz(benchmark::State& state) {
  Run(state, std::chrono::milliseconds(1000), "/healthz");
}

BENCHMARK(BM_StatusHtmlRebuilt)->Arg(300)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StatusHtmlCached)->Arg(300)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StatusJsonRebuilt)->Arg(300)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StatusJsonCached)->Arg(300)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Healthz)->Arg(300)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace houston::api

BENCHMARK_MAIN();
