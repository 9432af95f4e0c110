// Micro-benchmarks of the store's dedup path: SqliteStore::ApplyAlertEvents on a real file.
//
//   build/bench/store_bench --benchmark_min_time=1
//   HOUSTON_BENCH_DIR=/path/on/the/disk/to/test build/bench/store_bench
//
// Each iteration submits a burst of `events` writes asynchronously (one ApplyAlertEvents call
// per event, as the HTTP intake does for one request) from `submitters` threads, then waits for
// every callback, i.e. until every event is committed. The store's writer thread group-commits
// whatever is queued, so the burst size bounds the batch size. items/s is events/s; the
// counters give commits per second, the mean batch size actually achieved, and the CPU time of
// the whole process (writer thread included; user / system) per event, which a busy machine
// disturbs much less than the wall-clock rate.
//
// Args: {sync (1 = FULL, the default and durable; 0 = NORMAL), events per burst, submitters}.
// The database lives in $HOUSTON_BENCH_DIR (default: the system temp directory) and is deleted
// at the end of each run, so the fsync cost measured is that of the filesystem there.

#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/types.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace houston::store::sqlite {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRoutingKey = "0123456789abcdef0123456789abcdef";
constexpr int kHotKeys = 100;

// A fresh database file that is removed (with its -wal and -shm) on destruction.
class TempDb {
 public:
  TempDb() {
    const char* env = std::getenv("HOUSTON_BENCH_DIR");
    fs::path dir = env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path();
    std::random_device rd;
    path_ =
        (dir / ("store_bench-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".db"))
            .string();
  }
  ~TempDb() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A trigger shaped like the ~500 byte PagerDuty event the HTTP benchmark sends.
core::AlertEvent Trigger(std::string dedup_key) {
  core::AlertEvent ev;
  ev.integration_key = kRoutingKey;
  ev.service_id = "checkout";
  ev.action = core::EventAction::kTrigger;
  ev.dedup_key = std::move(dedup_key);
  ev.summary = "Disk /var on db-7.prod is 97% full (threshold 90%)";
  ev.source = "db-7.prod.example.com";
  ev.severity = core::Severity::kCritical;
  ev.component = "postgres";
  ev.group = "prod-db";
  ev.klass = "disk";
  ev.details_json = R"({"mount":"/var","used_bytes":521838559232,"used_pct":97.0})";
  ev.client = "node-checker";
  ev.links_json = R"([{"href":"https://wiki.example.com/runbooks/disk-full","text":"Runbook"}])";
  ev.images_json = "[]";
  return ev;
}

// Counts outstanding writes down to zero; records the first failure.
class Burst {
 public:
  explicit Burst(int64_t n) : left_(n) {}
  void Done(bool ok) {
    if (!ok) failed_.store(true, std::memory_order_relaxed);
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mu_);
      finished_ = true;
      cv_.notify_one();
    }
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return finished_; });
  }
  bool failed() const { return failed_.load(); }

 private:
  std::atomic<int64_t> left_;
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
};

std::unique_ptr<SqliteStore> OpenStore(benchmark::State& state, const TempDb& db) {
  SqliteOptions o;
  o.path = db.path();
  o.synchronous_full = state.range(0) != 0;
  auto store = SqliteStore::Open(std::move(o));
  if (!store) {
    state.SkipWithError(store.error().ToString().c_str());
    return nullptr;
  }
  return std::move(*store);
}

// Submits `n` single-event writes from `submitters` threads; key(i) names event i's dedup key.
// Returns false if any write failed.
template <typename KeyFn>
bool RunBurst(SqliteStore& store, int64_t n, int submitters, const KeyFn& key) {
  Burst burst(n);
  auto submit = [&](int64_t from, int64_t to) {
    for (int64_t i = from; i < to; ++i) {
      std::vector<core::AlertEvent> events;
      events.push_back(Trigger(key(i)));
      store.ApplyAlertEvents(
          std::move(events), Actor{"integration", kRoutingKey, "integration"},
          [&burst](Result<std::vector<EventOutcome>> r) { burst.Done(r.has_value()); });
    }
  };
  if (submitters <= 1) {
    submit(0, n);
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < submitters; ++t) {
      threads.emplace_back(submit, n * t / submitters, n * (t + 1) / submitters);
    }
    for (auto& t : threads) t.join();
  }
  burst.Wait();
  return !burst.failed();
}

