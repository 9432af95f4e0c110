#include "intake/prometheus_routing.h"

#include <algorithm>

#include "core/status.h"

namespace houston::intake {

namespace {

std::string_view LabelValue(const Labels& labels, std::string_view name) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const auto& kv, std::string_view n) { return kv.first < n; });
  return it != labels.end() && it->first == name ? std::string_view(it->second)
                                                 : std::string_view();
}

}  // namespace

bool Matches(const CompiledMatcher& m, const Labels& labels) {
  std::string_view v = LabelValue(labels, m.label);
  switch (m.op) {
    case config::MatchOp::kEqual:
      return v == m.value;
    case config::MatchOp::kNotEqual:
      return v != m.value;
    case config::MatchOp::kRegexMatch:
    case config::MatchOp::kRegexNoMatch: {
      bool hit = v.size() <= kMaxRegexLabelValue && std::regex_match(v.begin(), v.end(), m.re);
      return m.op == config::MatchOp::kRegexMatch ? hit : !hit;
    }
  }
  return false;
}

std::shared_ptr<const PrometheusRouting> MakePrometheusRouting(
    const config::Org& org, const config::PrometheusOptions& options, const IntegrationInfo& base) {
  auto routing = std::make_shared<PrometheusRouting>();
  for (const config::PrometheusRoute& r : options.routes) {
    PrometheusRouting::Route route;
    for (const config::LabelMatcher& lm : r.match) {
      CompiledMatcher m{lm.label, lm.op, lm.value, {}};
      if (lm.op == config::MatchOp::kRegexMatch || lm.op == config::MatchOp::kRegexNoMatch) {
        try {
          m.re = std::regex(lm.value, std::regex::ECMAScript);
        } catch (const std::regex_error&) {
          HOUSTON_CHECK(false);  // config::ParseOrg refuses bad regexes
        }
      }
      route.match.push_back(std::move(m));
    }
    route.target = base;
    SetIntegrationService(route.target, org, r.service);
    routing->routes.push_back(std::move(route));
  }
  routing->group_by = options.group_by;
  routing->group_by_all = options.group_by_all;
  routing->resolve_timeout = std::chrono::minutes(options.resolve_timeout_minutes);
  routing->require_bearer = options.require_bearer;
  return routing;
}

const IntegrationInfo& ChooseRoute(const PrometheusRouting& routing, const IntegrationInfo& base,
                                   const Labels& labels) {
  for (const auto& route : routing.routes) {
    if (std::all_of(route.match.begin(), route.match.end(),
                    [&](const CompiledMatcher& m) { return Matches(m, labels); })) {
      return route.target;
    }
  }
  return base;
}

std::string PrometheusGroupKey(const PrometheusRouting& routing, std::string_view service_id,
                               const Labels& labels) {
  if (routing.group_by_all) return "";
  std::string key(service_id);
  key += ":{";
  for (size_t i = 0; i < routing.group_by.size(); ++i) {
    if (i) key += ',';
    key += routing.group_by[i];
    key += "=\"";
    for (char c : LabelValue(labels, routing.group_by[i])) {
      if (c == '"' || c == '\\') key += '\\';
      key += c;
    }
    key += '"';
  }
  key += '}';
  return key;
}

void RoutePrometheusAlert(ingest::PrometheusAlert& alert, const IntegrationInfo& base,
                          TimePoint now) {
  core::AlertEvent& ev = alert.event;
  if (!base.prometheus) {  // no routing compiled (cannot happen for a prometheus integration)
    Route(ev, base);
    return;
  }
  const PrometheusRouting& routing = *base.prometheus;
  const IntegrationInfo& target = ChooseRoute(routing, base, alert.labels);
  Route(ev, target);
  ev.group_key = PrometheusGroupKey(routing, target.service_id, alert.labels);
  if (ev.action == core::EventAction::kTrigger && !ev.expires_at &&
      routing.resolve_timeout.count() > 0) {
    ev.expires_at = now + routing.resolve_timeout;
  }
}

}  // namespace houston::intake
