// The CSRF/Origin rule for cookie-authenticated requests.
#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "auth/auth.h"

namespace houston::auth {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool SafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

// Constant time for equal lengths: the comparison does not tell how much of a guess was right.
bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string NormalizeOrigin(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return "";
  std::string scheme = Lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.empty()) return "";
  std::string host = Lower(rest);
  if ((scheme == "http" && host.ends_with(":80")) ||
      (scheme == "https" && host.ends_with(":443"))) {
    host.resize(host.rfind(':'));
  }
  return scheme + "://" + host;
}

Status CheckOrigin(const RequestSite& site) {
  if (site.origin.empty()) return OkStatus();
  std::string origin = NormalizeOrigin(site.origin);  // "null" (opaque origins) gives ""
  std::vector<std::string> own;
  if (!site.base_url.empty()) own.push_back(NormalizeOrigin(site.base_url));
  if (!site.host.empty()) {
    own.push_back(NormalizeOrigin(fmt::format("{}://{}", site.tls ? "https" : "http", site.host)));
  }
  for (const auto& o : own) {
    if (!origin.empty() && o == origin) return OkStatus();
  }
  return PermissionDenied(
      fmt::format("cross-origin request refused: Origin '{}' is not this server's origin ({})",
                  site.origin, own.empty() ? std::string("unknown") : own.front()));
}

Status CheckCsrf(const Principal& principal, const RequestSite& site) {
  if (principal.method != Method::kSession || SafeMethod(site.method)) return OkStatus();
  HOUSTON_RETURN_STATUS_IF_ERROR(CheckOrigin(site));
  if (site.csrf_token.empty()) {
    return PermissionDenied(
        "a signed-in request that changes something must carry the X-CSRF-Token header: the "
        "csrf_token that POST or GET /api/v1/session returned");
  }
  if (!SameSecret(site.csrf_token, principal.csrf_token)) {
    return PermissionDenied(
        "the X-CSRF-Token header does not match this session (GET /api/v1/session returns the "
        "current one)");
  }
  return OkStatus();
}

}  // namespace houston::auth
