// Signatures on outbound requests and signed action links (HMAC-SHA256 with libsodium).
#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "notify/internal/codec.h"
#include "notify/notify.h"

namespace houston::notify {
namespace {

using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  HOUSTON_CHECK(ok);
}

// HMAC-SHA256 with a key of any length (crypto_auth_hmacsha256() itself wants exactly 32 bytes).
Mac Hmac(std::string_view key, std::initializer_list<std::string_view> parts) {
  EnsureSodium();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  for (std::string_view p : parts) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(p.data()),
                                  p.size());
  }
  Mac mac;
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return mac;
}

std::string_view AsView(const Mac& m) {
  return {reinterpret_cast<const char*>(m.data()), m.size()};
}

// Domain separation: an action-link MAC can never be mistaken for any other HMAC under the key.
constexpr std::string_view kActionLabel = "houston action link\n";

bool ParseDecimal(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18 || s.front() == '+' || s.front() == '-') return false;
  if (s.size() > 1 && s.front() == '0') return false;  // one spelling per number
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

}  // namespace

std::string SignatureHeader(std::string_view secret, std::string_view body) {
  return "v1=" + internal::HexEncode(AsView(Hmac(secret, {body})));
}

std::string StandardWebhookSignature(std::string_view secret, std::string_view message_id,
                                     int64_t unix_seconds, std::string_view body) {
  std::string key(secret);
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.starts_with(kPrefix)) {
    if (std::optional<std::string> k = internal::Base64Decode(secret.substr(kPrefix.size()))) {
      key = std::move(*k);
    }
  }
  std::string ts = std::to_string(unix_seconds);
  std::string out =
      "v1," + internal::Base64Encode(AsView(Hmac(key, {message_id, ".", ts, ".", body})));
  sodium_memzero(key.data(), key.size());
  return out;
}

std::string MakeActionToken(std::string_view key, int64_t incident_id, std::string_view action,
                            TimePoint expires, std::string_view user_id, int64_t episode) {
  HOUSTON_CHECK(!key.empty());
  HOUSTON_CHECK(!action.empty() &&
                action.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos);
  HOUSTON_CHECK(episode >= 0);
  // Episode 0 keeps the v1 shape, so links made before episodes existed still verify.
  std::string payload =
      fmt::format("{}.{}.{}.{}.{}", episode == 0 ? "v1" : "v2", incident_id, action,
                  expires.time_since_epoch().count(), internal::Base64UrlEncode(user_id));
  if (episode != 0) payload += fmt::format(".{}", episode);
  Mac mac = Hmac(key, {kActionLabel, payload});
  return payload + "." + internal::Base64UrlEncode(AsView(mac));
}

std::string IncidentPageUrl(std::string_view base, std::string_view key, int64_t incident_id,
                            int64_t episode, TimePoint expires, std::string_view user_id) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  if (key.empty()) return fmt::format("{}/api/v1/incidents/{}", base, incident_id);
  return fmt::format("{}/actions/{}", base,
                     MakeActionToken(key, incident_id, "view", expires, user_id, episode));
}

Result<ActionClaim> VerifyActionToken(std::string_view key, std::string_view token, TimePoint now) {
  Status malformed = InvalidArgument("malformed action link");
  if (token.size() > 512) return std::unexpected(malformed);
  size_t dot = token.rfind('.');
  if (dot == std::string_view::npos) return std::unexpected(malformed);
  std::string_view payload = token.substr(0, dot);
  std::optional<std::string> mac = internal::Base64UrlDecode(token.substr(dot + 1));
  if (!mac || mac->size() != crypto_auth_hmacsha256_BYTES) return std::unexpected(malformed);
  std::vector<std::string_view> parts = Split(payload, '.');
  bool v1 = parts.size() == 5 && parts[0] == "v1";
  bool v2 = parts.size() == 6 && parts[0] == "v2";
  if (!v1 && !v2) return std::unexpected(malformed);

  if (key.empty()) return std::unexpected(PermissionDenied("action links are not configured"));
  Mac expected = Hmac(key, {kActionLabel, payload});
  if (sodium_memcmp(expected.data(), mac->data(), expected.size()) != 0) {
    return std::unexpected(PermissionDenied("invalid action link signature"));
  }

  // Signed by us: the fields are ours, but stay strict anyway.
  ActionClaim claim;
  int64_t expires_ms = 0;
  std::optional<std::string> user = internal::Base64UrlDecode(parts[4]);
  if (!ParseDecimal(parts[1], claim.incident_id) || !ParseDecimal(parts[3], expires_ms) ||
      (parts[2] != "ack" && parts[2] != "resolve" && parts[2] != "ack_batch" && parts[2] != "ics" &&
       parts[2] != "view") ||
      !user) {
    return std::unexpected(malformed);
  }
  // A v2 link names an episode after the first (v1 is episode 0: one spelling per link).
  if (v2 && (!ParseDecimal(parts[5], claim.episode) || claim.episode < 1)) {
    return std::unexpected(malformed);
  }
  claim.action = std::string(parts[2]);
  claim.expires = TimePoint(std::chrono::milliseconds(expires_ms));
  claim.user_id = std::move(*user);
  std::array<unsigned char, 16> digest;
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(mac->data()), mac->size(), nullptr, 0);
  claim.link_id = internal::HexEncode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  if (now >= claim.expires) return std::unexpected(FailedPrecondition("link expired"));
  return claim;
}

}  // namespace houston::notify
