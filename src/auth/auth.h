// auth: who is making a request. Every authenticated request becomes one Principal, from a
// bearer API token or from a person's session cookie; this module owns both, plus users'
// passwords (Argon2id), session ids (random; only their hash is stored), the CSRF/Origin rule for
// cookie-authenticated changes, and the sign-in throttle.
//
// It knows no HTTP library: callers hand it header values and get Status codes back
// (Unauthenticated -> 401, PermissionDenied -> 403, ResourceExhausted -> 429).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/types.h"
#include "core/worker_pool.h"
#include "store/store.h"

namespace houston::auth {

// ---- Principals ------------------------------------------------------------------------------

// How a request proved who it is.
enum class Method { kToken, kSession };
std::string_view ToString(Method m);  // "token" | "session"

// Who is making a request, decided once per request.
struct Principal {
  std::string id;  // the user's id (kSession) or the token's name (kToken)
  core::Role role = core::Role::kViewer;
  Method method = Method::kToken;
  // kSession only:
  int64_t session_id = 0;  // the session's row id (not its secret)
  std::string csrf_token;  // what X-CSRF-Token must carry on requests that change something
  TimePoint expires_at{};  // when the session ends unless used again (idle) or at the latest

  // Who this is in the audit log and on timelines: a token as {"token", name, token_method}
  // ("api", or "cli" for the command line), a person as {"user", user id, "web"}.
  store::Actor Actor(std::string_view token_method = "api") const;
};

// ---- Tokens (the secrets are made by api::NewApiToken) ----------------------------------------

// What the store keeps of an API token: lower-case hex SHA-256.
std::string TokenHash(std::string_view token);

// ---- Passwords -------------------------------------------------------------------------------

inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 1024;  // bytes: bounds the hashing work per attempt

// InvalidArgument saying why `password` cannot be used (too short, too long).
Status CheckPasswordPolicy(std::string_view password);

// How much work and memory one Argon2id hash costs. kInteractive is libsodium's recommendation
// for sign-in (64 MiB); kMinimum exists for tests only.
struct PasswordCost {
  unsigned long long ops;
  size_t mem_bytes;
};
extern const PasswordCost kInteractive;
extern const PasswordCost kMinimum;

// An Argon2id hash in libsodium's crypto_pwhash_str format (it embeds salt and cost).
// ResourceExhausted when the memory cannot be had.
Result<std::string> HashPassword(std::string_view password, PasswordCost cost = kInteractive);
// Whether `password` matches `hash` (false for a malformed hash). Costs as much as HashPassword.
bool VerifyPassword(std::string_view hash, std::string_view password);

// ---- Sessions --------------------------------------------------------------------------------

inline constexpr std::string_view kSessionCookie = "houston_session";

// A new secret session id: 32 random bytes in base62. The cookie carries it; the store keeps
// only SessionHash(id).
std::string NewSessionId();
std::string SessionHash(std::string_view session_id);
// The CSRF token of a session: derived from its secret id (so it needs no storage), different
// from its hash, and telling nothing about the id.
std::string CsrfTokenFor(std::string_view session_id);

// Set-Cookie values: the session cookie (HttpOnly; SameSite=Lax; Path=/; Max-Age; Secure when
// `secure`), and one that makes the browser forget it.
std::string SessionCookie(std::string_view session_id, std::chrono::seconds max_age, bool secure);
std::string ClearSessionCookie(bool secure);
// The credentials of an Authorization header "Bearer <credentials>" (the scheme in any letter
// case, RFC 7235; spaces around the credentials dropped), or nullopt when it has another scheme
// or none, or no credentials.
std::optional<std::string_view> BearerCredentials(std::string_view authorization);
// The value of cookie `name` in a Cookie header ("a=1; b=2"), if present.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

// "30s", "15m", "12h", "7d" (or a bare number of seconds) as seconds; InvalidArgument otherwise.
Result<std::chrono::seconds> ParseDuration(std::string_view text);
// "7d", "12h", "90m", "45s": the largest whole unit.
std::string FormatDuration(std::chrono::seconds d);

// ---- CSRF and Origin -------------------------------------------------------------------------

// What the CSRF rule looks at in a request.
struct RequestSite {
  std::string_view method;      // "GET", "POST", ...
  std::string_view csrf_token;  // the X-CSRF-Token header ("" if absent)
  std::string_view origin;      // the Origin header ("" if absent)
  std::string_view host;        // the Host header
  bool tls = false;             // the server speaks HTTPS
  std::string_view base_url;    // the configured public URL ("" if none)
};

// "scheme://host[:port]" in lower case, without a default port (80 for http, 443 for https);
// "" when `url` has no scheme and host.
std::string NormalizeOrigin(std::string_view url);

// Whether a request's Origin (when it sends one) is this server's own: the origin of
// `base_url`, or of the request's Host with the server's scheme. OK, or PermissionDenied.
Status CheckOrigin(const RequestSite& site);

// The rule for cookie-authenticated requests: one that may change something (any method but
// GET, HEAD and OPTIONS) must carry X-CSRF-Token equal to its session's, and an Origin, if any,
// that is the server's own. Token-authenticated requests need neither (a browser never adds a
// bearer token by itself). OK, or PermissionDenied saying what is missing.
Status CheckCsrf(const Principal& principal, const RequestSite& site);

// ---- Sign-in throttle ------------------------------------------------------------------------

struct ThrottleOptions {
  int max_failures_per_user = 5;     // within `window`, per user name tried
  int max_failures_per_client = 20;  // within `window`, per client address
  std::chrono::seconds window{std::chrono::minutes(15)};
  size_t max_keys = 100'000;  // memory bound: users and addresses remembered at most
};

// Counts failed sign-ins per user name and per client address over a sliding window; once
// either reaches its limit, attempts are refused until the oldest failure in the window ages
// out. An attempt counts as a failure from the moment it starts (so concurrent guesses cannot
// overrun the limit) until it succeeds. Time comes from the injected Clock (steady). Counts are
// per process. Thread-safe.
class SignInThrottle {
 public:
  SignInThrottle(Clock& clock, ThrottleOptions options) : clock_(clock), options_(options) {}
  // 0 when an attempt may go ahead now (it is counted); otherwise whole seconds (>= 1) until one
  // may, and nothing is counted.
  int Begin(std::string_view user, std::string_view client);
  // The attempt begun for `user` from `client` succeeded: the user's failures are forgotten and
  // the attempt no longer counts against the client.
  void Succeeded(std::string_view user, std::string_view client);

