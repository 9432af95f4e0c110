// Store: houston's durable state (alerts, incidents, changes, org objects, tokens, audit).
//
// The interface every backend implements (SQLite now, PostgreSQL later). Writes are
// asynchronous and group-committed: a write's callback runs only after the transaction that
// holds it is durable, so an HTTP handler answers 2xx from inside that callback. Reads are
// synchronous and may run on any thread. Every state change writes an audit record in the
// same transaction as the change.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/incident.h"
#include "core/status.h"
#include "core/types.h"
#include "store/analytics_store.h"
#include "store/feed.h"
#include "store/incident_store.h"
#include "store/learning_store.h"
#include "store/opsgenie_store.h"

namespace houston::store {

// Who did something, for the audit log and timelines.
struct Actor {
  std::string type = "system";    // user | token | integration | system
  std::string id;                 // token name, integration key, ...
  std::string method = "system";  // api | cli | integration | system
};

// What an inbound alert event did.
struct EventOutcome {
  enum class Kind {
    kCreated,       // a new alert (and possibly a new incident) was opened
    kDeduplicated,  // folded into the open alert with the same dedup key
    kAcknowledged,  // an open alert moved to acknowledged
    kResolved,      // an open alert was resolved
    kUnchanged,     // valid, but nothing to change (e.g. ack of an acknowledged alert)
    kDropped,       // ack/resolve of an unknown or resolved key: accepted and dropped
  };
  Kind kind = Kind::kDropped;
  std::string dedup_key;  // the key used (generated for a keyless trigger)
  core::AlertId alert_id = 0;
  core::IncidentId incident_id = 0;
  bool incident_created = false;
};
std::string_view ToString(EventOutcome::Kind k);

struct AlertFilter {
  std::optional<core::AlertStatus> status;
  std::optional<std::string> service_id;
  std::optional<core::IncidentId> incident_id;
  std::optional<TimePoint> since;  // created_at >= since
  int64_t before_id = 0;           // cursor: only ids < before_id (0 = from the newest)
  int limit = 100;
};

struct IncidentFilter {
  std::optional<core::IncidentStatus> status;
  std::optional<std::string> service_id;  // the primary service
  std::optional<TimePoint> since;         // created_at >= since
  int64_t before_id = 0;
  int limit = 100;
  bool open_only = false;                 // status is not resolved
  std::optional<std::string> sev;         // this SEV level ("" = untriaged)
  bool declared_only = false;             // with a SEV (declared, or triaged from a page)
  std::optional<TimePoint> active_since;  // open, or resolved at/after this instant
};

struct ChangeFilter {
  std::optional<std::string> service_id;
  std::optional<TimePoint> since;
  int64_t before_id = 0;
  int limit = 100;
};

// What an audit record outside an incident's timeline records (incident records: TimelineKind).
// One string table: ToString gives the action as stored and shown ("alert.triggered"), and
// ParseAuditAction reads it back.
enum class AuditAction {
  kAlertTriggered,       // alert.triggered: an event opened an alert
  kAlertAcknowledged,    // alert.acknowledged
  kAlertResolved,        // alert.resolved
  kOrgApplied,           // org.applied: an org.yaml was applied
  kTokenCreated,         // token.created
  kTokenRevoked,         // token.revoked
  kOverrideCreated,      // schedule.override_created (also a swap)
  kCoverRequested,       // schedule.cover_requested
  kCoverAccepted,        // schedule.cover_accepted
  kOverrideCancelled,    // schedule.override_cancelled
  kUserPasswordSet,      // user.password_set
  kUserSignedIn,         // user.signed_in
  kUserSignInFailed,     // user.sign_in_failed
  kUserSignedOut,        // user.signed_out
  kUserSessionsRevoked,  // user.sessions_revoked
  kPostmortemCreated,    // postmortem.created: drafted (by policy or by hand)
  kPostmortemEdited,     // postmortem.edited: its human part or review status changed
  kPostmortemPublished,  // postmortem.published
  kPostmortemReopened,   // postmortem.reopened: published -> draft
  kPostmortemReminded,   // postmortem.reminded: past due, someone was reminded
  kActionItemCreated,    // action_item.created (also on its incident's timeline)
  kActionItemUpdated,    // action_item.updated
  kActionItemReminded,   // action_item.reminded: overdue, someone was reminded
};
std::string_view ToString(AuditAction a);
std::optional<AuditAction> ParseAuditAction(std::string_view action);

struct AuditRecord {
  int64_t id = 0;
  core::IncidentId incident_id = 0;  // the incident it belongs to (0 = none)
  TimePoint at{};
  Actor actor;
  std::string action;  // e.g. alert.triggered, alert.acknowledged, org.applied, token.created
  std::string resource_type;
  std::string resource_id;
  std::string details_json;
};

struct AuditFilter {
  std::optional<std::string> resource_type;
  std::optional<std::string> resource_id;
  int64_t before_id = 0;
  int limit = 100;
};

// One org-as-code object in canonical form (config::Flatten produces them).
struct OrgObject {
  std::string kind;
  std::string id;
  std::string spec_json;
  bool operator==(const OrgObject&) const = default;
};

struct OrgSnapshot {
  std::vector<OrgObject> objects;
  std::string source_yaml;              // the document last applied ("" if none)
  std::string source_name;              // where it came from: a file's absolute path, or a name
  std::optional<TimePoint> applied_at;  // when it was applied (nullopt if never)
};

using core::ParseRole;
using core::Role;
using core::ToString;

struct Token {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  std::string prefix;  // first characters of the token, to recognise it in listings
  TimePoint created_at{};
  std::optional<TimePoint> revoked_at;
};

// A heartbeat integration's monitoring state.
struct Heartbeat {
  std::string integration_key;
  std::string service_id;
  std::chrono::milliseconds interval{0};
  // nullopt until the first beat: a heartbeat is only watched once it has beaten, so a new one
  // (or the example org's, right after `make run`) is never overdue before anyone sends it.
  std::optional<TimePoint> last_beat_at;
  bool missed = false;            // an alert is open because a beat was missed
  std::string escalation_policy;  // the service's: a missed beat pages through it
};

// --- Paging (engine) -------------------------------------------------------------------------

// An incident's escalation, as the engine sees it. `state`:
//   new       just opened; the engine schedules the first step
//   active    the step at (step, loop) fires at due_at
//   acked     the incident was acknowledged; the engine decides (ack timeout or stop)
//   ack_wait  acknowledged; re-page at due_at if still acknowledged (ack timeout)
//   stopped   paging ended (suppressed, policy gone, acknowledged without timeout)
//   exhausted every step and repeat fired; nobody acknowledged
//   done      the incident was resolved
struct EscalationRow {
  core::IncidentId incident_id = 0;
  std::string policy_id;
  core::EscalationState state = core::EscalationState::kNew;
  int step = 0;
  int loop = 0;
  TimePoint due_at{};
  int64_t version = 0;  // bumped by every change; updates are conditional on it (fencing)
  core::Incident incident;
};

// One page to create: a user's contact method, not before `not_before`.
struct PageRequest {
  std::string user_id;
  std::string contact_method_id;
  std::string channel_type;
  TimePoint not_before{};
  std::string target;  // what led here, e.g. "schedule:payments-primary"
  int rule = 0;        // which of the user's notification rules (a method may be listed twice)
};

// The engine's decision for one escalation, applied only if its version is unchanged.
struct EscalationUpdate {
  core::IncidentId incident_id = 0;
  int64_t expected_version = 0;
  core::EscalationState state = core::EscalationState::kNew;  // the new state
  int step = 0;
  int loop = 0;
  std::optional<TimePoint> due_at;  // nullopt: nothing more to do
  // The step that fired (pages are recorded under it; step/loop above are the next one).
  int fired_step = 0;
  int fired_loop = 0;
  std::vector<PageRequest> pages;
  bool retrigger_incident = false;  // ack timeout: the incident goes back to triggered
  std::string audit_action;         // "" for none, e.g. "incident.escalated"
  std::string audit_details_json = "{}";
  // The engine's clock when it decided. If the write's clock is behind it (the wall clock was
  // stepped back in between), the pages' not_before moves back by as much, so a page due at once
  // is not held for the size of the step.
  std::optional<TimePoint> decided_at;
};

// A notification in the outbox. `state`: pending, sending, sent, failed (permanent), unknown
// (may or may not have arrived), cancelled (the incident was acknowledged or resolved before it
// was sent), dead (retries exhausted). `kind`: page (escalation), or an OutboxMessage kind.
struct Notification {
  int64_t id = 0;
  core::IncidentId incident_id = 0;
  std::string kind = "page";
  std::string payload_json = "{}";
  std::string user_id;
  std::string contact_method_id;
  std::string channel_type;
  int step = 0;
  int loop = 0;
  std::string target;
  core::NotificationState state = core::NotificationState::kPending;
  int attempts = 0;
  TimePoint created_at{};
  TimePoint not_before{};
  std::optional<TimePoint> sent_at;
  std::string last_error;
};

// Notifications claimed for one contact method, to be sent as one message (bundled).
struct ClaimedBatch {
  std::string kind = "page";  // as Notification::kind; only pages are bundled
  TimePoint claimed_at{};     // the claim's lease runs from here
  std::string user_id;
  std::string contact_method_id;
  std::string channel_type;
  std::vector<Notification> notifications;
  std::vector<core::Incident> incidents;  // one per distinct incident, same order
};

struct ClaimOptions {
  TimePoint now{};
  int limit = 100;
  // At most this many messages per contact method per minute; the rest wait (and bundle).
  int max_per_minute = 6;
  // A claim is a lease: a notification still "sending" this long after it was claimed (its
  // claimer died or stalled) goes back to pending and is claimed again, with the same message
  // id. Must be well over the send timeout.
  std::chrono::milliseconds lease{std::chrono::minutes(2)};
  // Notifications the claiming server is still sending itself: never taken back, whatever
  // their claim's age on the wall clock (a clock stepped forward would otherwise make a send
  // in flight look abandoned, and it would be sent twice).
  std::vector<int64_t> in_flight;
};

// A claimed notification: its id and the attempt number of the claim (the fencing token: the
// outcome of a claim that was taken over is ignored).
struct ClaimRef {
  int64_t id = 0;
  int attempt = 0;
};

// The outcome of sending one batch.
struct SendResult {
  // kSent, kPending (retry at retry_at), kFailed, kUnknown or kDead.
  core::NotificationState state = core::NotificationState::kSent;
  std::string detail;
  std::optional<TimePoint> retry_at;  // with "pending"
};

struct NotificationFilter {
  std::optional<core::NotificationState> state;
  std::optional<core::IncidentId> incident_id;
  std::optional<int64_t> batch_id;  // the notifications sent together as one message
  int64_t before_id = 0;
  int limit = 100;
  std::optional<std::string> user_id;  // a person's ("" for webhooks and audience subscribers)
  // Only those in trouble: failed, dead or unknown, or being retried after a failed attempt.
  bool problems_only = false;
};

// An on-call override made through the API (org.yaml overrides live in the org). kind:
// override (one person takes a time range), swap (created in sets, atomically) or cover (asked
// for by `requested_by`, with no user until someone accepts). state: active, requested, cancelled.
struct ScheduleOverride {
  int64_t id = 0;
  std::string schedule_id;
  std::string user_id;  // "" while a cover request is open
  TimePoint start{};
  TimePoint end{};
  std::string kind = "override";
  core::OverrideState state = core::OverrideState::kActive;
  std::string requested_by;
  std::string note;
  std::string created_by;
  TimePoint created_at{};
};

// --- Running incidents ------------------------------------------------------------------------

// An incident declared by a person (or opened by a split).
struct NewIncident {
  std::string title;
  std::string sev;                    // a SEV level id ("" = untriaged)
  std::vector<std::string> services;  // non-empty; the first is the primary service
  core::Severity severity = core::Severity::kCritical;
  std::string summary;
  std::string public_title;
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::string>> roles;  // (role, user)
  std::vector<std::string> responders;
  std::optional<TimePoint> impact_started_at;  // default: now
  // Paging: the primary service's escalation policy starts unless `page` is false.
  bool page = true;
  std::string escalation_policy;
  std::optional<std::chrono::minutes> first_step_delay;
};

// A change to an incident's fields; unset fields stay as they are.
struct IncidentPatch {
  std::optional<std::string> title;
  std::optional<std::string> sev;
  std::optional<std::string> summary;
  std::optional<std::string> public_title;
  std::optional<std::vector<std::string>> services;  // replaces the list; first = primary
  std::vector<std::string> add_tags, remove_tags;
  // Replaces the tags with these (applied before add_tags/remove_tags), decided on the stored
  // tags inside the write.
  std::optional<std::vector<std::string>> tags;
  std::vector<std::pair<std::string, std::string>> set_roles;  // (role, user); "" unassigns
  std::vector<std::string> add_responders, remove_responders;
  // The impact window; an inner nullopt clears the time.
  std::optional<std::optional<TimePoint>> impact_started_at, detected_at, mitigated_at, resolved_at;
  std::string reason;  // why (shown on the timeline), e.g. the rule that raised the SEV
  bool empty() const {
    return !title && !sev && !summary && !public_title && !services && !tags && add_tags.empty() &&
           remove_tags.empty() && set_roles.empty() && add_responders.empty() &&
           remove_responders.empty() && !impact_started_at && !detected_at && !mitigated_at &&
           !resolved_at;
  }
};

// One status update, written once and rendered per audience.
struct StatusUpdate {
  int64_t id = 0;
  core::IncidentId incident_id = 0;
  TimePoint at{};
  std::string author;                       // who published it (token or user name)
  std::string via;                          // api | cli | ui
  std::string phase;                        // investigating | identified | monitoring | resolved
  std::string fields_json = "{}";           // the fields as the author wrote them
  std::vector<core::Rendering> renderings;  // one per audience it was published to
};

struct StatusUpdateFilter {
  std::optional<core::IncidentId> incident_id;
  std::optional<TimePoint> since;
  int64_t before_id = 0;
  int limit = 100;
};

// An entry on an incident's timeline: an audit record, pinned or not.
struct TimelineEntry {
  AuditRecord record;
  bool pinned = false;
};

// A message that the incident fan-out puts in the outbox. `kind`:
//   role      a role was assigned to / a responder added: pages that person
//   reminder  a status update is overdue: reminds the communications lead
//   update    a status update, to one subscriber of an audience
//   webhook   an incident event, to an outbound incident webhook
// user_id/contact_method_id identify the destination: a user's contact method, or ("",
// "audience:<audience>/<subscriber>") or ("", "webhook:<id>").
struct OutboxMessage {
  core::IncidentId incident_id = 0;
  std::string kind;
  std::string ref;  // unique per message of a kind and destination, e.g. "audit:123"
  std::string user_id;
  std::string contact_method_id;
  std::string channel_type;
  std::string target;  // what led here, e.g. "role:commander"
  int rule = 0;
  TimePoint not_before{};
  std::string payload_json = "{}";  // what the dispatcher needs to build the message
};

// The incident fan-out's decisions for a batch of audit records and due reminders.
struct FanoutWork {
  std::vector<int64_t> processed;  // audit ids now handled
  std::vector<OutboxMessage> messages;
  struct SevRaise {  // applied only if the incident's SEV is still `expected`
    core::IncidentId incident_id = 0;
    std::string expected;
    std::string sev;
    std::string reason;  // e.g. "rule tier1-critical: ..."
  };
  std::vector<SevRaise> sev_raises;
  struct Due {  // sets update_due_at, only if it is still `expected`
    core::IncidentId incident_id = 0;
    std::optional<TimePoint> expected;
    std::optional<TimePoint> due;
    std::string audit_action;  // "" for none, e.g. "incident.update_overdue"
    std::string audit_details_json = "{}";
  };
  std::vector<Due> dues;
};

// Counters a backend exposes for /metrics. Thread-safe snapshot.
struct StoreStats {
  uint64_t commits = 0;
  uint64_t committed_writes = 0;
  uint64_t failed_commits = 0;
  size_t queue_depth = 0;
  size_t queue_capacity = 0;
};

// Called after every commit with its latency and batch size (for metrics).
using CommitObserver = std::function<void(std::chrono::microseconds latency, size_t batch_size)>;

// What the writes of one commit did, counted (for metrics), by event: "incident.opened",
// "incident.acknowledged", "incident.mitigated", "incident.resolved", "incident.reopened",
// "escalation.step_fired", "page.created" (an escalation page in the outbox),
// "heartbeat.missed". Only
// committed writes count, each once, whichever server made them.
using EventCounts = std::map<std::string, int64_t, std::less<>>;
using EventObserver = std::function<void(const EventCounts& events)>;
// Called after a commit that recorded change feed entries (store/feed.h), with how many.
using FeedObserver = std::function<void(int64_t entries)>;

// One step of retention's sweep (AlertStore::PruneResolvedAlerts).
struct PruneStep {
  int deleted = 0;  // alerts this step deleted
  // The last alert id the step looked at, where the next step starts; 0 when the step reached
  // the end of the old alerts (the sweep is over: the next one starts from the beginning).
  core::AlertId scanned_through = 0;
};

// What is waiting, counted for gauges (cheap: index scans).
struct OpenWork {
  std::map<std::string, int64_t> incidents_by_status;  // open ones: triggered, acknowledged,
                                                       // mitigated (each present, maybe 0)
  int64_t notifications_pending = 0;                   // in the outbox, not sent yet
  int64_t notifications_due = 0;                       // of those, due now (not_before <= now)
};

// --- Sign-in (auth) ---------------------------------------------------------------------------

// A person's signed-in session. Only the hash of its secret id is stored (auth::SessionHash).
struct Session {
  int64_t id = 0;
  std::string user_id;
  std::string client;  // the address it was signed in from
  TimePoint created_at{};
  TimePoint last_seen_at{};
  TimePoint idle_expires_at{};  // it ends if unused until then (TouchSession moves it on)
  TimePoint expires_at{};       // it ends then, used or not
  std::optional<TimePoint> revoked_at;
};

// What signing in needs from the database: users' password hashes and their sessions. Every
// write records its audit entry in the same transaction. Secrets never reach the audit log.
// Thread-safe.
class AuthStore {
 public:
  virtual ~AuthStore() = default;
  // Sets (or replaces) the password hash of `user_id` and revokes the user's live sessions, in
  // one transaction (audit user.password_set). Returns how many sessions were revoked.
  virtual void SetPassword(std::string user_id, std::string password_hash, Actor actor,
                           Callback<int> done) = 0;
  // NotFound if the user has no password.
  virtual Result<std::string> GetPasswordHash(const std::string& user_id) = 0;
  // Stores a new session under the hash of its secret id (audit user.signed_in), and deletes the
  // user's sessions that had already ended. Returns it with its id. AlreadyExists if the hash is
  // taken.
  virtual void CreateSession(Session session, std::string session_hash, Actor actor,
                             Callback<Session> done) = 0;
  // The session stored under this hash, revoked or ended ones included (the caller decides).
  // NotFound if there is none.
  virtual Result<Session> FindSessionByHash(const std::string& session_hash) = 0;
  // Records that a session was used at `at`: last_seen_at = at and its idle expiry moves to
  // `idle_expires_at` (never past its absolute expiry). No audit. Returns rows changed (0 when
  // the session is gone or revoked).
  virtual void TouchSession(int64_t id, TimePoint at, TimePoint idle_expires_at,
                            Callback<int> done) = 0;
  // Deletes a session (signing out; audit user.signed_out). NotFound if there is none.
  virtual void DeleteSession(int64_t id, Actor actor, Callback<Session> done) = 0;
  // Revokes every live session of `user_id` (audit user.sessions_revoked, also when there were
  // none). Returns how many were revoked.
  virtual void RevokeUserSessions(std::string user_id, Actor actor, Callback<int> done) = 0;
  // Writes one audit record that goes with no other change (e.g. a failed sign-in). Returns its
  // id.
  virtual void RecordAudit(Actor actor, std::string action, std::string resource_type,
                           std::string resource_id, std::string details_json,
                           Callback<int64_t> done) = 0;
};

// The store is one object behind narrow interfaces, one per role: each consumer depends only on
// the interface it uses. Writes are asynchronous: `done` runs after durable commit (or with the
// error); when the write queue is full, `done` runs at once, on the caller's thread, with
// ResourceExhausted. Reads are synchronous.

// Alerts and the events that make them (intake), and change events. Thread-safe.
class AlertStore {
 public:
  virtual ~AlertStore() = default;

