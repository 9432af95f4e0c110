// IncidentStore: the store as the incidents domain (incidents::IncidentService) uses it: running
// incidents (declare, status, fields, roles, responders, notes, pins, linked changes, status
// updates, merge, split) and the reads their rules need. Store inherits it; the SQL store
// implements it once for SQLite and PostgreSQL.
//
// Every write runs in one transaction that first locks the incidents it touches (on PostgreSQL
// `SELECT ... FOR UPDATE`, in id order; SQLite's write transactions already exclude each
// other), so each rule reads, decides and writes on the incident as it is at that moment, and
// two writers on one incident commit one after the other. An incident's timeline (audit ids) is
// therefore in commit order. The timeline's vocabulary is TimelineKind.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/incident.h"
#include "core/status.h"
#include "core/types.h"

namespace houston::store {

// Completion of an asynchronous write. Runs on the store's commit thread: it must be quick,
// must not block, and must not wait for another store write.
template <typename T>
using Callback = std::function<void(Result<T>)>;

// Defined in store/store.h (which includes this header).
struct Actor;
struct AuditRecord;
struct NewIncident;
struct IncidentPatch;
struct StatusUpdate;
struct StatusUpdateFilter;
struct TimelineEntry;

// What an entry on an incident's timeline records (the audit action of an incident record).
// One string table: ToString gives the action as stored and shown ("incident.note"), and
// ParseTimelineKind reads it back.
enum class TimelineKind {
  kTriggered,         // incident.triggered: declared, or opened by an alert
  kAcknowledged,      // incident.acknowledged
  kMitigated,         // incident.mitigated
  kResolved,          // incident.resolved
  kReopened,          // incident.reopened: out of resolved, a new episode
  kRetriggered,       // incident.retriggered: back to triggered while open (ack timeout)
  kUpdated,           // incident.updated: fields changed ({"changes": {field: [old, new]}})
  kRoleAssigned,      // incident.role_assigned
  kRoleUnassigned,    // incident.role_unassigned
  kResponderAdded,    // incident.responder_added
  kResponderRemoved,  // incident.responder_removed
  kNote,              // incident.note
  kPinned,            // incident.pinned
  kUnpinned,          // incident.unpinned
  kChangeLinked,      // incident.change_linked
  kStatusUpdate,      // status_update.published
  kMerged,            // incident.merged: another incident was merged into this one
  kSplit,             // incident.split: alerts were split off into a new incident
  kSplitFrom,         // incident.split_from: this incident was split off another
  kAlertsResolved,    // incident.alerts_resolved: every alert resolved, the incident stays open
};
std::string_view ToString(TimelineKind k);
std::optional<TimelineKind> ParseTimelineKind(std::string_view action);

// The FailedPrecondition message prefix of a conditional write whose incident changed since
// the caller read it: nothing was written, and reading again and retrying is the remedy.
inline constexpr std::string_view kIncidentChanged = "changed while this was being prepared";
// The FailedPrecondition message prefix of a signed link used a second time.
inline constexpr std::string_view kLinkUsed = "this link has been used already";

// Thread-safe: every method may be called from any thread.
class IncidentStore {
 public:
  virtual ~IncidentStore() = default;

  // --- Asynchronous writes: `done` runs after durable commit (or with the error). Every change
  // writes a timeline (audit) record in the same transaction; records the incident fan-out must
  // act on are marked pending for it.

