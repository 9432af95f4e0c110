// Running an incident: the status state machine, SEV levels, suspect-change ranking, status
// update rendering per audience and public component states. Pure logic, no I/O; thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/template.h"
#include "core/types.h"

namespace houston::core {

// ---- status -------------------------------------------------------------------------------

// The incident as JSON, the shape of the API and of outbound incident webhooks: id, service,
// services, title, sev (null when untriaged), severity, status, summary, public_title, tags,
// roles ({role: user}), commander, responders, group_key, alert_count, declared_by,
// merged_into, the status times and the impact window. `extra_members` (already JSON, e.g.
// "\"url\":\"...\"") is added inside the object.
std::string IncidentJson(const Incident& i, std::string_view extra_members = {});

// What a person (or a rule) asks of an incident's status.
enum class IncidentAction { kAcknowledge, kMitigate, kResolve, kReopen };
std::string_view ToString(IncidentAction a);  // "acknowledge", "mitigate", "resolve", "reopen"
std::optional<IncidentAction> ParseIncidentAction(std::string_view s);

// The status `action` leads to from `from`: triggered -> acknowledged -> mitigated -> resolved,
// and resolved -> triggered (reopen). Acknowledging an incident that is already acknowledged or
// mitigated, or mitigating a mitigated one, changes nothing (returns `from`). Anything else is
// FailedPrecondition saying why and what is possible instead (e.g. resolving a resolved
// incident, mitigating a resolved one, reopening an open one).
Result<IncidentStatus> NextIncidentStatus(IncidentStatus from, IncidentAction action);

// True while the incident is not resolved.
inline bool IsOpen(IncidentStatus s) { return s != IncidentStatus::kResolved; }

// ---- severity levels ----------------------------------------------------------------------

// The built-in SEV levels, most severe first, used when the org defines none.
const std::vector<std::string>& DefaultSevLevels();

// The level id meant by `input` among `levels` (most severe first): an id in any letter case
// ("sev2", "SEV2") or a 1-based number ("2" is levels[1]). InvalidArgument listing the levels
// otherwise.
Result<std::string> NormalizeSev(std::string_view input, const std::vector<std::string>& levels);

// The rank of `sev` in `levels` (0 = most severe), or nullopt when it is not a level.
std::optional<int> SevRank(std::string_view sev, const std::vector<std::string>& levels);

// ---- suspect changes ----------------------------------------------------------------------

// How a service is reached from the incident's affected services along depends_on edges.
struct ServiceHop {
  int hops = 0;      // 0: an affected service itself
  std::string from;  // the affected service it is reached from
};
// Breadth-first over `depends_on` (service -> the services it depends on) from `affected`.
std::map<std::string, ServiceHop> ReachableServices(
    const std::vector<std::string>& affected,
    const std::map<std::string, std::vector<std::string>>& depends_on);

struct SuspectOptions {
  std::chrono::hours lookback{24};       // changes older than this before impact are ignored
  std::chrono::minutes after_grace{10};  // changes up to this long after impact started count
  size_t limit = 10;
};

struct SuspectChange {
  Change change;
  int hops = 0;
  std::string via;  // the affected service it is reached from
  // How long before impact started the change happened (negative: after).
  std::chrono::seconds before{0};
  double score = 0;    // in (0, 1]; higher is more suspicious
  std::string reason;  // one line, e.g. "12 min before impact started, on checkout (affected)"
};

// Changes on reachable services within the window, most suspicious first: closeness in time
// (halving every two hours before impact) times closeness in the dependency graph (1 / (1 +
// hops)). Ties go to the more recent change.
std::vector<SuspectChange> RankSuspectChanges(const std::vector<Change>& changes,
                                              const std::map<std::string, ServiceHop>& reach,
                                              TimePoint impact_start,
                                              const SuspectOptions& options = {});

// "45 s", "12 min", "3 h 5 min", "2 d 4 h".
std::string FormatDuration(std::chrono::seconds d);

// ---- status updates -----------------------------------------------------------------------

// The public phases of an incident, as status pages name them.
inline constexpr std::string_view kPhases[] = {"investigating", "identified", "monitoring",
                                               "resolved"};
bool IsPhase(std::string_view phase);
std::string PhaseLabel(std::string_view phase);  // "Investigating", ...
// The phase that fits an incident's status when the author gives none.
std::string_view DefaultPhase(IncidentStatus s);

// What the author of a status update writes, once; each audience's template picks what it shows.
struct UpdateFields {
  std::string phase;             // one of kPhases
  std::string message;           // engineering: technical detail (internal)
  std::string impact;            // executives: business impact
  std::string customer_effect;   // what customers notice
  std::string eta;               // free text, e.g. "within 2 hours"
  std::string support_guidance;  // support: what to tell customers
  std::string public_message;    // public: what the status page says
  std::optional<std::chrono::minutes> next_update_in;
};

// What templates may show about the incident besides the update itself.
struct AudienceContext {
  Incident incident;
  std::string sev_description;
  std::vector<std::pair<std::string, std::string>> services;  // (id, display name)
  struct RoleHolder {
    std::string role_id;    // "commander", "communications_lead", "scribe" or the org's own
    std::string role_name;  // "Commander", ...
    std::string person;     // the person's display name
  };
  std::vector<RoleHolder> roles;
  std::vector<std::string> suspects;    // one line each, most suspicious first
  std::vector<std::string> components;  // public component names the incident affects
  std::string incident_url;
  std::string status_page_url;
  std::string author;  // display name of whoever published the update
  TimePoint now{};
};

// The audience whose rendering goes to the public status page: its templates only ever see
// PublicTemplateData, never internal fields.
inline constexpr std::string_view kPublicAudience = "public";
inline constexpr std::string_view kWellKnownAudiences[] = {"public", "executives", "engineering",
                                                           "support"};

// Template data. Internal audiences get `incident` (id, title, summary, sev, sev_description,
// status, service, service_name, services_text, url, impact_started_at, detected_at, duration,
// commander, communications_lead), `roles` (list of {role, name}), `suspects` (list of
// {text}), `has_suspects` and `update` (the fields, plus phase_label, next_update_in).
// The public audience gets only `title` (the public title, or a generic one naming the
// components), `components` (list of {name}), `components_text`, `status_page_url`, `started_at`
// and `update` with phase, phase_label, public_message, eta, next_update_in.
TemplateObject InternalTemplateData(const AudienceContext& ctx, const UpdateFields& u);
TemplateObject PublicTemplateData(const AudienceContext& ctx, const UpdateFields& u);

// The built-in body and subject templates of a well-known audience (others get engineering's).
std::string_view DefaultUpdateTemplate(std::string_view audience);
std::string_view DefaultUpdateSubject(std::string_view audience);

struct Rendering {
  std::string audience;
  std::string subject;
  std::string text;
};
// Renders one audience's subject and body (empty template: the default). Errors as
// RenderTemplate, naming which template failed.
Result<Rendering> RenderUpdate(std::string_view audience, std::string_view subject_template,
                               std::string_view body_template, const AudienceContext& ctx,
                               const UpdateFields& u);

// The public title of an incident: its public_title, else one naming the components; for an
// incident an alert opened (nobody declared it) also when it began, e.g. "Service disruption
// affecting Website (from Dec 4, 14:05 UTC)", so that automatic incidents read differently.
std::string PublicTitle(const Incident& incident, const std::vector<std::string>& components);

// ---- public components --------------------------------------------------------------------

enum class ComponentState {
  kOperational,
  kDegradedPerformance,
  kPartialOutage,
  kMajorOutage,
  kUnderMaintenance,
};
// "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance".
std::string_view ToString(ComponentState s);
std::optional<ComponentState> ParseComponentState(std::string_view s);
// The state an open incident at SEV rank `rank` gives its components: 0 major outage,
// 1 partial outage, 2 degraded performance, lower operational. A mitigated incident gives at
// most degraded performance.
ComponentState StateForIncident(int rank, IncidentStatus status);
// The worse of two states (maintenance counts below any outage, above operational).
ComponentState Worse(ComponentState a, ComponentState b);

}  // namespace houston::core
