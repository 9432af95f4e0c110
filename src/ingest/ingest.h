// ingest: parsers for the inbound alert formats, producing core::AlertEvent / core::ChangeEvent.
//
// The module owns the wire formats houston accepts on its intake endpoints (PagerDuty Events API
// v2 and Change Events, Alertmanager webhook v4, Grafana webhook v1, a generic JSON webhook) and
// their validation. It does no I/O, keeps no state between calls and knows nothing about
// services or the store: the caller fills in AlertEvent::service_id.
//
// Every function is thread-safe (each thread parses with its own reusable simdjson parser) and
// never throws. Bodies must be UTF-8 JSON nested at most 64 levels deep; anything else is
// InvalidArgument. Every error is InvalidArgument with a message and, in details(), one line
// per problem found, so a sender sees all of its mistakes at once.
#pragma once

#include <map>
#include <string>
#include <string_view>
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

}  // namespace houston::ingest