  // Applies inbound events in order, atomically (all or none). A keyless trigger gets a
  // generated UUID dedup key, returned in its outcome.
  virtual void ApplyAlertEvents(std::vector<core::AlertEvent> events, Actor actor,
                                Callback<std::vector<EventOutcome>> done) = 0;
  virtual void RecordChange(core::ChangeEvent event, Callback<core::Change> done) = 0;
  // NotFound if there is no such alert; FailedPrecondition if it is resolved (ack) .
  virtual void AcknowledgeAlert(core::AlertId id, Actor actor, Callback<core::Alert> done) = 0;
  // NotFound if there is no such alert. Resolving a resolved alert is FailedPrecondition.
  virtual void ResolveAlert(core::AlertId id, Actor actor, Callback<core::Alert> done) = 0;
  virtual Result<core::Alert> GetAlert(core::AlertId id) = 0;
  virtual Result<std::vector<core::Alert>> ListAlerts(const AlertFilter& f) = 0;
  virtual Result<std::vector<core::Change>> ListChanges(const ChangeFilter& f) = 0;
  virtual Result<core::Change> GetChange(int64_t id) = 0;

  // Alerts that resolve by time (AlertEvent::expires_at, e.g. a Prometheus alert's endsAt).
  // Resolves, exactly as a resolve event would (its incident resolves when it was the last open
  // alert, escalation stops), every open alert whose expires_at is at or before `now`: at most
  // `limit` of them, earliest first. Safe with several servers on one database: each alert is
  // resolved by one of them only. Returns how many this call resolved.
  virtual void ExpireAlerts(TimePoint now, int limit, Callback<int> done) = 0;
  // The earliest expires_at of an open alert (nullopt: none will expire).
  virtual Result<std::optional<TimePoint>> NextAlertExpiry() = 0;

