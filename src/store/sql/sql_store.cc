#include "store/sql/sql_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <variant>

#include "core/json_util.h"
#include "core/random.h"
#include "core/thread_name.h"
#include "core/time_util.h"
#include "store/sql/feed.h"
#include "store/sql/internal.h"
#include "store/sql/secrets_at_rest.h"

namespace houston::store::sql {

using core::Alert;
using core::AlertEvent;
using core::AlertStatus;
using core::EventAction;
using core::Incident;
using core::IncidentStatus;

namespace {
// heartbeats.last_beat_at of a heartbeat that has never beaten: it is not watched yet.
constexpr int64_t kNeverBeaten = 0;
}  // namespace

// ---------------------------------------------------------------------------------------------
// Lifecycle and the writer.

EventKeys SqlStore::EventKeysCodec() const {
  if (options_.keyring == nullptr || options_.event_key_id.empty()) return EventKeys();
  return EventKeys(options_.keyring, options_.event_key_id);
}

void SqlStore::StartWriter(std::unique_ptr<Db> writer) {
  writer_db_ = std::move(writer);
  writer_db_->SetEventKeys(EventKeysCodec());
  writer_ = std::thread([this] {
    NameThisThread("store-writer");
    WriterLoop();
  });
}

SqlStore::~SqlStore() { Shutdown(); }

void SqlStore::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Status SqlStore::Ready() {
  std::string reason;
  bool probe = false;
  {
    std::lock_guard lock(mu_);
    reason = unwritable_;
    probe = !reason.empty() && !probing_ && !stopping_;
    if (probe) probing_ = true;
  }
  if (reason.empty()) return OkStatus();
  if (probe) {
    // A write that changes a row: when it commits, RunBatch marks the store writable again.
    Enqueue(WriteOp{[this](Db& db) -> Status {
                      HOUSTON_ASSIGN_OR_RETURN(
                          Stmt * s, db.Prepare("INSERT INTO server_secrets(name, value, "
                                               "created_at) VALUES ('write_probe', '', ?) ON "
                                               "CONFLICT (name) DO UPDATE SET created_at = "
                                               "excluded.created_at"));
                      return s->Bind(1, Ms(options_.clock->Now())).Run();
                    },
                    [this](Status) {
                      std::lock_guard lock(mu_);
                      probing_ = false;
                    }});
  }
  return Unavailable("the database cannot store writes: " + reason);
}

StoreStats SqlStore::Stats() const {
  std::lock_guard lock(mu_);
  StoreStats s = stats_;
  s.queue_depth = queue_.size();
  s.queue_capacity = options_.queue_capacity;
  return s;
}

void SqlStore::Enqueue(WriteOp op) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      // Fall through to the refusal below, outside the lock.
    } else if (queue_.size() >= options_.queue_capacity) {
      // Refused below.
    } else {
      queue_.push_back(std::move(op));
      if (queue_.size() == 1) cv_.notify_one();
      return;
    }
  }
  bool stopping;
  {
    std::lock_guard lock(mu_);
    stopping = stopping_;
  }
  op.finish(stopping ? Unavailable("the store is shutting down")
                     : ResourceExhausted("the write queue is full; retry later"));
}

void SqlStore::WriterLoop() {
  std::vector<WriteOp> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(batch);
    batch.clear();
  }
}

void SqlStore::NoteWriteOutcome(Db& db, bool stored) {
  std::string fault = db.TakeStorageFault();
  std::lock_guard lock(mu_);
  if (!fault.empty()) {
    if (unwritable_.empty()) spdlog::error("the database cannot store writes: {}", fault);
    unwritable_ = std::move(fault);
  } else if (stored && !unwritable_.empty()) {
    spdlog::info("the database stores writes again");
    unwritable_.clear();
  }
}

void SqlStore::RunBatch(std::vector<WriteOp>& batch) {
  Db& db = *writer_db_;
  auto start = options_.clock->SteadyNow();
  auto run = [&db](const std::string& sql) -> Status {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    return s->Run();
  };
  const std::string kBegin(db.Sql(Fragment::kBeginWrite));
  static const std::string kRollback = "ROLLBACK", kSavepoint = "SAVEPOINT w",
                           kRelease = "RELEASE w", kRollbackTo = "ROLLBACK TO w";
  std::vector<Status> results(batch.size());
  // Fast path: the whole batch in one transaction without savepoints. A savepoint per write
  // would make SQLite copy every page each write first touches into its statement journal,
  // which cost more than the writes themselves. Writes rarely fail; when one does, the batch is
  // rolled back and replayed with a savepoint per write, so that only the failing one is lost.
  // On PostgreSQL another server's transaction can deadlock with this one (the server aborts
  // one of them, which still holds its locks): the batch is rolled back, which releases them,
  // and runs again from the start, a few times at most.
  auto deadlocked = [&db](const Status& st) {
    return st.code() == StatusCode::kUnavailable && db.dialect() == Dialect::kPostgres &&
           db.Healthy();
  };
  constexpr int kMaxRounds = 5;
  bool savepoints = false;
  EventCounts events;  // of the writes applied so far in this transaction
  auto keep_events = [&events](EventCounts counted) {
    for (auto& [name, n] : counted) events[name] += n;
  };
  std::vector<Db::PendingFeed> feed;  // likewise, the change feed entries
  auto keep_feed = [&feed](std::vector<Db::PendingFeed> recorded) {
    for (auto& e : recorded) feed.push_back(std::move(e));
  };
  Status begin;
  int64_t changes_at_begin = 0;
  for (int round = 1;; ++round) {
    begin = run(kBegin);
    changes_at_begin = db.TotalChanges();
    (void)db.TakeFeed();
    if (!begin.ok()) break;
    bool restart = false;
    for (size_t i = 0; i < batch.size() && !restart; ++i) {
      if (!savepoints) {
        results[i] = batch[i].apply(db);
        restart = !results[i].ok();
        keep_events(db.TakeEvents());  // dropped below if the batch runs again
        keep_feed(db.TakeFeed());
        continue;
      }
      Status st;
      // A write that lost a race on a unique constraint (another server committed the same
      // row first) is tried again: the other's row is visible now, so the write finds it (e.g.
      // folds the event into the alert the other server opened).
      for (int attempt = 0; attempt < 3; ++attempt) {
        st = run(kSavepoint);
        if (!st.ok()) break;
        st = batch[i].apply(db);
        // Statements the write ran later report now, so that their error is the write's own.
        if (Status queued = db.Flush(); st.ok()) st = queued;
        EventCounts counted = db.TakeEvents();
        std::vector<Db::PendingFeed> recorded = db.TakeFeed();
        // A failed write leaves no trace; its neighbours in the batch still commit.
        if (!st.ok()) (void)run(kRollbackTo);
        Status rel = run(kRelease);
        if (st.ok() && !rel.ok()) st = rel;
        // A failed write's events were rolled back with it.
        if (st.ok()) {
          keep_events(std::move(counted));
          keep_feed(std::move(recorded));
        }
        if (st.code() != StatusCode::kAlreadyExists) break;
      }
      restart = deadlocked(st) && round < kMaxRounds;
      results[i] = std::move(st);
    }
    if (!restart && !savepoints && !batch.empty()) {
      // Statements run later report before COMMIT: one that failed fails the batch as a failed
      // write does (it is replayed with savepoints, which tell whose it was).
      if (Status queued = db.Flush(); !queued.ok()) {
        results.back() = std::move(queued);
        restart = true;
      }
    }
    if (!restart) break;
    (void)run(kRollback);
    events.clear();
    feed.clear();
    // A deadlock: the same way again. Anything else: write by write, to isolate the failure.
    bool again = false;
    for (const auto& r : results) again = again || deadlocked(r);
    if (!again || round >= kMaxRounds) savepoints = true;
    std::fill(results.begin(), results.end(), OkStatus());
  }
  if (!begin.ok()) {
    NoteWriteOutcome(db, false);
    for (auto& op : batch) op.finish(begin);
    std::lock_guard lock(mu_);
    ++stats_.failed_commits;
    return;
  }
  Status commit = OkStatus();
  // The change feed's entries go in last, so that on PostgreSQL the lock that orders their
  // sequence numbers is held only from here to COMMIT.
  int64_t feed_rows = 0;
  if (auto written = WriteFeed(db, feed); written) {
    feed_rows = *written;
  } else {
    commit = written.error();
  }
  const bool changed = db.TotalChanges() != changes_at_begin;
  if (commit.ok() && options_.before_commit && changed) {
    // A failed statement can leave the transaction unable to commit: fail the batch instead.
    commit = options_.before_commit(db);
  }
  if (commit.ok()) commit = db.Exec("COMMIT");
  if (!commit.ok()) {
    (void)db.Exec("ROLLBACK");
    // Usually nothing was stored; if the connection was lost during COMMIT, the outcome is
    // unknown. Either way the caller is told to retry, and retries are deduplicated.
    commit = Unavailable("the write could not be committed; retry: " + commit.message());
  }
  NoteWriteOutcome(db, commit.ok() && changed);
  auto latency =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.clock->SteadyNow() - start);
  {
    std::lock_guard lock(mu_);
    if (commit.ok()) {
      ++stats_.commits;
      stats_.committed_writes += batch.size();
    } else {
      ++stats_.failed_commits;
    }
  }
  if (options_.on_commit) options_.on_commit(latency, batch.size());
  if (commit.ok() && feed_rows > 0) {
    if (options_.on_feed) options_.on_feed(feed_rows);
    MaybePruneFeed(feed_rows);
  }
  if (commit.ok() && !events.empty() && options_.on_events) options_.on_events(events);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].finish(commit.ok() ? std::move(results[i]) : commit);
  }
}

