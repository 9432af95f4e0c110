#include "http/metrics.h"

#include <fmt/format.h>

namespace houston::http {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
}

void Histogram::Render(std::string& out, const std::string& name, const std::string& labels) const {
  std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out +=
        fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, bounds_[i], cumulative);
  }
  cumulative += buckets_[bounds_.size()].load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, cumulative);
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n", name, braces, sum_micro_.load() / 1e6);
  out += fmt::format("{}_count{} {}\n", name, braces, count_.load());
}

std::vector<double> Metrics::LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

Metrics::Family& Metrics::Get(const std::string& name) { return families_[name]; }

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help,
                       std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  Family& f = Get(name);
  f.type = type;
  f.help = help;
  f.buckets = std::move(buckets);
}

void Metrics::SetGaugeSource(const std::string& name, std::function<double()> fn) {
  SetGaugeSeriesSource(name, [fn = std::move(fn)] { return GaugeSeries{{"", fn()}}; });
}

void Metrics::SetGaugeSeriesSource(const std::string& name, std::function<GaugeSeries()> fn) {
  std::lock_guard lock(mu_);
  Get(name).gauge = std::move(fn);
}

std::atomic<uint64_t>& Metrics::Counter(const std::string& name, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& slot = Get(name).counters[labels];
  if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
  return *slot;
}

Histogram& Metrics::HistogramOf(const std::string& name, const std::string& labels) {
  std::lock_guard lock(mu_);
  Family& f = Get(name);
  auto& slot = f.histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(f.buckets.empty() ? LatencyBuckets() : f.buckets);
  return *slot;
}

void Metrics::Add(const std::string& name, const std::string& labels, uint64_t delta) {
  Counter(name, labels).fetch_add(delta, std::memory_order_relaxed);
}

void Metrics::Observe(const std::string& name, const std::string& labels, double value) {
  HistogramOf(name, labels).Observe(value);
}

std::string Metrics::Render() const {
  std::map<std::string, std::function<GaugeSeries()>> sources;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) {
      if (f.gauge) sources.emplace(name, f.gauge);
    }
  }
  std::map<std::string, GaugeSeries> gauges;
  for (const auto& [name, fn] : sources) gauges.emplace(name, fn());
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", name, f.help);
    if (!f.type.empty()) out += fmt::format("# TYPE {} {}\n", name, f.type);
    for (const auto& [labels, c] : f.counters) {
      out += labels.empty() ? fmt::format("{} {}\n", name, c->load())
                            : fmt::format("{}{{{}}} {}\n", name, labels, c->load());
    }
    for (const auto& [labels, h] : f.histograms) h->Render(out, name, labels);
    if (auto g = gauges.find(name); g != gauges.end()) {
      for (const auto& [labels, value] : g->second) {
        out += labels.empty() ? fmt::format("{} {}\n", name, value)
                              : fmt::format("{}{{{}}} {}\n", name, labels, value);
      }
    }
  }
  return out;
}

}  // namespace houston::http
