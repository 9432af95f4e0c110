// LearningStore: the store as the learning domain (learning::LearningService and its reminder
// loop) uses it: postmortems (one per incident: a human part people write and a computed part
// frozen when published), action items, and the reminders that chase both. Store inherits it;
// the SQL store implements it once for SQLite and PostgreSQL (store/sql/learning.cc).
//
// Every write is one transaction and writes an audit record; action items also go on their
// incident's timeline. A published postmortem refuses edits (FailedPrecondition) until it is
// reopened.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "store/incident_store.h"

namespace houston::store {

struct OutboxMessage;

// draft -> in_review -> published; published -> draft again only by reopening.
enum class PostmortemStatus { kDraft, kInReview, kPublished };
std::string_view ToString(PostmortemStatus s);  // "draft", "in_review", "published"
std::optional<PostmortemStatus> ParsePostmortemStatus(std::string_view s);

// One section of a postmortem's human part, as people wrote it.
struct PostmortemSectionText {
  std::string id;
  std::string title;
  std::string prompt;  // the template's hint (shown while `text` is empty)
  std::string text;
  bool operator==(const PostmortemSectionText&) const = default;
};

struct Postmortem {
  core::IncidentId incident_id = 0;
  PostmortemStatus status = PostmortemStatus::kDraft;
  bool required = false;  // drafted by the org's policy (due date and reminders)
  std::string owner;      // user id of whoever writes it ("" = nobody yet)
  std::vector<PostmortemSectionText> sections;
  std::vector<std::string> factors;  // contributing-factor tags, sorted
  // The computed part as it was published (JSON); "" until then (it is built on every read).
  std::string computed_json;
  TimePoint created_at{};
  std::string created_by;
  TimePoint updated_at{};
  std::optional<TimePoint> due_at;
  std::optional<TimePoint> published_at;
  std::string published_by;
  int64_t version = 0;  // bumped by every write; PUT may name the version it edited
  int reminders = 0;    // reminders sent so far
  std::optional<TimePoint> next_reminder_at;
  // From the incident, for lists and filters.
  std::string service_id;
  std::string sev;
  std::string title;
  std::optional<TimePoint> resolved_at;
};

struct NewPostmortem {
  core::IncidentId incident_id = 0;
  bool required = false;
  std::string owner;
  std::vector<PostmortemSectionText> sections;
  std::optional<TimePoint> due_at;
  std::optional<TimePoint> next_reminder_at;
};

// A change to a postmortem's human part. Absent fields stay as they are.
struct PostmortemEdit {
  std::optional<int64_t> expected_version;  // FailedPrecondition when it has moved on
  std::optional<std::string> owner;
  // Section texts by id (sections the template does not have are InvalidArgument, checked by
  // the service).
  std::vector<std::pair<std::string, std::string>> sections;
  std::optional<std::vector<std::string>> factors;
  std::optional<PostmortemStatus> status;  // draft or in_review only (publish is its own call)
};

struct PostmortemFilter {
  std::optional<PostmortemStatus> status;
  std::optional<std::string> service;  // one of the incident's services
  std::optional<TimePoint> from, to;   // the incident resolved in [from, to)
  int64_t before_id = 0;               // incident id cursor
  int limit = 100;
};

enum class ActionItemStatus { kOpen, kInProgress, kDone, kWontDo };
std::string_view ToString(ActionItemStatus s);  // "open", "in_progress", "done", "wont_do"
std::optional<ActionItemStatus> ParseActionItemStatus(std::string_view s);
inline bool IsClosed(ActionItemStatus s) {
  return s == ActionItemStatus::kDone || s == ActionItemStatus::kWontDo;
}

struct ActionItem {
  int64_t id = 0;
  core::IncidentId incident_id = 0;
  std::string service_id;  // the incident's primary service
  std::string title;
  std::string owner;       // user id
  std::string due;         // YYYY-MM-DD, in the owner's time zone
  TimePoint overdue_at{};  // when that day ends there
  std::string priority;    // P1 | P2 | P3
  ActionItemStatus status = ActionItemStatus::kOpen;
  std::string ticket_url;
  TimePoint created_at{};
  std::string created_by;
  TimePoint updated_at{};
  std::optional<TimePoint> closed_at;
  std::string closed_by;
  int reminders = 0;
  std::optional<TimePoint> next_reminder_at;
};

struct ActionItemPatch {
  std::optional<ActionItemStatus> status;
  std::optional<std::string> owner;
  std::optional<std::string> due;
  std::optional<TimePoint> overdue_at;  // set with owner or due (the service computes it)
  std::optional<std::string> title;
  std::optional<std::string> priority;
  std::optional<std::string> ticket_url;
  // Set with owner, due or status: when the next reminder is due (nullopt inside: none).
  std::optional<std::optional<TimePoint>> next_reminder_at;
};

struct ActionItemFilter {
  std::optional<std::string> owner;
  std::optional<ActionItemStatus> status;
  std::optional<TimePoint> overdue_at;  // open or in progress, and overdue at this instant
  std::optional<core::IncidentId> incident;
  std::optional<std::string> service;
  int64_t before_id = 0;
  int limit = 100;
};

// What the reminder loop decided, applied in one transaction.
struct LearningWork {
  std::vector<NewPostmortem> drafts;  // created unless the incident already has one
  std::vector<OutboxMessage> messages;
  struct Reminded {           // applied only if `reminders` is still `expected`
    bool postmortem = false;  // else an action item
    int64_t id = 0;           // incident id (postmortem) or action item id
    int expected = 0;
    int reminders = 0;
    std::optional<TimePoint> next_reminder_at;
  };
  std::vector<Reminded> reminded;
};

// Thread-safe: every method may be called from any thread.
class LearningStore {
 public:
  virtual ~LearningStore() = default;