  // Retention (intake::AlertRetention): one step of a sweep over the alerts old enough to go.
  // Looks at no more than `limit` of the alerts created before `resolved_before` whose ids are
  // above `after`, in id order, and deletes those that resolved before it and whose incident is
  // resolved too, in this one write. The others (an old alert of a still open incident) are
  // passed over: the sweep goes on after them, so each step's work is bounded however many old
  // alerts are kept. What stays: the incident (with its alert count), its timeline and audit
  // records, and the noise report's roll-ups (only alerts the roll-up has folded are deleted). A
  // call that deletes any writes one audit record, alerts.pruned, with the count and the cutoff.
  virtual void PruneResolvedAlerts(TimePoint resolved_before, core::AlertId after, int limit,
                                   Callback<PruneStep> done) = 0;
};

// The org (org-as-code objects and the document they came from) and shared server secrets.
// Thread-safe.
class OrgStore {
 public:
  virtual ~OrgStore() = default;

  // Replaces the org objects with `objects` (diffed inside the transaction), records the
  // source document and the heartbeat integrations to watch (a new one is watched from now;
  // an existing one keeps its last beat). Returns how many objects changed.
  virtual void ApplyOrg(std::vector<OrgObject> objects, std::vector<Heartbeat> heartbeats,
                        std::string source_yaml, std::string source_name, Actor actor,
                        Callback<int> done) = 0;
  virtual Result<OrgSnapshot> LoadOrg() = 0;
  // When the org was last applied (nullopt if never): a cheap read that servers poll to pick up
  // an org that `houston apply` (or another server) wrote to the database.
  virtual Result<std::optional<TimePoint>> OrgAppliedAt() = 0;
  // The secret called `name` that every server on this database shares: the stored one, or
  // `candidate` stored now if there is none yet (the first server to start wins).
  virtual void SharedSecret(std::string name, std::string candidate,
                            Callback<std::string> done) = 0;
};

// Heartbeat integrations: beats in, overdue ones opened as alerts. Thread-safe.
class HeartbeatStore {
 public:
  virtual ~HeartbeatStore() = default;

