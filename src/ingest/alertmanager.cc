// Alertmanager webhook (version "4") and Grafana unified-alerting webhook (version "1").
//
// Both senders are machines that add fields over releases, so keys we do not use are ignored;
// the ones we use are checked. One code path serves both; Flavor holds the differences.

#include <fmt/format.h>

#include <array>
#include <map>
#include <string>
#include <utility>

#include "core/random.h"
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
using internal::OptString;
using internal::Problems;
using internal::StringMap;
using simdjson::dom::element;
using OptElement = std::optional<element>;

struct Flavor {
  std::string_view name;            // in messages and as AlertEvent::client
  std::string_view version;         // the payload version we speak
  std::string_view default_source;  // when neither instance nor job labels exist
  bool grafana = false;
};

constexpr Flavor kAlertmanager{"Alertmanager", "4", "alertmanager", false};
constexpr Flavor kGrafana{"Grafana", "1", "grafana", true};

// What the top level says about alerts that carry no status of their own.
struct GroupContext {
  std::string_view group_key;
  std::string_view receiver;
  std::string_view external_url;
  std::optional<core::EventAction> default_action;  // from state (Grafana) or status
};

std::optional<core::EventAction> ActionFromStatus(std::string_view status) {
  if (status == "firing") return core::EventAction::kTrigger;
  if (status == "resolved") return core::EventAction::kResolve;
  return std::nullopt;
}

// Converts alerts[index] into an AlertEvent (valid only when no problem was added).
core::AlertEvent ConvertAlert(const element& alert, size_t index, const GroupContext& group,
                              const Flavor& flavor, std::string_view integration_key,
                              Problems& problems) {
  core::AlertEvent event;
  simdjson::dom::object obj;
  if (alert.get_object().get(obj) != simdjson::SUCCESS) {
    problems.Add(fmt::format("alerts[{}] must be an object", index));
    return event;
  }
  enum {
    kStatus,
    kLabels,
    kAnnotations,
    kStartsAt,
    kEndsAt,
    kGeneratorUrl,
    kFingerprint,
    kDashboardUrl,
    kPanelUrl
  };
  static constexpr std::array<std::string_view, 9> kNames{
      "status",       "labels",      "annotations",  "startsAt", "endsAt",
      "generatorURL", "fingerprint", "dashboardURL", "panelURL"};
  Members<9> m = internal::SortMembers(obj, kNames, nullptr);
  size_t problems_before = problems.size();

  std::optional<core::EventAction> action;
  if (std::optional<std::string_view> status = AlertString(m[kStatus], index, "status", problems)) {
    action = ActionFromStatus(*status);
    if (!action.has_value()) {
      problems.Add(fmt::format("alerts[{}].status must be 'firing' or 'resolved'", index));
    }
  } else if (!m[kStatus].has_value()) {
    action = group.default_action;
    if (!action.has_value()) {
      problems.Add(
          fmt::format("alerts[{}].status is missing and the top level does not say either", index));
    }
  }

  std::optional<LabelMap> labels;
  if (!m[kLabels].has_value()) {
    problems.Add(fmt::format("alerts[{}].labels is missing", index));
  } else {
    labels = StringMap(*m[kLabels], index, "labels", problems);
  }
  LabelMap annotations = internal::ReadAnnotations(m[kAnnotations], index, problems);
  auto [starts_at, ends_at, start, end] =
      internal::ReadAlertTimes(m[kStartsAt], m[kEndsAt], index, problems);
  std::string_view generator_url =
      AlertString(m[kGeneratorUrl], index, "generatorURL", problems).value_or("");
  std::string_view fingerprint =
      AlertString(m[kFingerprint], index, "fingerprint", problems).value_or("");
  if (problems.size() != problems_before || !labels.has_value() || !action.has_value()) {
    return event;
  }

  event.integration_key = std::string(integration_key);
  event.action = *action;
  event.dedup_key =
      !fingerprint.empty() && internal::CodePoints(fingerprint) <= core::kMaxDedupKeyLength
          ? std::string(fingerprint)
          : internal::LabelHash(*labels);
  event.group_key = std::string(group.group_key);

  internal::MapLabels(*labels, annotations, flavor.name, flavor.default_source, event);
  event.timestamp = *action == core::EventAction::kTrigger ? start : end;
  event.client = std::string(flavor.name);
  event.client_url = std::string(group.external_url);

  std::string details;
  details.reserve(256);
  details += "{\"labels\":";
  details += internal::ToJson(*m[kLabels]);
  details += ",\"annotations\":";
  details += m[kAnnotations].has_value() ? internal::ToJson(*m[kAnnotations]) : "{}";
  details += ",\"startsAt\":";
  internal::AppendJsonString(details, starts_at.value_or(""));
  details += ",\"endsAt\":";
  internal::AppendJsonString(details, ends_at.value_or(""));
  details += ",\"generatorURL\":";
  internal::AppendJsonString(details, generator_url);
  details += ",\"receiver\":";
  internal::AppendJsonString(details, group.receiver);
  details += '}';
  event.details_json = std::move(details);

  std::string links = "[";
  if (!generator_url.empty()) internal::AppendLink(links, generator_url, "Source");
  if (flavor.grafana) {
    // Grafana extras are not validated: a wrong type just means no link.
    std::string_view url;
    if (m[kDashboardUrl].has_value() &&
        m[kDashboardUrl]->get_string().get(url) == simdjson::SUCCESS && !url.empty()) {
      internal::AppendLink(links, url, "Dashboard");
    }
    if (m[kPanelUrl].has_value() && m[kPanelUrl]->get_string().get(url) == simdjson::SUCCESS &&
        !url.empty()) {
      internal::AppendLink(links, url, "Panel");
    }
  }
  links += ']';
  event.links_json = std::move(links);
  event.images_json = "[]";
  return event;
}

