// Pages for people until the web UI lands: the root page, and the read-only incident page that
// the links in notifications open (a signed "view" link, no API token needed).
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "api/api.h"
#include "api/internal.h"
#include "core/time_util.h"
#include "notify/notify.h"

namespace houston::api {

using http::HttpRequest;
using http::Response;

namespace {

// How long the acknowledge/resolve buttons of an incident page work (as links in pages do).
constexpr auto kButtonLifetime = std::chrono::hours(24);

std::string Esc(std::string_view s) { return notify::HtmlEscape(s); }

std::string When(const std::optional<TimePoint>& t) {
  return t ? Esc(FormatRfc3339(*t)) : std::string("&ndash;");
}

// "incident.acknowledged" -> "acknowledged"; a note shows its text.
std::string TimelineLine(const store::AuditRecord& r) {
  std::string what = r.action;
  if (what.starts_with("incident.")) what = what.substr(9);
  std::replace(what.begin(), what.end(), '_', ' ');
  std::string line = fmt::format("{} <span class=\"muted\">({}:{})</span>", Esc(what),
                                 Esc(r.actor.type), Esc(r.actor.id));
  if (r.action == "incident.note") {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.details_json, ec);
    if (!ec && v.is_object() && v.as_object().contains("text") && v.at("text").is_string()) {
      line += ": " + Esc(std::string(v.at("text").as_string()));
    }
  }
  return line;
}

}  // namespace

void Api::Home(const HttpRequest& req, const auth::Principal*, Respond respond) {
  std::string base = BaseUrl(req);
  std::string body = fmt::format(
      "<p>houston is a self-hosted incident-response server: it takes alerts from the monitoring "
      "you run, pages whoever is on call until someone acknowledges, and runs the incident "
      "(SEV, roles, timeline, status updates, public status page). This server runs version "
      "{0}; a web UI comes later.</p>"
      "<h2>Here</h2><table>"
      "<tr><th><a href=\"/status\">/status</a></th><td>the public status page "
      "(<a href=\"/status.json\">/status.json</a>, <a href=\"/status/feed.atom\">Atom</a>, "
      "<a href=\"/status/feed.rss\">RSS</a>)</td></tr>"
      "<tr><th><a href=\"/healthz\">/healthz</a></th><td>liveness "
      "(<a href=\"/readyz\">/readyz</a>: the database answers)</td></tr>"
      "<tr><th><a href=\"/metrics\">/metrics</a></th><td>Prometheus metrics</td></tr>"
      "<tr><th><a href=\"/api/v1\">/api/v1</a></th><td>the REST API: every call needs "
      "<code>Authorization: Bearer &lt;token&gt;</code> (make one with <code>houston token create "
      "--role viewer --name me</code>)</td></tr></table>"
      "<h2>The command line</h2><p><code>export HOUSTON_URL={1} HOUSTON_TOKEN=&lt;token&gt;</code>"
      "<br><code>houston incident list</code></p>"
      "<h2>Documentation</h2><p>In the houston source tree: <code>README.md</code> (the tour, "
      "pointing monitoring at houston, the CLI), <code>docs/config.md</code> (every key of "
      "org.yaml), <code>docs/architecture.md</code>, <code>docs/BENCHMARKS.md</code>.</p>"
      "<p class=\"muted\">Notifications link to a page for each incident; those links are signed "
      "and need no token.</p>",
      Esc(options_.version), Esc(base.empty() ? "http://HOST:PORT" : base));
  respond(HtmlPage(bhttp::status::ok, "houston", body));
}

void Api::ApiRoot(const HttpRequest&, const auth::Principal*, Respond respond) {
  boost::json::array resources;
  for (const auto& r : Routes()) {
    if (r.method != bhttp::verb::get || !r.pattern.starts_with("/api/v1/")) continue;
    std::string_view rest = std::string_view(r.pattern).substr(8);
    if (rest.find('/') != std::string_view::npos) continue;
    resources.emplace_back(r.pattern);
  }
  boost::json::object o{{"name", "houston"},
                        {"version", options_.version},
                        {"authentication", "Authorization: Bearer <token> (houston token create)"},
                        {"resources", std::move(resources)}};
  respond(http::JsonResponse(bhttp::status::ok, boost::json::serialize(o)));
}

Result<std::optional<TimePoint>> Api::LastReopened(core::IncidentId id) {
  HOUSTON_ASSIGN_OR_RETURN(auto entries, store_.ListTimeline(id));
  std::optional<TimePoint> last;
  for (const auto& e : entries) {
    if (e.record.action == "incident.reopened" && e.record.resource_type == "incident") {
      last = e.record.at;
    }
  }
  return last;
}