  // Records a beat; resolves the heartbeat's open alert if one was missed.
  virtual void RecordHeartbeat(std::string integration_key, Callback<Heartbeat> done) = 0;
  // Opens an alert for every heartbeat whose last beat is older than its interval at `now`.
  // Returns how many were newly missed.
  virtual void CheckHeartbeats(TimePoint now, Callback<int> done) = 0;
  virtual Result<std::vector<Heartbeat>> ListHeartbeats() = 0;
  // The earliest instant at which a watched heartbeat becomes overdue, if any.
  virtual Result<std::optional<TimePoint>> NextHeartbeatDeadline() = 0;
};

// API tokens (only their hashes). Thread-safe.
class TokenStore {
 public:
  virtual ~TokenStore() = default;

  virtual void CreateToken(std::string name, Role role, std::string token_hash, std::string prefix,
                           Actor actor, Callback<Token> done) = 0;
  // Revokes a token: it stops working at once. NotFound / FailedPrecondition (already revoked).
  virtual void RevokeToken(int64_t id, Actor actor, Callback<Token> done) = 0;
  // NotFound if no live token has this hash.
  virtual Result<Token> FindTokenByHash(const std::string& token_hash) = 0;
  // Every token, revoked ones included, oldest first (never the secret).
  virtual Result<std::vector<Token>> ListTokens() = 0;
};

// Escalations: what the escalation engine decides, and what is due. Thread-safe.
class EscalationStore {
 public:
  virtual ~EscalationStore() = default;

