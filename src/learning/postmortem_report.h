// The computed part of a postmortem: what stored data says about an incident (impact window,
// the four response times, who held which role, linked alerts, confirmed and suspect changes,
// status updates as sent, the full timeline with pinned entries marked, action items), gathered
// once into PostmortemFacts, then rendered by pure functions: as JSON (the API; frozen into the
// postmortem when it is published) and, with the human part, as Markdown (the export).
//
// The response times (docs/postmortems.md has the same table):
//   time to detect       = detected_at - impact_started_at
//   time to acknowledge  = first acknowledgement - detected_at
//   time to mitigate     = first mitigation (or, never mitigated, the final resolution)
//                          - detected_at
//   time to resolve      = final resolution - detected_at
//   impact duration      = mitigation (or resolution) - impact_started_at
// "First" and "final" are read from the timeline, so a reopened incident keeps its first
// acknowledgement and its resolution is the last one. A time that did not happen is null.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/incident.h"
#include "core/types.h"
#include "store/store.h"

namespace houston::learning {

// Bounds that keep a postmortem readable and its JSON bounded for incidents with alert storms.
inline constexpr size_t kMaxFactsAlerts = 200;
inline constexpr size_t kMaxFactsTimeline = 2000;

struct ResponseTimes {
  std::optional<TimePoint> impact_started, detected, acknowledged, mitigated, resolved;
  std::optional<std::chrono::seconds> to_detect, to_acknowledge, to_mitigate, to_resolve, impact;
};

// Someone who took part, with every role they held (in the order first held).
struct Participant {
  std::string user;
  std::string name;
  std::vector<std::string> roles;  // role ids; "responder" for responders added
  bool acknowledged = false;       // they acknowledged it (by link, API or CLI)
};

// Everything the computed part shows. Plain value.
struct PostmortemFacts {
  core::Incident incident;
  std::vector<std::string> service_names;  // parallel to incident.services
  ResponseTimes times;
  std::vector<Participant> people;
  std::vector<core::Alert> alerts;  // newest first, at most kMaxFactsAlerts
  int64_t alert_count = 0;
  std::vector<core::Change> confirmed_changes;  // linked to the incident by a responder
  std::vector<core::SuspectChange> suspects;    // ranked, at most 5
  std::vector<store::StatusUpdate> updates;     // oldest first
  std::vector<store::TimelineEntry> timeline;   // oldest first, at most kMaxFactsTimeline
  size_t timeline_omitted = 0;                  // entries beyond the bound (the newest kept)
  std::vector<store::ActionItem> action_items;  // oldest first
};

// The response times from the incident and its timeline (oldest first).
ResponseTimes ComputeResponseTimes(const core::Incident& incident,
                                   const std::vector<store::TimelineEntry>& timeline);
// The people on the timeline (roles, responders, acknowledgements) and in the incident's roles.
std::vector<Participant> Participants(const core::Incident& incident,
                                      const std::vector<store::TimelineEntry>& timeline,
                                      const config::Org* org);

// One line for a timeline entry, e.g. "alice acknowledged", "note by bob: rolling back".
std::string DescribeEntry(const store::AuditRecord& r);

// The computed part as JSON (an object; the "computed" member of the API's postmortem).
std::string FactsJson(const PostmortemFacts& facts);

// The whole postmortem as Markdown: title, the computed part (from `computed_json`, as built
// by FactsJson, whether live or frozen) and the human sections. Empty sections show their
// prompt in italics.
std::string PostmortemMarkdown(const store::Postmortem& p, std::string_view computed_json);

// The postmortem (human part and computed part) as the API's JSON object.
std::string PostmortemJson(const store::Postmortem& p, std::string_view computed_json);

}  // namespace houston::learning
