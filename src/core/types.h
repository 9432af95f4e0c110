// Domain types shared by every module: inbound events, alerts, incidents, changes.
//
// Plain values with no behaviour beyond conversions to and from their wire names. The intake
// parsers (ingest/) produce AlertEvent and ChangeEvent; the store persists them as Alert,
// Incident and Change.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace houston::core {

// PagerDuty Common Event Format severities.
enum class Severity { kCritical, kError, kWarning, kInfo };
// What an inbound event asks for.
enum class EventAction { kTrigger, kAcknowledge, kResolve };
enum class AlertStatus { kTriggered, kAcknowledged, kResolved };
// An incident moves triggered -> acknowledged -> mitigated -> resolved (see
// CheckIncidentTransition in core/incident.h); a resolved incident can be reopened.
enum class IncidentStatus { kTriggered, kAcknowledged, kMitigated, kResolved };

// The integration types of org.yaml (`services[].integrations[].type`).
enum class IntegrationType {
  kEventsV2,
  kAlertmanager,
  kGrafana,
  kGeneric,
  kHeartbeat,
  kOpsgenie,    // Opsgenie Alert and Heartbeat API senders (/v2/alerts, /v2/heartbeats)
  kPrometheus,  // Prometheus pushing straight to houston (Alertmanager API v2 body)
};

// An incident's escalation (store::EscalationRow documents each state).
enum class EscalationState { kNew, kActive, kAcked, kAckWait, kStopped, kExhausted, kDone };
// A message in the notification outbox (store::Notification documents each state).
enum class NotificationState { kPending, kSending, kSent, kFailed, kUnknown, kCancelled, kDead };
// An on-call override made through the API: in force, an open cover request, or cancelled.
enum class OverrideState { kActive, kRequested, kCancelled };
// What a person (org.yaml `users[].role`) or an API token may do; each role may do what the
// ones below it may. Ordered: compare with <.
enum class Role { kViewer = 0, kResponder = 1, kAdmin = 2 };

std::string_view ToString(Severity s);
std::string_view ToString(EventAction a);
std::string_view ToString(AlertStatus s);
std::string_view ToString(IncidentStatus s);
std::string_view ToString(IntegrationType t);
std::string_view ToString(EscalationState s);
std::string_view ToString(NotificationState s);
std::string_view ToString(OverrideState s);
std::string_view ToString(Role r);
std::optional<Severity> ParseSeverity(std::string_view s);
std::optional<EventAction> ParseEventAction(std::string_view s);
std::optional<AlertStatus> ParseAlertStatus(std::string_view s);
std::optional<IncidentStatus> ParseIncidentStatus(std::string_view s);
std::optional<IntegrationType> ParseIntegrationType(std::string_view s);
std::optional<EscalationState> ParseEscalationState(std::string_view s);
std::optional<NotificationState> ParseNotificationState(std::string_view s);
std::optional<OverrideState> ParseOverrideState(std::string_view s);
// Their wire names, for logs and test failure messages.
std::ostream& operator<<(std::ostream& os, EscalationState s);
std::ostream& operator<<(std::ostream& os, NotificationState s);
std::ostream& operator<<(std::ostream& os, OverrideState s);
std::optional<Role> ParseRole(std::string_view s);

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
  // Time-window grouping of the service (0: off): a new alert joins the service's newest open
  // incident with the same `grouping_key` whose last alert arrived within the window.
  std::chrono::minutes group_window{0};
  std::string grouping_key;  // content-based key from the service's `grouping.by` fields
  // Whether the incident fan-out has anything to do with this event (the org has incident
  // rules or incident webhooks); false spares intake the fan-out's bookkeeping.
  bool fanout = true;
  // Triggers only: when the alert resolves by itself unless a later trigger renews it (a
  // Prometheus alert's endsAt); nullopt: never by time. Every trigger sets it on its alert,
  // so a repeat moves it (or clears it).
  std::optional<TimePoint> expires_at;
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
  std::string service_id;  // the primary service (the first of `services`)
  std::string title;
  // The most severe alert severity seen (PagerDuty's urgency); declared incidents: chosen.
  Severity severity = Severity::kError;
  IncidentStatus status = IncidentStatus::kTriggered;
  std::string integration_key;  // "" for declared incidents
  std::string group_key;        // non-empty for grouped (Alertmanager/Grafana) incidents
  std::string escalation_policy;
  int64_t alert_count = 0;
  TimePoint created_at{};
  std::optional<TimePoint> acknowledged_at;
  std::optional<TimePoint> resolved_at;

  // --- Running the incident (declared, or triaged from a page).
  // The SEV level id ("SEV1".."SEV5" or the org's own); "" while untriaged (a page only).
  std::string sev;
  std::string summary;                // what is known, for responders (internal)
  std::string public_title;           // the title on the public status page; "" = a generic one
  std::vector<std::string> services;  // affected services; services[0] == service_id
  std::vector<std::string> tags;      // sorted, unique
  std::vector<std::pair<std::string, std::string>> roles;  // (role id, user id), by role id
  std::vector<std::string> responders;                     // user ids, in the order added
  // The customer impact window. Editable, because detection often comes after the start.
  std::optional<TimePoint> impact_started_at;  // default: the first alert's own timestamp
  std::optional<TimePoint> detected_at;        // default: when houston opened the incident
  std::optional<TimePoint> mitigated_at;       // set when the status becomes mitigated
  std::string declared_by;                     // who declared it ("" when an alert opened it)
  std::string grouping_key;                    // the content key alerts joined it by ("" = none)
  std::optional<TimePoint> last_alert_at;      // when the newest alert joined
  std::optional<TimePoint> update_due_at;      // the next status update is due (reminders)
  std::optional<TimePoint> last_update_at;     // the latest status update was published
  IncidentId merged_into = 0;                  // set when merged into another incident
  // Which episode it is in: 0 until it is first reopened, then one more for every reopen
  // (resolved -> triggered). Signed links in notifications carry it, so an old link does
  // nothing to a later episode.
  int64_t episode = 0;
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

// The value of an alert field as silence matchers and grouping keys name it: service,
// integration, severity, summary, source, component, group, class, dedup_key, or
// details.<dotted.path> (a string as is, anything else as JSON); "" when absent.
std::string AlertField(const Alert& a, const std::string& field);

}  // namespace houston::core
