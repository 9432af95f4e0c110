// The Alertmanager API v2 body (`postableAlerts`) that Prometheus posts to its alertmanagers.
//
// Unlike the webhook formats it carries no status: an alert holds until its endsAt, which
// Prometheus pushes forward on every re-send while the rule fires, and sets to the resolution
// time once it stops. So whether an alert is firing depends on when the body is read.

#include <fmt/format.h>

#include <array>
#include <string>
#include <utility>

#include "core/time_util.h"
#include "ingest/ingest.h"
#include "ingest/internal/alert_fields.h"
#include "ingest/internal/json.h"

namespace houston::ingest {
namespace {

using internal::AlertString;
using internal::AlertTime;
using internal::LabelMap;
using internal::Members;
using internal::Problems;
using internal::StringMap;
using simdjson::dom::element;

constexpr std::string_view kSender = "Prometheus";

// Prometheus's (and Alertmanager's) label names: [a-zA-Z_][a-zA-Z0-9_]*.
bool ValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// "http://prometheus:9090" from "http://prometheus:9090/graph?g0.expr=...": where the alert's
// Prometheus is.
std::string_view Origin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  size_t path = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, path);
}

// Converts alerts[index]; adds to `problems` (and returns nullopt) when it is invalid.
std::optional<PrometheusAlert> ConvertAlert(const element& alert, size_t index,
                                            std::string_view integration_key, TimePoint now,
                                            Problems& problems) {
  simdjson::dom::object obj;
  if (alert.get_object().get(obj) != simdjson::SUCCESS) {
    problems.Add(
        fmt::format("alerts[{}] must be an object, not {}", index, internal::TypeName(alert)));
    return std::nullopt;
  }
  enum { kLabels, kAnnotations, kStartsAt, kEndsAt, kGeneratorUrl };
  static constexpr std::array<std::string_view, 5> kNames{"labels", "annotations", "startsAt",
                                                          "endsAt", "generatorURL"};
  Members<5> m = internal::SortMembers(obj, kNames, nullptr);
  const size_t problems_before = problems.size();

  std::optional<LabelMap> labels;
  if (!m[kLabels].has_value()) {
    problems.Add(fmt::format("alerts[{}].labels is missing", index));
  } else {
    labels = StringMap(*m[kLabels], index, "labels", problems);
  }
  if (labels.has_value()) {
    std::erase_if(*labels, [](const auto& kv) { return kv.second.empty(); });
    if (labels->empty()) {
      problems.Add(fmt::format("alerts[{}].labels must have at least one non-empty label", index));
    }
    for (const auto& [name, value] : *labels) {
      if (!ValidLabelName(name)) {
        problems.Add(fmt::format(
            "alerts[{}].labels has an invalid label name '{}' (use [a-zA-Z_][a-zA-Z0-9_]*)", index,
            internal::TruncateCodePoints(name, 64)));
      }
    }
  }
  LabelMap annotations = internal::ReadAnnotations(m[kAnnotations], index, problems);
  auto [starts_at, ends_at, start, end] =
      internal::ReadAlertTimes(m[kStartsAt], m[kEndsAt], index, problems);
  if (start && end && *end < *start) {
    problems.Add(fmt::format("alerts[{}].endsAt ({}) is before its startsAt ({})", index, *ends_at,
                             *starts_at));
  }
  std::string_view generator_url =
      AlertString(m[kGeneratorUrl], index, "generatorURL", problems).value_or("");
  if (problems.size() != problems_before || !labels.has_value()) return std::nullopt;

  PrometheusAlert out;
  core::AlertEvent& event = out.event;
  event.integration_key = std::string(integration_key);
  const bool resolved = end.has_value() && *end <= now;
  event.action = resolved ? core::EventAction::kResolve : core::EventAction::kTrigger;
  event.dedup_key = internal::LabelFingerprint(*labels);
  internal::MapLabels(*labels, annotations, kSender, "prometheus", event);
  event.timestamp = resolved ? end : start;
  if (!resolved) event.expires_at = end;
  event.client = std::string(kSender);
  event.client_url = std::string(Origin(generator_url));

  std::string details;
  details.reserve(256);
  details += "{\"labels\":{";
  bool first = true;
  for (const auto& [name, value] : *labels) {
    if (!first) details += ',';
    first = false;
    internal::AppendJsonString(details, name);
    details += ':';
    internal::AppendJsonString(details, value);
  }
  details += "},\"annotations\":";
  details += m[kAnnotations].has_value() ? internal::ToJson(*m[kAnnotations]) : "{}";
  details += ",\"startsAt\":";
  internal::AppendJsonString(details, starts_at.value_or(""));
  details += ",\"endsAt\":";
  internal::AppendJsonString(details, ends_at.value_or(""));
  details += ",\"generatorURL\":";
  internal::AppendJsonString(details, generator_url);
  details += '}';
  event.details_json = std::move(details);
  std::string links = "[";
  if (!generator_url.empty()) internal::AppendLink(links, generator_url, "Source");
  links += ']';
  event.links_json = std::move(links);
  event.images_json = "[]";

  out.labels.reserve(labels->size());
  for (const auto& [name, value] : *labels) out.labels.emplace_back(name, value);
  return out;
}

}  // namespace

Result<PrometheusBatch> ParsePrometheusAlerts(std::string_view body,
                                              std::string_view integration_key, TimePoint now) {
  internal::ParsedJson json(body);
  if (!json.ok()) {
    return std::unexpected(InvalidArgument(internal::BodyErrorMessage(json.error())));
  }
  simdjson::dom::array alerts;
  if (json.root().get_array().get(alerts) != simdjson::SUCCESS) {
    return std::unexpected(InvalidArgument(
        fmt::format("body must be a JSON array of alerts (Alertmanager API v2 postableAlerts), "
                    "not {}",
                    internal::TypeName(json.root()))));
  }
  if (alerts.size() > kMaxPrometheusAlerts) {
    return std::unexpected(InvalidArgument(
        fmt::format("body holds {} alerts, more than the {} houston takes in one request",
                    alerts.size(), kMaxPrometheusAlerts)));
  }
  PrometheusBatch batch;
  batch.alerts.reserve(alerts.size());
  Problems problems;
  size_t index = 0;
  for (element alert : alerts) {
    if (auto a = ConvertAlert(alert, index++, integration_key, now, problems)) {
      batch.alerts.push_back(std::move(*a));
    }
  }
  batch.problems = problems.list();
  return batch;
}

}  // namespace houston::ingest
