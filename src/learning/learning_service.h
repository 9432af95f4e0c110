// The learning domain: the rules of postmortems and action items, one function per operation.
// HTTP handlers (learning/routes.cc) read their request, call one of these and write the answer.
//
// A postmortem has a human part (the template's sections, contributing-factor tags from the
// org's vocabulary, an owner), written by people and never overwritten, and a computed part
// (postmortem_report.h) built from stored data on every read until it is published, then
// frozen. Action items belong to an incident, have an owner and a due date in the owner's time
// zone; the reminder loop (reminders.h) chases them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/status.h"
#include "learning/postmortem_report.h"
#include "store/store.h"

namespace houston::learning {

// A postmortem as shown: the stored row and its computed part (live or frozen JSON).
struct PostmortemView {
  store::Postmortem postmortem;
  std::string computed_json;
};

// What a new action item says (validated by the service).
struct NewActionItem {
  core::IncidentId incident_id = 0;
  std::string title;
  std::string owner;
  std::string due;  // YYYY-MM-DD
  std::string priority = "P2";
  std::string ticket_url;
};

// Thread-safe (no state of its own; the store is thread-safe, the org is a snapshot per call).
class LearningService {
 public:
  LearningService(store::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // --- Postmortems. NotFound "incident <id> does not exist" or "incident <id> has no
  // postmortem".
  Result<PostmortemView> GetPostmortem(const config::Org& org, core::IncidentId id);
  // The computed part now, from stored data (JSON).
  Result<std::string> ComputeFacts(const config::Org& org, core::IncidentId id);
  // Edits the human part; starts the postmortem from the org's template first when the incident
  // has none (not required: no due date, no reminders). InvalidArgument naming the field for an
  // unknown section, factor or owner; FailedPrecondition when published or `version` is stale.
  void EditPostmortem(const config::Org& org, core::IncidentId id, store::PostmortemEdit edit,
                      store::Actor actor, store::Callback<store::Postmortem> done);
  // Freezes the computed part as it is now and publishes. FailedPrecondition when already
  // published or the version is stale.
  void Publish(const config::Org& org, core::IncidentId id, std::optional<int64_t> version,
               store::Actor actor, store::Callback<store::Postmortem> done);
  void Reopen(core::IncidentId id, store::Actor actor, store::Callback<store::Postmortem> done);

  // --- Action items. InvalidArgument naming the field (unknown owner, a due date not
  // YYYY-MM-DD, a priority not P1..P3, a ticket URL not http(s)); NotFound for the incident.
  void CreateActionItem(const config::Org& org, NewActionItem item, store::Actor actor,
                        store::Callback<store::ActionItem> done);
  // Applies `patch` (status, owner, due, title, priority, ticket_url): when owner or due change
  // the overdue instant and the next reminder are computed again; closing stops reminders.
  void UpdateActionItem(const config::Org& org, int64_t id, store::ActionItemPatch patch,
                        store::Actor actor, store::Callback<store::ActionItem> done);

  // Validation shared with the CLI and the routes: each adds "field: problem" to `problems`.
  static void CheckOwner(const config::Org& org, const std::string& owner,
                         std::vector<std::string>& problems);
  static void CheckDue(const std::string& due, std::vector<std::string>& problems);
  static void CheckPriority(const std::string& priority, std::vector<std::string>& problems);
  static void CheckTicketUrl(const std::string& url, std::vector<std::string>& problems);

 private:
  // When `due` ends for `owner`, and the first reminder after it (within working hours).
  std::pair<TimePoint, TimePoint> OverdueAndFirstReminder(const config::Org& org,
                                                          const std::string& owner,
                                                          const std::string& due) const;

  store::Store& store_;
  Clock& clock_;
};

}  // namespace houston::learning