// ---------------------------------------------------------------------------------------------
// Writes.

void SqlStore::ApplyAlertEvents(std::vector<AlertEvent> events, Actor actor,
                                Callback<std::vector<EventOutcome>> done) {
  Submit<std::vector<EventOutcome>>(
      [this, events = std::move(events),
       actor = std::move(actor)](Db& db) mutable -> Result<std::vector<EventOutcome>> {
        TimePoint now = options_.clock->Now();
        std::vector<EventOutcome> outcomes;
        outcomes.reserve(events.size());
        for (auto& ev : events) {
          HOUSTON_ASSIGN_OR_RETURN(EventOutcome o, ApplyEvent(db, ev, now, actor));
          outcomes.push_back(std::move(o));
        }
        return outcomes;
      },
      std::move(done));
}

void SqlStore::RecordChange(core::ChangeEvent ev, Callback<core::Change> done) {
  Submit<core::Change>(
      [this, ev = std::move(ev)](Db& db) -> Result<core::Change> {
        core::Change c;
        c.integration_key = ev.integration_key;
        c.service_id = ev.service_id;
        c.summary = ev.summary;
        c.source = ev.source;
        c.received_at = options_.clock->Now();
        c.timestamp = ev.timestamp.value_or(c.received_at);
        c.details_json = ev.details_json.empty() ? "{}" : ev.details_json;
        c.links_json = ev.links_json.empty() ? "[]" : ev.links_json;
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare("INSERT INTO changes(integration_key, service_id, summary, "
                                 "source, timestamp, received_at, details_json, links_json) "
                                 "VALUES (?,?,?,?,?,?,?,?) RETURNING id"));
        s->Bind(1, db.keys().Stored(c.integration_key))
            .Bind(2, c.service_id)
            .Bind(3, c.summary)
            .Bind(4, c.source)
            .Bind(5, Ms(c.timestamp))
            .Bind(6, Ms(c.received_at))
            .Bind(7, c.details_json)
            .Bind(8, c.links_json);
        HOUSTON_ASSIGN_OR_RETURN(c.id, InsertedId(*s));
        return c;
      },
      std::move(done));
}

void SqlStore::AcknowledgeAlert(core::AlertId id, Actor actor, Callback<Alert> done) {
  Submit<Alert>(
      [this, id, actor = std::move(actor)](Db& db) -> Result<Alert> {
        HOUSTON_ASSIGN_OR_RETURN(Alert a, LoadAlert(db, id));
        if (a.status == AlertStatus::kResolved) {
          return std::unexpected(
              FailedPrecondition(fmt::format("alert {} is already resolved", id)));
        }
        if (a.status == AlertStatus::kTriggered) {
          HOUSTON_RETURN_IF_ERROR(AcknowledgeOpenAlert(db, a, options_.clock->Now(), actor));
        }
        return LoadAlert(db, id);
      },
      std::move(done));
}

void SqlStore::ResolveAlert(core::AlertId id, Actor actor, Callback<Alert> done) {
  Submit<Alert>(
      [this, id, actor = std::move(actor)](Db& db) -> Result<Alert> {
        HOUSTON_ASSIGN_OR_RETURN(Alert a, LoadAlert(db, id));
        if (a.status == AlertStatus::kResolved) {
          return std::unexpected(
              FailedPrecondition(fmt::format("alert {} is already resolved", id)));
        }
        HOUSTON_RETURN_IF_ERROR(ResolveOpenAlert(db, a, options_.clock->Now(), actor));
        return LoadAlert(db, id);
      },
      std::move(done));
}

