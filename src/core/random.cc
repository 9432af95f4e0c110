#include "core/random.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <string_view>

#include "core/status.h"

namespace houston {
namespace {
void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  HOUSTON_CHECK(ok);
}
}  // namespace

std::string NewUuid() {
  EnsureSodium();
  std::array<unsigned char, 16> b;
  randombytes_buf(b.data(), b.size());
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

std::string RandomBase62(size_t n_bytes) {
  EnsureSodium();
  static constexpr std::string_view kAlphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  // Each character carries log2(62) ~ 5.95 bits; draw uniformly per character.
  size_t chars = (n_bytes * 8 + 5) / 5;
  for (size_t i = 0; i < chars; ++i) out += kAlphabet[randombytes_uniform(62)];
  return out;
}

std::string Sha256Hex(std::string_view data) {
  EnsureSodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> h;
  crypto_hash_sha256(h.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string out;
  out.reserve(h.size() * 2);
  for (unsigned char c : h) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace houston
