// The public status page: what it shows (StatusPageModel, built by the API from the org, open
// and recent incidents and their public status updates) and its renderings as HTML, JSON,
// Atom and RSS.
//
// Only public facts enter the model: component names and states, each incident's public title,
// public phase and the text rendered for the "public" audience, and times. Internal titles,
// notes, summaries, service ids and people never do, so no rendering can leak them. Pure
// functions; thread-safe.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/incident.h"

namespace houston::incidents {

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
  // Newest first. An incident resolved without a public update ending in "resolved" ends with
  // one the API adds (id 0): "This incident has been resolved.", at the time it was resolved.
  std::vector<PublicUpdate> updates;
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

// The status page's renderings, kept until what they show may have changed, so that a busy
// page costs one build per change instead of one per request. Thread-safe: concurrent misses
// build once, the others wait for that build and share it.
class StatusPageCache {
 public:
  enum class Format { kHtml, kJson, kAtom, kRss };
  // What the page is built from, as counters that move whenever it may have changed.
  struct Version {
    uint64_t store = 0;  // commits to the store
    uint64_t org = 0;    // orgs set
    bool operator==(const Version&) const = default;
  };
  // The page in `format`: the kept one when it was built for the same `version` and `base_url`
  // less than `max_age` before `now`; else one from a model that `build` makes now (and that is
  // kept for every format). `build`'s error is returned as is, and nothing is kept.
  Result<std::string> Get(Format format, Version version, const std::string& base_url,
                          TimePoint now, std::chrono::milliseconds max_age,
                          const std::function<Result<StatusPageModel>()>& build);
  // How many times a model was built (for tests and benchmarks).
  uint64_t builds() const;

 private:
  struct Entry {
    Version version;
    std::string base_url;
    TimePoint built_at{};
    StatusPageModel model;
    std::mutex mu;                                       // guards rendered
    std::array<std::optional<std::string>, 4> rendered;  // by Format, made on first use
  };
  std::shared_ptr<Entry> Current(Version version, const std::string& base_url, TimePoint now,
                                 std::chrono::milliseconds max_age) const;

  std::mutex build_mu_;  // held while building: one build at a time
  mutable std::mutex mu_;
  std::shared_ptr<Entry> entry_;  // guarded by mu_
  uint64_t builds_ = 0;           // guarded by mu_
};

// The org's public status components that an incident touches (by its services).
std::vector<const config::StatusComponent*> ComponentsOf(const config::Org& org,
                                                         const core::Incident& inc);

}  // namespace houston::incidents