void SqlStore::ApplyOrg(std::vector<OrgObject> objects, std::vector<Heartbeat> heartbeats,
                        std::string source_yaml, std::string source_name, Actor actor,
                        Callback<int> done) {
  Submit<int>(
      [this, objects = std::move(objects), heartbeats = std::move(heartbeats),
       source_yaml = std::move(source_yaml), source_name = std::move(source_name),
       actor = std::move(actor)](Db& db) -> Result<int> {
        TimePoint now = options_.clock->Now();
        const secrets::Keyring* ring = options_.keyring.get();
        // Keyed by stored id (an integration's Ref when sealed), with the spec opened.
        std::map<std::pair<std::string, std::string>, std::string> current;
        {
          HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                                   db.Prepare("SELECT kind, id, spec_json FROM org_objects"));
          for (;;) {
            HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
            if (!row) break;
            std::string kind = s->Text(0), id = s->Text(1);
            auto open = OpenOrgObject(ring, kind, id, s->Text(2));
            if (!open) {
              s->Reset();
              return std::unexpected(open.error());
            }
            current[{std::move(kind), std::move(id)}] = std::move(open->spec_json);
          }
          s->Reset();
        }
        int changed = 0;
        std::string added_ids, changed_ids, removed_ids;
        auto note = [](std::string& list, const std::string& kind, const std::string& id) {
          if (!list.empty()) list += ',';
          list += JsonQuote(kind + "/" + id);
        };
        std::set<std::pair<std::string, std::string>> desired;
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * up, db.Prepare("INSERT INTO org_objects(kind, id, spec_json, updated_at) "
                                  "VALUES (?,?,?,?) ON CONFLICT(kind, id) DO UPDATE SET "
                                  "spec_json = excluded.spec_json, updated_at = "
                                  "excluded.updated_at"));
        for (const auto& o : objects) {
          // The audit record names an integration by its stored id, never by its key.
          std::string id = StoredOrgId(ring, o.kind, o.id);
          desired.insert({o.kind, id});
          auto it = current.find({o.kind, id});
          if (it != current.end() && it->second == o.spec_json) continue;
          note(it == current.end() ? added_ids : changed_ids, o.kind, id);
          ++changed;
          up->Reset();
          HOUSTON_RETURN_IF_ERROR(up->Bind(1, o.kind)
                                      .Bind(2, id)
                                      .Bind(3, SealOrgSpec(ring, o.kind, id, o.spec_json))
                                      .Bind(4, Ms(now))
                                      .Run());
        }
        HOUSTON_ASSIGN_OR_RETURN(Stmt * del,
                                 db.Prepare("DELETE FROM org_objects WHERE kind = ? AND id = ?"));
        for (const auto& [key, spec] : current) {
          if (desired.count(key)) continue;
          note(removed_ids, key.first, key.second);
          ++changed;
          del->Reset();
          HOUSTON_RETURN_IF_ERROR(del->Bind(1, key.first).Bind(2, key.second).Run());
        }
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * src,
            db.Prepare("INSERT INTO org_source(singleton, name, yaml, applied_at) VALUES "
                       "(1,?,?,?) ON CONFLICT(singleton) DO UPDATE SET name = excluded.name, "
                       "yaml = excluded.yaml, applied_at = excluded.applied_at"));
        HOUSTON_RETURN_IF_ERROR(src->Bind(1, source_name)
                                    .Bind(2, SealOrgSource(ring, source_yaml))
                                    .Bind(3, Ms(now))
                                    .Run());
        // Heartbeats: keep the last beat of existing ones; a new one is watched from its first
        // beat (kNeverBeaten until then), so nothing is overdue that was never started.
        std::set<std::string> keep;
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * hb,
            db.Prepare("INSERT INTO heartbeats(integration_key, service_id, interval_ms, "
                       "last_beat_at, escalation_policy) VALUES (?,?,?,?,?) ON "
                       "CONFLICT(integration_key) DO UPDATE SET service_id = "
                       "excluded.service_id, interval_ms = excluded.interval_ms, "
                       "escalation_policy = excluded.escalation_policy"));
        for (const auto& h : heartbeats) {
          keep.insert(db.keys().Stored(h.integration_key));
          hb->Reset();
          HOUSTON_RETURN_IF_ERROR(hb->Bind(1, db.keys().Stored(h.integration_key))
                                      .Bind(2, h.service_id)
                                      .Bind(3, static_cast<int64_t>(h.interval.count()))
                                      .Bind(4, kNeverBeaten)
                                      .Bind(5, h.escalation_policy)
                                      .Run());
        }
        std::vector<std::string> drop;
        {
          HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT integration_key FROM heartbeats"));
          for (;;) {
            HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
            if (!row) break;
            if (!keep.count(s->Text(0))) drop.push_back(s->Text(0));
          }
          s->Reset();
        }
        HOUSTON_ASSIGN_OR_RETURN(Stmt * hdel,
                                 db.Prepare("DELETE FROM heartbeats WHERE integration_key = ?"));
        for (const auto& k : drop) {
          hdel->Reset();
          HOUSTON_RETURN_IF_ERROR(hdel->Bind(1, k).Run());
        }
        if (changed > 0) {
          HOUSTON_RETURN_IF_ERROR(
              Audit(db, now, actor, ToString(AuditAction::kOrgApplied), "org", source_name,
                    fmt::format("{{\"added\":[{}],\"changed\":[{}],\"removed\":[{}]}}", added_ids,
                                changed_ids, removed_ids)));
        }
        return changed;
      },
      std::move(done));
}

void SqlStore::RecordHeartbeat(std::string integration_key, Callback<Heartbeat> done) {
  Submit<Heartbeat>(
      [this, key = std::move(integration_key)](Db& db) -> Result<Heartbeat> {
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare("SELECT service_id, interval_ms, missed FROM heartbeats WHERE "
                                 "integration_key = ?"));
        const std::string stored_key = db.keys().Stored(key);
        s->Bind(1, stored_key);
        HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) {
          s->Reset();
          return std::unexpected(NotFound("no heartbeat integration has this key"));
        }
        Heartbeat h;
        h.integration_key = key;
        h.service_id = s->Text(0);
        h.interval = std::chrono::milliseconds(s->Int(1));
        bool was_missed = s->Int(2) != 0;
        s->Reset();
        h.last_beat_at = now;
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * u, db.Prepare("UPDATE heartbeats SET last_beat_at = ?, missed = 0 WHERE "
                                 "integration_key = ?"));
        HOUSTON_RETURN_IF_ERROR(u->Bind(1, Ms(now)).Bind(2, stored_key).Run());
        if (was_missed) {
          AlertEvent ev;
          ev.integration_key = key;
          ev.service_id = h.service_id;
          ev.action = EventAction::kResolve;
          ev.dedup_key = "heartbeat";
          Actor actor{"integration", "heartbeat:" + h.service_id, "integration"};
          HOUSTON_RETURN_IF_ERROR(ApplyEvent(db, ev, now, actor));
        }
        return h;
      },
      std::move(done));
}

void SqlStore::CheckHeartbeats(TimePoint now, Callback<int> done) {
  Submit<int>(
      [now](Db& db) -> Result<int> {
        std::vector<Heartbeat> overdue;
        {
          HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                                   db.Prepare("SELECT integration_key, service_id, interval_ms, "
                                              "last_beat_at, escalation_policy FROM heartbeats "
                                              "WHERE missed = 0 AND last_beat_at <> ? AND "
                                              "last_beat_at + interval_ms <= ?"));
          s->Bind(1, kNeverBeaten).Bind(2, Ms(now));
          for (;;) {
            HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
            if (!row) break;
            Heartbeat h;
            h.integration_key = db.keys().Plain(s->Text(0));
            h.service_id = s->Text(1);
            h.interval = std::chrono::milliseconds(s->Int(2));
            h.last_beat_at = FromMs(s->Int(3));
            h.escalation_policy = s->Text(4);
            overdue.push_back(std::move(h));
          }
          s->Reset();
        }
        // Taken by the conditional update first: of several servers that found the same
        // heartbeat overdue, the one whose update changed the row opens the alert; the others'
        // updates wait for its commit and then change nothing.
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * u, db.Prepare("UPDATE heartbeats SET missed = 1 WHERE integration_key = ? AND "
                                 "missed = 0"));
        int opened = 0;
        for (const auto& h : overdue) {
          u->Reset();
          HOUSTON_RETURN_IF_ERROR(u->Bind(1, db.keys().Stored(h.integration_key)).Run());
          if (db.Changes() == 0) continue;
          AlertEvent ev;
          ev.integration_key = h.integration_key;
          ev.service_id = h.service_id;
          ev.action = EventAction::kTrigger;
          ev.dedup_key = "heartbeat";
          ev.severity = core::Severity::kCritical;
          ev.source = "houston";
          ev.summary = fmt::format(
              "Heartbeat missed for service {}: no beat for {} min (last beat {})", h.service_id,
              std::chrono::duration_cast<std::chrono::minutes>(now - *h.last_beat_at).count(),
              FormatRfc3339(*h.last_beat_at));
          ev.details_json =
              fmt::format("{{\"last_beat_at\":{},\"interval_seconds\":{}}}",
                          JsonQuote(FormatRfc3339(*h.last_beat_at)),
                          std::chrono::duration_cast<std::chrono::seconds>(h.interval).count());
          ev.links_json = "[]";
          ev.images_json = "[]";
          ev.escalation_policy = h.escalation_policy;
          Actor actor{"system", "heartbeat-monitor", "system"};
          HOUSTON_RETURN_IF_ERROR(ApplyEvent(db, ev, now, actor));
          ++opened;
          db.CountEvent("heartbeat.missed");
        }
        return opened;
      },
      std::move(done));
}

void SqlStore::CreateToken(std::string name, Role role, std::string token_hash, std::string prefix,
                           Actor actor, Callback<Token> done) {
  Submit<Token>(
      [this, name = std::move(name), role, hash = std::move(token_hash), prefix = std::move(prefix),
       actor = std::move(actor)](Db& db) -> Result<Token> {
        Token t;
        t.name = name;
        t.role = role;
        t.prefix = prefix;
        t.created_at = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare("INSERT INTO tokens(name, role, hash, prefix, created_at) "
                                 "VALUES (?,?,?,?,?) RETURNING id"));
        s->Bind(1, name)
            .Bind(2, ToString(role))
            .Bind(3, hash)
            .Bind(4, prefix)
            .Bind(5, Ms(t.created_at));
        HOUSTON_ASSIGN_OR_RETURN(t.id, InsertedId(*s));
        HOUSTON_RETURN_IF_ERROR(
            Audit(db, t.created_at, actor, ToString(AuditAction::kTokenCreated), "token",
                  std::to_string(t.id),
                  fmt::format("{{\"name\":{},\"role\":\"{}\"}}", JsonQuote(name), ToString(role))));
        return t;
      },
      std::move(done));
}

