#include "incidents/incident_service.h"

#include <fmt/format.h>

namespace houston::incidents {

void IncidentService::Declare(store::NewIncident incident, store::Actor actor,
                              store::Callback<core::Incident> done) {
  store_.DeclareIncident(std::move(incident), std::move(actor), std::move(done));
}

void IncidentService::Transition(core::IncidentId id, core::IncidentAction action,
                                 store::Actor actor, store::Callback<core::Incident> done) {
  store_.TransitionIncident(id, action, std::move(actor), std::move(done));
}

void IncidentService::TransitionInEpisode(core::IncidentId id, core::IncidentAction action,
                                          int64_t episode, std::string link_id, store::Actor actor,
                                          store::Callback<core::Incident> done) {
  store_.TransitionIncidentInEpisode(id, action, episode, std::move(link_id), std::move(actor),
                                     std::move(done));
}

void IncidentService::Patch(core::IncidentId id, store::IncidentPatch patch, store::Actor actor,
                            store::Callback<core::Incident> done) {
  if (patch.empty()) {
    return done(std::unexpected(InvalidArgument(
        "nothing to change: send one or more of title, sev, summary, public_title, services, "
        "tags, add_tags, remove_tags, roles, add_responders, remove_responders, "
        "impact_started_at, detected_at, mitigated_at, resolved_at")));
  }
  store_.UpdateIncident(id, std::move(patch), std::move(actor), std::move(done));
}

void IncidentService::AssignRole(core::IncidentId id, std::string role, std::string user,
                                 store::Actor actor, store::Callback<core::Incident> done) {
  store::IncidentPatch p;
  p.set_roles.emplace_back(std::move(role), std::move(user));
  store_.UpdateIncident(id, std::move(p), std::move(actor), std::move(done));
}

void IncidentService::AddResponder(core::IncidentId id, std::string user, store::Actor actor,
                                   store::Callback<core::Incident> done) {
  store::IncidentPatch p;
  p.add_responders.push_back(std::move(user));
  store_.UpdateIncident(id, std::move(p), std::move(actor), std::move(done));
}

void IncidentService::RemoveResponder(core::IncidentId id, std::string user, store::Actor actor,
                                      store::Callback<core::Incident> done) {
  store::IncidentPatch p;
  p.remove_responders.push_back(std::move(user));
  store_.UpdateIncident(id, std::move(p), std::move(actor), std::move(done));
}

void IncidentService::AddNote(core::IncidentId id, std::string text, bool pinned,
                              store::Actor actor, store::Callback<store::TimelineEntry> done) {
  store_.AddTimelineNote(id, std::move(text), pinned, std::move(actor), std::move(done));
}

void IncidentService::Pin(core::IncidentId id, int64_t entry_id, bool pinned, store::Actor actor,
                          store::Callback<store::TimelineEntry> done) {
  store_.PinEntry(id, entry_id, pinned, std::move(actor), std::move(done));
}

void IncidentService::LinkChange(core::IncidentId id, int64_t change_id, store::Actor actor,
                                 store::Callback<core::Change> done) {
  store_.LinkChange(id, change_id, std::move(actor), std::move(done));
}

std::optional<std::string> IncidentService::PhaseProblem(const core::Incident& incident,
                                                         std::string_view phase) {
  if (!core::IsPhase(phase)) {
    return fmt::format(
        "'phase' must be one of investigating, identified, monitoring, resolved, not '{}'", phase);
  }
  if (phase == "resolved" && core::IsOpen(incident.status)) {
    return fmt::format(
        "'phase' is resolved but incident {} is {}: resolve the incident first, or say "
        "monitoring",
        incident.id, core::ToString(incident.status));
  }
  if (phase != "resolved" && !core::IsOpen(incident.status)) {
    return fmt::format(
        "incident {} is resolved: a new update must say phase 'resolved' (or reopen the "
        "incident)",
        incident.id);
  }
  return std::nullopt;
}

void IncidentService::PublishUpdate(store::StatusUpdate update, core::Incident seen,
                                    store::Actor actor, store::Callback<store::StatusUpdate> done) {
  store_.PublishStatusUpdateFor(std::move(update), std::move(seen), std::move(actor),
                                std::move(done));
}

void IncidentService::Merge(core::IncidentId source, core::IncidentId target, store::Actor actor,
                            store::Callback<core::Incident> done) {
  store_.MergeIncidents(source, target, std::move(actor), std::move(done));
}

void IncidentService::Split(core::IncidentId source, std::vector<core::AlertId> alerts,
                            store::NewIncident incident, store::Actor actor,
                            store::Callback<core::Incident> done) {
  store_.SplitIncident(source, std::move(alerts), std::move(incident), std::move(actor),
                       std::move(done));
}

}  // namespace houston::incidents
