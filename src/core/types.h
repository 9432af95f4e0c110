// Domain types shared by every module: inbound events, alerts, incidents, changes.
//
// Plain values with no behaviour beyond conversions to and from their wire names. The intake
// parsers (ingest/) produce AlertEvent and ChangeEvent; the store persists them as Alert,
// Incident and Change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace houston::core {

// PagerDuty Common Event Format severities.
enum class Severity { kCritical, kError, kWarning, kInfo };
// What an inbound event asks for.
enum class EventAction { kTrigger, kAcknowledge, kResolve };
enum class AlertStatus { kTriggered, kAcknowledged, kResolved };
enum class IncidentStatus { kTriggered, kAcknowledged, kResolved };

// The integration types of org.yaml (`services[].integrations[].type`).
enum class IntegrationType { kEventsV2, kAlertmanager, kGrafana, kGeneric, kHeartbeat };

std::string_view ToString(Severity s);
std::string_view ToString(EventAction a);
std::string_view ToString(AlertStatus s);
std::string_view ToString(IncidentStatus s);
std::string_view ToString(IntegrationType t);
std::optional<Severity> ParseSeverity(std::string_view s);
std::optional<EventAction> ParseEventAction(std::string_view s);
std::optional<AlertStatus> ParseAlertStatus(std::string_view s);
std::optional<IncidentStatus> ParseIncidentStatus(std::string_view s);
std::optional<IntegrationType> ParseIntegrationType(std::string_view s);

// Field limits from the PagerDuty Events API v2.
inline constexpr size_t kMaxSummaryLength = 1024;  // characters (code points)
inline constexpr size_t kMaxDedupKeyLength = 255;  // characters (code points)
inline constexpr size_t kMaxEventBodyBytes = 512 * 1024;

// One normalized inbound alert event, whatever format it arrived in.
struct AlertEvent {
  std::string integration_key;  // routing key / integration key it arrived on
  std::string service_id;       // filled in by the API layer from the integration
  EventAction action = EventAction::kTrigger;
  // Identifies the alert within the integration. Empty on a trigger means "generate one".
  std::string dedup_key;
  // Alerts sharing a non-empty group_key within the integration join one open incident
  // (Alertmanager/Grafana groupKey). Empty: one incident per alert.
  std::string group_key;
  std::string summary;
  std::string source;
  Severity severity = Severity::kError;
  std::optional<TimePoint> timestamp;  // when the sender says it happened
  std::string component;
  std::string group;
  std::string klass;         // PagerDuty "class"
  std::string details_json;  // JSON object: custom_details, or labels+annotations; "{}" if none
  std::string client;
  std::string client_url;
  std::string links_json;   // JSON array, "[]" if none
  std::string images_json;  // JSON array, "[]" if none
  // The service's escalation policy, filled in by the API layer: a new incident starts it.
  std::string escalation_policy;
  // The policy's first-step delay, when known: the new incident's escalation is then scheduled
  // in the same transaction (no extra engine round trip). Unknown: the engine schedules it.
  std::optional<std::chrono::minutes> first_step_delay;
};

// A PagerDuty change event (deploy, config change). Never opens alerts.
struct ChangeEvent {
  std::string integration_key;
  std::string service_id;  // filled in by the API layer
  std::string summary;
  std::string source;
  std::optional<TimePoint> timestamp;
  std::string details_json;  // custom_details object, "{}" if none
  std::string links_json;    // "[]" if none
};

using AlertId = int64_t;
using IncidentId = int64_t;

struct Alert {
  AlertId id = 0;
  std::string integration_key;
  std::string service_id;
  std::string dedup_key;
  std::string group_key;
  AlertStatus status = AlertStatus::kTriggered;
  std::string summary;
  std::string source;
  Severity severity = Severity::kError;
  std::string component;
  std::string group;
  std::string klass;
  std::string details_json;
  std::string links_json;
  std::string images_json;
  std::string client;
  std::string client_url;
  int64_t event_count = 1;  // triggers folded into this alert (1 + deduplicated repeats)
  TimePoint created_at{};
  TimePoint last_event_at{};
  std::optional<TimePoint> event_timestamp;  // sender's timestamp of the latest trigger
  std::optional<TimePoint> acknowledged_at;
  std::optional<TimePoint> resolved_at;
  IncidentId incident_id = 0;
};

struct Incident {
  IncidentId id = 0;
  std::string service_id;
  std::string title;
  Severity severity = Severity::kError;
  IncidentStatus status = IncidentStatus::kTriggered;
  std::string integration_key;
  std::string group_key;  // non-empty for grouped (Alertmanager/Grafana) incidents
  std::string escalation_policy;
  int64_t alert_count = 0;
  TimePoint created_at{};
  std::optional<TimePoint> acknowledged_at;
  std::optional<TimePoint> resolved_at;
};

struct Change {
  int64_t id = 0;
  std::string integration_key;
  std::string service_id;
  std::string summary;
  std::string source;
  TimePoint timestamp{};  // sender's timestamp, or received_at if none was given
  TimePoint received_at{};
  std::string details_json;
  std::string links_json;
};

}  // namespace houston::core