// ---------------------------------------------------------------------------------------------
// Reads.

Result<Alert> SqlStore::GetAlert(core::AlertId id) {
  return WithReader([&](Db& db) { return LoadAlert(db, id); });
}

Result<Incident> SqlStore::GetIncident(core::IncidentId id) {
  return WithReader([&](Db& db) { return LoadIncident(db, id); });
}

Result<std::vector<Alert>> SqlStore::ListAlerts(const AlertFilter& f) {
  Where w;
  if (f.status) w.Add("status = ?", std::string(core::ToString(*f.status)));
  if (f.service_id) w.Add("service_id = ?", *f.service_id);
  if (f.incident_id) w.Add("incident_id = ?", *f.incident_id);
  if (f.since) w.Add("created_at >= ?", Ms(*f.since));
  if (f.before_id > 0) w.Add("id < ?", f.before_id);
  std::string sql = fmt::format("SELECT {} FROM alerts{} ORDER BY id DESC LIMIT {}", kAlertColumns,
                                w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<Alert>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<Alert>(*s, [&](const Stmt& row) { return ReadAlert(db, row); });
  });
}

Result<std::vector<Incident>> SqlStore::ListIncidents(const IncidentFilter& f) {
  Where w;
  if (f.status) w.Add("status = ?", std::string(core::ToString(*f.status)));
  if (f.service_id) w.Add("service_id = ?", *f.service_id);
  if (f.since) w.Add("created_at >= ?", Ms(*f.since));
  if (f.before_id > 0) w.Add("id < ?", f.before_id);
  if (f.open_only) w.AddRaw("status <> 'resolved'");
  if (f.sev) w.Add("sev = ?", *f.sev);
  if (f.declared_only) w.AddRaw("sev <> ''");
  if (f.active_since) w.Add("(status <> 'resolved' OR resolved_at >= ?)", Ms(*f.active_since));
  std::string sql = fmt::format("SELECT {} FROM incidents{} ORDER BY id DESC LIMIT {}",
                                IncidentColumns(), w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<Incident>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<Incident>(*s, [&](const Stmt& row) { return ReadIncident(db, row); });
  });
}

Result<std::vector<core::Change>> SqlStore::ListChanges(const ChangeFilter& f) {
  Where w;
  if (f.service_id) w.Add("service_id = ?", *f.service_id);
  if (f.since) w.Add("timestamp >= ?", Ms(*f.since));
  if (f.before_id > 0) w.Add("id < ?", f.before_id);
  std::string sql = fmt::format("SELECT {} FROM changes{} ORDER BY id DESC LIMIT {}",
                                kChangeColumns, w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<core::Change>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<core::Change>(*s, [&](const Stmt& row) { return ReadChange(db, row); });
  });
}

Result<std::vector<AuditRecord>> SqlStore::ListAudit(const AuditFilter& f) {
  Where w;
  if (f.resource_type) w.Add("resource_type = ?", *f.resource_type);
  if (f.resource_id) w.Add("resource_id = ?", *f.resource_id);
  if (f.before_id > 0) w.Add("id < ?", f.before_id);
  std::string sql = fmt::format("SELECT {} FROM audit_log{} ORDER BY id DESC LIMIT {}",
                                kAuditColumns, w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<AuditRecord>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<AuditRecord>(*s, ReadAudit);
  });
}

Result<OrgSnapshot> SqlStore::LoadOrg() {
  return WithReader([&](Db& db) -> Result<OrgSnapshot> {
    OrgSnapshot snap;
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("SELECT kind, id, spec_json FROM org_objects ORDER BY kind, id"));
    for (;;) {
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      auto open = OpenOrgObject(options_.keyring.get(), s->Text(0), s->Text(1), s->Text(2));
      if (!open) {
        s->Reset();
        return std::unexpected(open.error());
      }
      snap.objects.push_back(std::move(*open));
    }
    s->Reset();
    // Integrations are stored under their Refs: back in (kind, id) order by their keys.
    std::sort(snap.objects.begin(), snap.objects.end(), [](const OrgObject& a, const OrgObject& b) {
      return std::tie(a.kind, a.id) < std::tie(b.kind, b.id);
    });
    HOUSTON_ASSIGN_OR_RETURN(Stmt * src,
                             db.Prepare("SELECT name, yaml, applied_at FROM org_source"));
    HOUSTON_ASSIGN_OR_RETURN(bool row, src->Step());
    if (row) {
      snap.source_name = src->Text(0);
      auto yaml = OpenOrgSource(options_.keyring.get(), src->Text(1));
      if (!yaml) {
        src->Reset();
        return std::unexpected(yaml.error());
      }
      snap.source_yaml = std::move(*yaml);
      snap.applied_at = FromMs(src->Int(2));
    }
    src->Reset();
    return snap;
  });
}

Result<std::optional<TimePoint>> SqlStore::OrgAppliedAt() {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT applied_at FROM org_source"));
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    std::optional<TimePoint> out;
    if (row) out = FromMs(s->Int(0));
    s->Reset();
    return out;
  });
}

Result<Token> SqlStore::FindTokenByHash(const std::string& token_hash) {
  return WithReader([&](Db& db) -> Result<Token> {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("SELECT id, name, role, prefix, created_at FROM tokens WHERE "
                             "hash = ? AND revoked_at IS NULL"));
    s->Bind(1, token_hash);
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) {
      s->Reset();
      return std::unexpected(NotFound("no such token"));
    }
    Token t;
    t.id = s->Int(0);
    t.name = s->Text(1);
    t.role = ParseRole(s->Text(2)).value_or(Role::kViewer);
    t.prefix = s->Text(3);
    t.created_at = FromMs(s->Int(4));
    s->Reset();
    return t;
  });
}

Result<std::vector<Heartbeat>> SqlStore::ListHeartbeats() {
  return WithReader([&](Db& db) -> Result<std::vector<Heartbeat>> {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("SELECT integration_key, service_id, interval_ms, last_beat_at, "
                             "missed FROM heartbeats"));
    std::vector<Heartbeat> out;
    for (;;) {
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      Heartbeat h;
      h.integration_key = db.keys().Plain(s->Text(0));
      h.service_id = s->Text(1);
      h.interval = std::chrono::milliseconds(s->Int(2));
      if (s->Int(3) != kNeverBeaten) h.last_beat_at = FromMs(s->Int(3));
      h.missed = s->Int(4) != 0;
      out.push_back(std::move(h));
    }
    s->Reset();
    // By key, opened (the stored order is that of the sealed keys).
    std::sort(out.begin(), out.end(), [](const Heartbeat& a, const Heartbeat& b) {
      return a.integration_key < b.integration_key;
    });
    return out;
  });
}

Result<std::optional<TimePoint>> SqlStore::NextHeartbeatDeadline() {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s,
        db.Prepare("SELECT MIN(last_beat_at + interval_ms) FROM heartbeats WHERE missed = 0 AND "
                   "last_beat_at <> ?"));
    s->Bind(1, kNeverBeaten);
    return ReadOptionalTime(*s);
  });
}

// ---------------------------------------------------------------------------------------------
// Paging: incidents, escalations, the notification outbox.

