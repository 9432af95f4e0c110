// ingest: parsers for the inbound alert formats, producing core::AlertEvent / core::ChangeEvent.
//
// The module owns the wire formats houston accepts on its intake endpoints (PagerDuty Events API
// v2 and Change Events, Alertmanager webhook v4, Grafana webhook v1, a generic JSON webhook, the
// Opsgenie Alert API's bodies) and their validation. It does no I/O, keeps no state between calls
// and knows nothing about services or the store: the caller fills in AlertEvent::service_id.
//
// Every function is thread-safe (each thread parses with its own reusable simdjson parser) and
// never throws. Bodies must be UTF-8 JSON nested at most 64 levels deep; anything else is
// InvalidArgument. Every error is InvalidArgument with a message and, in details(), one line
// per problem found, so a sender sees all of its mistakes at once.
#pragma once

#include <array>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace houston::ingest {

// Deepest JSON nesting accepted (objects and arrays, the top-level value counts as 1).
inline constexpr size_t kMaxJsonDepth = 64;

// PagerDuty Events API v2 (/v2/enqueue). integration_key = routing_key.
//
// Strict, like PagerDuty: unknown top-level and `payload` keys are rejected (with a hint when
// the key is an Events API v1 field). JSON null counts as absent. For acknowledge/resolve the
// payload is optional and not looked at. An empty dedup_key on a trigger counts as absent
// (the store generates one). Bodies larger than core::kMaxEventBodyBytes are rejected.
// On failure: InvalidArgument "Event object is invalid", details() = one string per problem,
// naming the field, e.g. "'payload.severity' must be one of critical, error, warning, info".
// Malformed JSON: "Event object format is unrecognized", details {"JSON parse error: <reason>"}.
Result<core::AlertEvent> ParseEventsV2(std::string_view body);

// PagerDuty Change Events (/v2/change/enqueue). Same error conventions as ParseEventsV2.
// `images` is validated but not kept.
Result<core::ChangeEvent> ParseChangeEvent(std::string_view body);

// Alertmanager webhook payload version "4": one AlertEvent per element of alerts[] (an empty
// alerts[] gives an empty vector). Lenient about keys it does not use (upstream adds fields over
// versions), strict about the ones it uses. Long summaries are truncated, not rejected.
//
// Mapping: firing -> trigger, resolved -> resolve (an alert without status takes the top-level
// one); dedup_key = fingerprint, else hex SHA-256 of the labels as sorted "name=value\n" lines;
// group_key = groupKey; summary = annotations.summary, else annotations.description, else
// `alertname{label="value", ...}`; severity from labels.severity (see AlertmanagerSeverity);
// source = labels.instance, else labels.job, else "alertmanager"; component = labels.job;
// group = labels.namespace, else labels.cluster; timestamp = startsAt when firing, endsAt when
// resolved ("0001-01-01T00:00:00Z" means unset); client "Alertmanager", client_url =
// externalURL; details_json = {"labels","annotations","startsAt","endsAt","generatorURL",
// "receiver"}; links_json = [{"href": generatorURL, "text": "Source"}] or [].
//
// On failure: InvalidArgument whose message is the problem (or the first one, "... (and N more
// problems)"), details() = every problem, naming the alert index, e.g.
// "alerts[3].labels must be an object of strings". A version other than "4" is
// "unsupported Alertmanager payload version 'X' (houston speaks version 4)".
Result<std::vector<core::AlertEvent>> ParseAlertmanager(std::string_view body,
                                                        std::string_view integration_key);

// Grafana unified-alerting webhook, version "1". Same model, mapping and errors as
// ParseAlertmanager, except: an alert without status takes it from the top-level `state`
// (alerting/no_data -> trigger, ok -> resolve), then from the top-level `status`;
// dashboardURL/panelURL become extra links ("Dashboard", "Panel"); client is "Grafana"; the
// default source is "grafana". Other Grafana extras are ignored.
Result<std::vector<core::AlertEvent>> ParseGrafana(std::string_view body,
                                                   std::string_view integration_key);

// One alert of an Alertmanager API v2 `postableAlerts` body, as Prometheus posts it to
// /api/v2/alerts (and, with api_version v1, the same array to /api/v1/alerts).
struct PrometheusAlert {
  core::AlertEvent event;
  // Its label set, sorted by name, without empty values (as Alertmanager drops them): what
  // routes and group_by look at.
  std::vector<std::pair<std::string, std::string>> labels;
};

