// Micro-benchmarks of who-is-on-call (core/schedule.h).
//
//   build/bench/schedule_bench
//
// The schedule is a realistic worst case for the budget (< 10 us per lookup with 3
// layers and 1,000 overrides): America/New_York, a weekly primary layer, a daily business-hours
// layer (weekdays 09:00-17:00) and a 12-hour night layer (22:00-06:00 on weekends), plus 1,000
// overrides of 30 minutes to 4 hours spread over 2026 (they cover about a quarter of the year;
// the `in_override` counter gives the share of lookups answered by an override, the rest go
// through the layers). Lookups cycle through 4,096 random instants of 2026.
// BM_OnCallAt_NearDstChange looks up instants within a day of the 2026-03-08 change, where the
// zone conversions cannot take their fast path.

#include <benchmark/benchmark.h>
#include <date/date.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/schedule.h"

namespace houston::core {
namespace {

using date::literals::operator""_y;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

const TimePoint kYearStart = date::sys_days{2026_y / 1 / 1};
const TimePoint kYearEnd = date::sys_days{2027_y / 1 / 1};

CompiledSchedule MakeSchedule() {
  ScheduleSpec spec;
  spec.id = "payments-primary";
  spec.timezone = "America/New_York";
  LayerSpec weekly;
  weekly.name = "weekly";
  weekly.start_local = date::local_days{2026_y / 1 / 5} + hours(9);
  weekly.rotation = {RotationType::kWeekly, 1};
  weekly.users = {"alice", "bob", "carol", "dave"};
  LayerSpec business;
  business.name = "business-hours";
  business.start_local = date::local_days{2026_y / 1 / 5} + hours(9);
  business.rotation = {RotationType::kDaily, 1};
  business.users = {"erin", "frank"};
  business.restrictions = {{0b0011111, 9 * 60, 17 * 60}};
  LayerSpec nights;
  nights.name = "weekend-nights";
  nights.start_local = date::local_days{2026_y / 1 / 2} + hours(22);
  nights.rotation = {RotationType::kHourly, 12};
  nights.users = {"gina", "hank", "ivan"};
  nights.restrictions = {
      {static_cast<DayMask>(DayBit(date::Friday) | DayBit(date::Saturday)), 22 * 60, 6 * 60}};
  spec.layers = {weekly, business, nights};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    TimePoint start =
        kYearStart + minutes(std::uniform_int_distribution<int>(0, 365 * 24 * 60 - 1)(rng));
    TimePoint end = start + minutes(std::uniform_int_distribution<int>(30, 4 * 60)(rng));
    spec.overrides.push_back({"cover-" + std::to_string(i % 50), start, end});
  }
  Result<CompiledSchedule> compiled = CompiledSchedule::Create(std::move(spec));
  if (!compiled.has_value()) std::abort();
  return *std::move(compiled);
}

std::vector<TimePoint> Instants(TimePoint from, TimePoint to) {
  std::mt19937_64 rng(2);
  std::vector<TimePoint> out;
  for (int i = 0; i < 4096; ++i) {
    out.push_back(from + milliseconds(std::uniform_int_distribution<int64_t>(
                             0, (to - from).count() - 1)(rng)));
  }
  return out;
}

// The share of `instants` that fall into an override.
double OverrideShare(const CompiledSchedule& schedule, const std::vector<TimePoint>& instants) {
  int hits = 0;
  for (TimePoint t : instants) {
    for (const OverrideSpec& o : schedule.spec().overrides) {
      if (o.start <= t && t < o.end) {
        ++hits;
        break;
      }
    }
  }
  return static_cast<double>(hits) / static_cast<double>(instants.size());
}

void BM_OnCallAt_3Layers_1000Overrides(benchmark::State& state) {
  const CompiledSchedule schedule = MakeSchedule();
  const std::vector<TimePoint> instants = Instants(kYearStart, kYearEnd);
  size_t i = 0;
  for (auto _ : state) {
    std::vector<std::string> users = OnCallAt(schedule, instants[i++ & 4095]);
    benchmark::DoNotOptimize(users);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["in_override"] = OverrideShare(schedule, instants);
}
BENCHMARK(BM_OnCallAt_3Layers_1000Overrides);

void BM_OnCallAt_NearDstChange(benchmark::State& state) {
  const CompiledSchedule schedule = MakeSchedule();
  const TimePoint change = date::sys_days{2026_y / 3 / 8} + hours(7);
  const std::vector<TimePoint> instants = Instants(change - hours(24), change + hours(24));
  size_t i = 0;
  for (auto _ : state) {
    std::vector<std::string> users = OnCallAt(schedule, instants[i++ & 4095]);
    benchmark::DoNotOptimize(users);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["in_override"] = OverrideShare(schedule, instants);
}
BENCHMARK(BM_OnCallAt_NearDstChange);

void BM_Timeline_30Days(benchmark::State& state) {
  const CompiledSchedule schedule = MakeSchedule();
  // March 2026: includes the spring-forward change.
  const TimePoint from = date::sys_days{2026_y / 3 / 1};
  const TimePoint to = from + date::days(30);
  size_t shifts = 0;
  size_t gaps = 0;
  for (auto _ : state) {
    ScheduleTimeline timeline = Timeline(schedule, from, to);
    shifts = timeline.shifts.size();
    gaps = timeline.gaps.size();
    benchmark::DoNotOptimize(timeline);
  }
  state.counters["shifts"] = static_cast<double>(shifts);
  state.counters["gaps"] = static_cast<double>(gaps);
}
BENCHMARK(BM_Timeline_30Days)->Unit(benchmark::kMicrosecond);

void BM_Compile_1000Overrides(benchmark::State& state) {
  for (auto _ : state) {
    CompiledSchedule schedule = MakeSchedule();
    benchmark::DoNotOptimize(schedule);
  }
}
BENCHMARK(BM_Compile_1000Overrides)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace houston::core

BENCHMARK_MAIN();
