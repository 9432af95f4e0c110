// SqlStore: sign-in (users' password hashes and sessions) and free-standing audit records.
#include <fmt/format.h>

#include "core/json_util.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store::sql {

namespace {

constexpr const char* kSessionColumns =
    "id, user_id, client, created_at, last_seen_at, idle_expires_at, expires_at, revoked_at";

Session ReadSession(const Stmt& s) {
  Session out;
  out.id = s.Int(0);
  out.user_id = s.Text(1);
  out.client = s.Text(2);
  out.created_at = FromMs(s.Int(3));
  out.last_seen_at = FromMs(s.Int(4));
  out.idle_expires_at = FromMs(s.Int(5));
  out.expires_at = FromMs(s.Int(6));
  out.revoked_at = OptTime(s, 7);
  return out;
}

// Revokes the live sessions of `user_id` at `now`; returns how many.
Result<int> RevokeSessionsOf(Db& db, const std::string& user_id, TimePoint now) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at "
                           "IS NULL AND expires_at > ? AND idle_expires_at > ?"));
  s->Bind(1, Ms(now)).Bind(2, user_id).Bind(3, Ms(now)).Bind(4, Ms(now));
  HOUSTON_RETURN_IF_ERROR(s->Run());
  return static_cast<int>(db.Changes());
}

}  // namespace

void SqlStore::SetPassword(std::string user_id, std::string password_hash, Actor actor,
                           Callback<int> done) {
  Submit<int>(
      [this, user_id = std::move(user_id), hash = std::move(password_hash),
       actor = std::move(actor)](Db& db) -> Result<int> {
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare("INSERT INTO user_passwords(user_id, hash, updated_at) VALUES "
                                 "(?,?,?) ON CONFLICT (user_id) DO UPDATE SET hash = "
                                 "excluded.hash, updated_at = excluded.updated_at"));
        HOUSTON_RETURN_IF_ERROR(s->Bind(1, user_id).Bind(2, hash).Bind(3, Ms(now)).Run());
        HOUSTON_ASSIGN_OR_RETURN(int revoked, RevokeSessionsOf(db, user_id, now));
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, ToString(AuditAction::kUserPasswordSet),
                                      "user", user_id,
                                      fmt::format(R"({{"sessions_revoked":{}}})", revoked)));
        return revoked;
      },
      std::move(done));
}

Result<std::string> SqlStore::GetPasswordHash(const std::string& user_id) {
  return WithReader([&](Db& db) -> Result<std::string> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                             db.Prepare("SELECT hash FROM user_passwords WHERE user_id = ?"));
    s->Bind(1, user_id);
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) {
      s->Reset();
      return std::unexpected(NotFound(fmt::format("user '{}' has no password", user_id)));
    }
    std::string hash = s->Text(0);
    s->Reset();
    return hash;
  });
}

void SqlStore::CreateSession(Session session, std::string session_hash, Actor actor,
                             Callback<Session> done) {
  Submit<Session>(
      [this, session = std::move(session), hash = std::move(session_hash),
       actor = std::move(actor)](Db& db) mutable -> Result<Session> {
        TimePoint now = options_.clock->Now();
        // Ended sessions are of no use (not even for their "expired" answer, long after): the
        // user's are cleared whenever the user signs in again.
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * d, db.Prepare("DELETE FROM sessions WHERE user_id = ? AND (expires_at <= ? OR "
                                 "idle_expires_at <= ?)"));
        HOUSTON_RETURN_IF_ERROR(
            d->Bind(1, session.user_id).Bind(2, Ms(now)).Bind(3, Ms(now)).Run());
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s,
            db.Prepare("INSERT INTO sessions(hash, user_id, client, created_at, last_seen_at, "
                       "idle_expires_at, expires_at) VALUES (?,?,?,?,?,?,?) RETURNING id"));
        s->Bind(1, hash)
            .Bind(2, session.user_id)
            .Bind(3, session.client)
            .Bind(4, Ms(session.created_at))
            .Bind(5, Ms(session.last_seen_at))
            .Bind(6, Ms(std::min(session.idle_expires_at, session.expires_at)))
            .Bind(7, Ms(session.expires_at));
        HOUSTON_ASSIGN_OR_RETURN(session.id, InsertedId(*s));
        session.idle_expires_at = std::min(session.idle_expires_at, session.expires_at);
        session.revoked_at.reset();
        HOUSTON_RETURN_IF_ERROR(Audit(
            db, now, actor, ToString(AuditAction::kUserSignedIn), "user", session.user_id,
            fmt::format(R"({{"session":{},"client":{}}})", session.id, JsonQuote(session.client))));
        return session;
      },
      std::move(done));
}

