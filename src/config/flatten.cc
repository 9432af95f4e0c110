// Canonical flattening of an org, diffing two flattened orgs, and printing the diff.

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "config/config.h"
#include "core/time_util.h"

namespace houston::config {
namespace {

namespace json = boost::json;

constexpr std::string_view kRedacted = "***";
constexpr std::array<std::string_view, 7> kDayNames{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};

// Whole numbers are written as integers, so that 5 and 5.0 are the same spec.
json::value Number(double d) {
  constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
  if (std::floor(d) == d && std::fabs(d) < kMaxExactInteger) {
    return json::value(static_cast<int64_t>(d));
  }
  return json::value(d);
}

template <typename T>
json::value Optional(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value(*v);
}

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}

json::object Window(const DailyWindow& w) {
  json::array days;
  for (date::weekday d : w.days) days.emplace_back(kDayNames[d.iso_encoding() - 1]);
  json::object o;
  o["days"] = std::move(days);
  o["start"] = FormatClock(w.start_minute);
  o["end"] = FormatClock(w.end_minute);
  return o;
}

json::string_view Secret(const std::string& secret, bool redacted) {
  return redacted && !secret.empty() ? kRedacted : std::string_view(secret);
}

json::object Headers(const std::map<std::string, std::string>& headers, bool redacted) {
  json::object o;
  for (const auto& [name, value] : headers) {
    o[name] = redacted ? kRedacted : std::string_view(value);
  }
  return o;
}

// A user's contact method or an audience's subscriber.
json::array ContactMethods(const std::vector<ContactMethod>& methods, bool redacted) {
  json::array a;
  for (const ContactMethod& c : methods) {
    json::object m;
    m["id"] = c.id;
    m["type"] = ToString(c.type);
    m["url"] = c.url;
    m["address"] = c.address;
    m["secret"] = Secret(c.secret, redacted);
    m["template"] = c.body_template;
    m["headers"] = Headers(c.headers, redacted);
    a.emplace_back(std::move(m));
  }
  return a;
}

json::object UserSpec(const User& u, bool redacted) {
  json::array rules;
  for (const NotificationRule& r : u.notification_rules) {
    json::object o;
    o["contact_method"] = r.contact_method;
    o["delay_minutes"] = r.delay_minutes;
    rules.emplace_back(std::move(o));
  }
  json::object o;
  o["id"] = u.id;
  o["name"] = u.name;
  o["email"] = u.email;
  o["timezone"] = u.timezone;
  // Only when not the default: an org written before roles existed flattens as it did.
  if (u.role != core::Role::kResponder) o["role"] = core::ToString(u.role);
  o["contact_methods"] = ContactMethods(u.contact_methods, redacted);
  o["notification_rules"] = std::move(rules);
  return o;
}

json::object TeamSpec(const Team& t) {
  json::object o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["members"] = Strings(t.members);
  return o;
}

json::object ScheduleSpec(const Schedule& s) {
  json::array layers;
  for (const ScheduleLayer& l : s.layers) {
    json::object rotation;
    rotation["type"] = ToString(l.rotation.type);
    rotation["length"] = l.rotation.length;
    json::array restrictions;
    for (const DailyWindow& w : l.restrictions) restrictions.emplace_back(Window(w));
    json::object o;
    o["name"] = l.name;
    o["start"] = FormatLocalDateTime(l.start_local);
    if (l.end_local)
      o["end"] = FormatLocalDateTime(*l.end_local);  // only when set: older specs unchanged
    o["rotation"] = std::move(rotation);
    o["users"] = Strings(l.users);
    o["restrictions"] = std::move(restrictions);
    layers.emplace_back(std::move(o));
  }
  json::array overrides;
  for (const ScheduleOverride& ov : s.overrides) {
    json::object o;
    o["user"] = ov.user;
    o["start"] = FormatRfc3339(ov.start);
    o["end"] = FormatRfc3339(ov.end);
    overrides.emplace_back(std::move(o));
  }
  json::object o;
  o["id"] = s.id;
  o["name"] = s.name;
  o["timezone"] = s.timezone;
  o["layers"] = std::move(layers);
  o["overrides"] = std::move(overrides);
  return o;
}

json::object PolicySpec(const EscalationPolicy& p) {
  json::array steps;
  for (const EscalationStep& s : p.steps) {
    json::array targets;
    for (const EscalationTarget& t : s.targets) {
      json::object o;
      o["type"] = ToString(t.type);
      o["id"] = t.id;
      targets.emplace_back(std::move(o));
    }
    json::object o;
    o["delay_minutes"] = s.delay_minutes;
    o["round_robin"] = s.round_robin;
    o["targets"] = std::move(targets);
    steps.emplace_back(std::move(o));
  }
  json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["repeat"] = p.repeat;
  o["ack_timeout_minutes"] = Optional(p.ack_timeout_minutes);
  o["steps"] = std::move(steps);
  return o;
}

json::object ServiceSpec(const Service& s) {
  json::object o;
  o["id"] = s.id;
  o["name"] = s.name;
  o["description"] = s.description;
  o["team"] = s.team;
  o["tier"] = Optional(s.tier);
  o["runbook_url"] = s.runbook_url;
  o["escalation_policy"] = s.escalation_policy;
  o["depends_on"] = Strings(s.depends_on);
  if (s.grouping) {
    json::object g;
    g["window_minutes"] = s.grouping->window_minutes;
    g["by"] = Strings(s.grouping->by);
    o["grouping"] = std::move(g);
  } else {
    o["grouping"] = nullptr;
  }
  return o;
}

json::object IntegrationSpec(const Integration& i) {
  json::value mapping = nullptr;
  if (i.mapping) {
    const GenericMapping& g = *i.mapping;
    json::object actions;
    for (const auto& [value, action] : g.action_values) actions[value] = core::ToString(action);
    json::object severities;
    for (const auto& [value, severity] : g.severity_values) {
      severities[value] = core::ToString(severity);
    }
    json::object m;
    m["summary"] = g.summary;
    m["severity"] = g.severity;
    m["dedup_key"] = g.dedup_key;
    m["action"] = g.action;
    m["source"] = g.source;
    m["details"] = g.details;
    m["action_values"] = std::move(actions);
    m["severity_values"] = std::move(severities);
    mapping = std::move(m);
  }
  json::object o;
  o["key"] = i.key;
  o["service"] = i.service_id;
  o["type"] = core::ToString(i.type);
  o["name"] = i.name;
  o["rate_limit_per_second"] =
      i.rate_limit_per_second ? Number(*i.rate_limit_per_second) : json::value(nullptr);
  o["interval_minutes"] = Optional(i.interval_minutes);
  o["grace_minutes"] = Optional(i.grace_minutes);
  o["mapping"] = std::move(mapping);
  if (i.priorities) {  // opsgenie only: other types' specs stay as they were
    json::object p;
    for (size_t n = 0; n < i.priorities->size(); ++n) {
      p[fmt::format("P{}", n + 1)] = core::ToString((*i.priorities)[n]);
    }
    o["priorities"] = std::move(p);
  }
  if (i.prometheus) {  // prometheus only, like priorities
    const PrometheusOptions& p = *i.prometheus;
    json::array routes;
    for (const PrometheusRoute& r : p.routes) {
      json::array match;
      for (const LabelMatcher& m : r.match) {
        // Canonical: however it was spaced or quoted, the same matcher flattens the same.
        std::string text = m.label + std::string(ToString(m.op)) + "\"";
        for (char c : m.value) {
          if (c == '"' || c == '\\') text += '\\';
          text += c == '\n' ? std::string("\\n") : std::string(1, c);
        }
        match.emplace_back(text + "\"");
      }
      routes.emplace_back(json::object{{"match", std::move(match)}, {"service", r.service}});
    }
    json::array group_by;
    if (p.group_by_all) group_by.emplace_back("...");
    for (const std::string& label : p.group_by) group_by.emplace_back(label);
    o["routes"] = std::move(routes);
    o["group_by"] = std::move(group_by);
    o["resolve_timeout_minutes"] = p.resolve_timeout_minutes;
    o["require_bearer"] = p.require_bearer;
  }
  return o;
}

json::object MaintenanceWindowSpec(const MaintenanceWindow& w) {
  json::value recurring = nullptr;
  if (w.recurring) {
    json::object r = Window(w.recurring->window);
    r["timezone"] = w.recurring->timezone;
    recurring = std::move(r);
  }
  json::object o;
  o["id"] = w.id;
  o["description"] = w.description;
  o["services"] = Strings(w.services);
  o["start"] = w.start ? json::value(FormatRfc3339(*w.start)) : json::value(nullptr);
  o["end"] = w.end ? json::value(FormatRfc3339(*w.end)) : json::value(nullptr);
  o["recurring"] = std::move(recurring);
  return o;
}

json::object SilenceSpec(const Silence& s) {
  json::array matchers;
  for (const Matcher& m : s.matchers) {
    json::object o;
    o["field"] = m.field;
    o["op"] = ToString(m.op);
    o["value"] = m.value;
    matchers.emplace_back(std::move(o));
  }
  json::object o;
  o["id"] = s.id;
  o["matchers"] = std::move(matchers);
  o["expires_at"] = FormatRfc3339(s.expires_at);
  o["comment"] = s.comment;
  o["created_by"] = s.created_by;
  return o;
}

json::object StatusPageSpec(const StatusPage& p) {
  json::array components;
  for (const StatusComponent& c : p.components) {
    json::object o;
    o["id"] = c.id;
    o["name"] = c.name;
    o["description"] = c.description;
    o["services"] = Strings(c.services);
    components.emplace_back(std::move(o));
  }
  json::object o;
  o["title"] = p.title;
  o["components"] = std::move(components);
  return o;
}

json::object SeveritySpec(const SeverityLevel& level, size_t rank) {
  json::object o;
  o["id"] = level.id;
  o["description"] = level.description;
  o["rank"] = rank;
  o["update_every_minutes"] = Optional(level.update_every_minutes);
  o["component_state"] = level.component_state ? json::value(core::ToString(*level.component_state))
                                               : json::value(nullptr);
  return o;
}

json::object SettingsSpec(const Settings& s) {
  json::object o;
  o["base_url"] = s.base_url;
  o["suspect_lookback_hours"] = s.suspect_lookback_hours;
  return o;
}

json::object IncidentRoleSpec(const IncidentRole& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  o["description"] = r.description;
  return o;
}

json::object IncidentRuleSpec(const IncidentRule& r) {
  json::object o;
  o["id"] = r.id;
  o["services"] = Strings(r.services);
  o["max_service_tier"] = Optional(r.max_service_tier);
  o["alert_severity"] =
      r.alert_severity ? json::value(core::ToString(*r.alert_severity)) : json::value(nullptr);
  o["alert_count"] = Optional(r.alert_count);
  o["window_minutes"] = Optional(r.window_minutes);
  o["severity"] = r.severity;
  return o;
}

json::object AudienceSpec(const Audience& a, bool redacted) {
  json::object o;
  o["id"] = a.id;
  o["name"] = a.name;
  o["subject"] = a.subject_template;
  o["template"] = a.body_template;
  o["min_severity"] = a.min_severity;
  o["subscribers"] = ContactMethods(a.subscribers, redacted);
  return o;
}

json::object WebhookSpec(const OutboundWebhook& w, bool redacted) {
  json::object o;
  o["id"] = w.id;
  o["url"] = w.url;
  o["secret"] = Secret(w.secret, redacted);
  o["headers"] = Headers(w.headers, redacted);
  o["events"] = Strings(w.events);
  o["services"] = Strings(w.services);
  return o;
}

json::object PostmortemsSpec(const PostmortemPolicy& p) {
  json::array sections;
  for (const PostmortemSection& section : p.sections) {
    json::object o;
    o["id"] = section.id;
    o["title"] = section.title;
    o["prompt"] = section.prompt;
    sections.emplace_back(std::move(o));
  }
  json::object o;
  o["required_severities"] = Strings(p.required_severities);
  o["due_days"] = p.due_days;
  o["remind_every_days"] = p.remind_every_days;
  o["team_after_days"] = p.team_after_days;
  o["sections"] = std::move(sections);
  o["contributing_factors"] = Strings(p.contributing_factors);
  return o;
}

json::object ActionItemsSpec(const ActionItemPolicy& p) {
  json::object o;
  o["remind_every_days"] = p.remind_every_days;
  o["team_grace_days"] = p.team_grace_days;
  o["working_hours"] = Window(p.working_hours);
  return o;
}

// ---- diff printing ----

// Compact JSON for humans: like the canonical form, but real numbers in plain notation (0.5,
// not 5E-1) and secrets masked. `key` is the name `v` has in its object: a non-empty "secret"
// and the values of a "headers" mapping (contact methods, subscribers, webhooks) are masked.
std::string Show(const json::value& v, std::string_view key = "") {
  if (key == "secret" && v.is_string() && !v.get_string().empty()) return "\"***\"";
  if (key == "headers" && v.is_object()) {
    std::string headers = "{";
    for (const auto& [name, value] : v.get_object()) {
      if (headers.size() > 1) headers += ",";
      headers += json::serialize(json::value(name)) + ":\"***\"";
    }
    return headers + "}";
  }
  switch (v.kind()) {
    case json::kind::null:
      return "(none)";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_:
      return fmt::format("{}", v.get_double());
    case json::kind::string:
      return json::serialize(v);
    case json::kind::array: {
      std::string out = "[";
      for (const json::value& e : v.get_array()) {
        if (out.size() > 1) out += ",";
        out += e.is_null() ? "null" : Show(e);
      }
      return out + "]";
    }
    case json::kind::object: {
      std::string out = "{";
      for (const auto& [key, e] : v.get_object()) {
        if (out.size() > 1) out += ",";
        out += json::serialize(json::value(key));
        out += ":";
        out += e.is_null() ? "null" : Show(e, key);
      }
      return out + "}";
    }
  }
  return "?";
}

bool IsScalar(const json::value& v) { return !v.is_array() && !v.is_object(); }

// The object key a diff path ends in ("headers" for "subscribers[0].headers"); "" for an array
// element.
std::string_view LastKey(std::string_view path) {
  if (path.ends_with(']')) return "";
  size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// Appends "path old -> new" for each difference; `secret` marks values never to print.
void FieldChanges(const json::value& before, const json::value& after, const std::string& path,
                  bool secret, std::vector<std::string>& out) {
  if (before == after) return;
  if (secret) {
    out.push_back(fmt::format("{} (secret changed)", path));
    return;
  }
  auto child_path = [&](std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  };
  if (before.is_object() && after.is_object()) {
    const json::object& a = before.get_object();
    const json::object& b = after.get_object();
    for (const auto& [key, value] : a) {
      bool is_secret = key == "secret" || (path.ends_with("headers") && !path.empty());
      const json::value* other = b.if_contains(key);
      FieldChanges(value, other ? *other : json::value(nullptr), child_path(key), is_secret, out);
    }
    for (const auto& [key, value] : b) {
      if (a.contains(key)) continue;
      bool is_secret = key == "secret" || (path.ends_with("headers") && !path.empty());
      FieldChanges(json::value(nullptr), value, child_path(key), is_secret, out);
    }
    return;
  }
  if (before.is_array() && after.is_array()) {
    const json::array& a = before.get_array();
    const json::array& b = after.get_array();
    bool scalars =
        std::all_of(a.begin(), a.end(), IsScalar) && std::all_of(b.begin(), b.end(), IsScalar);
    if (!scalars) {
      size_t n = std::max(a.size(), b.size());
      for (size_t i = 0; i < n; ++i) {
        json::value none = nullptr;
        FieldChanges(i < a.size() ? a[i] : none, i < b.size() ? b[i] : none,
                     fmt::format("{}[{}]", path, i), false, out);
      }
      return;
    }
  }
  // Printed whole: mask by the key, in case a secret or headers map is added where the other
  // side has none (a spec stored before the key existed).
  std::string_view key = LastKey(path);
  out.push_back(fmt::format("{} {} -> {}", path, Show(before, key), Show(after, key)));
}

using ObjectKey = std::pair<std::string_view, std::string_view>;

ObjectKey KeyOf(const OrgObject& o) { return {o.kind, o.id}; }

}  // namespace

std::vector<OrgObject> Flatten(const Org& org, bool redacted) {
  std::vector<OrgObject> out;
  auto add = [&](std::string_view kind, std::string id, const json::object& spec) {
    out.push_back(OrgObject{std::string(kind), std::move(id), json::serialize(spec)});
  };
  for (const User& u : org.users) add("user", u.id, UserSpec(u, redacted));
  for (const Team& t : org.teams) add("team", t.id, TeamSpec(t));
  for (const Schedule& s : org.schedules) add("schedule", s.id, ScheduleSpec(s));
  for (const EscalationPolicy& p : org.escalation_policies) {
    add("escalation_policy", p.id, PolicySpec(p));
  }
  for (const Service& s : org.services) {
    add("service", s.id, ServiceSpec(s));
    for (const Integration& i : s.integrations) add("integration", i.key, IntegrationSpec(i));
  }
  for (const MaintenanceWindow& w : org.maintenance_windows) {
    add("maintenance_window", w.id, MaintenanceWindowSpec(w));
  }
  for (const Silence& s : org.silences) add("silence", s.id, SilenceSpec(s));
  if (org.status_page) add("status_page", "status_page", StatusPageSpec(*org.status_page));
  for (size_t i = 0; i < org.severities.size(); ++i) {
    add("severity", org.severities[i].id, SeveritySpec(org.severities[i], i + 1));
  }
  if (org.settings) add("settings", "settings", SettingsSpec(*org.settings));
  for (const IncidentRole& r : org.incident_roles) add("incident_role", r.id, IncidentRoleSpec(r));
  for (const IncidentRule& r : org.incident_rules) add("incident_rule", r.id, IncidentRuleSpec(r));
  for (const Audience& a : org.audiences) add("audience", a.id, AudienceSpec(a, redacted));
  for (const OutboundWebhook& w : org.webhooks) add("webhook", w.id, WebhookSpec(w, redacted));
  if (org.postmortems) add("postmortems", "postmortems", PostmortemsSpec(*org.postmortems));
  if (org.action_items) add("action_items", "action_items", ActionItemsSpec(*org.action_items));
  std::sort(out.begin(), out.end(),
            [](const OrgObject& a, const OrgObject& b) { return KeyOf(a) < KeyOf(b); });
  return out;
}

OrgDiff Diff(const std::vector<OrgObject>& current, const std::vector<OrgObject>& desired) {
  std::map<ObjectKey, const OrgObject*> before;
  std::map<ObjectKey, const OrgObject*> after;
  for (const OrgObject& o : current) before[KeyOf(o)] = &o;
  for (const OrgObject& o : desired) after[KeyOf(o)] = &o;
  OrgDiff diff;
  for (const auto& [key, o] : after) {
    auto it = before.find(key);
    if (it == before.end()) {
      diff.added.push_back(*o);
    } else if (it->second->spec_json != o->spec_json) {
      diff.changed.emplace_back(*it->second, *o);
    }
  }
  for (const auto& [key, o] : before) {
    if (!after.contains(key)) diff.removed.push_back(*o);
  }
  return diff;
}

std::string FormatDiff(const OrgDiff& diff) {
  std::string out;
  for (const OrgObject& o : diff.added) out += fmt::format("+ {} {}\n", o.kind, o.id);
  for (const auto& [before, after] : diff.changed) {
    std::vector<std::string> changes;
    boost::system::error_code ec_before;
    boost::system::error_code ec_after;
    json::value a = json::parse(before.spec_json, ec_before);
    json::value b = json::parse(after.spec_json, ec_after);
    if (!ec_before && !ec_after) FieldChanges(a, b, "", false, changes);
    if (changes.empty()) changes.push_back("spec changed");
    for (const std::string& c : changes) {
      out += fmt::format("~ {} {}: {}\n", after.kind, after.id, c);
    }
  }
  for (const OrgObject& o : diff.removed) out += fmt::format("- {} {}\n", o.kind, o.id);
  if (diff.empty()) out += "No changes.\n";
  out += fmt::format("{} to add, {} to change, {} to remove\n", diff.added.size(),
                     diff.changed.size(), diff.removed.size());
  return out;
}

std::string FormatClock(int minute) { return fmt::format("{:02}:{:02}", minute / 60, minute % 60); }

std::string FormatLocalDateTime(date::local_seconds t) {
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd(day);
  date::hh_mm_ss<std::chrono::seconds> hms(t - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

}  // namespace houston::config