// The alerts of one body: the valid ones in order, and a problem for each invalid one.
// Alertmanager keeps the valid alerts of a batch and answers 400 naming the others; so does
// houston's intake.
struct PrometheusBatch {
  std::vector<PrometheusAlert> alerts;
  std::vector<std::string> problems;  // e.g. "alerts[2].labels is missing"
};

// Parses an Alertmanager API v2 body (a JSON array of objects with labels, annotations,
// startsAt, endsAt, generatorURL) received at `now`. Lenient about keys it does not use, strict
// about the ones it uses: labels is required, an object of strings with at least one non-empty
// value and names matching [a-zA-Z_][a-zA-Z0-9_]*; annotations an object of strings; times RFC
// 3339 ("0001-01-01T00:00:00Z" and "" mean unset); endsAt not before startsAt.
//
// Mapping: an alert whose endsAt is at or before `now` is a resolve, any other a trigger whose
// expires_at is its endsAt (nullopt without one: the caller applies its resolve timeout);
// dedup_key = Alertmanager's fingerprint of the labels (internal/alert_fields.h: the same id
// an alert has through Alertmanager); summary, severity, source (default "prometheus"),
// component and group as for ParseAlertmanager; timestamp = startsAt (trigger) or endsAt
// (resolve); client "Prometheus", client_url = scheme and host of generatorURL; details_json =
// {"labels","annotations","startsAt","endsAt","generatorURL"}; links_json = the generatorURL
// as "Source". group_key and routing are the caller's.
//
// Errors (the whole body refused): malformed JSON, a body that is not an array, more alerts
// than kMaxPrometheusAlerts. InvalidArgument with the reason.
inline constexpr size_t kMaxPrometheusAlerts = 10000;
Result<PrometheusBatch> ParsePrometheusAlerts(std::string_view body,
                                              std::string_view integration_key, TimePoint now);

// Maps labels.severity (case-insensitive) to a severity: critical/page/fatal/emergency/high ->
// critical; error/err/major -> error; warning/warn/minor/medium/low -> warning;
// info/informational/none/ok -> info; anything else, or no label -> error.
core::Severity AlertmanagerSeverity(std::string_view label_value);

// Generic JSON webhook with a configurable field mapping. A path is dotted ("alert.title");
// a segment of digits indexes an array ("alerts.0.title"); an empty path means "not mapped".
// Keys that contain dots cannot be addressed.
struct GenericMapping {
  std::string summary = "summary";
  std::string severity = "severity";
  std::string dedup_key = "dedup_key";
  std::string action = "action";    // absent in the body => trigger
  std::string source = "source";    // absent => "generic"
  std::string details = "details";  // absent => the whole body is kept as details
  // Sender value -> trigger|acknowledge|resolve (in addition to those three literal words).
  std::map<std::string, std::string> action_values;
  // Sender value -> critical|error|warning|info (in addition to those four literal words).
  std::map<std::string, std::string> severity_values;
};

// Checks a mapping once, when it is configured: summary must be mapped and every
// action_values / severity_values target must be a valid action / severity.
// InvalidArgument naming the first bad entry otherwise.
Status ValidateGenericMapping(const GenericMapping& m);

// Parses a generic webhook body (a JSON object; unknown keys are fine). summary is required (a
// string, 1..1024 characters); severity defaults to error and action to trigger, both looked up
// in the mapping tables first, then as the literal words (also in any letter case); dedup_key
// may be a string or a number and is required for acknowledge/resolve; details that are not an
// object are wrapped as {"details": value}. Errors as for ParseAlertmanager, naming the mapped
// path: "'summary' (mapped from 'alert.title') is missing".
Result<core::AlertEvent> ParseGeneric(std::string_view body, std::string_view integration_key,
                                      const GenericMapping& m);

// ---- Opsgenie Alert API (POST /v2/alerts and the actions on /v2/alerts/{identifier}/...) ----
//
// Opsgenie's documented field limits, in Unicode code points (docs/opsgenie-api.md).
struct OpsgenieLimits {
  static constexpr size_t kMessage = 130;  // longer messages are truncated, not refused
  static constexpr size_t kAlias = 512;
  static constexpr size_t kDescription = 15000;
  static constexpr size_t kTags = 20, kTag = 50;
  static constexpr size_t kActions = 10, kAction = 50;
  static constexpr size_t kDetails = 8000;  // keys and values of `details`, all together
  static constexpr size_t kEntity = 512;
  static constexpr size_t kSource = 100;
  static constexpr size_t kUser = 100;
  static constexpr size_t kNote = 25000;
  static constexpr size_t kRecipients = 50;  // responders; visibleTo
};