namespace {

constexpr const char* kEscalationColumns =
    "e.incident_id, e.policy_id, e.state, e.step, e.loop, e.due_at, e.version";

EscalationRow ReadEscalation(const Stmt& s) {
  EscalationRow r;
  r.incident_id = s.Int(0);
  r.policy_id = s.Text(1);
  // A state this build does not know (written by a newer one) pages nobody.
  r.state = core::ParseEscalationState(s.Text(2)).value_or(core::EscalationState::kStopped);
  r.step = static_cast<int>(s.Int(3));
  r.loop = static_cast<int>(s.Int(4));
  r.due_at = FromMs(s.IsNull(5) ? 0 : s.Int(5));
  r.version = s.Int(6);
  return r;
}

// True of a pending notification `p` that must wait for another: incident webhooks and status
// updates leave one at a time per destination, oldest first, so one is claimable only when it
// is its destination's oldest unfinished message and none is being sent.
constexpr const char* kWaitsInOrder =
    "(p.kind IN ('webhook', 'update') AND EXISTS (SELECT 1 FROM notifications o WHERE "
    "o.user_id = p.user_id AND o.contact_method_id = p.contact_method_id AND o.id <> p.id AND "
    "(o.state = 'sending' OR (o.state = 'pending' AND o.id < p.id))))";

constexpr const char* kNotificationColumns =
    "id, incident_id, user_id, contact_method_id, channel_type, step, loop, target, state, "
    "attempts, created_at, not_before, sent_at, last_error, kind, payload_json";

Notification ReadNotification(const Stmt& s) {
  Notification n;
  n.id = s.Int(0);
  n.incident_id = s.Int(1);
  n.user_id = s.Text(2);
  n.contact_method_id = s.Text(3);
  n.channel_type = s.Text(4);
  n.step = static_cast<int>(s.Int(5));
  n.loop = static_cast<int>(s.Int(6));
  n.target = s.Text(7);
  n.state = core::ParseNotificationState(s.Text(8)).value_or(core::NotificationState::kUnknown);
  n.attempts = static_cast<int>(s.Int(9));
  n.created_at = FromMs(s.Int(10));
  n.not_before = FromMs(s.Int(11));
  n.sent_at = OptTime(s, 12);
  n.last_error = s.Text(13);
  n.kind = s.Text(14);
  n.payload_json = s.Text(15);
  return n;
}

}  // namespace

void SqlStore::UpdateEscalations(std::vector<EscalationUpdate> updates, Callback<int> done) {
  // Rows are locked in incident order, so that two servers applying overlapping decisions
  // never wait on each other in a cycle (a deadlock).
  std::stable_sort(updates.begin(), updates.end(),
                   [](const auto& a, const auto& b) { return a.incident_id < b.incident_id; });
  Submit<int>(
      [this, updates = std::move(updates)](Db& db) -> Result<int> {
        TimePoint now = options_.clock->Now();
        int applied = 0;
        Actor engine{"system", "escalation-engine", "system"};
        for (const auto& u : updates) {
          // The incident first, as every incident write locks it: an acknowledgement that
          // committed before this write is seen by the version check below (the ack wins), and
          // one that comes after waits for this write, then stops what it created.
          HOUSTON_ASSIGN_OR_RETURN(Stmt * lock,
                                   db.Prepare("SELECT id FROM incidents WHERE id = ?" +
                                              std::string(db.Sql(Fragment::kForUpdate))));
          lock->Bind(1, u.incident_id);
          HOUSTON_RETURN_IF_ERROR(lock->Run());
          HOUSTON_ASSIGN_OR_RETURN(
              Stmt * s,
              db.Prepare("UPDATE escalations SET state = ?, step = ?, loop = ?, "
                         "due_at = ?, round = round + CAST(? AS BIGINT), version = version + 1 "
                         "WHERE incident_id = ? AND version = ?"));
          HOUSTON_RETURN_IF_ERROR(s->Bind(1, core::ToString(u.state))
                                      .Bind(2, u.step)
                                      .Bind(3, u.loop)
                                      .Bind(4, OptMs(u.due_at))
                                      .Bind(5, u.retrigger_incident ? 1 : 0)
                                      .Bind(6, u.incident_id)
                                      .Bind(7, u.expected_version)
                                      .Run());
          if (db.Changes() == 0) continue;  // changed since it was read: the newer state wins
          ++applied;
          if (u.audit_action == "incident.escalated") db.CountEvent("escalation.step_fired");
          if (u.retrigger_incident) {
            HOUSTON_ASSIGN_OR_RETURN(Stmt * i,
                                     db.Prepare("UPDATE incidents SET status = 'triggered', "
                                                "first_acknowledged_at = COALESCE("
                                                "first_acknowledged_at, acknowledged_at), "
                                                "acknowledged_at = NULL WHERE id = ? AND status = "
                                                "'acknowledged'"));
            HOUSTON_RETURN_IF_ERROR(i->Bind(1, u.incident_id).Run());
            HOUSTON_ASSIGN_OR_RETURN(
                Stmt * a, db.Prepare("UPDATE alerts SET status = 'triggered', acknowledged_at = "
                                     "NULL WHERE incident_id = ? AND status = 'acknowledged'"));
            HOUSTON_RETURN_IF_ERROR(a->Bind(1, u.incident_id).Run());
          }
          if (!u.pages.empty()) {
            HOUSTON_ASSIGN_OR_RETURN(
                Stmt * r, db.Prepare("SELECT round FROM escalations WHERE incident_id = ?"));
            r->Bind(1, u.incident_id);
            HOUSTON_ASSIGN_OR_RETURN(bool row, r->Step());
            int64_t round = row ? r->Int(0) : 0;
            r->Reset();
            HOUSTON_ASSIGN_OR_RETURN(
                Stmt * n,
                db.Prepare("INSERT INTO notifications(incident_id, round, loop, step, user_id, "
                           "contact_method_id, channel_type, target, state, created_at, "
                           "not_before, rule) VALUES (?,?,?,?,?,?,?,?,'pending',?,?,?) ON "
                           "CONFLICT DO NOTHING"));
            // Decided on a clock ahead of this write's (stepped back since): as much earlier.
            const auto behind =
                u.decided_at && *u.decided_at > now ? *u.decided_at - now : TimePoint::duration{};
            for (const auto& p : u.pages) {
              n->Reset();
              HOUSTON_RETURN_IF_ERROR(n->Bind(1, u.incident_id)
                                          .Bind(2, round)
                                          .Bind(3, u.fired_loop)
                                          .Bind(4, u.fired_step)
                                          .Bind(5, p.user_id)
                                          .Bind(6, p.contact_method_id)
                                          .Bind(7, p.channel_type)
                                          .Bind(8, p.target)
                                          .Bind(9, Ms(now))
                                          .Bind(10, Ms(p.not_before - behind))
                                          .Bind(11, p.rule)
                                          .Run());
              if (db.Changes() == 0) continue;
              db.CountEvent("page.created");
              HOUSTON_RETURN_IF_ERROR(
                  InsertPage(db, u.incident_id, round, u.fired_loop, u.fired_step, p.user_id, now));
            }
          }
          if (!u.audit_action.empty()) {
            HOUSTON_RETURN_IF_ERROR(IncidentAudit(db, now, engine, u.audit_action, u.incident_id,
                                                  u.audit_details_json));
          }
        }
        return applied;
      },
      std::move(done));
}