  // Applies the engine's decisions; each only if the escalation's version still matches.
  // Pages are created at most once per (incident, loop, step, user, contact method).
  // Returns how many updates were applied.
  virtual void UpdateEscalations(std::vector<EscalationUpdate> updates, Callback<int> done) = 0;
  // Escalations due at `now` (including new and acknowledged ones the engine must look at).
  // A new one is listed whatever its due time: if the wall clock was stepped back since its
  // incident was opened, its first step must not wait for the clock to catch up.
  virtual Result<std::vector<EscalationRow>> ListDueEscalations(TimePoint now, int limit) = 0;
  virtual Result<std::optional<TimePoint>> NextEscalationDue() = 0;
  virtual Result<std::optional<EscalationRow>> GetEscalation(core::IncidentId id) = 0;
};

// The notification outbox: claims (leases), outcomes, recovery. Thread-safe.
class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  // Claims due pending notifications, grouped per contact method, and marks them sending (each
  // claim is a lease, see ClaimOptions::lease; expired leases are taken back first). Several
  // servers may claim at once: a row is claimed by one of them only. In the same transaction,
  // a page whose incident is no longer triggered is cancelled instead (nobody is paged for an
  // incident already acknowledged or resolved).
  virtual void ClaimNotifications(ClaimOptions options,
                                  Callback<std::vector<ClaimedBatch>> done) = 0;
  // Records how sending a batch went; a claim that was taken over (its attempt is no longer the
  // row's) is left alone. Returns how many rows changed.
  virtual void CompleteNotifications(std::vector<ClaimRef> claims, SendResult result,
                                     Callback<int> done) = 0;
  // After a crash of the only server: notifications left in "sending" go back to "pending" and
  // are sent again with the same message id (receivers deduplicate on it): at least once, at
  // most one duplicate per crash. (A send that timed out while houston ran stays "unknown".)
  // With several servers on one database, leases do this instead (ClaimOptions::lease).
  virtual void RecoverInterruptedSends(Callback<int> done) = 0;
  // The earliest instant a notification can be claimed: a pending one's not_before, or when a
  // claim still "sending" runs out of its `lease`.
  virtual Result<std::optional<TimePoint>> NextNotificationDue(std::chrono::milliseconds lease) = 0;
  virtual Result<std::vector<Notification>> ListNotifications(const NotificationFilter& f) = 0;
};

