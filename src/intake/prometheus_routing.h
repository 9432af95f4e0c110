// Routing and grouping of the alerts Prometheus posts straight to houston (a `prometheus`
// integration, POST /integrations/prometheus/{key}/api/v2/alerts).
//
// An alert is a label set. The integration's `routes` (label matchers, first match wins) pick
// the service whose escalation policy and grouping apply; `group_by` labels put the alerts of
// one service with the same values in one incident (the store's group_key), as Alertmanager's
// group_by does. Built once per org (IntakeView), then read by every I/O thread.
#pragma once

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "ingest/ingest.h"
#include "intake/routes.h"

namespace houston::intake {

using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by name

// A label matcher with its regex compiled.
struct CompiledMatcher {
  std::string label;
  config::MatchOp op{};
  std::string value;
  std::regex re;  // for =~ and !~
};

// Label values longer than this never match a regex (=~ is false, !~ true): std::regex
// recurses per character, and a long enough value would overflow an I/O thread's stack (4096
// characters overflowed the 8 MiB main stack under clang's ASan, whose frames are larger).
inline constexpr size_t kMaxRegexLabelValue = 1024;

// True if `labels` satisfy `m`; an absent label reads as "".
bool Matches(const CompiledMatcher& m, const Labels& labels);

// Immutable once built. Thread-safe (const).
struct PrometheusRouting {
  struct Route {
    std::vector<CompiledMatcher> match;  // all must match
    IntegrationInfo target;              // the integration, as seen from the route's service
  };
  std::vector<Route> routes;
  std::vector<std::string> group_by;
  bool group_by_all = false;
  std::chrono::minutes resolve_timeout{5};  // 0: alerts without endsAt never expire by time
  bool require_bearer = false;
};

// Compiles `options` (validated by config::ParseOrg) for the integration `base` of `org`.
std::shared_ptr<const PrometheusRouting> MakePrometheusRouting(
    const config::Org& org, const config::PrometheusOptions& options, const IntegrationInfo& base);

// The integration info an alert with `labels` is routed by: the first route whose matchers all
// match, else `base` (the integration's own service).
const IntegrationInfo& ChooseRoute(const PrometheusRouting& routing, const IntegrationInfo& base,
                                   const Labels& labels);

// The group key of an alert routed to `service_id`: `<service>:{label="value",...}` over the
// group_by labels (absent ones as ""), or "" with group_by_all (each alert its own incident).
std::string PrometheusGroupKey(const PrometheusRouting& routing, std::string_view service_id,
                               const Labels& labels);

// Routes one parsed alert of the prometheus integration `base` received at `now`: its service
// and paging (intake::Route), its group_key, and for a trigger without endsAt, expires_at =
// now + the resolve timeout (none when that is 0).
void RoutePrometheusAlert(ingest::PrometheusAlert& alert, const IntegrationInfo& base,
                          TimePoint now);

}  // namespace houston::intake
