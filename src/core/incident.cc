#include "core/incident.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <deque>

#include "core/json_util.h"
#include "core/time_util.h"

namespace houston::core {

// ---- status -------------------------------------------------------------------------------

std::string IncidentJson(const Incident& i, std::string_view extra_members) {
  std::string o = "{";
  auto key = [&o](std::string_view k) {
    if (o.size() > 1) o += ',';
    AppendJsonString(o, k);
    o += ':';
  };
  auto str = [&](std::string_view k, std::string_view v) {
    key(k);
    AppendJsonString(o, v);
  };
  auto raw = [&](std::string_view k, std::string_view v) {
    key(k);
    o += v;
  };
  auto time = [&](std::string_view k, const std::optional<TimePoint>& t) {
    if (t) {
      str(k, FormatRfc3339(*t));
    } else {
      raw(k, "null");
    }
  };
  auto list = [&](std::string_view k, const std::vector<std::string>& v) {
    key(k);
    o += '[';
    for (size_t n = 0; n < v.size(); ++n) {
      if (n) o += ',';
      AppendJsonString(o, v[n]);
    }
    o += ']';
  };
  raw("id", std::to_string(i.id));
  str("service", i.service_id);
  list("services", i.services.empty() ? std::vector<std::string>{i.service_id} : i.services);
  str("title", i.title);
  if (i.sev.empty()) {
    raw("sev", "null");
  } else {
    str("sev", i.sev);
  }
  str("severity", ToString(i.severity));
  str("status", ToString(i.status));
  str("summary", i.summary);
  str("public_title", i.public_title);
  list("tags", i.tags);
  key("roles");
  o += '{';
  std::string commander;
  for (size_t n = 0; n < i.roles.size(); ++n) {
    if (n) o += ',';
    AppendJsonString(o, i.roles[n].first);
    o += ':';
    AppendJsonString(o, i.roles[n].second);
    if (i.roles[n].first == "commander") commander = i.roles[n].second;
  }
  o += '}';
  if (commander.empty()) {
    raw("commander", "null");
  } else {
    str("commander", commander);
  }
  list("responders", i.responders);
  str("group_key", i.group_key);
  raw("alert_count", std::to_string(i.alert_count));
  str("declared_by", i.declared_by);
  raw("merged_into", i.merged_into ? std::to_string(i.merged_into) : "null");
  time("created_at", i.created_at);
  time("acknowledged_at", i.acknowledged_at);
  time("mitigated_at", i.mitigated_at);
  time("resolved_at", i.resolved_at);
  time("impact_started_at", i.impact_started_at);
  time("detected_at", i.detected_at);
  time("last_update_at", i.last_update_at);
  time("update_due_at", i.update_due_at);
  if (!extra_members.empty()) {
    o += ',';
    o += extra_members;
  }
  o += '}';
  return o;
}

std::string_view ToString(IncidentAction a) {
  switch (a) {
    case IncidentAction::kAcknowledge:
      return "acknowledge";
    case IncidentAction::kMitigate:
      return "mitigate";
    case IncidentAction::kResolve:
      return "resolve";
    case IncidentAction::kReopen:
      return "reopen";
  }
  return "unknown";
}

std::optional<IncidentAction> ParseIncidentAction(std::string_view s) {
  for (auto a : {IncidentAction::kAcknowledge, IncidentAction::kMitigate, IncidentAction::kResolve,
                 IncidentAction::kReopen}) {
    if (ToString(a) == s) return a;
  }
  return std::nullopt;
}

Result<IncidentStatus> NextIncidentStatus(IncidentStatus from, IncidentAction action) {
  using S = IncidentStatus;
  if (action == IncidentAction::kReopen) {
    if (from == S::kResolved) return S::kTriggered;
    return std::unexpected(FailedPrecondition(
        fmt::format("the incident is {}, not resolved: only a resolved incident can be reopened",
                    ToString(from))));
  }
  if (from == S::kResolved) {
    return std::unexpected(FailedPrecondition(
        fmt::format("the incident is already resolved: it cannot be {}; reopen it first",
                    action == IncidentAction::kAcknowledge ? "acknowledged"
                    : action == IncidentAction::kMitigate  ? "mitigated"
                                                           : "resolved again")));
  }
  switch (action) {
    case IncidentAction::kAcknowledge:
      return from == S::kTriggered ? S::kAcknowledged : from;
    case IncidentAction::kMitigate:
      return S::kMitigated;
    case IncidentAction::kResolve:
      return S::kResolved;
    case IncidentAction::kReopen:
      break;
  }
  return from;
}

// ---- severity levels ----------------------------------------------------------------------

const std::vector<std::string>& DefaultSevLevels() {
  static const std::vector<std::string> kLevels = {"SEV1", "SEV2", "SEV3", "SEV4", "SEV5"};
  return kLevels;
}

namespace {
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

Result<std::string> NormalizeSev(std::string_view input, const std::vector<std::string>& levels) {
  for (const auto& l : levels) {
    if (EqualsIgnoreCase(l, input)) return l;
  }
  size_t n = 0;
  auto [p, ec] = std::from_chars(input.data(), input.data() + input.size(), n);
  if (ec == std::errc() && p == input.data() + input.size() && n >= 1 && n <= levels.size()) {
    return levels[n - 1];
  }
  std::string list;
  for (const auto& l : levels) list += (list.empty() ? "" : ", ") + l;
  return std::unexpected(InvalidArgument(fmt::format(
      "unknown severity '{}': use one of {} (or its number, 1 = most severe)", input, list)));
}

std::optional<int> SevRank(std::string_view sev, const std::vector<std::string>& levels) {
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i] == sev) return static_cast<int>(i);
  }
  return std::nullopt;
}

