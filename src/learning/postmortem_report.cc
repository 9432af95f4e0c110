#include "learning/postmortem_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "core/time_util.h"

namespace houston::learning {

namespace json = boost::json;
using store::TimelineKind;

namespace {

json::value OptTime(const std::optional<TimePoint>& t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}
json::value OptSeconds(const std::optional<std::chrono::seconds>& d) {
  return d ? json::value(d->count()) : json::value(nullptr);
}
std::optional<std::chrono::seconds> Between(const std::optional<TimePoint>& from,
                                            const std::optional<TimePoint>& to) {
  if (!from || !to) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*to - *from);
}

json::object DetailsOf(const store::AuditRecord& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.details_json.empty() ? "{}" : r.details_json, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object();
}
std::string Str(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::string Str(const json::value& o, std::string_view k) {
  return o.is_object() ? Str(o.as_object(), k) : std::string();
}

bool IsPerson(const store::Actor& a) { return a.type == "user" || a.type == "token"; }

std::string Clip(std::string s, size_t n) {
  if (s.size() > n) s = s.substr(0, n) + "...";
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

ResponseTimes ComputeResponseTimes(const core::Incident& inc,
                                   const std::vector<store::TimelineEntry>& timeline) {
  ResponseTimes t;
  t.impact_started = inc.impact_started_at ? inc.impact_started_at : inc.created_at;
  t.detected = inc.detected_at ? inc.detected_at : inc.created_at;
  for (const auto& e : timeline) {
    auto kind = store::ParseTimelineKind(e.record.action);
    if (!kind || e.record.resource_type != "incident") continue;
    if (*kind == TimelineKind::kAcknowledged && !t.acknowledged) t.acknowledged = e.record.at;
    if (*kind == TimelineKind::kMitigated && !t.mitigated) t.mitigated = e.record.at;
    if (*kind == TimelineKind::kResolved) t.resolved = e.record.at;
    if (*kind == TimelineKind::kReopened) t.resolved.reset();
  }
  // Rows older than the timeline (or imported) still have the incident's own times.
  if (!t.acknowledged) t.acknowledged = inc.acknowledged_at;
  if (!t.mitigated) t.mitigated = inc.mitigated_at;
  if (!t.resolved && inc.status == core::IncidentStatus::kResolved) t.resolved = inc.resolved_at;
  t.to_detect = Between(t.impact_started, t.detected);
  t.to_acknowledge = Between(t.detected, t.acknowledged);
  t.to_mitigate = Between(t.detected, t.mitigated ? t.mitigated : t.resolved);
  t.to_resolve = Between(t.detected, t.resolved);
  t.impact = Between(t.impact_started, t.mitigated ? t.mitigated : t.resolved);
  return t;
}

std::vector<Participant> Participants(const core::Incident& inc,
                                      const std::vector<store::TimelineEntry>& timeline,
                                      const config::Org* org) {
  std::vector<Participant> people;
  auto person = [&](const std::string& user) -> Participant& {
    for (auto& p : people) {
      if (p.user == user) return p;
    }
    Participant p;
    p.user = user;
    p.name = user;
    if (org) {
      if (const auto* u = config::FindUser(*org, user)) p.name = u->name;
    }
    people.push_back(std::move(p));
    return people.back();
  };
  auto hold = [&](const std::string& user, const std::string& role) {
    if (user.empty()) return;
    auto& roles = person(user).roles;
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
  };
  for (const auto& e : timeline) {
    auto kind = store::ParseTimelineKind(e.record.action);
    if (!kind) continue;
    json::object d = DetailsOf(e.record);
    if (*kind == TimelineKind::kRoleAssigned) hold(Str(d, "user"), Str(d, "role"));
    if (*kind == TimelineKind::kResponderAdded) hold(Str(d, "user"), "responder");
    if (*kind == TimelineKind::kAcknowledged && IsPerson(e.record.actor) &&
        !e.record.actor.id.empty()) {
      person(e.record.actor.id).acknowledged = true;
    }
  }
  for (const auto& [role, user] : inc.roles) hold(user, role);
  for (const auto& user : inc.responders) hold(user, "responder");
  return people;
}

std::string DescribeEntry(const store::AuditRecord& r) {
  json::object d = DetailsOf(r);
  std::string who = r.actor.id.empty() ? r.actor.type : r.actor.id;
  auto kind = store::ParseTimelineKind(r.action);
  if (r.resource_type == "alert") {
    std::string verb = r.action.substr(r.action.find('.') + 1);
    std::string summary = Str(d, "summary");
    return fmt::format("alert {} {}{}", r.resource_id, verb,
                       summary.empty() ? "" : ": " + Clip(summary, 200));
  }
  if (r.resource_type == "action_item") {
    return fmt::format("action item {} by {}: {}",
                       r.action == "action_item.created" ? "added" : "updated", who,
                       Clip(Str(d, "title"), 200));
  }
  if (!kind) return fmt::format("{} by {}", r.action, who);
  switch (*kind) {
    case TimelineKind::kNote:
      return fmt::format("note by {}: {}", who, Clip(Str(d, "text"), 500));
    case TimelineKind::kRoleAssigned:
      return fmt::format("{} became {} (by {})", Str(d, "user"), Str(d, "role"), who);
    case TimelineKind::kRoleUnassigned:
      return fmt::format("role {} unassigned (by {})", Str(d, "role"), who);
    case TimelineKind::kResponderAdded:
      return fmt::format("{} added as a responder (by {})", Str(d, "user"), who);
    case TimelineKind::kResponderRemoved:
      return fmt::format("{} removed as a responder (by {})", Str(d, "user"), who);
    case TimelineKind::kStatusUpdate:
      return fmt::format("status update published by {}", who);
    case TimelineKind::kChangeLinked:
      return fmt::format("change linked by {}: {}", who, Clip(Str(d, "summary"), 200));
    default: {
      std::string verb = r.action.substr(r.action.find('.') + 1);
      std::replace(verb.begin(), verb.end(), '_', ' ');
      return fmt::format("{} by {}", verb, who);
    }
  }
}

std::string FactsJson(const PostmortemFacts& f) {
  const core::Incident& inc = f.incident;
  json::array services;
  for (size_t i = 0; i < inc.services.size(); ++i) {
    services.push_back(
        json::object{{"id", inc.services[i]},
                     {"name", i < f.service_names.size() ? f.service_names[i] : inc.services[i]}});
  }
  json::array people;
  for (const auto& p : f.people) {
    json::array roles;
    for (const auto& r : p.roles) roles.push_back(json::string(r));
    people.push_back(json::object{{"user", p.user},
                                  {"name", p.name},
                                  {"roles", std::move(roles)},
                                  {"acknowledged", p.acknowledged}});
  }
  json::array alerts;
  for (const auto& a : f.alerts) {
    alerts.push_back(json::object{{"id", a.id},
                                  {"summary", a.summary},
                                  {"source", a.source},
                                  {"severity", core::ToString(a.severity)},
                                  {"status", core::ToString(a.status)},
                                  {"event_count", a.event_count},
                                  {"created_at", FormatRfc3339(a.created_at)},
                                  {"resolved_at", OptTime(a.resolved_at)}});
  }
  json::array confirmed;
  for (const auto& c : f.confirmed_changes) {
    confirmed.push_back(json::object{{"id", c.id},
                                     {"service", c.service_id},
                                     {"summary", c.summary},
                                     {"timestamp", FormatRfc3339(c.timestamp)}});
  }
  json::array suspects;
  for (const auto& s : f.suspects) {
    suspects.push_back(json::object{{"id", s.change.id},
                                    {"service", s.change.service_id},
                                    {"summary", s.change.summary},
                                    {"timestamp", FormatRfc3339(s.change.timestamp)},
                                    {"score", s.score},
                                    {"reason", s.reason}});
  }
  json::array updates;
  for (const auto& u : f.updates) {
    json::array renderings;
    for (const auto& r : u.renderings) {
      renderings.push_back(
          json::object{{"audience", r.audience}, {"subject", r.subject}, {"text", r.text}});
    }
    updates.push_back(json::object{{"id", u.id},
                                   {"at", FormatRfc3339(u.at)},
                                   {"author", u.author},
                                   {"phase", u.phase},
                                   {"renderings", std::move(renderings)}});
  }
  json::array timeline;
  for (const auto& e : f.timeline) {
    timeline.push_back(
        json::object{{"id", e.record.id},
                     {"at", FormatRfc3339(e.record.at)},
                     {"action", e.record.action},
                     {"actor", e.record.actor.id.empty() ? e.record.actor.type : e.record.actor.id},
                     {"text", DescribeEntry(e.record)},
                     {"pinned", e.pinned}});
  }
  json::array items;
  for (const auto& a : f.action_items) {
    items.push_back(json::object{{"id", a.id},
                                 {"title", a.title},
                                 {"owner", a.owner},
                                 {"due", a.due},
                                 {"priority", a.priority},
                                 {"status", store::ToString(a.status)},
                                 {"ticket_url", a.ticket_url}});
  }
  const ResponseTimes& t = f.times;
  json::object o{
      {"incident", json::object{{"id", inc.id},
                                {"title", inc.title},
                                {"summary", inc.summary},
                                {"sev", inc.sev},
                                {"severity", core::ToString(inc.severity)},
                                {"status", core::ToString(inc.status)},
                                {"services", std::move(services)},
                                {"episodes", inc.episode + 1}}},
      {"impact", json::object{{"started_at", OptTime(t.impact_started)},
                              {"detected_at", OptTime(t.detected)},
                              {"acknowledged_at", OptTime(t.acknowledged)},
                              {"mitigated_at", OptTime(t.mitigated)},
                              {"resolved_at", OptTime(t.resolved)},
                              {"duration_seconds", OptSeconds(t.impact)}}},
      {"response_seconds", json::object{{"detect", OptSeconds(t.to_detect)},
                                        {"acknowledge", OptSeconds(t.to_acknowledge)},
                                        {"mitigate", OptSeconds(t.to_mitigate)},
                                        {"resolve", OptSeconds(t.to_resolve)}}},
      {"people", std::move(people)},
      {"alert_count", f.alert_count},
      {"alerts", std::move(alerts)},
      {"confirmed_changes", std::move(confirmed)},
      {"suspect_changes", std::move(suspects)},
      {"status_updates", std::move(updates)},
      {"timeline", std::move(timeline)},
      {"timeline_omitted", static_cast<int64_t>(f.timeline_omitted)},
      {"action_items", std::move(items)},
  };
  return json::serialize(o);
}

namespace {

std::string Dur(const json::value& v) {
  if (!v.is_int64()) return "—";
  return core::FormatDuration(std::chrono::seconds(v.as_int64()));
}

const json::value& Member(const json::value& v, std::string_view k) {
  static const json::value kNull;
  if (!v.is_object()) return kNull;
  const json::value* m = v.as_object().if_contains(k);
  return m ? *m : kNull;
}

std::string TimeOr(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : "—";
}

const json::array& Array(const json::value& v, std::string_view k) {
  static const json::array kEmpty;
  const json::value& m = Member(v, k);
  return m.is_array() ? m.as_array() : kEmpty;
}

}  // namespace

std::string PostmortemMarkdown(const store::Postmortem& p, std::string_view computed_json) {
  boost::system::error_code ec;
  json::value c = json::parse(computed_json, ec);
  if (ec) c = json::object();
  const json::value& inc = Member(c, "incident");
  std::string md;
  md += fmt::format("# Postmortem: incident #{} {}\n\n", p.incident_id, Str(inc, "title"));
  md += fmt::format("Status: **{}**", store::ToString(p.status));
  if (p.published_at)
    md += fmt::format(" ({} by {})", FormatRfc3339(*p.published_at), p.published_by);
  md += fmt::format(". Owner: {}.", p.owner.empty() ? "nobody yet" : p.owner);
  if (p.due_at) md += fmt::format(" Due: {}.", FormatRfc3339(*p.due_at));
  md += "\n\n";
  md += "This postmortem is blameless: it is about systems and conditions, not about people.\n\n";

  md += "## Summary\n\n";
  std::string sev = Str(inc, "sev");
  std::string services;
  for (const auto& s : Array(inc, "services")) {
    if (!services.empty()) services += ", ";
    services += Str(s, "name");
  }
  md += fmt::format("- Severity: {}\n- Services: {}\n", sev.empty() ? "untriaged" : sev,
                    services.empty() ? "—" : services);
  std::string summary = Str(inc, "summary");
  if (!summary.empty()) md += fmt::format("- Summary: {}\n", summary);
  const json::value& impact = Member(c, "impact");
  const json::value& rs = Member(c, "response_seconds");
  md += "\n## Impact and response\n\n| | |\n|---|---|\n";
  md += fmt::format("| Impact started | {} |\n", TimeOr(Member(impact, "started_at")));
  md += fmt::format("| Detected | {} |\n", TimeOr(Member(impact, "detected_at")));
  md += fmt::format("| Acknowledged | {} |\n", TimeOr(Member(impact, "acknowledged_at")));
  md += fmt::format("| Mitigated | {} |\n", TimeOr(Member(impact, "mitigated_at")));
  md += fmt::format("| Resolved | {} |\n", TimeOr(Member(impact, "resolved_at")));
  md += fmt::format("| Impact duration | {} |\n", Dur(Member(impact, "duration_seconds")));
  md += fmt::format("| Time to detect | {} |\n", Dur(Member(rs, "detect")));
  md += fmt::format("| Time to acknowledge | {} |\n", Dur(Member(rs, "acknowledge")));
  md += fmt::format("| Time to mitigate | {} |\n", Dur(Member(rs, "mitigate")));
  md += fmt::format("| Time to resolve | {} |\n", Dur(Member(rs, "resolve")));

  md += "\n## People\n\n";
  if (Array(c, "people").empty()) md += "Nobody held a role.\n";
  for (const auto& person : Array(c, "people")) {
    std::string roles;
    for (const auto& r : Array(person, "roles")) {
      if (!roles.empty()) roles += ", ";
      roles += r.is_string() ? std::string(r.as_string()) : "";
    }
    bool acked =
        Member(person, "acknowledged").is_bool() && Member(person, "acknowledged").as_bool();
    md += fmt::format("- {} ({}){}{}\n", Str(person, "name"), Str(person, "user"),
                      roles.empty() ? "" : ": " + roles, acked ? "; acknowledged" : "");
  }

  md += fmt::format("\n## Alerts ({})\n\n",
                    Member(c, "alert_count").is_int64() ? Member(c, "alert_count").as_int64() : 0);
  for (const auto& a : Array(c, "alerts")) {
    md += fmt::format("- #{} {} ({}, {})\n",
                      Member(a, "id").is_int64() ? Member(a, "id").as_int64() : 0,
                      Str(a, "summary"), Str(a, "source"), Str(a, "created_at"));
  }

  md += "\n## Changes\n\n";
  const auto& confirmed = Array(c, "confirmed_changes");
  const auto& suspects = Array(c, "suspect_changes");
  if (confirmed.empty() && suspects.empty()) md += "No changes were linked or suspected.\n";
  for (const auto& ch : confirmed) {
    md += fmt::format("- Confirmed: {} on {} at {}\n", Str(ch, "summary"), Str(ch, "service"),
                      Str(ch, "timestamp"));
  }
  for (const auto& ch : suspects) {
    md += fmt::format("- Suspect: {} on {} ({})\n", Str(ch, "summary"), Str(ch, "service"),
                      Str(ch, "reason"));
  }

  const auto& updates = Array(c, "status_updates");
  md += "\n## Status updates as sent\n\n";
  if (updates.empty()) md += "None were published.\n";
  for (const auto& u : updates) {
    md += fmt::format("### {} ({}, by {})\n\n", Str(u, "at"), Str(u, "phase"), Str(u, "author"));
    for (const auto& r : Array(u, "renderings")) {
      md += fmt::format("- **{}**: {}\n", Str(r, "audience"), Clip(Str(r, "text"), 2000));
    }
    md += "\n";
  }

  md += "## Timeline\n\nPinned entries are in bold.\n\n";
  for (const auto& e : Array(c, "timeline")) {
    bool pinned = Member(e, "pinned").is_bool() && Member(e, "pinned").as_bool();
    std::string text = Str(e, "text");
    md += pinned ? fmt::format("- {} **{}** (pinned)\n", Str(e, "at"), text)
                 : fmt::format("- {} {}\n", Str(e, "at"), text);
  }
  const json::value& omitted = Member(c, "timeline_omitted");
  if (omitted.is_int64() && omitted.as_int64() > 0) {
    md += fmt::format("- ... and {} earlier entries (see the incident's timeline)\n",
                      omitted.as_int64());
  }

  for (const auto& s : p.sections) {
    md += fmt::format("\n## {}\n\n", s.title);
    if (s.text.empty()) {
      md += fmt::format("_{}_\n", s.prompt.empty() ? "Not written yet." : s.prompt);
    } else {
      md += s.text;
      if (s.text.back() != '\n') md += '\n';
    }
  }
  md += "\n## Contributing factors (tags)\n\n";
  if (p.factors.empty()) md += "None tagged yet.\n";
  for (const auto& f : p.factors) md += fmt::format("- {}\n", f);

  md += "\n## Action items\n\n";
  const auto& items = Array(c, "action_items");
  if (items.empty()) md += "None yet.\n";
  for (const auto& a : items) {
    md += fmt::format("- [{}] #{} {} ({}, owner {}, due {}, {})\n",
                      Str(a, "status") == "done" ? "x" : " ",
                      Member(a, "id").is_int64() ? Member(a, "id").as_int64() : 0, Str(a, "title"),
                      Str(a, "priority"), Str(a, "owner"), Str(a, "due"), Str(a, "status"));
  }
  return md;
}

std::string PostmortemJson(const store::Postmortem& p, std::string_view computed_json) {
  json::array sections;
  for (const auto& s : p.sections) {
    sections.push_back(
        json::object{{"id", s.id}, {"title", s.title}, {"prompt", s.prompt}, {"text", s.text}});
  }
  json::array factors;
  for (const auto& f : p.factors) factors.push_back(json::string(f));
  boost::system::error_code ec;
  json::value computed = json::parse(computed_json, ec);
  if (ec) computed = json::object();
  json::object o{{"incident_id", p.incident_id},
                 {"status", store::ToString(p.status)},
                 {"required", p.required},
                 {"owner", p.owner},
                 {"version", p.version},
                 {"title", p.title},
                 {"sev", p.sev},
                 {"service", p.service_id},
                 {"resolved_at", OptTime(p.resolved_at)},
                 {"created_at", FormatRfc3339(p.created_at)},
                 {"created_by", p.created_by},
                 {"updated_at", FormatRfc3339(p.updated_at)},
                 {"due_at", OptTime(p.due_at)},
                 {"published_at", OptTime(p.published_at)},
                 {"published_by", p.published_by},
                 {"reminders_sent", p.reminders},
                 {"sections", std::move(sections)},
                 {"factors", std::move(factors)},
                 {"computed", std::move(computed)}};
  return json::serialize(o);
}

}  // namespace houston::learning