  // Declares an incident (status triggered); starts its escalation when `page` is set and it
  // has a policy. Roles and responders given are assigned (and so paged by the fan-out).
  virtual void DeclareIncident(NewIncident incident, Actor actor,
                               Callback<core::Incident> done) = 0;
  // Moves an incident's status (core::NextIncidentStatus): acknowledging also acknowledges its
  // triggered alerts and stops paging, resolving resolves its open alerts, reopening starts
  // paging again. NotFound; FailedPrecondition for an illegal transition (nothing changes).
  virtual void TransitionIncident(core::IncidentId id, core::IncidentAction action, Actor actor,
                                  Callback<core::Incident> done) = 0;
  // As TransitionIncident, only while the incident is still in `episode` (a signed link's):
  // FailedPrecondition, and nothing changes, once it has been reopened since. With a `link_id`
  // (notify::ActionClaim::link_id; "" for none) the link acts once: a move it makes records the
  // id in the same transaction, and a link already recorded is FailedPrecondition starting with
  // kLinkUsed (nothing changes). A link whose move changes nothing is not recorded.
  virtual void TransitionIncidentInEpisode(core::IncidentId id, core::IncidentAction action,
                                           int64_t episode, std::string link_id, Actor actor,
                                           Callback<core::Incident> done) = 0;
  // Applies a patch (the caller has validated ids against the org). NotFound; InvalidArgument
  // for an impossible impact window.
  virtual void UpdateIncident(core::IncidentId id, IncidentPatch patch, Actor actor,
                              Callback<core::Incident> done) = 0;
  // Adds a note to the timeline; returns its entry.
  virtual void AddNote(core::IncidentId id, std::string text, Actor actor,
                       Callback<AuditRecord> done) = 0;
  // Adds a note, pinned when `pinned`, in one transaction; returns its entry.
  virtual void AddTimelineNote(core::IncidentId id, std::string text, bool pinned, Actor actor,
                               Callback<TimelineEntry> done) = 0;
  // Pins (or unpins) a timeline entry of the incident. NotFound if the entry is not on it.
  virtual void PinEntry(core::IncidentId id, int64_t entry_id, bool pinned, Actor actor,
                        Callback<TimelineEntry> done) = 0;
  // Records a change event as linked to the incident (a confirmed or likely cause).
  virtual void LinkChange(core::IncidentId id, int64_t change_id, Actor actor,
                          Callback<core::Change> done) = 0;
  // Publishes a status update (the renderings are final). NotFound. Its time is never before
  // the incident's previous update, so updates ordered by id are ordered by time.
  virtual void PublishStatusUpdate(StatusUpdate update, Actor actor,
                                   Callback<StatusUpdate> done) = 0;
  // As PublishStatusUpdate, for an update composed from `seen` (the incident as the caller read
  // it): FailedPrecondition starting with "incident <id> " + kIncidentChanged, and nothing is
  // written, when what the update was composed from (status, SEV, title, public title, summary,
  // services, roles, episode) has changed since; FailedPrecondition too when its phase does not
  // fit the incident (resolved phase while open, or an open phase once resolved).
  virtual void PublishStatusUpdateFor(StatusUpdate update, core::Incident seen, Actor actor,
                                      Callback<StatusUpdate> done) = 0;
  // Moves every alert of `source` into `target` and resolves `source` as merged.
  // NotFound; FailedPrecondition when either is resolved or they are the same.
  virtual void MergeIncidents(core::IncidentId source, core::IncidentId target, Actor actor,
                              Callback<core::Incident> done) = 0;
  // Moves `alerts` (all from `source`) into a new incident described by `incident`; the new
  // incident is acknowledged by the actor when `source` was, else triggered and paged.
  // NotFound; InvalidArgument when an alert is not in `source` or would leave it empty.
  virtual void SplitIncident(core::IncidentId source, std::vector<core::AlertId> alerts,
                             NewIncident incident, Actor actor, Callback<core::Incident> done) = 0;

  // --- Synchronous reads.
  virtual Result<core::Incident> GetIncident(core::IncidentId id) = 0;
  // Every timeline record of an incident (its own and its alerts'), oldest first.
  virtual Result<std::vector<TimelineEntry>> ListTimeline(core::IncidentId id) = 0;
  virtual Result<std::vector<StatusUpdate>> ListStatusUpdates(const StatusUpdateFilter& f) = 0;
};

}  // namespace houston::store