// Why an Opsgenie request body was refused. `malformed`: not JSON or not a JSON object
// (Opsgenie answers 400); otherwise its fields break the rules (422). `errors` names every bad
// field (field -> problem, e.g. {"tags[3]", "longer than 50 characters"}); `message` says the
// first of them in a sentence, e.g. "'message' is missing".
struct OpsgenieError {
  bool malformed = false;
  std::string message;
  std::vector<std::pair<std::string, std::string>> errors;
};
template <typename T>
using OpsgenieResult = std::expected<T, OpsgenieError>;

// A validated create-alert request. Strings are as sent (UTF-8), JSON fields compact.
struct OpsgenieCreate {
  std::string message;  // 1..130 code points (truncated at 130 when longer)
  bool message_truncated = false;
  std::string full_message;  // as sent, when truncated ("" otherwise)
  std::string alias;         // "" when absent: houston generates one
  std::string description;
  std::vector<std::string> tags;
  std::vector<std::string> actions;
  std::string details_json = "{}";  // an object of strings (numbers and booleans as text)
  std::string entity;
  std::string source;
  int priority = 3;  // 1..5 (P1..P5); P3 when absent, as Opsgenie
  bool priority_given = false;
  std::string responders_json = "[]";  // recipient objects as sent (each has a valid `type`)
  std::string visible_to_json = "[]";
  std::string user;
  std::string note;
};

// Parses POST /v2/alerts. Lenient about unknown fields (Opsgenie ignores them), strict about the
// fields it knows: their types, `priority` P1..P5, recipients with a known `type`, and the
// limits above (a longer `message` is truncated: Alertmanager and Grafana truncate it to 130
// themselves, and a sender that relies on Opsgenie doing it keeps working).
OpsgenieResult<OpsgenieCreate> ParseOpsgenieCreate(std::string_view body);

// The optional body of close, acknowledge, unacknowledge and add-note: `user`, `source`, `note`
// (required, non-empty, for add-note). An empty body is {}.
struct OpsgenieActionBody {
  std::string user;
  std::string source;
  std::string note;
};
OpsgenieResult<OpsgenieActionBody> ParseOpsgenieAction(std::string_view body, bool note_required);

// The body of PUT /v2/alerts/{identifier}/message|description|priority: `{"<field>": value}`
// (message truncated to 130, description up to 15000, priority P1..P5 given as "P<n>"), plus
// the optional `user`/`source`/`note`. `field` is "message", "description" or "priority".
struct OpsgenieUpdateBody {
  std::string value;  // priority: "P1".."P5"
  OpsgenieActionBody action;
};
OpsgenieResult<OpsgenieUpdateBody> ParseOpsgenieUpdate(std::string_view body,
                                                       std::string_view field);

// The alert event a create makes, for `integration_key`. `severities` maps P1..P5 (index 0 =
// P1). dedup_key = alias; summary = message; source = `source` (else "opsgenie"); component =
// entity; client "Opsgenie API"; details_json = the Opsgenie fields as GET /v2/alerts/{id}
// shows them: {"message", "alias" (when given), "description", "priority", "tags", "details",
// "entity", "source", "actions", "responders", "visibleTo", "user", "note"} (empty ones
// omitted; "message" is the untruncated text).
core::AlertEvent OpsgenieAlertEvent(const OpsgenieCreate& c, std::string_view integration_key,
                                    const std::array<core::Severity, 5>& severities);

// The API key of an Opsgenie request, from its Authorization header: "GenieKey <key>", or Basic
// with the key as the password (any or no user name). Scheme names are case-insensitive.
// nullopt when the header carries no key (then `?apiKey=` may).
std::optional<std::string> OpsgenieKeyFromAuthorization(std::string_view authorization);

// Opsgenie's search query (GET /v2/alerts?query=), the part houston understands: terms joined by
// spaces or AND, each `status:open|closed` or `acknowledged:true|false` (':' or '='). A term
// given twice: the last one counts. InvalidArgument naming the first term it does not know.
struct OpsgenieQuery {
  std::optional<bool> open;          // status:open (true) / status:closed (false)
  std::optional<bool> acknowledged;  // acknowledged:true / acknowledged:false
};
Result<OpsgenieQuery> ParseOpsgenieQuery(std::string_view query);

}  // namespace houston::ingest