// ---- suspect changes ----------------------------------------------------------------------

std::map<std::string, ServiceHop> ReachableServices(
    const std::vector<std::string>& affected,
    const std::map<std::string, std::vector<std::string>>& depends_on) {
  std::map<std::string, ServiceHop> out;
  std::deque<std::string> queue;
  for (const auto& s : affected) {
    if (out.emplace(s, ServiceHop{0, s}).second) queue.push_back(s);
  }
  while (!queue.empty()) {
    std::string s = std::move(queue.front());
    queue.pop_front();
    auto it = depends_on.find(s);
    if (it == depends_on.end()) continue;
    ServiceHop here = out.at(s);
    for (const auto& d : it->second) {
      if (out.emplace(d, ServiceHop{here.hops + 1, here.from}).second) queue.push_back(d);
    }
  }
  return out;
}

std::string FormatDuration(std::chrono::seconds d) {
  using namespace std::chrono;
  int64_t s = std::abs(d.count());
  if (s < 60) return fmt::format("{} s", s);
  int64_t m = s / 60;
  if (m < 60) return fmt::format("{} min", m);
  int64_t h = m / 60;
  if (h < 24) return m % 60 ? fmt::format("{} h {} min", h, m % 60) : fmt::format("{} h", h);
  return h % 24 ? fmt::format("{} d {} h", h / 24, h % 24) : fmt::format("{} d", h / 24);
}

