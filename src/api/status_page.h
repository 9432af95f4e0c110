// The public status page: what it shows (StatusPageModel, built by the API from the org, open
// and recent incidents and their public status updates) and its renderings as HTML, JSON,
// Atom and RSS.
//
// Only public facts enter the model: component names and states, each incident's public title,
// public phase and the text rendered for the "public" audience, and times. Internal titles,
// notes, summaries, service ids and people never do, so no rendering can leak them. Pure
// functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/incident.h"

namespace houston::api {

struct PublicComponent {
  std::string id;
  std::string name;
  std::string description;
  core::ComponentState state = core::ComponentState::kOperational;
};

struct PublicUpdate {
  int64_t id = 0;
  TimePoint at{};
  std::string phase;  // investigating | identified | monitoring | resolved
  std::string text;   // rendered for the public audience (plain text; renderers escape it)
};

struct PublicIncident {
  int64_t id = 0;
  std::string title;  // the public title
  std::string phase;  // the current public phase ("resolved" once resolved)
  // The worst state it gives its components while open (operational once resolved).
  core::ComponentState impact = core::ComponentState::kOperational;
  std::vector<std::string> components;  // names of the components it affects
  TimePoint started_at{};
  std::optional<TimePoint> resolved_at;
  std::vector<PublicUpdate> updates;  // newest first
};

struct PublicMaintenance {
  std::string id;
  std::vector<std::string> components;  // names
  std::optional<TimePoint> start, end;  // absent for recurring windows
  std::string recurrence;               // e.g. "every sat, sun 01:00-03:00 (UTC)"; "" if none
  bool active = false;
};

struct StatusPageModel {
  std::string title = "Status";
  std::string url;  // absolute URL of /status (for feeds and links)
  TimePoint generated_at{};
  core::ComponentState overall = core::ComponentState::kOperational;  // the worst component
  std::vector<PublicComponent> components;
  std::vector<PublicIncident> open;            // newest first
  std::vector<PublicIncident> history;         // resolved within `history_days`, newest first
  std::vector<PublicMaintenance> maintenance;  // active or upcoming
  int history_days = 90;
};

// "All systems operational", "Degraded performance", "Partial outage", "Major outage",
// "Under maintenance".
std::string OverallDescription(core::ComponentState s);
// "Operational", "Degraded performance", ... for one component.
std::string StateLabel(core::ComponentState s);

// A complete, self-contained HTML5 page (inline CSS, no JavaScript, no external resources):
// the overall banner, components with their states, open incidents with every public update,
// active and upcoming maintenance, and the history grouped by day, with links to the feeds
// (<link rel="alternate"> for Atom and RSS). Every value is HTML-escaped.
std::string StatusPageHtml(const StatusPageModel& m);

// {"page":{"title","url","updated_at"},"status":{"indicator","description"},
//  "components":[{"id","name","description","status"}],
//  "incidents":[{"id","title","status","impact","components","started_at","resolved_at",
//                "updates":[{"id","at","status","text"}]}],  (open ones)
//  "history":[...same shape...],
//  "maintenances":[{"id","components","start","end","recurrence","active"}]}
std::string StatusPageJson(const StatusPageModel& m);

// An Atom 1.0 feed and an RSS 2.0 feed: one entry per public update (open and history),
// newest first, titled "<incident title>: <Phase>", linking to the page's #incident-<id>.
std::string StatusPageAtom(const StatusPageModel& m);
std::string StatusPageRss(const StatusPageModel& m);

}  // namespace houston::api
