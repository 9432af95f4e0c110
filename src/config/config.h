// config: org-as-code. Parses and validates org.yaml into typed values, and flattens an org
// into canonical objects so that `houston apply` can diff it against the store.
//
// This module owns the org.yaml format (documented in docs/config.md). It does no I/O except
// LoadOrgFile() reading the one file it is given, and it never throws: every problem in the
// input comes back as an InvalidArgument Status whose details() list each problem with its
// file:line:column, the path of the offending value and what to change.
#pragma once

#include <date/date.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/incident.h"
#include "core/status.h"
#include "core/types.h"

namespace houston::config {

// ---- users ----------------------------------------------------------------------------------

enum class ContactMethodType { kWebhook, kEmail, kSlack, kSmsProvider };
// "webhook", "email", "slack", "sms_provider".
std::string_view ToString(ContactMethodType t);
std::optional<ContactMethodType> ParseContactMethodType(std::string_view s);

// One way to reach a user. Which fields are set depends on `type`:
//   webhook:      url (required), secret, headers
//   email:        address (required)
//   slack:        url (required; a Slack incoming-webhook URL)
//   sms_provider: url (required), address (the phone number, optional), secret, headers,
//                 body_template (YAML key `template`)
struct ContactMethod {
  std::string id;  // unique within the user
  ContactMethodType type = ContactMethodType::kWebhook;
  std::string url;
  std::string address;
  std::string secret;         // HMAC-SHA256 key for X-Houston-Signature; empty: unsigned
  std::string body_template;  // YAML `template`: mustache body for the provider request
  std::map<std::string, std::string> headers;  // extra request headers
};

// Notify `contact_method` this many minutes after an incident reaches the user.
struct NotificationRule {
  std::string contact_method;  // id of one of the same user's contact methods
  int delay_minutes = 0;       // 0..525600
};

struct User {
  std::string id;
  std::string name;              // defaults to id
  std::string email;             // optional
  std::string timezone = "UTC";  // a tz database name; validated
  // What the user may do when signed in (admin, responder or viewer; default responder).
  core::Role role = core::Role::kResponder;
  std::vector<ContactMethod> contact_methods;
  // When absent or empty in the YAML: one rule per contact method with delay 0.
  std::vector<NotificationRule> notification_rules;
};

struct Team {
  std::string id;
  std::string name;                  // defaults to id
  std::vector<std::string> members;  // user ids
};

// ---- schedules ------------------------------------------------------------------------------

enum class RotationType { kHourly, kDaily, kWeekly };
std::string_view ToString(RotationType t);

struct Rotation {
  RotationType type = RotationType::kWeekly;
  int length = 1;  // hand off every `length` hours/days/weeks; >= 1
};

// A recurring daily window on some weekdays, in minutes since local midnight.
// start_minute in [0, 1440), end_minute in (0, 1440], start != end. When end <= start the window
// runs past midnight into the next day (e.g. 18:00-08:00 on fri ends on saturday at 08:00).
struct DailyWindow {
  std::vector<date::weekday> days;  // non-empty, no duplicates, sorted monday first
  int start_minute = 0;
  int end_minute = 1440;
};

struct ScheduleLayer {
  std::string name;                   // defaults to "layer-<n>" (1-based position)
  std::string start;                  // as written, "YYYY-MM-DDTHH:MM:SS", local to the schedule
  date::local_seconds start_local{};  // `start`, parsed
  Rotation rotation;
  // `end`, when written: the layer has nobody from this local time on (> start_local).
  std::optional<date::local_seconds> end_local;
  // Rotation order; user ids, may repeat; "" (YAML `~`) is a turn with nobody on call.
  std::vector<std::string> users;
  std::vector<DailyWindow> restrictions;  // empty: the layer covers all the time
};

struct ScheduleOverride {
  std::string user;
  TimePoint start{};
  TimePoint end{};  // > start
};

struct Schedule {
  std::string id;
  std::string name;                   // defaults to id
  std::string timezone = "UTC";       // handoffs happen at wall-clock time in this zone
  std::vector<ScheduleLayer> layers;  // later layers win where they have someone
  std::vector<ScheduleOverride> overrides;
};

// ---- escalation policies --------------------------------------------------------------------

enum class TargetType { kUser, kSchedule, kTeam };
std::string_view ToString(TargetType t);

struct EscalationTarget {
  TargetType type = TargetType::kUser;
  std::string id;
};

struct EscalationStep {
  // Minutes after the previous step was notified (for the first step: after the incident
  // reached the policy) before this step is notified. 0..525600.
  int delay_minutes = 0;
  std::vector<EscalationTarget> targets;  // non-empty
  bool round_robin = false;               // page one target per incident, rotating, instead of all
};

struct EscalationPolicy {
  std::string id;
  std::string name;                   // defaults to id
  int repeat = 0;                     // extra passes over all steps if nobody acknowledges; >= 0
  std::vector<EscalationStep> steps;  // non-empty
  // Re-trigger an acknowledged incident that is still unresolved after this many minutes.
  std::optional<int> ack_timeout_minutes;
};

// ---- services and integrations --------------------------------------------------------------

// Where the generic webhook finds each alert field in the posted JSON, as dotted paths
// ("alert.labels.severity", "items.0.id"). Defaults are the same-named top-level fields.
struct GenericMapping {
  std::string summary = "summary";
  std::string severity = "severity";
  std::string dedup_key = "dedup_key";
  std::string action = "action";
  std::string source = "source";
  std::string details = "details";
  // Payload value (at the `action` path) -> action, e.g. {firing: trigger, ok: resolve}.
  std::map<std::string, core::EventAction> action_values;
  // Payload value (at the `severity` path) -> severity, e.g. {P1: critical, P3: warning}.
  std::map<std::string, core::Severity> severity_values;
};

// A label matcher as Alertmanager writes one: name="value", name!="value", name=~"regex",
// name!~"regex". A label the alert does not have reads as "". Regexes are ECMAScript and match
// the whole value.
enum class MatchOp;  // below, with Matcher
struct LabelMatcher {
  std::string label;
  MatchOp op{};  // kEqual
  std::string value;
  std::string text;  // as written in org.yaml
};

// Sends the Prometheus alerts whose labels match every matcher to another service.
struct PrometheusRoute {
  std::vector<LabelMatcher> match;  // non-empty
  std::string service;              // a service id
};

// How a Prometheus integration (alerts posted straight by Prometheus) routes and groups.
struct PrometheusOptions {
  std::vector<PrometheusRoute> routes;  // first match wins; no match: the integration's service
  // The labels whose values group alerts into one incident (per service), like Alertmanager's
  // group_by. Default [alertname]; [] puts all of a service's alerts from this integration in
  // one incident; group_by_all (YAML ['...']) gives each alert its own incident.
  std::vector<std::string> group_by{"alertname"};
  bool group_by_all = false;
  // An alert posted without endsAt resolves this long after its last post, unless posted again
  // (Alertmanager's resolve_timeout). 0: such alerts never resolve by time. 0..525600.
  int resolve_timeout_minutes = 5;
  // The key must come as `Authorization: Bearer <key>` (POST /integrations/prometheus/api/v2/
  // alerts), never in the URL.
  bool require_bearer = false;
};

struct Integration {
  core::IntegrationType type = core::IntegrationType::kEventsV2;
  // 8..128 characters of [A-Za-z0-9_.-], unique across the whole org. It is the secret in the
  // intake URL / routing_key.
  std::string key;
  std::string name;        // defaults to the type name, e.g. "alertmanager"
  std::string service_id;  // the service this integration belongs to (filled in by ParseOrg)
  std::optional<double> rate_limit_per_second;  // > 0; absent: no limit
  std::optional<int> interval_minutes;          // heartbeat only, and required there; >= 1
  std::optional<int> grace_minutes;             // heartbeat only; >= 0
  // Set for generic integrations only (to the defaults when the YAML has no `mapping`).
  std::optional<GenericMapping> mapping;
  // Set for prometheus integrations only (to the defaults when the YAML sets none of it).
  std::optional<PrometheusOptions> prometheus;
  // Opsgenie integrations only: the severity of Opsgenie priorities P1..P5 (index 0 = P1). The
  // YAML's `priorities` map overrides some or all of kDefaultOpsgeniePriorities.
  std::optional<std::array<core::Severity, 5>> priorities;
};

// P1 critical, P2 error, P3 (Opsgenie's default priority) warning, P4 and P5 info.
inline constexpr std::array<core::Severity, 5> kDefaultOpsgeniePriorities{
    core::Severity::kCritical, core::Severity::kError, core::Severity::kWarning,
    core::Severity::kInfo, core::Severity::kInfo};

// Time-window alert grouping for a service: a new alert joins the service's newest open
// incident whose last alert arrived within `window_minutes` and whose content key (the values
// of the `by` fields, as matcher fields name them) is the same.
struct Grouping {
  int window_minutes = 0;       // 1..1440
  std::vector<std::string> by;  // alert fields (Matcher::field names); empty: service-wide
};

struct Service {
  std::string id;
  std::string name;  // defaults to id
  std::string description;
  std::string team;                     // team id, optional
  std::optional<int> tier;              // 1 (most critical) .. 5
  std::string runbook_url;              // optional; http(s)
  std::string escalation_policy;        // policy id, required
  std::vector<std::string> depends_on;  // service ids; no self-dependency, no cycles
  std::vector<Integration> integrations;
  std::optional<Grouping> grouping;  // absent: each alert opens its own incident
};

// ---- maintenance, silences, status page, severities, settings -------------------------------

// Alerts on `services` open no incidents and page nobody during the window. Exactly one of
// (start and end) or `recurring` is set.
struct RecurringWindow {
  DailyWindow window;
  std::string timezone = "UTC";
};

struct MaintenanceWindow {
  std::string id;
  std::vector<std::string> services;  // non-empty
  std::optional<TimePoint> start;
  std::optional<TimePoint> end;  // > start
  std::optional<RecurringWindow> recurring;
  std::string description;
};

enum class MatchOp { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };
// "=", "!=", "=~", "!~".
std::string_view ToString(MatchOp op);

// Matches one alert field. `field` is one of service, integration, severity, summary, source,
// component, group, class, dedup_key, or "details.<dotted.path>". Regexes are ECMAScript,
// matched against the whole value.
struct Matcher {
  std::string field;
  MatchOp op = MatchOp::kEqual;
  std::string value;
};

// Suppresses alerts matching every matcher until `expires_at`.
struct Silence {
  std::string id;
  std::vector<Matcher> matchers;  // non-empty; all must match
  TimePoint expires_at{};
  std::string comment;
  std::string created_by;
};

struct StatusComponent {
  std::string id;
  std::string name;  // defaults to id
  std::string description;
  std::vector<std::string> services;  // service ids whose incidents affect the component
};

struct StatusPage {
  std::string title = "Status";
  std::vector<StatusComponent> components;
};

// An incident severity level; the list order is the rank (first = most severe).
struct SeverityLevel {
  std::string id;  // e.g. "SEV1"
  std::string description;
  // How often the communications lead must publish a status update for an open incident at
  // this level; a reminder goes out when one is overdue. Absent: no cadence.
  std::optional<int> update_every_minutes;  // 1..1440
  // The public component state an open incident at this level causes; absent: by rank
  // (core::StateForIncident). One of operational, degraded_performance, partial_outage,
  // major_outage.
  std::optional<core::ComponentState> component_state;
};

struct Settings {
  std::string base_url;  // public URL of this server, used in notification links; http(s)
  // Suspect changes: how far before impact started changes are considered.
  int suspect_lookback_hours = 24;  // 1..720
};

// ---- incidents: roles, rules, audiences, webhooks -------------------------------------------

// A role people hold in an incident. commander, communications_lead and scribe always exist
// (BuiltinIncidentRoles); `incident_roles` in the org adds more.
struct IncidentRole {
  std::string id;
  std::string name;  // defaults to id
  std::string description;
};

// Declares a SEV on an untriaged incident, or raises a declared one, when an alert opens or
// joins it and every condition that is set holds. Never lowers a severity.
struct IncidentRule {
  std::string id;
  std::vector<std::string> services;             // the alert's service is one of these
  std::optional<int> max_service_tier;           // the service's tier is at most this (1 = top)
  std::optional<core::Severity> alert_severity;  // the alert is at least this severe
  // At least this many alerts in the incident; with window_minutes, only the incident's alerts
  // that arrived within that many minutes count.
  std::optional<int> alert_count;
  std::optional<int> window_minutes;
  std::string severity;  // the SEV level to declare/raise to (required)
};

// Who receives status updates for one audience, and how the update is written for them.
// Templates are mustache (core::RenderUpdate documents the variables); empty means the built-in
// one. The audience "public" is the status page: its templates only see public fields.
struct Audience {
  std::string id;    // public, executives, engineering, support, or the org's own
  std::string name;  // defaults to id
  std::string subject_template;
  std::string body_template;               // YAML `template`
  std::vector<ContactMethod> subscribers;  // webhook, slack, email or sms_provider
  // Only incidents at least this severe are sent to the subscribers ("" = every SEV).
  std::string min_severity;
};

// An outbound incident webhook: chat tools and ticket systems follow incidents through it.
// Signed like webhook contact methods (X-Houston-Signature and Standard Webhooks headers).
struct OutboundWebhook {
  std::string id;
  std::string url;
  std::string secret;
  std::map<std::string, std::string> headers;
  // Which events: incident.triggered, incident.acknowledged, incident.mitigated,
  // incident.resolved, incident.reopened, incident.updated, status_update_published.
  // Empty: all of them.
  std::vector<std::string> events;
  std::vector<std::string> services;  // only incidents affecting these; empty: all
};
// The events an OutboundWebhook may name.
const std::vector<std::string>& WebhookEventNames();

// ---- learning: postmortems and action items -------------------------------------------------

// One section of the postmortem template: the human part people write.
struct PostmortemSection {
  std::string id;      // e.g. "what_happened"; unique within the template
  std::string title;   // e.g. "What happened"
  std::string prompt;  // a hint shown in the empty section
};

// org.yaml `postmortems:`: which resolved incidents get a required postmortem draft, when it is
// due, who is reminded, its template and the contributing-factor vocabulary.
struct PostmortemPolicy {
  // SEV levels whose incidents get a draft when they resolve; empty list: none. Absent from
  // org.yaml: the two most severe levels (SEV1, SEV2).
  std::vector<std::string> required_severities;
  int due_days = 5;  // after resolution; 1..90
  // The incident commander is reminded when it is due and then every `remind_every_days`; the
  // owning team (the primary service's team) from `team_after_days` past due. 1..30 each.
  int remind_every_days = 1;
  int team_after_days = 2;
  std::vector<PostmortemSection> sections;        // the template, in order; non-empty
  std::vector<std::string> contributing_factors;  // the tags factors may use; non-empty
};
// The built-in template and vocabulary (used when org.yaml has no `postmortems:`).
PostmortemPolicy DefaultPostmortemPolicy(const std::vector<std::string>& sev_levels);

// org.yaml `action_items:`: how overdue action items are chased. A reminder is not a page: it
// goes to the owner's contact methods only within `working_hours` in the owner's time zone.
struct ActionItemPolicy {
  int remind_every_days = 1;  // while overdue; 1..30
  int team_grace_days = 3;    // then the owner's teams are reminded too; 0..90
  DailyWindow working_hours{
      {date::Monday, date::Tuesday, date::Wednesday, date::Thursday, date::Friday},
      9 * 60,
      17 * 60};
};

// ---- the org --------------------------------------------------------------------------------

// A validated org: every reference resolves, every id is unique within its kind, and every
// integration key is unique across the org. Plain value; thread-compatible.
struct Org {
  std::vector<User> users;
  std::vector<Team> teams;
  std::vector<Schedule> schedules;
  std::vector<EscalationPolicy> escalation_policies;
  std::vector<Service> services;
  std::vector<MaintenanceWindow> maintenance_windows;
  std::vector<Silence> silences;
  std::optional<StatusPage> status_page;
  std::vector<SeverityLevel> severities;  // empty: the built-in SEV1..SEV5
  std::optional<Settings> settings;
  std::vector<IncidentRole> incident_roles;  // the org's own, beyond the built-in ones
  std::vector<IncidentRule> incident_rules;
  std::vector<Audience> audiences;
  std::vector<OutboundWebhook> webhooks;
  std::optional<PostmortemPolicy> postmortems;   // absent: DefaultPostmortemPolicy
  std::optional<ActionItemPolicy> action_items;  // absent: the defaults
};

// The SEV level ids, most severe first (the built-in SEV1..SEV5 when the org defines none).
std::vector<std::string> SevLevels(const Org& org);
// The level with `id`, or nullptr (also for the built-in levels, which have no settings).
const SeverityLevel* FindSeverity(const Org& org, std::string_view id);
const Audience* FindAudience(const Org& org, std::string_view id);
// The org's settings, or the defaults.
Settings SettingsOf(const Org& org);
// The org's postmortem and action-item policies, or the defaults.
PostmortemPolicy PostmortemPolicyOf(const Org& org);
ActionItemPolicy ActionItemPolicyOf(const Org& org);
const std::vector<IncidentRole>& BuiltinIncidentRoles();
// The built-in roles followed by the org's own.
std::vector<IncidentRole> AllIncidentRoles(const Org& org);
const IncidentRole* FindIncidentRole(const std::vector<IncidentRole>& roles, std::string_view id);

// The ids an error message offers as choices: "a, b, c" (at most 20, then "..."), or "none
// defined".
std::string KnownIds(const std::vector<std::string>& ids);

// Lookups by id; nullptr if absent. The pointer is valid while `org` is alive and unmodified.
const User* FindUser(const Org& org, std::string_view id);
const Team* FindTeam(const Org& org, std::string_view id);
const Schedule* FindSchedule(const Org& org, std::string_view id);
const EscalationPolicy* FindEscalationPolicy(const Org& org, std::string_view id);
const Service* FindService(const Org& org, std::string_view id);
// The service owning the integration with `key`, or nullptr. Linear; for hot paths build an
// IntegrationIndex once.
const Service* FindServiceByIntegrationKey(const Org& org, std::string_view key);

// Integration key -> integration (a copy; `service_id` names its service).
using IntegrationIndex = std::map<std::string, Integration, std::less<>>;
IntegrationIndex IndexIntegrations(const Org& org);

// ---- parsing --------------------------------------------------------------------------------

// Parses and validates an org. `filename` is only used in messages. An empty document (or one
// with only comments) is a valid empty org.
// Errors: InvalidArgument with message "<filename> is invalid: N problem(s)" and details() with
// one line per problem, ordered by position, e.g.
//   "org.yaml:12:7: services[0].escalation_policy: unknown escalation policy 'payments-epx'
//    (defined: payments-ep)"
// Every problem found is reported, not just the first (up to 200 lines, then a summary line).
Result<Org> ParseOrg(std::string_view yaml_text, std::string_view filename);

// Reads and parses the file at `path` (used as the filename in messages).
// Errors: NotFound if the file does not exist; InvalidArgument if it cannot be read (a
// directory, no permission, larger than 16 MiB) or is invalid as for ParseOrg.
Result<Org> LoadOrgFile(const std::string& path);

// How org.yaml writes times: "HH:MM" for minutes since local midnight (1440 is "24:00"), and
// "YYYY-MM-DDTHH:MM:SS" for a local date-time (a layer's start and end).
std::string FormatClock(int minute);
std::string FormatLocalDateTime(date::local_seconds t);

// ---- canonical form, diff -------------------------------------------------------------------

// One object of the flattened org. kind is one of: user, team, schedule, escalation_policy,
// service, integration (id = key; the spec names its service), maintenance_window, silence,
// status_page (id "status_page"), severity, settings (id "settings"), incident_role,
// incident_rule, audience, webhook, postmortems (id "postmortems") and action_items (id
// "action_items"); the singletons only when the section is written, with every default filled
// in. spec_json is canonical JSON (fixed key order, no whitespace), so equal specs are equal
// strings. Servers do not rebuild an Org from these objects: they parse the source YAML stored
// beside them (store::OrgSnapshot::source_yaml).
struct OrgObject {
  std::string kind;
  std::string id;
  std::string spec_json;