// Schedule overrides, swaps and cover requests made through the API. Thread-safe.
class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;

  // Creates overrides atomically (a swap is two). Returns them with ids.
  virtual void CreateOverrides(std::vector<ScheduleOverride> overrides, Actor actor,
                               Callback<std::vector<ScheduleOverride>> done) = 0;
  // Accepts an open cover request for `user_id` (state requested -> active), or cancels an
  // override (user_id nullopt). NotFound / FailedPrecondition (already cancelled, not open).
  virtual void UpdateOverride(int64_t id, std::optional<std::string> accept_user, Actor actor,
                              Callback<ScheduleOverride> done) = 0;
  // Overrides not cancelled that end after `ending_after` ("" schedule: all schedules).
  virtual Result<std::vector<ScheduleOverride>> ListOverrides(const std::string& schedule_id,
                                                              TimePoint ending_after) = 0;
};

// The incident fan-out: timeline records it has yet to act on, and status-update
// reminders. Thread-safe.
class FanoutStore {
 public:
  virtual ~FanoutStore() = default;

  // Applies the fan-out's decisions in one transaction.
  virtual void ApplyFanout(FanoutWork work, Callback<int> done) = 0;
  // Audit records the fan-out has not handled yet, oldest first.
  virtual Result<std::vector<AuditRecord>> ListPendingFanout(int limit) = 0;
  // Open incidents whose status update is due at `now`, and the earliest due time of any.
  virtual Result<std::vector<core::Incident>> ListDueReminders(TimePoint now, int limit) = 0;
  virtual Result<std::optional<TimePoint>> NextReminderDue() = 0;
};

