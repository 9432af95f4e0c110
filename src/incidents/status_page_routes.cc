#include "incidents/routes.h"

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

namespace houston::incidents {

namespace bhttp = http::bhttp;
using http::HttpRequest;
using http::Response;

// ---------------------------------------------------------------------------------------------
// The public status page.

namespace {
constexpr std::string_view kResolvedText = "This incident has been resolved.";
}  // namespace

Result<StatusPageModel> IncidentRoutes::BuildStatusPage(const HttpRequest& req) {
  StatusPageModel m;
  TimePoint now = clock_.Now();
  m.generated_at = now;
  m.url = BaseUrl(req) + "/status";
  auto view = org();
  const config::Org* org = view->org.get();
  if (!org || !org->status_page) return m;
  m.title = org->status_page->title;
  auto levels = config::SevLevels(*org);
  std::map<std::string, core::ComponentState> state;  // by component id
  for (const auto& c : org->status_page->components)
    state[c.id] = core::ComponentState::kOperational;
  // Maintenance: windows in progress, and those starting within a week.
  for (const auto& w : org->maintenance_windows) {
    PublicMaintenance pm;
    pm.id = w.id;
    pm.start = w.start;
    pm.end = w.end;
    pm.active = paging::InMaintenance(w, now);
    if (w.recurring) {
      std::string days;
      static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
      for (auto d : w.recurring->window.days)
        days += (days.empty() ? "" : ", ") + std::string(kDays[d.c_encoding()]);
      pm.recurrence = fmt::format(
          "every {} {:02}:{:02}-{:02}:{:02} ({})", days, w.recurring->window.start_minute / 60,
          w.recurring->window.start_minute % 60, w.recurring->window.end_minute / 60,
          w.recurring->window.end_minute % 60, w.recurring->timezone);
    }
    bool upcoming = w.start && w.end && *w.end > now && *w.start < now + std::chrono::days(7);
    if (!pm.active && !upcoming && !w.recurring) continue;
    for (const auto& c : org->status_page->components) {
      bool hit = false;
      for (const auto& s : c.services) {
        hit = hit || std::find(w.services.begin(), w.services.end(), s) != w.services.end();
      }
      if (!hit) continue;
      pm.components.push_back(c.name);
      if (pm.active)
        state[c.id] = core::Worse(state[c.id], core::ComponentState::kUnderMaintenance);
    }
    if (!pm.components.empty()) m.maintenance.push_back(std::move(pm));
  }
  // Incidents open now or resolved within the history window that touch a component.
  HOUSTON_ASSIGN_OR_RETURN(
      auto incidents,
      store_.ListIncidents({.limit = 1000,
                            .declared_only = true,
                            .active_since = now - std::chrono::days(m.history_days)}));
  HOUSTON_ASSIGN_OR_RETURN(
      auto updates, store_.ListStatusUpdates(
                        {.since = now - std::chrono::days(m.history_days + 30), .limit = 1000}));
  std::map<core::IncidentId, std::vector<PublicUpdate>> public_updates;
  for (const auto& u : updates) {  // newest first
    for (const auto& r : u.renderings) {
      if (r.audience != core::kPublicAudience) continue;
      public_updates[u.incident_id].push_back(PublicUpdate{u.id, u.at, u.phase, r.text});
    }
  }
  for (const auto& inc : incidents) {
    auto comps = ComponentsOf(*org, inc);
    if (comps.empty()) continue;
    auto rank = core::SevRank(inc.sev, levels).value_or(static_cast<int>(levels.size()));
    const config::SeverityLevel* level = config::FindSeverity(*org, inc.sev);
    // What the incident does to its components at its worst, and now.
    core::ComponentState worst =
        level && level->component_state
            ? *level->component_state
            : core::StateForIncident(rank, core::IncidentStatus::kTriggered);
    core::ComponentState impact = worst;
    if (inc.status == core::IncidentStatus::kMitigated &&
        worst != core::ComponentState::kOperational) {
      impact = core::ComponentState::kDegradedPerformance;  // impact stopped, not yet over
    }
    auto& ups = public_updates[inc.id];
    // Only what customers would notice, or what has been told to them, is shown.
    if (worst == core::ComponentState::kOperational && ups.empty()) continue;
    PublicIncident pi;
    pi.id = inc.id;
    std::vector<std::string> names;
    for (const auto* c : comps) names.push_back(c->name);
    pi.title = core::PublicTitle(inc, names);
    pi.components = names;
    pi.started_at = inc.impact_started_at.value_or(inc.created_at);
    pi.updates = ups;
    if (core::IsOpen(inc.status)) {
      pi.impact = impact;
      pi.phase = ups.empty() ? std::string(core::DefaultPhase(inc.status)) : ups.front().phase;
      for (const auto* c : comps) state[c->id] = core::Worse(state[c->id], impact);
      m.open.push_back(std::move(pi));
    } else {
      pi.impact = worst;
      pi.phase = "resolved";
      pi.resolved_at = inc.resolved_at;
      // Resolved without a last public word: close the story, so that the newest text is not
      // one that promises another update.
      if (inc.resolved_at && (pi.updates.empty() || pi.updates.front().phase != "resolved")) {
        pi.updates.insert(pi.updates.begin(), PublicUpdate{0, *inc.resolved_at, "resolved",
                                                           std::string(kResolvedText)});
      }
      m.history.push_back(std::move(pi));
    }
  }
  for (const auto& c : org->status_page->components) {
    m.components.push_back(PublicComponent{c.id, c.name, c.description, state[c.id]});
    m.overall = core::Worse(m.overall, state[c.id]);
  }
  return m;
}

namespace {
Response Public(std::string content_type, std::string body) {
  Response r{bhttp::status::ok, 11};
  r.set(bhttp::field::content_type, std::move(content_type));
  r.set(bhttp::field::cache_control, "public, max-age=30");
  r.set("Access-Control-Allow-Origin", "*");
  r.body() = std::move(body);
  return r;
}
}  // namespace

void IncidentRoutes::StatusPage(StatusPageCache::Format format, const HttpRequest& req,
                                Respond respond) {
  // The page changes when the store commits (anything: cheap to count, and never stale) or the
  // org is replaced; other servers' commits and the passing of time within max_age.
  StatusPageCache::Version version{store_.Stats().commits, ctx_.org_version()};
  auto body = status_cache_.Get(format, version, BaseUrl(req), clock_.Now(),
                                options_.status_page_max_age, [&] { return BuildStatusPage(req); });
  if (!body) return respond(http::ErrorResponse(body.error()));
  using F = StatusPageCache::Format;
  std::string type = format == F::kHtml   ? "text/html; charset=utf-8"
                     : format == F::kJson ? "application/json"
                     : format == F::kAtom ? "application/atom+xml; charset=utf-8"
                                          : "application/rss+xml; charset=utf-8";
  respond(Public(std::move(type), std::move(*body)));
}

void IncidentRoutes::StatusHtml(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kHtml, req, std::move(respond));
}

void IncidentRoutes::StatusJson(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kJson, req, std::move(respond));
}

void IncidentRoutes::StatusAtom(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kAtom, req, std::move(respond));
}

void IncidentRoutes::StatusRss(const HttpRequest& req, const auth::Principal*, Respond respond) {
  StatusPage(StatusPageCache::Format::kRss, req, std::move(respond));
}

}  // namespace houston::incidents