  friend bool operator==(const OrgObject&, const OrgObject&) = default;
};

// Flattens `org` into objects sorted by (kind, id). Secrets (of contact methods, audience
// subscribers and webhooks) are included unless `redacted`, in which case every non-empty secret
// and every header value is replaced by "***" (for printing only; never store redacted objects).
std::vector<OrgObject> Flatten(const Org& org, bool redacted = false);

// What turns `current` into `desired`, matching objects by (kind, id). Inputs need not be sorted;
// each output list is sorted by (kind, id).
struct OrgDiff {
  std::vector<OrgObject> added;
  std::vector<std::pair<OrgObject /*old*/, OrgObject /*new*/>> changed;
  std::vector<OrgObject> removed;

  bool empty() const { return added.empty() && changed.empty() && removed.empty(); }
};
OrgDiff Diff(const std::vector<OrgObject>& current, const std::vector<OrgObject>& desired);

// A plan for humans, one line per added/removed object and per changed field:
//   + service checkout
//   ~ integration am-checkout: rate_limit_per_second 5 -> 10
//   ~ user alice: contact_methods[0].secret (secret changed)
//   - user bob
//   1 to add, 2 to change, 1 to remove
// Secrets and header values never appear in the output. An empty diff prints "No changes." and
// the summary line.
std::string FormatDiff(const OrgDiff& diff);

}  // namespace houston::config