std::vector<SuspectChange> RankSuspectChanges(const std::vector<Change>& changes,
                                              const std::map<std::string, ServiceHop>& reach,
                                              TimePoint impact_start,
                                              const SuspectOptions& options) {
  std::vector<SuspectChange> out;
  for (const auto& c : changes) {
    auto hop = reach.find(c.service_id);
    if (hop == reach.end()) continue;
    auto before = std::chrono::duration_cast<std::chrono::seconds>(impact_start - c.timestamp);
    if (before > options.lookback || -before > options.after_grace) continue;
    SuspectChange s;
    s.change = c;
    s.hops = hop->second.hops;
    s.via = hop->second.from;
    s.before = before;
    double hours = std::max<double>(0, static_cast<double>(before.count()) / 3600.0);
    s.score = std::pow(0.5, hours / 2.0) / (1.0 + s.hops);
    std::string when = before.count() >= 0 && before < std::chrono::minutes(1)
                           ? "less than a minute before impact started"
                       : before.count() >= 0
                           ? FormatDuration(before) + " before impact started"
                           : FormatDuration(-before) + " after impact started (clock skew?)";
    std::string where =
        s.hops == 0 ? fmt::format("on {} (affected)", c.service_id)
        : s.hops == 1
            ? fmt::format("on {}, which {} depends on", c.service_id, s.via)
            : fmt::format("on {}, {} hops down {}'s dependencies", c.service_id, s.hops, s.via);
    s.reason = when + ", " + where;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const SuspectChange& a, const SuspectChange& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.change.timestamp != b.change.timestamp) return a.change.timestamp > b.change.timestamp;
    return a.change.id > b.change.id;
  });
  if (out.size() > options.limit) out.resize(options.limit);
  return out;
}

// ---- status updates -----------------------------------------------------------------------

bool IsPhase(std::string_view phase) {
  return std::find(std::begin(kPhases), std::end(kPhases), phase) != std::end(kPhases);
}

std::string PhaseLabel(std::string_view phase) {
  std::string out(phase);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string_view DefaultPhase(IncidentStatus s) {
  switch (s) {
    case IncidentStatus::kTriggered:
    case IncidentStatus::kAcknowledged:
      return "investigating";
    case IncidentStatus::kMitigated:
      return "monitoring";
    case IncidentStatus::kResolved:
      return "resolved";
  }
  return "investigating";
}

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

std::string OptTime(const std::optional<TimePoint>& t) { return t ? FormatRfc3339(*t) : ""; }

std::string NextUpdateIn(const UpdateFields& u) {
  return u.next_update_in ? FormatDuration(*u.next_update_in) : "";
}

}  // namespace

std::string PublicTitle(const Incident& incident, const std::vector<std::string>& components) {
  if (!incident.public_title.empty()) return incident.public_title;
  std::string title = components.empty() ? std::string("Service disruption")
                                         : "Service disruption affecting " + JoinNames(components);
  if (!incident.declared_by.empty()) return title;
  // Opened by an alert: nobody wrote it a title for the public, and every such incident on a
  // component would read the same. When it began tells them apart; the alert's own words are
  // internal (hosts, metrics) and never shown.
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  TimePoint start = incident.impact_started_at.value_or(incident.created_at);
  auto day = std::chrono::floor<std::chrono::days>(start);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::minutes>(start - day));
  return fmt::format("{} (from {} {}, {:02}:{:02} UTC)", title,
                     kMonths[static_cast<unsigned>(ymd.month()) - 1],
                     static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count());
}

TemplateObject InternalTemplateData(const AudienceContext& ctx, const UpdateFields& u) {
  const Incident& i = ctx.incident;
  std::string service_name = i.service_id;
  std::vector<std::string> service_names;
  for (const auto& [id, name] : ctx.services) {
    service_names.push_back(name);
    if (id == i.service_id) service_name = name;
  }
  std::string commander, comms;
  TemplateList roles;
  for (const auto& r : ctx.roles) {
    roles.push_back(TemplateObject{{"role", r.role_name}, {"name", r.person}});
    if (r.role_id == "commander") commander = r.person;
    if (r.role_id == "communications_lead") comms = r.person;
  }
  TemplateList suspects;
  for (const auto& s : ctx.suspects) suspects.push_back(TemplateObject{{"text", s}});
  std::string duration;
  if (auto start = i.impact_started_at.value_or(i.created_at); ctx.now >= start) {
    auto end = i.resolved_at.value_or(ctx.now);
    duration = FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(end - start));
  }
  TemplateObject incident{
      {"id", std::to_string(i.id)},
      {"title", i.title},
      {"summary", i.summary},
      {"sev", i.sev},
      {"sev_description", ctx.sev_description},
      {"status", std::string(ToString(i.status))},
      {"service", i.service_id},
      {"service_name", service_name},
      {"services_text", JoinNames(service_names)},
      {"url", ctx.incident_url},
      {"impact_started_at", OptTime(i.impact_started_at)},
      {"detected_at", OptTime(i.detected_at)},
      {"duration", duration},
      {"commander", commander},
      {"communications_lead", comms},
  };
  TemplateObject update{
      {"phase", u.phase},
      {"phase_label", PhaseLabel(u.phase)},
      {"message", u.message},
      {"impact", u.impact},
      {"customer_effect", u.customer_effect},
      {"eta", u.eta},
      {"support_guidance", u.support_guidance},
      {"public_message", u.public_message},
      {"next_update_in", NextUpdateIn(u)},
      {"author", ctx.author},
  };
  return TemplateObject{
      {"incident", std::move(incident)},
      {"update", std::move(update)},
      {"roles", std::move(roles)},
      {"suspects", std::move(suspects)},
      {"has_suspects", !ctx.suspects.empty()},
  };
}