void SqlStore::ClaimNotifications(ClaimOptions options, Callback<std::vector<ClaimedBatch>> done) {
  Submit<std::vector<ClaimedBatch>>(
      [options](Db& db) -> Result<std::vector<ClaimedBatch>> {
        // Leases that ran out: the claimer died or stalled; send again, same message id. The
        // claimer's own sends in flight are not taken back.
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * stale,
            db.Prepare(
                "SELECT id FROM notifications WHERE state = 'sending' AND attempted_at < ?"));
        stale->Bind(1, Ms(options.now - options.lease));
        std::vector<int64_t> expired_ids;
        for (;;) {
          HOUSTON_ASSIGN_OR_RETURN(bool row, stale->Step());
          if (!row) break;
          int64_t id = stale->Int(0);
          if (std::find(options.in_flight.begin(), options.in_flight.end(), id) ==
              options.in_flight.end()) {
            expired_ids.push_back(id);
          }
        }
        stale->Reset();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * expired,
            db.Prepare("UPDATE notifications SET state = 'pending', last_error = 'the claim on "
                       "it ran out (its sender stopped or stalled): sent again with the same "
                       "message id' WHERE id = ? AND state = 'sending' AND attempted_at < ?"));
        for (int64_t id : expired_ids) {
          expired->Reset();
          HOUSTON_RETURN_IF_ERROR(
              expired->Bind(1, id).Bind(2, Ms(options.now - options.lease)).Run());
        }
        // Messages waiting for an older one to their destination are left out: they would
        // fill the LIMIT and hide the message they wait for.
        // A message due at once when it was created stays due if the wall clock has been
        // stepped back since (it was created "in the future"); delayed ones keep their time.
        static const std::string kPending = fmt::format(
            "SELECT {} FROM notifications p WHERE state = 'pending' AND (not_before <= ? OR "
            "(created_at > ? AND not_before <= created_at)) AND NOT {} ORDER BY not_before, id "
            "LIMIT ?",
            kNotificationColumns, kWaitsInOrder);
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare(kPending + std::string(db.Sql(Fragment::kForUpdateSkip))));
        s->Bind(1, Ms(options.now)).Bind(2, Ms(options.now)).Bind(3, options.limit);
        std::vector<Notification> due;
        for (;;) {
          HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
          if (!row) break;
          due.push_back(ReadNotification(*s));
        }
        s->Reset();
        std::map<core::IncidentId, Incident> incidents;
        std::map<std::tuple<std::string, std::string, int64_t>, ClaimedBatch> groups;
        std::set<std::pair<std::string, std::string>> ordered;  // destinations seen
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * head,
            db.Prepare("SELECT MIN(id), SUM(CASE WHEN state = 'sending' THEN 1 ELSE 0 END) FROM "
                       "notifications WHERE user_id = "
                       "? AND contact_method_id = ? AND state IN ('pending', 'sending')"));
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * cancel, db.Prepare("UPDATE notifications SET state = 'cancelled', last_error = "
                                      "? WHERE id = ?"));
        // The incidents are locked, as an acknowledgement locks its incident: a claim either
        // commits before the ack or sees it, so nobody is paged after an ack has committed.
        // In id order, as every write that locks several incidents.
        std::set<core::IncidentId> incident_ids;
        for (const auto& n : due) incident_ids.insert(n.incident_id);
        for (core::IncidentId id : incident_ids) {
          HOUSTON_ASSIGN_OR_RETURN(Incident inc, LockIncident(db, id));
          incidents.emplace(id, std::move(inc));
        }
        for (auto& n : due) {
          auto it = incidents.find(n.incident_id);
          // Pages are for incidents nobody has taken yet; role pages, reminders, status
          // updates and incident webhooks go out whatever the status.
          if (n.kind == "page" && it->second.status != IncidentStatus::kTriggered) {
            cancel->Reset();
            HOUSTON_RETURN_IF_ERROR(cancel
                                        ->Bind(1, fmt::format("not sent: the incident was {} first",
                                                              core::ToString(it->second.status)))
                                        .Bind(2, n.id)
                                        .Run());
            continue;
          }
          // A role page or an update reminder is about running the incident: once it is
          // resolved there is nothing left to run (a commander's email delayed by a notification
          // rule must not arrive after the end).
          if ((n.kind == "role" || n.kind == "reminder") &&
              it->second.status == IncidentStatus::kResolved) {
            cancel->Reset();
            HOUSTON_RETURN_IF_ERROR(
                cancel->Bind(1, std::string("not sent: the incident was resolved first"))
                    .Bind(2, n.id)
                    .Run());
            continue;
          }
          // Incident webhooks and status updates reach each destination in order: only its
          // oldest unfinished message may be claimed, and only when none is being sent.
          if (n.kind == "webhook" || n.kind == "update") {
            auto dest = std::make_pair(n.user_id, n.contact_method_id);
            if (ordered.count(dest) != 0) continue;  // one per destination per claim
            head->Reset();
            head->Bind(1, n.user_id).Bind(2, n.contact_method_id);
            HOUSTON_ASSIGN_OR_RETURN(bool found, head->Step());
            bool first = found && head->Int(0) == n.id && head->Int(1) == 0;
            head->Reset();
            if (!first) continue;
            ordered.insert(dest);
          }
          // Pages for one contact method are bundled into one message; other kinds are each
          // their own message.
          auto& g = groups[{n.user_id, n.contact_method_id, n.kind == "page" ? 0 : n.id}];
          g.user_id = n.user_id;
          g.contact_method_id = n.contact_method_id;
          g.channel_type = n.channel_type;
          g.kind = n.kind;
          bool seen = false;
          for (const auto& i : g.incidents) seen = seen || i.id == n.incident_id;
          if (!seen) g.incidents.push_back(it->second);
          g.notifications.push_back(std::move(n));
        }
        std::vector<ClaimedBatch> out;
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * recent,
            db.Prepare("SELECT COUNT(DISTINCT batch_id), MIN(attempted_at) FROM notifications "
                       "WHERE user_id = ? AND contact_method_id = ? AND attempted_at >= ?"));
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * hold, db.Prepare("UPDATE notifications SET not_before = ? WHERE id = ? AND "
                                    "state = 'pending'"));
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * mark, db.Prepare("UPDATE notifications SET state = 'sending', attempts = "
                                    "attempts + 1, attempted_at = ?, batch_id = ? WHERE id = ? "
                                    "AND state = 'pending'"));
        for (auto& [key, g] : groups) {
          recent->Reset();
          recent->Bind(1, g.user_id)
              .Bind(2, g.contact_method_id)
              .Bind(3, Ms(options.now - std::chrono::minutes(1)));
          HOUSTON_ASSIGN_OR_RETURN(bool row, recent->Step());
          int64_t sent_last_minute = row ? recent->Int(0) : 0;
          std::optional<TimePoint> oldest;
          if (row && !recent->IsNull(1)) oldest = FromMs(recent->Int(1));
          recent->Reset();
          // Throttled: stays pending and is bundled with whatever else arrives meanwhile. Only
          // what reaches a person is throttled (not status updates or incident webhooks). It is
          // due again when the oldest message of the minute leaves the window, so that it is
          // neither claimed again (and again) before then nor in the way of other people's
          // messages behind it.
          bool to_person = g.kind == "page" || g.kind == "role" || g.kind == "reminder";
          if (to_person && sent_last_minute >= options.max_per_minute) {
            TimePoint reopen = (oldest ? *oldest : options.now) + std::chrono::minutes(1) +
                               std::chrono::milliseconds(1);
            for (const auto& n : g.notifications) {
              hold->Reset();
              HOUSTON_RETURN_IF_ERROR(hold->Bind(1, Ms(reopen)).Bind(2, n.id).Run());
            }
            continue;
          }
          int64_t batch_id = g.notifications.front().id;
          std::vector<Notification> claimed;
          for (auto& n : g.notifications) {
            mark->Reset();
            HOUSTON_RETURN_IF_ERROR(
                mark->Bind(1, Ms(options.now)).Bind(2, batch_id).Bind(3, n.id).Run());
            if (db.Changes() == 0) continue;  // another server claimed it first
            n.state = core::NotificationState::kSending;
            ++n.attempts;
            claimed.push_back(std::move(n));
          }
          if (claimed.empty()) continue;
          g.notifications = std::move(claimed);
          g.claimed_at = options.now;
          out.push_back(std::move(g));
        }
        return out;
      },
      std::move(done));
}

