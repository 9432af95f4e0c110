#include "paging/routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <set>

#include "api/request.h"
#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "incidents/suspects.h"
#include "notify/notify.h"
#include "paging/escalation_engine.h"

namespace houston::paging {

namespace bhttp = http::bhttp;
using api::HtmlPage;
using api::Paging;
using http::HttpRequest;
using http::Response;

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
  if (r.action == ToString(store::TimelineKind::kNote)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.details_json, ec);
    if (!ec && v.is_object() && v.as_object().contains("text") && v.at("text").is_string()) {
      line += ": " + Esc(std::string(v.at("text").as_string()));
    }
  }
  return line;
}

}  // namespace

Result<std::optional<TimePoint>> LinkRoutes::LastReopened(core::IncidentId id) {
  HOUSTON_ASSIGN_OR_RETURN(auto entries, store_.ListTimeline(id));
  std::optional<TimePoint> last;
  for (const auto& e : entries) {
    if (e.record.action == ToString(store::TimelineKind::kReopened) &&
        e.record.resource_type == "incident") {
      last = e.record.at;
    }
  }
  return last;
}

Response LinkRoutes::EarlierEpisodePage(const core::Incident& inc, int64_t link_episode,
                                        bool acting) {
  // The episode ended with its resolve: the (link_episode + 1)th one on the timeline.
  std::optional<TimePoint> resolved_at;
  if (auto entries = store_.ListTimeline(inc.id)) {
    int64_t seen = 0;
    for (const auto& e : *entries) {
      if (e.record.action != ToString(store::TimelineKind::kResolved) ||
          e.record.resource_type != "incident")
        continue;
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

std::string LinkRoutes::AppIncidentPath(const core::Incident& inc, int64_t link_episode) {
  bool ack = link_episode == inc.episode && inc.status == core::IncidentStatus::kTriggered;
  return fmt::format("/incidents/{}{}", inc.id, ack ? "?ack=1" : "");
}

Result<Response> LinkRoutes::IncidentPage(const core::Incident& inc, std::string_view user_id,
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
      "<p><a href=\"{}\">Open incident #{} in houston</a> (signs you in if need be)</p>"
      "<p class=\"muted\">A read-only page from a signed link in a notification; the link works "
      "until {}.</p>",
      Esc(AppIncidentPath(inc, link_episode)), inc.id, Esc(FormatRfc3339(expires)));
  return HtmlPage(bhttp::status::ok, fmt::format("Incident #{}: {}", inc.id, inc.title), body);
}

Result<std::vector<LinkRoutes::BatchIncident>> LinkRoutes::BatchIncidents(int64_t batch_id) {
  HOUSTON_ASSIGN_OR_RETURN(auto notifications,
                           store_.ListNotifications({.batch_id = batch_id, .limit = 1000}));
  std::vector<BatchIncident> out;
  for (const auto& n : notifications) {
    bool seen = false;
    for (const auto& i : out) seen = seen || i.incident.id == n.incident_id;
    if (seen) continue;
    HOUSTON_ASSIGN_OR_RETURN(core::Incident inc, store_.GetIncident(n.incident_id));
    bool earlier = false;
    if (inc.episode > 0) {
      HOUSTON_ASSIGN_OR_RETURN(std::optional<TimePoint> reopened, LastReopened(inc.id));
      earlier = reopened && *reopened > n.created_at;
    }
    out.push_back({std::move(inc), earlier});
  }
  if (out.empty()) return std::unexpected(NotFound("no incidents belong to this link"));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.incident.id < b.incident.id; });
  return out;
}

namespace {
constexpr std::string_view kNotAnIncidentLink = "<p>not an incident link</p>";
bool IsIncidentAction(std::string_view a) { return a == "ack" || a == "resolve" || a == "view"; }
}  // namespace

std::expected<core::Incident, http::Response> LinkRoutes::LinkedIncident(core::IncidentId id) {
  auto inc = store_.GetIncident(id);
  if (inc) return std::move(*inc);
  return std::unexpected(HtmlPage(bhttp::status::not_found, "No such incident",
                                  "<p>" + notify::HtmlEscape(inc.error().message()) + "</p>"));
}

