// SqlStore: the Store on a SQL database, written once for SQLite and PostgreSQL (through the
// seam in store/sql/db.h). The backends (SqliteStore, PostgresStore) only open connections and
// supply the schema.
//
// One writer thread owns the write connection and group-commits: every write queued while the
// previous transaction was being made durable goes into the next transaction (one fsync or one
// PostgreSQL commit for all of them); if one write fails, the batch is replayed with a savepoint
// per write so that it does not fail its neighbours. Reads use a small pool of connections and
// never wait for the writer. Several processes may share one PostgreSQL database: every
// invariant rests on unique constraints and conditional updates, not on this process being the
// only writer.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "secrets/secrets.h"
#include "store/sql/db.h"
#include "store/store.h"

namespace houston::store::sql {

struct SqlStoreOptions {
  // Opens a new connection (a writer, or a reader when `read_only`).
  std::function<Result<std::unique_ptr<Db>>(bool read_only)> connect;
  size_t queue_capacity = 65536;  // queued writes beyond this are refused (ResourceExhausted)
  size_t max_batch = 8192;        // writes per transaction at most
  size_t max_idle_readers = 16;
  Clock* clock = &RealClock();
  CommitObserver on_commit;  // optional
  EventObserver on_events;   // optional: after a commit that counted events
  FeedObserver on_feed;      // optional: after a commit that recorded feed entries
  // Runs inside every write transaction that changed rows, just before COMMIT (e.g. NOTIFY the
  // other servers, which PostgreSQL delivers only if the transaction commits). If it fails,
  // nothing commits.
  std::function<Status(Db&)> before_commit;
  // Seals the secrets the store keeps (store/sql/secrets_at_rest.h); null: stored as given.
  std::shared_ptr<const secrets::Keyring> keyring;
  // The key of `keyring` the event tables' integration keys are sealed under
  // (SecretsSummary::event_key_id); "": stored in clear.
  std::string event_key_id;
};

// Thread-safe.
class SqlStore : public Store {
 public:
  ~SqlStore() override;

  void ApplyAlertEvents(std::vector<core::AlertEvent> events, Actor actor,
                        Callback<std::vector<EventOutcome>> done) override;
  void RecordChange(core::ChangeEvent event, Callback<core::Change> done) override;
  void AcknowledgeAlert(core::AlertId id, Actor actor, Callback<core::Alert> done) override;
  void ResolveAlert(core::AlertId id, Actor actor, Callback<core::Alert> done) override;
  void ExpireAlerts(TimePoint now, int limit, Callback<int> done) override;
  void PruneResolvedAlerts(TimePoint resolved_before, core::AlertId after, int limit,
                           Callback<PruneStep> done) override;
  Result<std::optional<TimePoint>> NextAlertExpiry() override;
  void ApplyOrg(std::vector<OrgObject> objects, std::vector<Heartbeat> heartbeats,
                std::string source_yaml, std::string source_name, Actor actor,
                Callback<int> done) override;
  void RecordHeartbeat(std::string integration_key, Callback<Heartbeat> done) override;
  void CheckHeartbeats(TimePoint now, Callback<int> done) override;
  void CreateToken(std::string name, Role role, std::string token_hash, std::string prefix,
                   Actor actor, Callback<Token> done) override;

  Result<core::Alert> GetAlert(core::AlertId id) override;
  Result<std::vector<core::Alert>> ListAlerts(const AlertFilter& f) override;
  Result<core::Incident> GetIncident(core::IncidentId id) override;
  Result<std::vector<core::Incident>> ListIncidents(const IncidentFilter& f) override;
  Result<std::vector<core::Change>> ListChanges(const ChangeFilter& f) override;
  Result<std::vector<AuditRecord>> ListAudit(const AuditFilter& f) override;
  Result<OrgSnapshot> LoadOrg() override;
  Result<std::optional<TimePoint>> OrgAppliedAt() override;
  Result<Token> FindTokenByHash(const std::string& token_hash) override;
  Result<std::vector<Token>> ListTokens() override;
  void RevokeToken(int64_t id, Actor actor, Callback<Token> done) override;
  Result<std::vector<Heartbeat>> ListHeartbeats() override;
  Result<std::optional<TimePoint>> NextHeartbeatDeadline() override;

