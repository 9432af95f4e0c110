// A small Prometheus metrics registry: counters and histograms with labels, rendered in the
// text exposition format for GET /metrics.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace houston::http {

// Thread-safe.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Appends the series lines for `name{labels}`.
  void Render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micro_{0};  // sum scaled by 1e6 to stay integral
};

// Thread-safe. Series are created on first use and never removed.
class Metrics {
 public:
  // `labels` is the rendered label set, e.g. R"(route="/v2/enqueue",code="202")".
  void Add(const std::string& name, const std::string& labels, uint64_t delta = 1);
  void Observe(const std::string& name, const std::string& labels, double value);
  // The series behind Add and Observe, created on first use. Series are never removed, so the
  // reference stays valid as long as this registry: a hot path that counts the same series
  // again and again keeps it and skips the lookup (and the label string) each time.
  std::atomic<uint64_t>& Counter(const std::string& name, const std::string& labels);
  Histogram& HistogramOf(const std::string& name, const std::string& labels);
  // Declares a metric's help text and type ("counter", "histogram", "gauge").
  void Describe(const std::string& name, const std::string& type, const std::string& help,
                std::vector<double> buckets = {});
  // Gauges are computed at render time, outside the registry's lock (a source may read the
  // database; other threads keep counting meanwhile).
  void SetGaugeSource(const std::string& name, std::function<double()> fn);
  // A gauge with several series: `fn` returns (labels, value) pairs, e.g.
  // {R"(status="triggered")", 3}.
  using GaugeSeries = std::vector<std::pair<std::string, double>>;
  void SetGaugeSeriesSource(const std::string& name, std::function<GaugeSeries()> fn);
  std::string Render() const;

  static std::vector<double> LatencyBuckets();  // seconds, 50us .. 10s

 private:
  struct Family {
    std::string type;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>> counters;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
    std::function<GaugeSeries()> gauge;
  };
  Family& Get(const std::string& name);  // requires mu_
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace houston::http