void LinkRoutes::ActionPage(const HttpRequest& req, const auth::Principal*, Respond respond) {
  // GET never acts: mail scanners and link previews follow links.
  auto claim = notify::VerifyActionToken(options_.link_key, req.Param("token"), clock_.Now());
  if (options_.link_key.empty() || !claim) {
    std::string why =
        options_.link_key.empty() ? "links are disabled on this server" : claim.error().message();
    return respond(HtmlPage(bhttp::status::forbidden, "This link does not work",
                            "<p>" + notify::HtmlEscape(why) + "</p>"));
  }
  if (claim->action == "ack_batch") {
    auto incidents = BatchIncidents(claim->incident_id);
    if (!incidents) return respond(http::ErrorResponse(incidents.error()));
    std::string list;
    size_t acting = 0;
    for (const auto& [i, earlier] : *incidents) {
      list += fmt::format(
          "<li>#{} {} ({}){}</li>", i.id, notify::HtmlEscape(i.title), core::ToString(i.status),
          earlier ? ": reopened since this message; this link leaves it alone" : "");
      acting += earlier ? 0 : 1;
    }
    return respond(HtmlPage(
        bhttp::status::ok, fmt::format("Acknowledge {} incidents", acting),
        "<ul>" + list +
            "</ul><form method=\"post\"><button type=\"submit\">Acknowledge all</button></form>"));
  }
  if (!IsIncidentAction(claim->action)) {
    return respond(
        HtmlPage(bhttp::status::forbidden, "This link does not work", kNotAnIncidentLink));
  }
  auto inc = LinkedIncident(claim->incident_id);
  if (!inc) return respond(std::move(inc.error()));
  if (claim->action == "view") {
    // A browser signed in to the web UI goes to the incident there, Acknowledge at hand.
    if (!req.Header("Cookie").empty()) {
      auto who =
          ctx_.authenticator().Authenticate(auth::Credentials{.cookie = req.Header("Cookie")});
      if (who && who->method == auth::Method::kSession) {
        Response r{bhttp::status::see_other, 11};
        r.set(bhttp::field::location, AppIncidentPath(*inc, claim->episode));
        r.set(bhttp::field::cache_control, "no-store");
        r.set("Referrer-Policy", "no-referrer");
        return respond(std::move(r));
      }
    }
    auto page = IncidentPage(*inc, claim->user_id, claim->expires, claim->episode);
    if (!page) return respond(http::ErrorResponse(page.error()));
    return respond(std::move(*page));
  }
  if (claim->episode != inc->episode) {
    return respond(EarlierEpisodePage(*inc, claim->episode, false));
  }
  std::string verb = claim->action == "ack" ? "Acknowledge" : "Resolve";
  respond(HtmlPage(
      bhttp::status::ok, fmt::format("{} incident #{}", verb, inc->id),
      fmt::format("<p><b>{}</b><br>service {} &middot; {} &middot; now {}</p><form method=\"post\">"
                  "<button type=\"submit\">{}</button></form>",
                  notify::HtmlEscape(inc->title), notify::HtmlEscape(inc->service_id),
                  core::ToString(inc->severity), core::ToString(inc->status), verb)));
}