  void DeclareIncident(NewIncident incident, Actor actor, Callback<core::Incident> done) override;
  void TransitionIncident(core::IncidentId id, core::IncidentAction action, Actor actor,
                          Callback<core::Incident> done) override;
  void TransitionIncidentInEpisode(core::IncidentId id, core::IncidentAction action,
                                   int64_t episode, std::string link_id, Actor actor,
                                   Callback<core::Incident> done) override;
  void UpdateIncident(core::IncidentId id, IncidentPatch patch, Actor actor,
                      Callback<core::Incident> done) override;
  void AddNote(core::IncidentId id, std::string text, Actor actor,
               Callback<AuditRecord> done) override;
  void AddTimelineNote(core::IncidentId id, std::string text, bool pinned, Actor actor,
                       Callback<TimelineEntry> done) override;
  void PinEntry(core::IncidentId id, int64_t entry_id, bool pinned, Actor actor,
                Callback<TimelineEntry> done) override;
  void LinkChange(core::IncidentId id, int64_t change_id, Actor actor,
                  Callback<core::Change> done) override;
  void PublishStatusUpdate(StatusUpdate update, Actor actor, Callback<StatusUpdate> done) override;
  void PublishStatusUpdateFor(StatusUpdate update, core::Incident seen, Actor actor,
                              Callback<StatusUpdate> done) override;
  void MergeIncidents(core::IncidentId source, core::IncidentId target, Actor actor,
                      Callback<core::Incident> done) override;
  void SplitIncident(core::IncidentId source, std::vector<core::AlertId> alerts,
                     NewIncident incident, Actor actor, Callback<core::Incident> done) override;
  void ApplyFanout(FanoutWork work, Callback<int> done) override;
  Result<std::vector<TimelineEntry>> ListTimeline(core::IncidentId id) override;
  Result<std::vector<StatusUpdate>> ListStatusUpdates(const StatusUpdateFilter& f) override;
  Result<core::Change> GetChange(int64_t id) override;
  Result<std::vector<AuditRecord>> ListPendingFanout(int limit) override;
  Result<std::vector<core::Incident>> ListDueReminders(TimePoint now, int limit) override;
  Result<std::optional<TimePoint>> NextReminderDue() override;
  void UpdateEscalations(std::vector<EscalationUpdate> updates, Callback<int> done) override;
  void ClaimNotifications(ClaimOptions options, Callback<std::vector<ClaimedBatch>> done) override;
  void CompleteNotifications(std::vector<ClaimRef> claims, SendResult result,
                             Callback<int> done) override;
  void RecoverInterruptedSends(Callback<int> done) override;
  void SharedSecret(std::string name, std::string candidate, Callback<std::string> done) override;
  Result<std::vector<EscalationRow>> ListDueEscalations(TimePoint now, int limit) override;
  Result<std::optional<TimePoint>> NextEscalationDue() override;
  Result<std::optional<TimePoint>> NextNotificationDue(std::chrono::milliseconds lease) override;
  Result<std::vector<Notification>> ListNotifications(const NotificationFilter& f) override;
  Result<std::optional<EscalationRow>> GetEscalation(core::IncidentId id) override;
  void CreateOverrides(std::vector<ScheduleOverride> overrides, Actor actor,
                       Callback<std::vector<ScheduleOverride>> done) override;
  void UpdateOverride(int64_t id, std::optional<std::string> accept_user, Actor actor,
                      Callback<ScheduleOverride> done) override;
  Result<std::vector<ScheduleOverride>> ListOverrides(const std::string& schedule_id,
                                                      TimePoint ending_after) override;
  Result<OpenWork> CountOpenWork(TimePoint now) override;
  Result<std::vector<FeedEntry>> ReadFeed(int64_t after, int limit) override;
  Result<FeedBounds> ReadFeedBounds() override;
  void PruneFeed(FeedRetention retention, Callback<int64_t> done) override;

