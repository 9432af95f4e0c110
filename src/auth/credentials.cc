// Principals, token hashes, passwords, session ids and cookies, durations.
#include <fmt/format.h>
#include <sodium.h>

#include <cctype>
#include <charconv>

#include "auth/auth.h"
#include "core/random.h"

namespace houston::auth {

std::string_view ToString(Method m) { return m == Method::kSession ? "session" : "token"; }

store::Actor Principal::Actor(std::string_view token_method) const {
  if (method == Method::kSession) return store::Actor{"user", id, "web"};
  return store::Actor{"token", id, std::string(token_method)};
}

std::string TokenHash(std::string_view token) { return Sha256Hex(token); }

std::optional<std::string_view> BearerCredentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view c = authorization.substr(kScheme.size());
  while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
  while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
  if (c.empty()) return std::nullopt;
  return c;
}

// ---- Passwords

const PasswordCost kInteractive{crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                crypto_pwhash_MEMLIMIT_INTERACTIVE};
const PasswordCost kMinimum{crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return InvalidArgument(
        fmt::format("the password is too short: use at least {} characters", kMinPasswordLength));
  }
  if (password.size() > kMaxPasswordLength) {
    return InvalidArgument(
        fmt::format("the password is too long: use at most {} bytes", kMaxPasswordLength));
  }
  return OkStatus();
}

Result<std::string> HashPassword(std::string_view password, PasswordCost cost) {
  if (sodium_init() < 0) return std::unexpected(Internal("libsodium failed to initialise"));
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::unexpected(ResourceExhausted("not enough memory to hash a password"));
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (sodium_init() < 0) return false;
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  char stored[crypto_pwhash_STRBYTES] = {};
  hash.copy(stored, hash.size());
  return crypto_pwhash_str_verify(stored, password.data(), password.size()) == 0;
}

// ---- Sessions

std::string NewSessionId() { return RandomBase62(32); }
std::string SessionHash(std::string_view session_id) { return Sha256Hex(session_id); }
std::string CsrfTokenFor(std::string_view session_id) {
  // Domain-separated from SessionHash: knowing one tells nothing of the other.
  std::string input = "houston-csrf:";
  input += session_id;
  return Sha256Hex(input);
}

std::string SessionCookie(std::string_view session_id, std::chrono::seconds max_age, bool secure) {
  return fmt::format("{}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}", kSessionCookie,
                     session_id, max_age.count(), secure ? "; Secure" : "");
}

std::string ClearSessionCookie(bool secure) {
  return fmt::format("{}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{}", kSessionCookie,
                     secure ? "; Secure" : "");
}

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

// ---- Durations

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return std::unexpected(InvalidArgument(fmt::format(
        "'{}' is not a duration: write a whole number with s, m, h or d, e.g. 30m, 12h, 7d",
        text)));
  };
  if (text.empty()) return bad();
  int64_t unit = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 's':
      digits.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      digits.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      digits.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      digits.remove_suffix(1);
      break;
    default:
      break;
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || n <= 0 ||
      n > 100LL * 365 * 86400 / unit) {
    return bad();
  }
  return std::chrono::seconds(n * unit);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s > 0 && s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s > 0 && s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s > 0 && s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

}  // namespace houston::auth