void LinkRoutes::ActionPost(const HttpRequest& req, const auth::Principal*, Respond respond) {
  auto claim = notify::VerifyActionToken(options_.link_key, req.Param("token"), clock_.Now());
  if (options_.link_key.empty() || !claim) {
    std::string why =
        options_.link_key.empty() ? "links are disabled on this server" : claim.error().message();
    return respond(HtmlPage(bhttp::status::forbidden, "This link does not work",
                            "<p>" + notify::HtmlEscape(why) + "</p>"));
  }
  store::Actor actor{"user", claim->user_id.empty() ? "unknown" : claim->user_id, "link"};
  if (claim->action == "ack_batch") {
    auto incidents = BatchIncidents(claim->incident_id);
    if (!incidents) return respond(http::ErrorResponse(incidents.error()));
    // Acknowledge them one after the other, then answer once.
    struct State {
      std::vector<BatchIncident> incidents;
      size_t next = 0;
      std::vector<std::string> done;
      Respond respond;
    };
    auto st = std::make_shared<State>(State{std::move(*incidents), 0, {}, std::move(respond)});
    auto step = std::make_shared<std::function<void()>>();
    *step = [this, st, step, actor, link = claim->link_id] {
      while (st->next < st->incidents.size() && st->incidents[st->next].earlier_episode) {
        st->done.push_back(fmt::format("#{}: reopened since this message; left alone",
                                       st->incidents[st->next++].incident.id));
      }
      if (st->next == st->incidents.size()) {
        Changed();
        std::string list;
        for (const auto& d : st->done) list += "<li>" + notify::HtmlEscape(d) + "</li>";
        st->respond(HtmlPage(bhttp::status::ok, "Acknowledged", "<ul>" + list + "</ul>"));
        *step = nullptr;  // break the cycle
        return;
      }
      const core::Incident& inc = st->incidents[st->next++].incident;
      // Single use per incident of the message: a second POST acknowledges none again.
      incidents_.TransitionInEpisode(
          inc.id, core::IncidentAction::kAcknowledge, inc.episode,
          fmt::format("{}:{}", link, inc.id), actor,
          [st, step, id = inc.id](Result<core::Incident> r) {
            st->done.push_back(r ? fmt::format("#{} acknowledged", id)
                                 : fmt::format("#{}: {}", id, r.error().message()));
            (*step)();
          });
    };
    (*step)();
    return;
  }
  if (claim->action != "ack" && claim->action != "resolve") {
    // A view link only shows; its page's buttons carry their own links.
    return respond(
        HtmlPage(bhttp::status::forbidden, "This link does not work", kNotAnIncidentLink));
  }
  // An old link must not act on a later episode (e.g. stop the paging of a reopened incident).
  auto inc = LinkedIncident(claim->incident_id);
  if (!inc) return respond(std::move(inc.error()));
  if (claim->episode != inc->episode) {
    return respond(EarlierEpisodePage(*inc, claim->episode, true));
  }
  bool ack = claim->action == "ack";
  auto shared = std::make_shared<Respond>(std::move(respond));
  auto done = [this, shared, ack](Result<core::Incident> r) {
    if (!r) {
      bool already = r.error().code() == StatusCode::kFailedPrecondition;
      return (*shared)(HtmlPage(already ? bhttp::status::ok : bhttp::status::conflict,
                                already ? "Nothing to do" : "That did not work",
                                "<p>" + notify::HtmlEscape(r.error().message()) + "</p>"));
    }
    Changed();
    (*shared)(HtmlPage(bhttp::status::ok,
                       fmt::format("Incident #{} {}", r->id, ack ? "acknowledged" : "resolved"),
                       "<p>" + notify::HtmlEscape(r->title) + "</p><p>Paging has stopped.</p>"));
  };
  // The episode is checked again inside the write: a reopen that lands after the check above
  // makes it refuse ("Nothing to do", saying so) rather than act on the new episode.
  // The link acts once: a second POST (or a replay) finds it recorded and changes nothing.
  incidents_.TransitionInEpisode(
      claim->incident_id, ack ? core::IncidentAction::kAcknowledge : core::IncidentAction::kResolve,
      claim->episode, claim->link_id, std::move(actor), std::move(done));
}

void LinkRoutes::AddTo(api::RouteTable& t) {
  // Links in notifications are signed; the signature is the credential.
  t.Add(bhttp::verb::get, "/actions/{token}", api::Open::kSignedLink, this,
        &LinkRoutes::ActionPage);
  t.Add(bhttp::verb::post, "/actions/{token}", api::Open::kSignedLink, this,
        &LinkRoutes::ActionPost);
}

}  // namespace houston::paging