Result<std::vector<core::AlertEvent>> ParseAlertGroup(std::string_view body,
                                                      std::string_view integration_key,
                                                      const Flavor& flavor) {
  internal::ParsedJson json(body);
  if (!json.ok()) {
    return std::unexpected(InvalidArgument(internal::BodyErrorMessage(json.error())));
  }
  simdjson::dom::object obj;
  if (json.root().get_object().get(obj) != simdjson::SUCCESS) {
    return std::unexpected(InvalidArgument(fmt::format(
        "{} payload must be a JSON object, not {}", flavor.name, internal::TypeName(json.root()))));
  }
  enum { kVersion, kGroupKey, kAlerts, kStatus, kReceiver, kExternalUrl, kState };
  static constexpr std::array<std::string_view, 7> kNames{
      "version", "groupKey", "alerts", "status", "receiver", "externalURL", "state"};
  Members<7> m = internal::SortMembers(obj, kNames, nullptr);

  // A different version is a different format: say so and stop.
  std::string_view version;
  if (!m[kVersion].has_value()) {
    return std::unexpected(InvalidArgument(fmt::format(
        "{} payload has no 'version' (houston speaks version {})", flavor.name, flavor.version)));
  }
  if (m[kVersion]->get_string().get(version) != simdjson::SUCCESS || version != flavor.version) {
    std::string shown =
        m[kVersion]->is_string() ? std::string(version) : internal::ToJson(*m[kVersion]);
    return std::unexpected(InvalidArgument(
        fmt::format("unsupported {} payload version '{}' (houston speaks version {})", flavor.name,
                    internal::TruncateCodePoints(shown, 32), flavor.version)));
  }

  Problems problems;
  GroupContext group;
  group.group_key = internal::ReqString(m[kGroupKey], "groupKey", problems).value_or("");
  group.receiver = OptString(m[kReceiver], "receiver", problems).value_or("");
  group.external_url = OptString(m[kExternalUrl], "externalURL", problems).value_or("");
  std::optional<core::EventAction> from_status;
  if (std::optional<std::string_view> status = OptString(m[kStatus], "status", problems)) {
    from_status = ActionFromStatus(*status);
    if (!from_status.has_value()) problems.Add("status must be 'firing' or 'resolved'");
  }
  group.default_action = from_status;
  if (flavor.grafana) {
    // Grafana's `state` is more specific than `status`; pending/paused say nothing either way.
    if (std::optional<std::string_view> state = OptString(m[kState], "state", problems)) {
      if (*state == "alerting" || *state == "no_data") {
        group.default_action = core::EventAction::kTrigger;
      } else if (*state == "ok") {
        group.default_action = core::EventAction::kResolve;
      }
    }
  }

  std::vector<core::AlertEvent> events;
  simdjson::dom::array alerts;
  if (!m[kAlerts].has_value()) {
    problems.Add("alerts is missing");
  } else if (m[kAlerts]->get_array().get(alerts) != simdjson::SUCCESS) {
    problems.Add("alerts must be an array");
  } else {
    events.reserve(alerts.size());
    size_t index = 0;
    for (element alert : alerts) {
      size_t before = problems.size();
      core::AlertEvent event =
          ConvertAlert(alert, index++, group, flavor, integration_key, problems);
      if (problems.size() == before) events.push_back(std::move(event));
    }
  }
  if (!problems.empty()) return std::unexpected(std::move(problems).ToStatusFirst());
  return events;
}

}  // namespace

core::Severity AlertmanagerSeverity(std::string_view label_value) {
  static constexpr std::array<std::pair<std::string_view, core::Severity>, 17> kTable{{
      {"critical", core::Severity::kCritical},
      {"page", core::Severity::kCritical},
      {"fatal", core::Severity::kCritical},
      {"emergency", core::Severity::kCritical},
      {"high", core::Severity::kCritical},
      {"error", core::Severity::kError},
      {"err", core::Severity::kError},
      {"major", core::Severity::kError},
      {"warning", core::Severity::kWarning},
      {"warn", core::Severity::kWarning},
      {"minor", core::Severity::kWarning},
      {"medium", core::Severity::kWarning},
      {"low", core::Severity::kWarning},
      {"info", core::Severity::kInfo},
      {"informational", core::Severity::kInfo},
      {"none", core::Severity::kInfo},
      {"ok", core::Severity::kInfo},
  }};
  std::string lower = internal::AsciiLower(label_value);
  for (const auto& [name, severity] : kTable) {
    if (name == lower) return severity;
  }
  return core::Severity::kError;
}

Result<std::vector<core::AlertEvent>> ParseAlertmanager(std::string_view body,
                                                        std::string_view integration_key) {
  return ParseAlertGroup(body, integration_key, kAlertmanager);
}

Result<std::vector<core::AlertEvent>> ParseGrafana(std::string_view body,
                                                   std::string_view integration_key) {
  return ParseAlertGroup(body, integration_key, kGrafana);
}

}  // namespace houston::ingest