Result<Session> SqlStore::FindSessionByHash(const std::string& session_hash) {
  static const std::string kSql =
      fmt::format("SELECT {} FROM sessions WHERE hash = ?", kSessionColumns);
  return WithReader([&](Db& db) -> Result<Session> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kSql));
    s->Bind(1, session_hash);
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) {
      s->Reset();
      return std::unexpected(NotFound("no such session"));
    }
    Session out = ReadSession(*s);
    s->Reset();
    return out;
  });
}

void SqlStore::TouchSession(int64_t id, TimePoint at, TimePoint idle_expires_at,
                            Callback<int> done) {
  Submit<int>(
      [id, at, idle_expires_at](Db& db) -> Result<int> {
        // Never moves backwards (two servers touching at once) nor past the absolute expiry.
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s,
            db.Prepare("UPDATE sessions SET last_seen_at = ?, idle_expires_at = CASE WHEN ? < "
                       "expires_at THEN ? ELSE expires_at END WHERE id = ? AND revoked_at IS NULL "
                       "AND last_seen_at <= ?"));
        s->Bind(1, Ms(at))
            .Bind(2, Ms(idle_expires_at))
            .Bind(3, Ms(idle_expires_at))
            .Bind(4, id)
            .Bind(5, Ms(at));
        HOUSTON_RETURN_IF_ERROR(s->Run());
        return static_cast<int>(db.Changes());
      },
      std::move(done));
}

void SqlStore::DeleteSession(int64_t id, Actor actor, Callback<Session> done) {
  Submit<Session>(
      [this, id, actor = std::move(actor)](Db& db) -> Result<Session> {
        TimePoint now = options_.clock->Now();
        static const std::string kGet =
            fmt::format("SELECT {} FROM sessions WHERE id = ?", kSessionColumns);
        HOUSTON_ASSIGN_OR_RETURN(Session session, LoadById(db, kGet, id, "session", ReadSession));
        HOUSTON_ASSIGN_OR_RETURN(Stmt * d, db.Prepare("DELETE FROM sessions WHERE id = ?"));
        HOUSTON_RETURN_IF_ERROR(d->Bind(1, id).Run());
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, ToString(AuditAction::kUserSignedOut), "user",
                                      session.user_id, fmt::format(R"({{"session":{}}})", id)));
        return session;
      },
      std::move(done));
}

void SqlStore::RevokeUserSessions(std::string user_id, Actor actor, Callback<int> done) {
  Submit<int>(
      [this, user_id = std::move(user_id), actor = std::move(actor)](Db& db) -> Result<int> {
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(int revoked, RevokeSessionsOf(db, user_id, now));
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, ToString(AuditAction::kUserSessionsRevoked),
                                      "user", user_id,
                                      fmt::format(R"({{"sessions":{}}})", revoked)));
        return revoked;
      },
      std::move(done));
}

void SqlStore::RecordAudit(Actor actor, std::string action, std::string resource_type,
                           std::string resource_id, std::string details_json,
                           Callback<int64_t> done) {
  Submit<int64_t>(
      [this, actor = std::move(actor), action = std::move(action),
       resource_type = std::move(resource_type), resource_id = std::move(resource_id),
       details = std::move(details_json)](Db& db) -> Result<int64_t> {
        return Audit(db, options_.clock->Now(), actor, action, resource_type, resource_id,
                     details.empty() ? "{}" : details);
      },
      std::move(done));
}

}  // namespace houston::store::sql
