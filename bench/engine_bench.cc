// The escalation engine with many active escalations: what one engine tick costs.
//
//   build/bench/engine_bench --benchmark_min_time=0.5
//
// Setup (not timed): a SQLite store with N open incidents, each with an active escalation whose
// next step is due far in the future (sync NORMAL, to build it quickly), on a FakeClock.
// BM_IdleTick: RunOnce() when nothing is due (what the engine pays per wake-up while N
// escalations wait). BM_DueTick: every iteration makes `due` of them due (by moving the clock)
// and runs one tick that fires their next step (pages written to the outbox, durable).
// The process's resident memory after setup is reported as rss_mib.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "config/config.h"
#include "paging/escalation_engine.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"

namespace houston::paging {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOrg = R"yaml(
users:
  - id: u
    contact_methods: [{id: hook, type: webhook, url: "https://hooks.example.com/u"}]
escalation_policies:
  - id: slow
    repeat: 100000
    steps:
      - {delay_minutes: 60, targets: [{user: u}]}
services:
  - {id: s, escalation_policy: slow}
)yaml";

double RssMib() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  f >> pages_total >> pages_resident;
  return pages_resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024 * 1024);
}

struct Fixture {
  explicit Fixture(int incidents) {
    std::random_device rd;
    path = (fs::temp_directory_path() / ("engine_bench-" + std::to_string(rd()) + ".db")).string();
    store::sqlite::SqliteOptions o;
    o.path = path;
    o.clock = &clock;
    o.synchronous_full = false;
    store = std::move(*store::sqlite::SqliteStore::Open(o));
    org = std::make_shared<const config::Org>(*config::ParseOrg(kOrg, "bench.yaml"));
    std::vector<core::AlertEvent> batch;
    for (int i = 0; i < incidents; ++i) {
      core::AlertEvent e;
      e.integration_key = "k";
      e.service_id = "s";
      e.dedup_key = "d" + std::to_string(i);
      e.summary = "incident " + std::to_string(i);
      e.source = "bench";
      e.details_json = "{}";
      e.links_json = e.images_json = "[]";
      e.escalation_policy = "slow";
      e.first_step_delay = std::chrono::minutes(60);
      batch.push_back(std::move(e));
      if (batch.size() == 5000 || i + 1 == incidents) {
        (void)store::Wait<std::vector<store::EventOutcome>>(
            [&](auto cb) { store->ApplyAlertEvents(std::move(batch), {}, cb); });
        batch.clear();
      }
    }
    engine = std::make_unique<EscalationEngine>(
        *store, clock, [this] { return org; },
        [](const config::Org&, const std::string&, TimePoint) {
          return std::vector<std::string>{};
        });
  }
  ~Fixture() {
    engine.reset();
    store.reset();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ec);
  }
  std::string path;
  houston::testing::FakeClock clock;
  std::unique_ptr<store::sqlite::SqliteStore> store;
  std::shared_ptr<const config::Org> org;
  std::unique_ptr<EscalationEngine> engine;
};

void BM_IdleTick(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  state.counters["rss_mib"] = RssMib();
  for (auto _ : state) {
    auto next = f.engine->RunOnce();
    benchmark::DoNotOptimize(next);
  }
}
BENCHMARK(BM_IdleTick)->ArgName("active")->Arg(100000)->Unit(benchmark::kMicrosecond);

void BM_DueTick(benchmark::State& state) {
  const int active = static_cast<int>(state.range(0));
  Fixture f(active);
  state.counters["rss_mib"] = RssMib();
  // All N are due 60 minutes after creation (and again every 60 minutes after that): each
  // iteration moves the clock 60 minutes and runs the engine until nothing is due, i.e. fires
  // the next step of all N escalations (one RunOnce handles up to 64 passes of 500).
  int64_t fired = 0;
  for (auto _ : state) {
    state.PauseTiming();
    f.clock.Advance(std::chrono::minutes(60));
    state.ResumeTiming();
    for (;;) {
      auto next = f.engine->RunOnce();
      if (!next || !*next || **next > f.clock.Now()) break;
    }
    fired += active;
  }
  state.counters["escalations_fired_per_s"] =
      benchmark::Counter(fired, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DueTick)
    ->ArgName("active")
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);

}  // namespace
}  // namespace houston::paging

BENCHMARK_MAIN();
