// Fuzz target: the headers that say who a request is from. The input's NUL-separated fields are
// a Cookie header, an Authorization header, Origin, Host, X-CSRF-Token, the method and a
// duration text: session cookie lookup (auth::CookieValue), the Opsgenie key in GenieKey or
// Basic auth (ingest::OpsgenieKeyFromAuthorization), the API token or Prometheus key in Bearer
// auth (auth::BearerCredentials), the Origin and CSRF rules for a signed-in
// request (auth::CheckOrigin, auth::CheckCsrf) and auth::ParseDuration.
#include "auth/auth.h"
#include "fuzz/fuzz_util.h"
#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  auto f = fuzz::Fields(fuzz::AsText(data, size), 7);
  std::string_view cookie = f[0], authorization = f[1], origin = f[2], host = f[3], csrf = f[4],
                   method = f[5], duration = f[6];

  if (auto id = auth::CookieValue(cookie, auth::kSessionCookie)) {
    fuzz::Check(id->size() <= cookie.size(), "a cookie value longer than the header");
    fuzz::Check(id->find(';') == std::string::npos, "a cookie value spanning pairs");
    auth::SessionHash(*id);
  }
  if (auto key = ingest::OpsgenieKeyFromAuthorization(authorization)) {
    fuzz::Check(!key->empty(), "an empty Opsgenie key");
  }
  if (auto token = auth::BearerCredentials(authorization)) {
    fuzz::Check(!token->empty() && token->front() != ' ' && token->back() != ' ',
                "bearer credentials empty or with spaces around them");
    fuzz::Check(token->data() > authorization.data() + 6 &&
                    token->data() + token->size() <= authorization.data() + authorization.size(),
                "bearer credentials from outside the header, or inside its scheme");
    std::string scheme(authorization.substr(0, 7));
    for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    fuzz::Check(scheme == "bearer ", "bearer credentials from another scheme");
  }

  // A signed-in user (the session id is fixed, so is its CSRF token).
  auth::Principal user;
  user.id = "ada";
  user.method = auth::Method::kSession;
  user.csrf_token = auth::CsrfTokenFor("fuzz-session-id");
  for (bool tls : {false, true}) {
    auth::RequestSite site{method, csrf, origin, host, tls, tls ? "https://houston.example" : ""};
    Status csrf_ok = auth::CheckCsrf(user, site);
    bool safe = method == "GET" || method == "HEAD" || method == "OPTIONS";
    if (csrf_ok.ok() && !safe) {
      fuzz::Check(csrf == user.csrf_token, "a change accepted without the session's CSRF token");
    }
    if (auth::CheckOrigin(site).ok() && !origin.empty()) {
      std::string o = auth::NormalizeOrigin(origin);
      fuzz::Check(!o.empty(), "an origin without scheme and host accepted");
      fuzz::Check((tls && o == "https://houston.example") ||
                      o == auth::NormalizeOrigin(std::string(tls ? "https://" : "http://") +
                                                 std::string(host)),
                  "a foreign origin accepted");
    }
  }
  if (auto d = auth::ParseDuration(duration)) {
    fuzz::Check(d->count() >= 0, "a negative duration");
    auth::FormatDuration(*d);
  }
  return 0;
}
