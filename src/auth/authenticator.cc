// The Authenticator: request credentials -> Principal; sign-in and sign-out.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/auth.h"
#include "core/json_util.h"

namespace houston::auth {

namespace {

// The one answer to a wrong user or password: it does not say which.
Status WrongCredentials() { return Unauthenticated("wrong user or password"); }

}  // namespace

Authenticator::Authenticator(store::Store& store, Clock& clock, SessionOptions options,
                             RoleOf role_of)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      role_of_(std::move(role_of)),
      throttle_(clock, options_.throttle),
      hash_pool_(WorkerPoolOptions{
          .threads = 1, .capacity = options_.max_pending_sign_ins, .name = "password-hash"}) {}

// A sign-in still waiting for the worker is answered Unavailable by the pool's Stop.
Authenticator::~Authenticator() { hash_pool_.Stop(); }

Result<Principal> Authenticator::Authenticate(const Credentials& c) {
  if (!c.authorization.empty()) return FromToken(c.authorization);
  if (auto id = CookieValue(c.cookie, kSessionCookie); id && !id->empty()) {
    return FromSession(*id);
  }
  return std::unexpected(Unauthenticated(
      "missing 'Authorization: Bearer <token>' header (create a token with 'houston token "
      "create') or session cookie (sign in with POST /api/v1/session)"));
}

Result<Principal> Authenticator::FromToken(std::string_view auth) {
  std::optional<std::string_view> credentials = BearerCredentials(auth);
  if (!credentials) {
    return std::unexpected(
        Unauthenticated("the Authorization header must have the form 'Bearer <token>'"));
  }
  auto token = store_.FindTokenByHash(TokenHash(*credentials));
  if (!token) {
    if (token.error().code() == StatusCode::kNotFound) {
      return std::unexpected(Unauthenticated("invalid or revoked API token"));
    }
    return std::unexpected(token.error());
  }
  Principal p;
  p.id = token->name;
  p.role = token->role;
  p.method = Method::kToken;
  return p;
}

Result<Principal> Authenticator::FromSession(const std::string& session_id) {
  auto session = store_.FindSessionByHash(SessionHash(session_id));
  if (!session) {
    if (session.error().code() == StatusCode::kNotFound) {
      return std::unexpected(
          Unauthenticated("this session is not valid (signed out, or unknown): sign in again"));
    }
    return std::unexpected(session.error());
  }
  TimePoint now = clock_.Now();
  if (session->revoked_at) {
    return std::unexpected(Unauthenticated("this session was revoked: sign in again"));
  }
  if (now >= session->expires_at) {
    return std::unexpected(Unauthenticated(
        fmt::format("this session expired (sessions last {} at most): sign in again",
                    FormatDuration(options_.lifetime))));
  }
  if (now >= session->idle_expires_at) {
    return std::unexpected(
        Unauthenticated(fmt::format("this session expired after {} without use: sign in again",
                                    FormatDuration(options_.idle))));
  }
  std::optional<core::Role> role = role_of_(session->user_id);
  if (!role) {
    return std::unexpected(Unauthenticated(fmt::format(
        "user '{}' is no longer in the org: sign in as another user", session->user_id)));
  }
  TimePoint idle_until = std::min(now + options_.idle, session->expires_at);
  // Recording every use would cost a write per request: only once the expiry would move by a
  // noticeable part of the idle lifetime (at most a minute).
  auto every = std::min<std::chrono::milliseconds>(std::chrono::minutes(1), options_.idle / 10);
  if (idle_until - session->idle_expires_at >= every) {
    store_.TouchSession(session->id, now, idle_until, [id = session->id](Result<int> r) {
      if (!r) spdlog::debug("recording the use of session {} failed: {}", id, r.error().message());
    });
  } else {
    idle_until = session->idle_expires_at;
  }
  Principal p;
  p.id = session->user_id;
  p.role = *role;
  p.method = Method::kSession;
  p.session_id = session->id;
  p.csrf_token = CsrfTokenFor(session_id);
  p.expires_at = idle_until;
  return p;
}

void Authenticator::SignIn(SignInRequest request, std::function<void(SignInResult)> done) {
  if (int wait = throttle_.Begin(request.user, request.client); wait > 0) {
    return done(std::unexpected(SignInError{
        ResourceExhausted(fmt::format(
            "too many failed sign-ins for this user or from this address: try again in {} s",
            wait)),
        wait}));
  }
  // Shared by the check and its refusal, of which the pool runs exactly one.
  struct Pending {
    SignInRequest request;
    std::function<void(SignInResult)> done;
  };
  auto pending = std::make_shared<Pending>(std::move(request), std::move(done));
  hash_pool_.SubmitOrRefuse(
      [this, pending] { CheckPassword(std::move(pending->request), std::move(pending->done)); },
      "sign-ins",
      [this, pending](Status why) {
        throttle_.Succeeded(pending->request.user, pending->request.client);  // it never ran
        pending->done(std::unexpected(SignInError{std::move(why), 1}));
      });
}

void Authenticator::CheckPassword(SignInRequest request, std::function<void(SignInResult)> done) {
  std::optional<core::Role> role = role_of_(request.user);
  std::string hash;
  std::string_view reason;
  if (!role) {
    reason = "unknown user";
  } else if (auto stored = store_.GetPasswordHash(request.user)) {
    hash = std::move(*stored);
  } else if (stored.error().code() == StatusCode::kNotFound) {
    reason = "no password set";
  } else {
    throttle_.Succeeded(request.user, request.client);  // the database failed, not the caller
    return done(std::unexpected(SignInError{stored.error()}));
  }
  if (hash.empty()) {
    // The same work as for a real user, so that the time taken does not tell who exists.
    if (dummy_hash_.empty()) {
      auto dummy = HashPassword(NewSessionId(), options_.cost);
      if (dummy) dummy_hash_ = std::move(*dummy);
    }
    (void)VerifyPassword(dummy_hash_, request.password);
  } else if (!VerifyPassword(hash, request.password)) {
    reason = "wrong password";
  }

  if (!reason.empty()) {
    spdlog::info("failed sign-in for user '{}' from {} ({})", request.user, request.client, reason);
    std::string details =
        fmt::format(R"({{"client":{},"reason":{}}})", JsonQuote(request.client), JsonQuote(reason));
    auto shared = std::make_shared<std::function<void(SignInResult)>>(std::move(done));
    store_.RecordAudit(store::Actor{"user", request.user, "web"},
                       std::string(store::ToString(store::AuditAction::kUserSignInFailed)), "user",
                       request.user, std::move(details), [shared](Result<int64_t> r) {
                         if (!r) {
                           spdlog::warn("recording a failed sign-in failed: {}",
                                        r.error().message());
                         }
                         (*shared)(std::unexpected(SignInError{WrongCredentials()}));
                       });
    return;
  }

  throttle_.Succeeded(request.user, request.client);
  TimePoint now = clock_.Now();
  store::Session session;
  session.user_id = request.user;
  session.client = request.client;
  session.created_at = now;
  session.last_seen_at = now;
  session.expires_at = now + options_.lifetime;
  session.idle_expires_at = std::min(now + options_.idle, session.expires_at);
  std::string session_id = NewSessionId();
  std::string hash_of_id = SessionHash(session_id);
  auto shared = std::make_shared<std::function<void(SignInResult)>>(std::move(done));
  store_.CreateSession(std::move(session), std::move(hash_of_id),
                       store::Actor{"user", request.user, "web"},
                       [shared, session_id, role = *role, lifetime = options_.lifetime,
                        secure = options_.secure_cookie](Result<store::Session> created) {
                         if (!created)
                           return (*shared)(std::unexpected(SignInError{created.error()}));
                         SignedIn out;
                         out.principal.id = created->user_id;
                         out.principal.role = role;
                         out.principal.method = Method::kSession;
                         out.principal.session_id = created->id;
                         out.principal.csrf_token = CsrfTokenFor(session_id);
                         out.principal.expires_at = created->idle_expires_at;
                         out.set_cookie = SessionCookie(session_id, lifetime, secure);
                         out.session_id = session_id;
                         (*shared)(std::move(out));
                       });
}

void Authenticator::SignOut(const Principal& principal, store::Callback<store::Session> done) {
  if (principal.method != Method::kSession) {
    return done(std::unexpected(InvalidArgument(
        "only a signed-in session can sign out; an API token is revoked with 'houston token "
        "revoke'")));
  }
  store_.DeleteSession(principal.session_id, principal.Actor(), std::move(done));
}

void Authenticator::RevokeSessions(std::string user_id, store::Actor actor,
                                   store::Callback<int> done) {
  store_.RevokeUserSessions(std::move(user_id), std::move(actor), std::move(done));
}

}  // namespace houston::auth