Response Api::EarlierEpisodePage(const core::Incident& inc, int64_t link_episode, bool acting) {
  // The episode ended with its resolve: the (link_episode + 1)th one on the timeline.
  std::optional<TimePoint> resolved_at;
  if (auto entries = store_.ListTimeline(inc.id)) {
    int64_t seen = 0;
    for (const auto& e : *entries) {
      if (e.record.action != "incident.resolved" || e.record.resource_type != "incident") continue;
      if (seen++ == link_episode) {
        resolved_at = e.record.at;
        break;
      }
    }
  }
  std::string when =
      resolved_at ? "at " + Esc(FormatRfc3339(*resolved_at)) : std::string("earlier");
  return HtmlPage(
      acting ? bhttp::status::conflict : bhttp::status::ok,
      fmt::format("Incident #{} has been reopened since", inc.id),
      fmt::format("<p>This link was for an earlier episode of incident #{} ({}), which was "
                  "resolved {}; it has been reopened since. Nothing was done.</p>"
                  "<p>It is now <b>{}</b>. The newest notification about it has links that "
                  "work for this episode.</p>",
                  inc.id, Esc(inc.title), when, core::ToString(inc.status)));
}

Result<Response> Api::IncidentPage(const core::Incident& inc, std::string_view user_id,
                                   TimePoint expires, int64_t link_episode) {
  auto view = org();
  const config::Org* org = view->org.get();
  auto user_name = [&](const std::string& id) {
    const config::User* u = org ? config::FindUser(*org, id) : nullptr;
    return Esc(u && !u->name.empty() ? u->name : id);
  };
  std::string body;
  bool current = link_episode == inc.episode;
  if (!current) {
    body += fmt::format(
        "<p><b>This link was for an earlier episode of this incident; it has been resolved and "
        "reopened since.</b> Below is how it stands now; the newest notification about it has "
        "links to act on it.</p>");
  }
  std::string services;
  for (const auto& s : inc.services) {
    const config::Service* svc = org ? config::FindService(*org, s) : nullptr;
    if (!services.empty()) services += ", ";
    services += Esc(svc && !svc->name.empty() ? svc->name : s);
  }
  std::string roles;
  auto defs = org ? config::AllIncidentRoles(*org) : config::BuiltinIncidentRoles();
  for (const auto& [role, user] : inc.roles) {
    const auto* def = config::FindIncidentRole(defs, role);
    roles += fmt::format("{}{}: {}", roles.empty() ? "" : "<br>",
                         Esc(def && !def->name.empty() ? def->name : role), user_name(user));
  }
  for (const auto& r : inc.responders) {
    roles += fmt::format("{}responder: {}", roles.empty() ? "" : "<br>", user_name(r));
  }
  body += fmt::format(
      "<table><tr><th>Status</th><td><b>{}</b></td></tr>"
      "<tr><th>SEV</th><td>{}</td></tr>"
      "<tr><th>Service</th><td>{}</td></tr>"
      "<tr><th>Alerts</th><td>{}</td></tr>"
      "<tr><th>Impact started</th><td>{}</td></tr>"
      "<tr><th>Opened</th><td>{}</td></tr>"
      "<tr><th>Acknowledged</th><td>{}</td></tr>"
      "<tr><th>Mitigated</th><td>{}</td></tr>"
      "<tr><th>Resolved</th><td>{}</td></tr>"
      "<tr><th>Roles</th><td>{}</td></tr></table>",
      core::ToString(inc.status), inc.sev.empty() ? "untriaged" : Esc(inc.sev), services,
      inc.alert_count, When(inc.impact_started_at), When(inc.created_at), When(inc.acknowledged_at),
      When(inc.mitigated_at), When(inc.resolved_at), roles.empty() ? "&ndash;" : roles);
  if (!inc.summary.empty()) body += "<p>" + Esc(inc.summary) + "</p>";
  // The buttons POST to the acknowledge/resolve links of this episode: GET never acts.
  if (current && core::IsOpen(inc.status) && !options_.link_key.empty()) {
    TimePoint until = std::min(expires, clock_.Now() + kButtonLifetime);
    auto button = [&](std::string_view action, std::string_view label) {
      return fmt::format(
          "<form method=\"post\" action=\"/actions/{}\"><button type=\"submit\">{}</button>"
          "</form>",
          notify::MakeActionToken(options_.link_key, inc.id, action, until, user_id, inc.episode),
          label);
    };
    body += "<p>";
    if (inc.status == core::IncidentStatus::kTriggered) body += button("ack", "Acknowledge");
    body += button("resolve", "Resolve");
    body += "</p>";
  }
  HOUSTON_ASSIGN_OR_RETURN(auto entries, store_.ListTimeline(inc.id));
  constexpr size_t kRecent = 10;
  body += "<h2>Recent timeline</h2><table>";
  size_t shown = 0;
  for (auto it = entries.rbegin(); it != entries.rend() && shown < kRecent; ++it, ++shown) {
    body += fmt::format("<tr><td class=\"muted\">{}</td><td>{}</td></tr>",
                        Esc(FormatRfc3339(it->record.at)), TimelineLine(it->record));
  }
  if (shown == 0) body += "<tr><td>nothing yet</td></tr>";
  body += "</table>";
  if (entries.size() > kRecent) {
    body += fmt::format(
        "<p class=\"muted\">{} older entries: <code>houston incident timeline {}</code></p>",
        entries.size() - kRecent, inc.id);
  }
  body += fmt::format(
      "<p class=\"muted\">A read-only page from a signed link in a notification; the link works "
      "until {}.</p>",
      Esc(FormatRfc3339(expires)));
  return HtmlPage(bhttp::status::ok, fmt::format("Incident #{}: {}", inc.id, inc.title), body);
}

}  // namespace houston::api