  // Postmortems, action items and their reminders (store/sql/learning.cc).
  void CreatePostmortem(NewPostmortem p, Actor actor, Callback<Postmortem> done) override;
  void EditPostmortem(core::IncidentId id, PostmortemEdit edit, Actor actor,
                      Callback<Postmortem> done) override;
  void PublishPostmortem(core::IncidentId id, std::string computed_json,
                         std::optional<int64_t> expected_version, Actor actor,
                         Callback<Postmortem> done) override;
  void ReopenPostmortem(core::IncidentId id, Actor actor, Callback<Postmortem> done) override;
  Result<Postmortem> GetPostmortem(core::IncidentId id) override;
  Result<std::vector<Postmortem>> ListPostmortems(const PostmortemFilter& f) override;
  void CreateActionItem(ActionItem item, Actor actor, Callback<ActionItem> done) override;
  void UpdateActionItem(int64_t id, ActionItemPatch patch, Actor actor,
                        Callback<ActionItem> done) override;
  Result<ActionItem> GetActionItem(int64_t id) override;
  Result<std::vector<ActionItem>> ListActionItems(const ActionItemFilter& f) override;
  Result<std::vector<core::Incident>> ListIncidentsNeedingPostmortem(
      const std::vector<std::string>& sevs, TimePoint since, int limit) override;
  Result<std::vector<Postmortem>> ListDuePostmortemReminders(TimePoint now, int limit) override;
  Result<std::vector<ActionItem>> ListDueActionItemReminders(TimePoint now, int limit) override;
  Result<std::optional<TimePoint>> NextLearningReminder() override;
  void ApplyLearningWork(LearningWork work, Callback<int> done) override;

  // The Opsgenie-compatible Alert API (store/sql/opsgenie.cc).
  void ApplyOpsgenieRequest(OpsgenieRequest request, TimePoint received_at, Actor actor,
                            Callback<OpsgenieRequestStatus> done) override;
  Result<OpsgenieRequestStatus> GetOpsgenieRequest(const std::string& request_id) override;
  Result<std::optional<core::Alert>> FindOpenAlertByAlias(const std::string& integration_key,
                                                          const std::string& alias) override;
  Result<std::vector<core::Alert>> ListOpsgenieAlerts(const OpsgenieAlertQuery& q) override;

  // Sign-in (store/sql/auth.cc).
  void SetPassword(std::string user_id, std::string password_hash, Actor actor,
                   Callback<int> done) override;
  Result<std::string> GetPasswordHash(const std::string& user_id) override;
  void CreateSession(Session session, std::string session_hash, Actor actor,
                     Callback<Session> done) override;
  Result<Session> FindSessionByHash(const std::string& session_hash) override;
  void TouchSession(int64_t id, TimePoint at, TimePoint idle_expires_at,
                    Callback<int> done) override;
  void DeleteSession(int64_t id, Actor actor, Callback<Session> done) override;
  void RevokeUserSessions(std::string user_id, Actor actor, Callback<int> done) override;
  void RecordAudit(Actor actor, std::string action, std::string resource_type,
                   std::string resource_id, std::string details_json,
                   Callback<int64_t> done) override;

  // Analytics (store/sql/analytics.cc).
  Result<std::vector<IncidentStatsRow>> IncidentStats(const IncidentStatsQuery& q) override;
  Result<std::vector<SlowIncident>> SlowestIncidents(TimePoint from, TimePoint to, SlowBy by,
                                                     const std::vector<std::string>& services,
                                                     int limit) override;
  Status ForEachPageSlot(TimePoint from, TimePoint to,
                         const std::function<void(const PageSlot&)>& fn) override;
  Result<std::vector<HandledCount>> IncidentsHandled(
      TimePoint from, TimePoint to, const std::vector<std::string>& users) override;
  Result<NoiseReport> Noise(const NoiseQuery& q) override;
  void RollUpNoise(TimePoint now, int max_alerts,
                   std::function<void(Result<int64_t>)> done) override;
  Result<std::pair<int64_t, std::vector<OverdueActionItem>>> OverdueActionItems(
      TimePoint now, const std::vector<std::string>& services, int limit) override;
  Result<std::pair<int64_t, std::vector<OverduePostmortem>>> OverduePostmortems(
      TimePoint now, const std::vector<std::string>& services, int limit) override;
  Result<ResponderRecord> RecordOf(const std::string& user, TimePoint from, TimePoint to) override;