TemplateObject PublicTemplateData(const AudienceContext& ctx, const UpdateFields& u) {
  TemplateList components;
  for (const auto& c : ctx.components) components.push_back(TemplateObject{{"name", c}});
  TemplateObject update{
      {"phase", u.phase},
      {"phase_label", PhaseLabel(u.phase)},
      {"public_message", u.public_message},
      {"eta", u.eta},
      {"next_update_in", NextUpdateIn(u)},
  };
  return TemplateObject{
      {"title", PublicTitle(ctx.incident, ctx.components)},
      {"components", std::move(components)},
      {"components_text", JoinNames(ctx.components)},
      {"status_page_url", ctx.status_page_url},
      {"started_at", OptTime(ctx.incident.impact_started_at)},
      {"update", std::move(update)},
  };
}

std::string_view DefaultUpdateTemplate(std::string_view audience) {
  if (audience == "public") {
    return "{{#update.public_message}}{{update.public_message}}{{/update.public_message}}"
           "{{^update.public_message}}We are investigating an issue affecting "
           "{{components_text}}.{{/update.public_message}}"
           "{{#update.eta}} We expect to resolve it {{update.eta}}.{{/update.eta}}"
           "{{#update.next_update_in}} Next update in {{update.next_update_in}}."
           "{{/update.next_update_in}}";
  }
  if (audience == "executives") {
    return "{{incident.sev}} {{incident.title}}: {{update.phase_label}}\n"
           "Impact: {{#update.impact}}{{update.impact}}{{/update.impact}}"
           "{{^update.impact}}being assessed{{/update.impact}}\n"
           "Customer effect: {{#update.customer_effect}}{{update.customer_effect}}"
           "{{/update.customer_effect}}{{^update.customer_effect}}being assessed"
           "{{/update.customer_effect}}\n"
           "ETA: {{#update.eta}}{{update.eta}}{{/update.eta}}{{^update.eta}}not known yet"
           "{{/update.eta}}\n"
           "Duration so far: {{incident.duration}}\n"
           "Incident commander: {{#incident.commander}}{{incident.commander}}"
           "{{/incident.commander}}{{^incident.commander}}not assigned yet{{/incident.commander}}\n"
           "{{#update.next_update_in}}Next update in {{update.next_update_in}}.\n"
           "{{/update.next_update_in}}";
  }
  if (audience == "support") {
    return "{{incident.title}}: {{update.phase_label}}\n"
           "What customers notice: {{#update.customer_effect}}{{update.customer_effect}}"
           "{{/update.customer_effect}}{{^update.customer_effect}}being assessed"
           "{{/update.customer_effect}}\n"
           "What to tell customers: {{#update.support_guidance}}{{update.support_guidance}}"
           "{{/update.support_guidance}}{{^update.support_guidance}}{{#update.public_message}}"
           "{{update.public_message}}{{/update.public_message}}{{^update.public_message}}We "
           "are aware of the problem and working on it.{{/update.public_message}}"
           "{{/update.support_guidance}}\n"
           "ETA: {{#update.eta}}{{update.eta}}{{/update.eta}}{{^update.eta}}not known yet"
           "{{/update.eta}}\n"
           "{{#update.next_update_in}}Next update in {{update.next_update_in}}.\n"
           "{{/update.next_update_in}}";
  }
  return "{{incident.sev}} #{{incident.id}} {{incident.title}} ({{incident.status}}, "
         "{{update.phase}})\n"
         "Services: {{incident.services_text}}\n"
         "{{#update.message}}{{update.message}}\n{{/update.message}}"
         "{{#has_suspects}}Suspect changes:\n{{#suspects}}- {{text}}\n{{/suspects}}"
         "{{/has_suspects}}"
         "{{#roles}}{{role}}: {{name}}\n{{/roles}}"
         "Timeline: {{incident.url}}\n";
}