void SqlStore::CompleteNotifications(std::vector<ClaimRef> claims, SendResult result,
                                     Callback<int> done) {
  Submit<int>(
      [this, claims = std::move(claims), result = std::move(result)](Db& db) -> Result<int> {
        TimePoint now = options_.clock->Now();
        // Fenced by the attempt: a claim taken over after its lease ran out changes nothing.
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s,
            db.Prepare("UPDATE notifications SET state = ?, last_error = ?, sent_at = "
                       "?, not_before = COALESCE(CAST(? AS BIGINT), not_before) WHERE id = ? AND "
                       "state = 'sending' AND attempts = ?"));
        int changed = 0;
        for (const ClaimRef& c : claims) {
          s->Reset();
          HOUSTON_RETURN_IF_ERROR(s->Bind(1, core::ToString(result.state))
                                      .Bind(2, result.detail)
                                      .Bind(3, result.state == core::NotificationState::kSent
                                                   ? std::optional<int64_t>(Ms(now))
                                                   : std::nullopt)
                                      .Bind(4, OptMs(result.retry_at))
                                      .Bind(5, c.id)
                                      .Bind(6, c.attempt)
                                      .Run());
          const int64_t n = db.Changes();
          changed += n;
          if (n > 0 && result.state != core::NotificationState::kPending) {
            db.RecordFeed(result.state == core::NotificationState::kSent
                              ? FeedType::kNotificationDelivered
                              : FeedType::kNotificationFailed,
                          std::to_string(c.id), now);
          }
        }
        return changed;
      },
      std::move(done));
}

void SqlStore::SharedSecret(std::string name, std::string candidate, Callback<std::string> done) {
  Submit<std::string>(
      [this, name = std::move(name),
       candidate = std::move(candidate)](Db& db) -> Result<std::string> {
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * ins, db.Prepare("INSERT INTO server_secrets(name, value, created_at) VALUES "
                                   "(?,?,?) ON CONFLICT DO NOTHING"));
        HOUSTON_RETURN_IF_ERROR(
            ins->Bind(1, name)
                .Bind(2, SealServerSecret(options_.keyring.get(), name, candidate))
                .Bind(3, Ms(options_.clock->Now()))
                .Run());
        HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                                 db.Prepare("SELECT value FROM server_secrets WHERE name = ?"));
        s->Bind(1, name);
        HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) return std::unexpected(Internal("secret " + name + " vanished"));
        std::string value = s->Text(0);
        s->Reset();
        return OpenServerSecret(options_.keyring.get(), name, value);
      },
      std::move(done));
}

void SqlStore::RecoverInterruptedSends(Callback<int> done) {
  Submit<int>(
      [](Db& db) -> Result<int> {
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare("UPDATE notifications SET state = 'pending', last_error = "
                                 "'houston stopped while sending: sent again with the same "
                                 "message id' WHERE state = 'sending'"));
        HOUSTON_RETURN_IF_ERROR(s->Run());
        return db.Changes();
      },
      std::move(done));
}

Result<std::vector<EscalationRow>> SqlStore::ListDueEscalations(TimePoint now, int limit) {
  static const std::string kSql = fmt::format(
      "SELECT {}, {} FROM escalations e JOIN incidents i ON i.id = e.incident_id WHERE "
      "e.due_at IS NOT NULL AND (e.due_at <= ? OR e.state = 'new') ORDER BY e.due_at LIMIT ?",
      kEscalationColumns, IncidentColumns("i."));
  return WithReader([&](Db& db) -> Result<std::vector<EscalationRow>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    s->Bind(1, Ms(now)).Bind(2, limit);
    std::vector<EscalationRow> out;
    for (;;) {
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      EscalationRow r = ReadEscalation(*s);
      r.incident = ReadIncident(db, *s, 7);
      out.push_back(std::move(r));
    }
    s->Reset();
    return out;
  });
}

Result<std::optional<EscalationRow>> SqlStore::GetEscalation(core::IncidentId id) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM escalations e WHERE e.incident_id = ?", kEscalationColumns);
  return WithReader([&](Db& db) -> Result<std::optional<EscalationRow>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    s->Bind(1, id);
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    std::optional<EscalationRow> out;
    if (row) out = ReadEscalation(*s);
    s->Reset();
    if (out) {
      HOUSTON_ASSIGN_OR_RETURN(out->incident, LoadIncident(db, id));
    }
    return out;
  });
}

Result<std::optional<TimePoint>> SqlStore::NextEscalationDue() {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT MIN(due_at) FROM escalations WHERE "
                                                  "due_at IS NOT NULL"));
    return ReadOptionalTime(*s);
  });
}

Result<std::optional<TimePoint>> SqlStore::NextNotificationDue(std::chrono::milliseconds lease) {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    // A message waiting for an older one to its destination is not due before that one.
    static const std::string kPending = fmt::format(
        "SELECT MIN(p.not_before) FROM notifications p WHERE p.state = 'pending' AND NOT {}",
        kWaitsInOrder);
    // A claim whose lease runs out is due again then.
    static const std::string kSending =
        "SELECT MIN(attempted_at) FROM notifications WHERE state = 'sending'";
    std::optional<TimePoint> out;
    for (const auto& [sql, after] : {std::pair<const std::string&, std::chrono::milliseconds>(
                                         kPending, std::chrono::milliseconds(0)),
                                     {kSending, lease}}) {
      HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (row && !s->IsNull(0)) {
        TimePoint t = FromMs(s->Int(0)) + after;
        if (!out || t < *out) out = t;
      }
      s->Reset();
    }
    return out;
  });
}

Result<std::vector<Notification>> SqlStore::ListNotifications(const NotificationFilter& f) {
  Where w;
  if (f.state) w.Add("state = ?", std::string(core::ToString(*f.state)));
  if (f.incident_id) w.Add("incident_id = ?", *f.incident_id);
  if (f.batch_id) w.Add("batch_id = ?", *f.batch_id);
  if (f.user_id) w.Add("user_id = ?", *f.user_id);
  if (f.problems_only) {
    w.AddRaw(
        "(state IN ('failed', 'dead', 'unknown') OR (state IN ('pending', 'sending') AND "
        "last_error <> ''))");
  }
  if (f.before_id > 0) w.Add("id < ?", f.before_id);
  std::string sql = fmt::format("SELECT {} FROM notifications{} ORDER BY id DESC LIMIT {}",
                                kNotificationColumns, w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<Notification>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<Notification>(*s, ReadNotification);
  });
}

// ---------------------------------------------------------------------------------------------
// Schedule overrides.

namespace {

constexpr const char* kOverrideColumns =
    "id, schedule_id, user_id, start_at, end_at, kind, state, requested_by, note, created_by, "
    "created_at";

ScheduleOverride ReadOverride(const Stmt& s) {
  ScheduleOverride o;
  o.id = s.Int(0);
  o.schedule_id = s.Text(1);
  o.user_id = s.Text(2);
  o.start = FromMs(s.Int(3));
  o.end = FromMs(s.Int(4));
  o.kind = s.Text(5);
  o.state = core::ParseOverrideState(s.Text(6)).value_or(core::OverrideState::kCancelled);
  o.requested_by = s.Text(7);
  o.note = s.Text(8);
  o.created_by = s.Text(9);
  o.created_at = FromMs(s.Int(10));
  return o;
}

Result<ScheduleOverride> LoadOverride(Db& db, int64_t id) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM schedule_overrides WHERE id = ?", kOverrideColumns);
  return LoadById(db, kSql, id, "override", ReadOverride);
}

std::string OverrideJson(const ScheduleOverride& o) {
  return fmt::format(
      "{{\"schedule\":{},\"user\":{},\"start\":{},\"end\":{},\"kind\":{},\"state\":{}}}",
      JsonQuote(o.schedule_id), JsonQuote(o.user_id), JsonQuote(FormatRfc3339(o.start)),
      JsonQuote(FormatRfc3339(o.end)), JsonQuote(o.kind), JsonQuote(core::ToString(o.state)));
}

}  // namespace