// Process CPU time (all threads), user and system, in microseconds.
struct CpuTime {
  double user_us = 0, sys_us = 0;
  static CpuTime Now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto us = [](const timeval& t) { return t.tv_sec * 1e6 + static_cast<double>(t.tv_usec); };
    return CpuTime{us(ru.ru_utime), us(ru.ru_stime)};
  }
};

void Report(benchmark::State& state, SqliteStore& store, const StoreStats& before,
            const CpuTime& cpu_before, int64_t events) {
  CpuTime cpu = CpuTime::Now();
  StoreStats after = store.Stats();
  if (events > 0) {
    state.counters["usr_us/event"] = (cpu.user_us - cpu_before.user_us) / events;
    state.counters["sys_us/event"] = (cpu.sys_us - cpu_before.sys_us) / events;
  }
  double commits = static_cast<double>(after.commits - before.commits);
  state.SetItemsProcessed(events);
  state.counters["commits/s"] = benchmark::Counter(commits, benchmark::Counter::kIsRate);
  state.counters["mean_batch"] =
      commits > 0 ? static_cast<double>(after.committed_writes - before.committed_writes) / commits
                  : 0;
  state.SetLabel(state.range(0) != 0 ? "sync=FULL" : "sync=NORMAL");
}

// Every event opens a new alert (and incident, and audit record): the all-new-keys path.
void BM_ApplyNewKeys(benchmark::State& state) {
  TempDb db;
  auto store = OpenStore(state, db);
  if (!store) return;
  const int64_t n = state.range(1);
  const int submitters = static_cast<int>(state.range(2));
  const std::string prefix = "k" + std::to_string(std::random_device{}()) + "-";
  int64_t next = 0;
  StoreStats before = store->Stats();
  CpuTime cpu_before = CpuTime::Now();
  for (auto _ : state) {
    int64_t base = next;
    if (!RunBurst(*store, n, submitters,
                  [&](int64_t i) { return prefix + std::to_string(base + i); })) {
      state.SkipWithError("a write failed");
      break;
    }
    next += n;
  }
  Report(state, *store, before, cpu_before, next);
}

// Every event repeats one of 100 open alerts: the dedup (UPDATE) path.
void BM_ApplyDedup(benchmark::State& state) {
  TempDb db;
  auto store = OpenStore(state, db);
  if (!store) return;
  const int64_t n = state.range(1);
  const int submitters = static_cast<int>(state.range(2));
  auto key = [](int64_t i) { return "hot-" + std::to_string(i % kHotKeys); };
  if (!RunBurst(*store, kHotKeys, 1, key)) {  // open the hot alerts (not timed)
    state.SkipWithError("seeding failed");
    return;
  }
  int64_t done = 0;
  StoreStats before = store->Stats();
  CpuTime cpu_before = CpuTime::Now();
  for (auto _ : state) {
    int64_t base = done;
    if (!RunBurst(*store, n, submitters, [&](int64_t i) { return key(base + i); })) {
      state.SkipWithError("a write failed");
      break;
    }
    done += n;
  }
  Report(state, *store, before, cpu_before, done);
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"full", "events", "submitters"});
  for (int full : {1, 0}) {
    b->Args({full, 1, 1});     // one event per commit: the fsync-bound floor
    b->Args({full, 64, 1});    // a small burst
    b->Args({full, 1024, 1});  // a large burst, one submitter
    b->Args({full, 1024, 2});  // a large burst, two submitters (like two I/O threads)
  }
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_ApplyNewKeys)->Apply(Args);
BENCHMARK(BM_ApplyDedup)->Apply(Args);

}  // namespace
}  // namespace houston::store::sqlite

BENCHMARK_MAIN();