 private:
  using Failures = std::deque<SteadyPoint>;
  // Drops failures older than the window; returns seconds until `f` has room under `limit`.
  int Wait(Failures& f, int limit, SteadyPoint now) const;
  void Bound(SteadyPoint now);

  Clock& clock_;
  const ThrottleOptions options_;
  std::mutex mu_;
  std::map<std::string, Failures, std::less<>> failures_;  // "u:<user>" / "c:<addr>"; mu_
};

// ---- The authenticator -----------------------------------------------------------------------

struct SessionOptions {
  std::chrono::seconds idle{std::chrono::hours(12)};          // unused this long: it ends
  std::chrono::seconds lifetime{std::chrono::hours(24 * 7)};  // it ends this long after sign-in
  bool secure_cookie = false;                                 // add Secure (served over HTTPS)
  PasswordCost cost = kInteractive;                           // of the hash for unknown users
  ThrottleOptions throttle;
  size_t max_pending_sign_ins = 16;  // password checks queued at most (each takes 64 MiB)
};

// What a request presents.
struct Credentials {
  std::string_view authorization;  // the Authorization header ("" if absent)
  std::string_view cookie;         // the Cookie header ("" if absent)
};

struct SignInRequest {
  std::string user;
  std::string password;
  std::string client;  // the caller's address (throttle, audit)
};
struct SignedIn {
  Principal principal;
  std::string session_id;  // the secret: goes into the cookie and nowhere else
  std::string set_cookie;  // the Set-Cookie value
};
// Why a sign-in failed: the status (Unauthenticated, ResourceExhausted, ...) and, for a
// throttled one, the seconds to wait (Retry-After).
struct SignInError {
  Status status;
  int retry_after = 0;
};
using SignInResult = std::expected<SignedIn, SignInError>;

// Turns requests' credentials into principals, and signs people in and out. Password checks
// run on a worker thread of its own (never on the caller's: each costs tens of milliseconds and
// 64 MiB). Thread-safe.
class Authenticator {
 public:
  // The role of `user_id` in the current org, or nullopt when there is no such user.
  using RoleOf = std::function<std::optional<core::Role>(std::string_view user_id)>;

  Authenticator(store::Store& store, Clock& clock, SessionOptions options, RoleOf role_of);
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // The principal of a request: from `Authorization: Bearer <token>` if present, else from the
  // session cookie. Unauthenticated (why, in words a person can act on) when neither works;
  // other codes when the store cannot answer. A session in use has its idle expiry moved on.
  Result<Principal> Authenticate(const Credentials& credentials);

  // Checks `request`'s password (unknown users cost the same as wrong passwords, and get the
  // same answer) and creates a session. `done` runs once, on another thread. Failures are
  // audited (user.sign_in_failed); the password never is.
  void SignIn(SignInRequest request, std::function<void(SignInResult)> done);
  // Ends `principal`'s session (audit user.signed_out). InvalidArgument for a token.
  void SignOut(const Principal& principal, store::Callback<store::Session> done);
  // Revokes every session of `user_id` (audit user.sessions_revoked by `actor`).
  void RevokeSessions(std::string user_id, store::Actor actor, store::Callback<int> done);

  const SessionOptions& options() const { return options_; }

 private:
  Result<Principal> FromToken(std::string_view authorization);
  Result<Principal> FromSession(const std::string& session_id);
  // Runs on the worker: verifies, then creates the session or records the failure.
  void CheckPassword(SignInRequest request, std::function<void(SignInResult)> done);

  store::Store& store_;
  Clock& clock_;
  const SessionOptions options_;
  const RoleOf role_of_;
  SignInThrottle throttle_;
  std::string dummy_hash_;  // verified for users without a password (same cost, same time)

  // One thread: a check takes 64 MiB. Last, so that it stops before what its tasks use.
  WorkerPool hash_pool_;
};

}  // namespace houston::auth