  // Unavailable while the database cannot store writes: from a write that failed for a full
  // disk or an I/O error until one that changed rows commits again. Meanwhile each call queues a
  // small probe write (one at a time), so that the store notices when the disk has room again
  // even if nothing else writes.
  Status Ready() override;
  StoreStats Stats() const override;
  void Shutdown() override;

 protected:
  explicit SqlStore(SqlStoreOptions options) : options_(std::move(options)) {}
  // Takes the writer connection (already migrated) and starts the writer thread.
  void StartWriter(std::unique_ptr<Db> writer);
  // How this store's connections store the event tables' integration keys.
  EventKeys EventKeysCodec() const;
  // Borrows a read connection for the duration of `fn(Db&)`.
  template <typename F>
  auto WithReader(F&& fn) -> decltype(fn(std::declval<Db&>()));

 private:
  // A queued write: `apply` runs inside the batch transaction (in its own savepoint);
  // `finish` runs after the commit with the commit's status (or apply's error).
  struct WriteOp {
    std::function<Status(Db&)> apply;
    std::function<void(Status)> finish;
  };

  template <typename T>
  void Submit(std::function<Result<T>(Db&)> work, Callback<T> done);
  void Enqueue(WriteOp op);
  void WriterLoop();
  void RunBatch(std::vector<WriteOp>& batch);
  // After a batch: a storage fault met on `db` marks the store unwritable; a batch that
  // `stored` rows (committed with changes) marks it writable again.
  void NoteWriteOutcome(Db& db, bool stored);
  // After a commit that wrote `rows` feed entries: queues a prune once enough were written, or
  // a while after the last one (writer thread only).
  void MaybePruneFeed(int64_t rows);

  SqlStoreOptions options_;
  std::unique_ptr<Db> writer_db_;  // owned by the writer thread after StartWriter()

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteOp> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  StoreStats stats_;           // guarded by mu_
  std::string unwritable_;     // why writes fail ("" when they work); guarded by mu_
  bool probing_ = false;       // a probe write is queued; guarded by mu_
  // Feed rows written since the last prune, and when that was (writer thread only).
  int64_t feed_since_prune_ = 0;
  SteadyPoint last_feed_prune_{};
  std::thread writer_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Db>> idle_readers_;  // guarded by readers_mu_
};

// ---- template definitions (used by every source file of SqlStore)

template <typename T>
void SqlStore::Submit(std::function<Result<T>(Db&)> work, Callback<T> done) {
  // Shared between apply (writer thread, inside the transaction) and finish (after commit).
  auto result = std::make_shared<std::optional<Result<T>>>();
  Enqueue(WriteOp{[work = std::move(work), result](Db& db) -> Status {
                    *result = work(db);
                    return result->value().has_value() ? OkStatus() : result->value().error();
                  },
                  [done = std::move(done), result](Status st) {
                    if (!st.ok()) {
                      done(std::unexpected(std::move(st)));
                    } else {
                      done(std::move(result->value()));
                    }
                  }});
}

template <typename F>
auto SqlStore::WithReader(F&& fn) -> decltype(fn(std::declval<Db&>())) {
  std::unique_ptr<Db> db;
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!db) {
    auto opened = options_.connect(true);
    if (!opened) return std::unexpected(opened.error());
    db = std::move(*opened);
    db->SetEventKeys(EventKeysCodec());
  }
  auto result = fn(*db);
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < options_.max_idle_readers) idle_readers_.push_back(std::move(db));
  return result;
}

}  // namespace houston::store::sql