// The audit log. Thread-safe.
class AuditStore {
 public:
  virtual ~AuditStore() = default;

  virtual Result<std::vector<AuditRecord>> ListAudit(const AuditFilter& f) = 0;
};

// The change feed (store/feed.h): every write records what it changed, in its own transaction.
// Thread-safe.
class FeedStore {
 public:
  virtual ~FeedStore() = default;

  // Entries after sequence number `after`, oldest first, `limit` at most.
  virtual Result<std::vector<FeedEntry>> ReadFeed(int64_t after, int limit) = 0;
  virtual Result<FeedBounds> ReadFeedBounds() = 0;
  // Deletes what `retention` no longer keeps; returns how many entries. The store also prunes by
  // itself (with FeedRetention's defaults) on its writer thread as the feed grows.
  virtual void PruneFeed(FeedRetention retention, Callback<int64_t> done) = 0;
};

// The whole store: every role above, running incidents, and the store's own upkeep.
// Thread-safe: every method may be called from any thread.
class Store : public AlertStore,
              public AuthStore,
              public IncidentStore,
              public OrgStore,
              public HeartbeatStore,
              public TokenStore,
              public EscalationStore,
              public OutboxStore,
              public ScheduleStore,
              public FanoutStore,
              public FeedStore,
              public AuditStore,
              public LearningStore,
              public AnalyticsStore,
              public OpsgenieStore {
 public:
  virtual ~Store() = default;

  // --- Running incidents: IncidentStore (store/incident_store.h); lists of them here.
  virtual Result<std::vector<core::Incident>> ListIncidents(const IncidentFilter& f) = 0;

  // --- The store's own upkeep.

  // Open incidents by status and the outbox's pending and due notifications at `now`.
  virtual Result<OpenWork> CountOpenWork(TimePoint now) = 0;
  // OK when the database can be used now; Unavailable (with why) when it cannot be reached or
  // cannot store writes (e.g. its disk is full).
  virtual Status Ready() { return OkStatus(); }
  virtual StoreStats Stats() const = 0;
  // Finishes queued writes (their callbacks run), then refuses new ones with Unavailable.
  virtual void Shutdown() = 0;
};

// Runs an asynchronous store write and waits for its result (for the CLI and tests; never on
// an I/O thread).
template <typename T, typename Start>
Result<T> Wait(Start&& start) {
  std::promise<Result<T>> p;
  auto f = p.get_future();
  start([&p](Result<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace houston::store