  // --- Postmortems. NotFound "incident <id> does not exist" / "incident <id> has no
  // postmortem".
  // AlreadyExists when the incident has one.
  virtual void CreatePostmortem(NewPostmortem p, Actor actor, Callback<Postmortem> done) = 0;
  // FailedPrecondition when it is published, or `expected_version` is not its version.
  virtual void EditPostmortem(core::IncidentId id, PostmortemEdit edit, Actor actor,
                              Callback<Postmortem> done) = 0;
  // Freezes `computed_json` as its computed part. FailedPrecondition when already published or
  // `expected_version` (when set) is not its version.
  virtual void PublishPostmortem(core::IncidentId id, std::string computed_json,
                                 std::optional<int64_t> expected_version, Actor actor,
                                 Callback<Postmortem> done) = 0;
  // Published -> draft (the computed part is live again). FailedPrecondition unless published.
  virtual void ReopenPostmortem(core::IncidentId id, Actor actor, Callback<Postmortem> done) = 0;
  virtual Result<Postmortem> GetPostmortem(core::IncidentId id) = 0;
  virtual Result<std::vector<Postmortem>> ListPostmortems(const PostmortemFilter& f) = 0;

  // --- Action items. NotFound for an unknown incident or item.
  virtual void CreateActionItem(ActionItem item, Actor actor, Callback<ActionItem> done) = 0;
  // InvalidArgument "nothing to change" for an empty patch.
  virtual void UpdateActionItem(int64_t id, ActionItemPatch patch, Actor actor,
                                Callback<ActionItem> done) = 0;
  virtual Result<ActionItem> GetActionItem(int64_t id) = 0;
  virtual Result<std::vector<ActionItem>> ListActionItems(const ActionItemFilter& f) = 0;

  // --- The reminder loop.
  // Resolved incidents with a SEV in `sevs`, resolved at or after `since`, not merged, without a
  // postmortem; oldest resolution first.
  virtual Result<std::vector<core::Incident>> ListIncidentsNeedingPostmortem(
      const std::vector<std::string>& sevs, TimePoint since, int limit) = 0;
  // Postmortems and action items whose next reminder is due at `now`.
  virtual Result<std::vector<Postmortem>> ListDuePostmortemReminders(TimePoint now, int limit) = 0;
  virtual Result<std::vector<ActionItem>> ListDueActionItemReminders(TimePoint now, int limit) = 0;
  // The earliest next reminder of either kind.
  virtual Result<std::optional<TimePoint>> NextLearningReminder() = 0;
  // Returns how many reminders were applied (a stale `expected` is skipped).
  virtual void ApplyLearningWork(LearningWork work, Callback<int> done) = 0;
};

}  // namespace houston::store