std::string_view DefaultUpdateSubject(std::string_view audience) {
  if (audience == "public") return "{{title}}: {{update.phase_label}}";
  return "[{{incident.sev}}] {{incident.title}}: {{update.phase_label}}";
}

Result<Rendering> RenderUpdate(std::string_view audience, std::string_view subject_template,
                               std::string_view body_template, const AudienceContext& ctx,
                               const UpdateFields& u) {
  bool pub = audience == kPublicAudience;
  TemplateObject data = pub ? PublicTemplateData(ctx, u) : InternalTemplateData(ctx, u);
  Rendering r;
  r.audience = std::string(audience);
  auto subject = RenderTemplate(
      subject_template.empty() ? DefaultUpdateSubject(audience) : subject_template, data);
  if (!subject) {
    return std::unexpected(InvalidArgument(
        fmt::format("audience '{}' subject: {}", audience, subject.error().message())));
  }
  auto body =
      RenderTemplate(body_template.empty() ? DefaultUpdateTemplate(audience) : body_template, data);
  if (!body) {
    return std::unexpected(InvalidArgument(
        fmt::format("audience '{}' template: {}", audience, body.error().message())));
  }
  r.subject = std::move(*subject);
  r.text = std::move(*body);
  return r;
}

// ---- public components --------------------------------------------------------------------

namespace {
constexpr std::pair<ComponentState, std::string_view> kComponentStates[] = {
    {ComponentState::kOperational, "operational"},
    {ComponentState::kDegradedPerformance, "degraded_performance"},
    {ComponentState::kPartialOutage, "partial_outage"},
    {ComponentState::kMajorOutage, "major_outage"},
    {ComponentState::kUnderMaintenance, "under_maintenance"},
};
// Worse is higher.
int Badness(ComponentState s) {
  switch (s) {
    case ComponentState::kOperational:
      return 0;
    case ComponentState::kUnderMaintenance:
      return 1;
    case ComponentState::kDegradedPerformance:
      return 2;
    case ComponentState::kPartialOutage:
      return 3;
    case ComponentState::kMajorOutage:
      return 4;
  }
  return 0;
}
}  // namespace

std::string_view ToString(ComponentState s) {
  for (const auto& [state, name] : kComponentStates) {
    if (state == s) return name;
  }
  return "operational";
}

std::optional<ComponentState> ParseComponentState(std::string_view s) {
  for (const auto& [state, name] : kComponentStates) {
    if (name == s) return state;
  }
  return std::nullopt;
}

ComponentState StateForIncident(int rank, IncidentStatus status) {
  ComponentState s = rank <= 0   ? ComponentState::kMajorOutage
                     : rank == 1 ? ComponentState::kPartialOutage
                     : rank == 2 ? ComponentState::kDegradedPerformance
                                 : ComponentState::kOperational;
  if (status == IncidentStatus::kResolved) return ComponentState::kOperational;
  if (status == IncidentStatus::kMitigated && Badness(s) > 2) {
    return ComponentState::kDegradedPerformance;
  }
  return s;
}

ComponentState Worse(ComponentState a, ComponentState b) {
  return Badness(a) >= Badness(b) ? a : b;
}

}  // namespace houston::core