void SqlStore::CreateOverrides(std::vector<ScheduleOverride> overrides, Actor actor,
                               Callback<std::vector<ScheduleOverride>> done) {
  Submit<std::vector<ScheduleOverride>>(
      [this, overrides = std::move(overrides),
       actor = std::move(actor)](Db& db) mutable -> Result<std::vector<ScheduleOverride>> {
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare("INSERT INTO schedule_overrides(schedule_id, user_id, start_at, "
                                 "end_at, kind, state, requested_by, note, created_by, "
                                 "created_at) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id"));
        for (auto& o : overrides) {
          o.created_at = now;
          o.created_by = actor.id;
          s->Reset();
          s->Bind(1, o.schedule_id)
              .Bind(2, o.user_id)
              .Bind(3, Ms(o.start))
              .Bind(4, Ms(o.end))
              .Bind(5, o.kind)
              .Bind(6, core::ToString(o.state))
              .Bind(7, o.requested_by)
              .Bind(8, o.note)
              .Bind(9, o.created_by)
              .Bind(10, Ms(now));
          HOUSTON_ASSIGN_OR_RETURN(o.id, InsertedId(*s));
          HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor,
                                        o.state == core::OverrideState::kRequested
                                            ? ToString(AuditAction::kCoverRequested)
                                            : ToString(AuditAction::kOverrideCreated),
                                        "schedule", o.schedule_id, OverrideJson(o)));
        }
        return overrides;
      },
      std::move(done));
}

void SqlStore::UpdateOverride(int64_t id, std::optional<std::string> accept_user, Actor actor,
                              Callback<ScheduleOverride> done) {
  Submit<ScheduleOverride>(
      [this, id, accept_user = std::move(accept_user),
       actor = std::move(actor)](Db& db) -> Result<ScheduleOverride> {
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(ScheduleOverride o, LoadOverride(db, id));
        if (o.state == core::OverrideState::kCancelled) {
          return std::unexpected(FailedPrecondition(fmt::format("override {} was cancelled", id)));
        }
        if (accept_user) {
          if (o.state != core::OverrideState::kRequested) {
            return std::unexpected(
                FailedPrecondition(fmt::format("override {} is not an open cover request", id)));
          }
          HOUSTON_ASSIGN_OR_RETURN(
              Stmt * s, db.Prepare("UPDATE schedule_overrides SET user_id = ?, state = 'active' "
                                   "WHERE id = ? AND state = 'requested'"));
          HOUSTON_RETURN_IF_ERROR(s->Bind(1, *accept_user).Bind(2, id).Run());
        } else {
          HOUSTON_ASSIGN_OR_RETURN(
              Stmt * s, db.Prepare("UPDATE schedule_overrides SET state = 'cancelled' WHERE id = "
                                   "?"));
          HOUSTON_RETURN_IF_ERROR(s->Bind(1, id).Run());
        }
        HOUSTON_ASSIGN_OR_RETURN(o, LoadOverride(db, id));
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor,
                                      accept_user ? ToString(AuditAction::kCoverAccepted)
                                                  : ToString(AuditAction::kOverrideCancelled),
                                      "schedule", o.schedule_id, OverrideJson(o)));
        return o;
      },
      std::move(done));
}

Result<std::vector<ScheduleOverride>> SqlStore::ListOverrides(const std::string& schedule_id,
                                                              TimePoint ending_after) {
  Where w;
  w.Add("state <> ?", std::string(core::ToString(core::OverrideState::kCancelled)));
  w.Add("end_at > ?", Ms(ending_after));
  if (!schedule_id.empty()) w.Add("schedule_id = ?", schedule_id);
  std::string sql = fmt::format("SELECT {} FROM schedule_overrides{} ORDER BY id LIMIT 10000",
                                kOverrideColumns, w.sql);
  return WithReader([&](Db& db) -> Result<std::vector<ScheduleOverride>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<ScheduleOverride>(*s, ReadOverride);
  });
}

Result<OpenWork> SqlStore::CountOpenWork(TimePoint now) {
  return WithReader([&](Db& db) -> Result<OpenWork> {
    OpenWork w;
    for (const char* status : {"triggered", "acknowledged", "mitigated"}) {
      w.incidents_by_status[status] = 0;
    }
    // Index scans only (incidents_status, notifications_pending): cheap enough for every scrape.
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * s, db.Prepare("SELECT status, COUNT(*) FROM incidents WHERE status IN "
                             "('triggered', 'acknowledged', 'mitigated') GROUP BY status"));
    for (;;) {
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      w.incidents_by_status[s->Text(0)] = s->Int(1);
    }
    s->Reset();
    HOUSTON_ASSIGN_OR_RETURN(
        Stmt * n, db.Prepare("SELECT COUNT(*), COALESCE(SUM(CASE WHEN not_before <= ? THEN 1 "
                             "ELSE 0 END), 0) FROM notifications WHERE state = 'pending'"));
    n->Bind(1, Ms(now));
    HOUSTON_ASSIGN_OR_RETURN(bool row, n->Step());
    if (row) {
      w.notifications_pending = n->Int(0);
      w.notifications_due = n->Int(1);
    }
    n->Reset();
    return w;
  });
}

// ---------------------------------------------------------------------------------------------
// Token listing and revocation.

namespace {
constexpr const char* kTokenColumns = "id, name, role, prefix, created_at, revoked_at";

Token ReadToken(const Stmt& s) {
  Token t;
  t.id = s.Int(0);
  t.name = s.Text(1);
  t.role = ParseRole(s.Text(2)).value_or(Role::kViewer);
  t.prefix = s.Text(3);
  t.created_at = FromMs(s.Int(4));
  t.revoked_at = OptTime(s, 5);
  return t;
}
}  // namespace

Result<std::vector<Token>> SqlStore::ListTokens() {
  static const std::string kSql = fmt::format("SELECT {} FROM tokens ORDER BY id", kTokenColumns);
  return WithReader([&](Db& db) -> Result<std::vector<Token>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    return ReadAll<Token>(*s, ReadToken);
  });
}

void SqlStore::RevokeToken(int64_t id, Actor actor, Callback<Token> done) {
  Submit<Token>(
      [this, id, actor = std::move(actor)](Db& db) -> Result<Token> {
        TimePoint now = options_.clock->Now();
        static const std::string kGet =
            fmt::format("SELECT {} FROM tokens WHERE id = ?", kTokenColumns);
        HOUSTON_ASSIGN_OR_RETURN(Token t, LoadById(db, kGet, id, "token", ReadToken));
        if (t.revoked_at) {
          return std::unexpected(
              FailedPrecondition(fmt::format("token {} is already revoked", id)));
        }
        HOUSTON_ASSIGN_OR_RETURN(Stmt * u,
                                 db.Prepare("UPDATE tokens SET revoked_at = ? WHERE id = ?"));
        HOUSTON_RETURN_IF_ERROR(u->Bind(1, Ms(now)).Bind(2, id).Run());
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, ToString(AuditAction::kTokenRevoked), "token",
                                      std::to_string(id),
                                      fmt::format("{{\"name\":{}}}", JsonQuote(t.name))));
        t.revoked_at = now;
        return t;
      },
      std::move(done));
}

// ---------------------------------------------------------------------------------------------
// The change feed.

Result<std::vector<FeedEntry>> SqlStore::ReadFeed(int64_t after, int limit) {
  return WithReader([&](Db& db) { return sql::ReadFeed(db, after, limit); });
}

Result<FeedBounds> SqlStore::ReadFeedBounds() {
  return WithReader([](Db& db) { return sql::ReadFeedBounds(db); });
}

void SqlStore::PruneFeed(FeedRetention retention, Callback<int64_t> done) {
  Submit<int64_t>(
      [this, retention](Db& db) -> Result<int64_t> {
        return sql::PruneFeed(db, options_.clock->Now() - retention.max_age, retention.max_rows);
      },
      std::move(done));
}

void SqlStore::MaybePruneFeed(int64_t rows) {
  constexpr int64_t kPruneEveryRows = 4096;
  constexpr auto kPruneInterval = std::chrono::minutes(1);
  feed_since_prune_ += rows;
  SteadyPoint now = options_.clock->SteadyNow();
  if (feed_since_prune_ < kPruneEveryRows && now - last_feed_prune_ < kPruneInterval) return;
  feed_since_prune_ = 0;
  last_feed_prune_ = now;
  // Its own write in the next batch: a failure there fails nothing else.
  PruneFeed(FeedRetention{}, [](Result<int64_t> r) {
    if (!r) spdlog::warn("pruning the change feed failed: {}", r.error().ToString());
  });
}

}  // namespace houston::store::sql
