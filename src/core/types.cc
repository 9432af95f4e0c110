#include "core/types.h"

#include <array>
#include <boost/json.hpp>
#include <ostream>
#include <utility>

namespace houston::core {
namespace {
template <typename E, size_t N>
std::optional<E> Lookup(const std::array<std::pair<E, std::string_view>, N>& table,
                        std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}
template <typename E, size_t N>
std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<Severity, std::string_view>, 4> kSeverities{{
    {Severity::kCritical, "critical"},
    {Severity::kError, "error"},
    {Severity::kWarning, "warning"},
    {Severity::kInfo, "info"},
}};
constexpr std::array<std::pair<EventAction, std::string_view>, 3> kActions{{
    {EventAction::kTrigger, "trigger"},
    {EventAction::kAcknowledge, "acknowledge"},
    {EventAction::kResolve, "resolve"},
}};
constexpr std::array<std::pair<AlertStatus, std::string_view>, 3> kAlertStatuses{{
    {AlertStatus::kTriggered, "triggered"},
    {AlertStatus::kAcknowledged, "acknowledged"},
    {AlertStatus::kResolved, "resolved"},
}};
constexpr std::array<std::pair<IncidentStatus, std::string_view>, 4> kIncidentStatuses{{
    {IncidentStatus::kTriggered, "triggered"},
    {IncidentStatus::kAcknowledged, "acknowledged"},
    {IncidentStatus::kMitigated, "mitigated"},
    {IncidentStatus::kResolved, "resolved"},
}};
constexpr std::array<std::pair<IntegrationType, std::string_view>, 7> kIntegrationTypes{{
    {IntegrationType::kEventsV2, "events_v2"},
    {IntegrationType::kAlertmanager, "alertmanager"},
    {IntegrationType::kGrafana, "grafana"},
    {IntegrationType::kGeneric, "generic"},
    {IntegrationType::kHeartbeat, "heartbeat"},
    {IntegrationType::kOpsgenie, "opsgenie"},
    {IntegrationType::kPrometheus, "prometheus"},
}};
constexpr std::array<std::pair<Role, std::string_view>, 3> kRoles{{
    {Role::kViewer, "viewer"},
    {Role::kResponder, "responder"},
    {Role::kAdmin, "admin"},
}};
}  // namespace

std::string_view ToString(Severity s) { return Name(kSeverities, s); }
std::string_view ToString(EventAction a) { return Name(kActions, a); }
constexpr std::array<std::pair<EscalationState, std::string_view>, 7> kEscalationStates{{
    {EscalationState::kNew, "new"},
    {EscalationState::kActive, "active"},
    {EscalationState::kAcked, "acked"},
    {EscalationState::kAckWait, "ack_wait"},
    {EscalationState::kStopped, "stopped"},
    {EscalationState::kExhausted, "exhausted"},
    {EscalationState::kDone, "done"},
}};
constexpr std::array<std::pair<NotificationState, std::string_view>, 7> kNotificationStates{{
    {NotificationState::kPending, "pending"},
    {NotificationState::kSending, "sending"},
    {NotificationState::kSent, "sent"},
    {NotificationState::kFailed, "failed"},
    {NotificationState::kUnknown, "unknown"},
    {NotificationState::kCancelled, "cancelled"},
    {NotificationState::kDead, "dead"},
}};
constexpr std::array<std::pair<OverrideState, std::string_view>, 3> kOverrideStates{{
    {OverrideState::kActive, "active"},
    {OverrideState::kRequested, "requested"},
    {OverrideState::kCancelled, "cancelled"},
}};

std::string_view ToString(AlertStatus s) { return Name(kAlertStatuses, s); }
std::string_view ToString(EscalationState s) { return Name(kEscalationStates, s); }
std::string_view ToString(NotificationState s) { return Name(kNotificationStates, s); }
std::string_view ToString(OverrideState s) { return Name(kOverrideStates, s); }
std::ostream& operator<<(std::ostream& os, EscalationState s) { return os << ToString(s); }
std::ostream& operator<<(std::ostream& os, NotificationState s) { return os << ToString(s); }
std::ostream& operator<<(std::ostream& os, OverrideState s) { return os << ToString(s); }
std::optional<EscalationState> ParseEscalationState(std::string_view s) {
  return Lookup(kEscalationStates, s);
}
std::optional<NotificationState> ParseNotificationState(std::string_view s) {
  return Lookup(kNotificationStates, s);
}
std::optional<OverrideState> ParseOverrideState(std::string_view s) {
  return Lookup(kOverrideStates, s);
}
std::string_view ToString(IncidentStatus s) { return Name(kIncidentStatuses, s); }
std::string_view ToString(IntegrationType t) { return Name(kIntegrationTypes, t); }
std::string_view ToString(Role r) { return Name(kRoles, r); }
std::optional<Severity> ParseSeverity(std::string_view s) { return Lookup(kSeverities, s); }
std::optional<EventAction> ParseEventAction(std::string_view s) { return Lookup(kActions, s); }
std::optional<AlertStatus> ParseAlertStatus(std::string_view s) {
  return Lookup(kAlertStatuses, s);
}
std::optional<IncidentStatus> ParseIncidentStatus(std::string_view s) {
  return Lookup(kIncidentStatuses, s);
}
std::optional<IntegrationType> ParseIntegrationType(std::string_view s) {
  return Lookup(kIntegrationTypes, s);
}
std::optional<Role> ParseRole(std::string_view s) { return Lookup(kRoles, s); }

std::string AlertField(const Alert& a, const std::string& field) {
  if (field == "service") return a.service_id;
  if (field == "severity") return std::string(ToString(a.severity));
  if (field == "summary") return a.summary;
  if (field == "source") return a.source;
  if (field == "component") return a.component;
  if (field == "group") return a.group;
  if (field == "class") return a.klass;
  if (field == "dedup_key") return a.dedup_key;
  if (field == "integration") return a.integration_key;
  if (field.starts_with("details.")) {
    boost::system::error_code ec;
    auto v = boost::json::parse(a.details_json, ec);
    if (ec) return "";
    const boost::json::value* cur = &v;
    std::string_view path = std::string_view(field).substr(8);
    while (!path.empty() && cur) {
      auto dot = path.find('.');
      std::string key(path.substr(0, dot));
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
      cur = cur->is_object() ? cur->as_object().if_contains(key) : nullptr;
    }
    if (!cur) return "";
    return cur->is_string() ? std::string(cur->as_string()) : boost::json::serialize(*cur);
  }
  return "";
}

}  // namespace houston::core
