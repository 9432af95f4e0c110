// The incidents domain: the rules of running an incident (its lifecycle, fields, roles,
// responders, timeline notes and pins, linked changes, status updates, merge and split), one
// function per operation. HTTP handlers (api/) and, where they act locally, CLI commands call
// these functions: a handler reads its request, calls one of them, and writes the answer.
//
// Each operation that decides on stored state is one IncidentStore write, and so one
// transaction that locks the incident first (store/incident_store.h): two responders acting on
// one incident at the same moment never lose a change, and its timeline is in commit order.
// What is checked here, before the write, depends on the request alone (or is re-checked by the
// write, like a status update's phase).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/incident.h"
#include "core/status.h"
#include "store/incident_store.h"
#include "store/store.h"

namespace houston::incidents {

// Thread-safe (it holds no state of its own; the store is thread-safe).
class IncidentService {
 public:
  explicit IncidentService(store::IncidentStore& store) : store_(store) {}

  // --- Reads.
  // NotFound "incident <id> does not exist".
  Result<core::Incident> Get(core::IncidentId id) { return store_.GetIncident(id); }

  // --- Lifecycle. NotFound; FailedPrecondition for a move the incident's status does not allow
  // (core::NextIncidentStatus says why), and nothing changes.
  void Declare(store::NewIncident incident, store::Actor actor,
               store::Callback<core::Incident> done);
  void Transition(core::IncidentId id, core::IncidentAction action, store::Actor actor,
                  store::Callback<core::Incident> done);
  void Acknowledge(core::IncidentId id, store::Actor actor, store::Callback<core::Incident> done) {
    Transition(id, core::IncidentAction::kAcknowledge, std::move(actor), std::move(done));
  }
  void Mitigate(core::IncidentId id, store::Actor actor, store::Callback<core::Incident> done) {
    Transition(id, core::IncidentAction::kMitigate, std::move(actor), std::move(done));
  }
  void Resolve(core::IncidentId id, store::Actor actor, store::Callback<core::Incident> done) {
    Transition(id, core::IncidentAction::kResolve, std::move(actor), std::move(done));
  }
  void Reopen(core::IncidentId id, store::Actor actor, store::Callback<core::Incident> done) {
    Transition(id, core::IncidentAction::kReopen, std::move(actor), std::move(done));
  }
  // For a signed link made in `episode`: acts only while the incident is still in it, decided
  // in the same transaction as the move. FailedPrecondition ("incident <id> has been reopened
  // since: ...") once it has been reopened since. A `link_id` ("" for none) makes the link act
  // once: FailedPrecondition starting with store::kLinkUsed when it has acted before.
  void TransitionInEpisode(core::IncidentId id, core::IncidentAction action, int64_t episode,
                           std::string link_id, store::Actor actor,
                           store::Callback<core::Incident> done);

  // --- Fields, roles and responders. Ids are checked against the org by the caller.
  // InvalidArgument "nothing to change: ..." for an empty patch; NotFound; InvalidArgument for
  // an impossible impact window.
  void Patch(core::IncidentId id, store::IncidentPatch patch, store::Actor actor,
             store::Callback<core::Incident> done);
  // Gives `role` to `user` ("" unassigns it).
  void AssignRole(core::IncidentId id, std::string role, std::string user, store::Actor actor,
                  store::Callback<core::Incident> done);
  void AddResponder(core::IncidentId id, std::string user, store::Actor actor,
                    store::Callback<core::Incident> done);
  void RemoveResponder(core::IncidentId id, std::string user, store::Actor actor,
                       store::Callback<core::Incident> done);

  // --- The timeline.
  // Adds a note, pinned when `pinned` (one transaction either way).
  void AddNote(core::IncidentId id, std::string text, bool pinned, store::Actor actor,
               store::Callback<store::TimelineEntry> done);
  // NotFound when the entry is not on the incident's timeline.
  void Pin(core::IncidentId id, int64_t entry_id, bool pinned, store::Actor actor,
           store::Callback<store::TimelineEntry> done);
  // Records change `change_id` as linked to the incident (a suspect confirmed). NotFound.
  void LinkChange(core::IncidentId id, int64_t change_id, store::Actor actor,
                  store::Callback<core::Change> done);

  // --- Status updates.
  // The phase an update says when its author names none.
  static std::string DefaultPhase(const core::Incident& incident) {
    return std::string(core::DefaultPhase(incident.status));
  }
  // Why `phase` cannot be published on `incident` as it is (the status page must never say
  // resolved while the incident is open, nor anything else once it is resolved), or nullopt.
  static std::optional<std::string> PhaseProblem(const core::Incident& incident,
                                                 std::string_view phase);
  // Publishes `update`, composed (rendered) from `seen`. FailedPrecondition, and nothing is
  // published, when the incident changed in the meantime in a way the update shows (its status,
  // SEV, title, roles, ...): the message says so, and that composing it again is the remedy.
  // Updates published at once are all stored, numbered and timed in commit order.
  void PublishUpdate(store::StatusUpdate update, core::Incident seen, store::Actor actor,
                     store::Callback<store::StatusUpdate> done);

  // --- Merge and split.
  // Moves every alert of `source` into `target` and resolves `source` as merged, wholly or not
  // at all. FailedPrecondition when either is resolved; InvalidArgument when they are the same.
  void Merge(core::IncidentId source, core::IncidentId target, store::Actor actor,
             store::Callback<core::Incident> done);
  // Moves `alerts` of `source` into a new incident. InvalidArgument when an alert is not in
  // `source` or it would be left empty.
  void Split(core::IncidentId source, std::vector<core::AlertId> alerts,
             store::NewIncident incident, store::Actor actor, store::Callback<core::Incident> done);

 private:
  store::IncidentStore& store_;
};

}  // namespace houston::incidents
