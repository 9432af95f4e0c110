#include "secrets/secrets.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace houston::secrets {

namespace {

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);

void InitSodium() {
  // sodium_init is idempotent and thread-safe; it fails only when no randomness is available.
  HOUSTON_CHECK(sodium_init() >= 0);
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.resize(n * 2);
  return out;
}

std::string Base64(const uint8_t* p, size_t n) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(n, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), p, n, variant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  // Padding optional; no characters ignored: a stray character is an error.
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING}) {
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &len, &end, variant) == 0 &&
        end == text.data() + text.size()) {
      out.resize(len);
      return out;
    }
  }
  return std::nullopt;
}

std::string KeyIdOf(const std::array<uint8_t, 32>& key) {
  static constexpr std::string_view kLabel = "houston secrets key id v1";
  std::array<uint8_t, 16> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const uint8_t*>(kLabel.data()),
                     kLabel.size(), key.data(), key.size());
  return Hex(h.data(), 6);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<Key> KeyFromBase64(std::string_view text) {
  InitSodium();
  std::optional<std::string> raw = FromBase64(Trim(text));
  if (!raw) return std::unexpected(InvalidArgument("a secrets key must be base64"));
  if (raw->size() != 32) {
    sodium_memzero(raw->data(), raw->size());
    return std::unexpected(InvalidArgument(fmt::format(
        "a secrets key must be 32 bytes (44 base64 characters), not {} bytes", raw->size())));
  }
  Key k;
  std::memcpy(k.bytes.data(), raw->data(), 32);
  sodium_memzero(raw->data(), raw->size());
  k.id = KeyIdOf(k.bytes);
  return k;
}

Key NewKey() {
  InitSodium();
  Key k;
  crypto_aead_xchacha20poly1305_ietf_keygen(k.bytes.data());
  k.id = KeyIdOf(k.bytes);
  return k;
}

std::string ToBase64(const Key& key) { return Base64(key.bytes.data(), key.bytes.size()); }

Keyring::Keyring(std::vector<Key> keys) : keys_(std::move(keys)) {
  static constexpr std::string_view kLabel = "houston secrets lookup key v1";
  crypto_generichash(ref_key_.data(), ref_key_.size(),
                     reinterpret_cast<const uint8_t*>(kLabel.data()), kLabel.size(),
                     keys_.front().bytes.data(), keys_.front().bytes.size());
}

Result<Keyring> Keyring::FromKeys(std::vector<Key> keys) {
  InitSodium();
  if (keys.empty()) return std::unexpected(InvalidArgument("no secrets key given"));
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (keys[i].id == keys[j].id) {
        return std::unexpected(
            InvalidArgument(fmt::format("secrets key {} is listed twice", keys[i].id)));
      }
    }
  }
  return Keyring(std::move(keys));
}

std::string Keyring::KeyIds() const {
  std::string out;
  for (const Key& k : keys_) {
    if (!out.empty()) out += ", ";
    out += k.id;
  }
  return out;
}

bool Keyring::Has(std::string_view key_id) const {
  for (const Key& k : keys_) {
    if (k.id == key_id) return true;
  }
  return false;
}

std::string Keyring::Seal(std::string_view plaintext, std::string_view place) const {
  const Key& k = primary();
  std::string buf(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  randombytes_buf(p, kNonceBytes);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      p + kNonceBytes, &clen, reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const uint8_t*>(place.data()), place.size(), nullptr, p, k.bytes.data());
  return fmt::format("{}{}:{}", kSealedPrefix, k.id, Base64(p, kNonceBytes + clen));
}

Result<std::string> Keyring::SealStable(std::string_view plaintext, std::string_view place,
                                        std::string_view key_id) const {
  const Key* key = nullptr;
  for (const Key& k : keys_) {
    if (k.id == key_id) key = &k;
  }
  if (key == nullptr) {
    return std::unexpected(FailedPrecondition(fmt::format(
        "stored integration keys are encrypted with secrets key {}, which is not among the given "
        "keys ({}); start with the key file that holds key {}, or run `houston secrets rotate`",
        key_id, KeyIds(), key_id)));
  }
  // The nonce key is derived from the key, apart from the one that encrypts; the nonce hashes
  // the place and the value with a separator, so ("a", "bc") and ("ab", "c") differ.
  static constexpr std::string_view kLabel = "houston secrets stable nonce v1";
  std::array<uint8_t, 32> nonce_key{};
  crypto_generichash(nonce_key.data(), nonce_key.size(),
                     reinterpret_cast<const uint8_t*>(kLabel.data()), kLabel.size(),
                     key->bytes.data(), key->bytes.size());
  std::string buf(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  crypto_generichash_state st;
  crypto_generichash_init(&st, nonce_key.data(), nonce_key.size(), kNonceBytes);
  const uint64_t place_size = place.size();
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(&place_size), sizeof place_size);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(place.data()), place.size());
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(plaintext.data()),
                            plaintext.size());
  crypto_generichash_final(&st, p, kNonceBytes);
  sodium_memzero(nonce_key.data(), nonce_key.size());
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      p + kNonceBytes, &clen, reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const uint8_t*>(place.data()), place.size(), nullptr, p, key->bytes.data());
  return fmt::format("{}{}:{}", kSealedPrefix, key->id, Base64(p, kNonceBytes + clen));
}

Result<std::string> Keyring::Open(std::string_view sealed, std::string_view place) const {
  std::optional<std::string> kid = SealedKeyId(sealed);
  if (!kid) return std::unexpected(InvalidArgument("the value is not encrypted"));
  const Key* key = nullptr;
  for (const Key& k : keys_) {
    if (k.id == *kid) key = &k;
  }
  if (key == nullptr) {
    return std::unexpected(FailedPrecondition(fmt::format(
        "stored secrets are encrypted with secrets key {}, which is not among the given keys "
        "({}); start with the key file that holds key {} (--secrets-key-file or "
        "HOUSTON_SECRETS_KEY_FILE)",
        *kid, KeyIds(), *kid)));
  }
  std::string_view body = sealed.substr(kSealedPrefix.size() + kid->size() + 1);
  std::optional<std::string> raw = FromBase64(body);
  if (!raw || raw->size() < kNonceBytes + kTagBytes) {
    return std::unexpected(InvalidArgument("a stored secret is damaged (bad encoding)"));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(raw->data());
  std::string out(raw->size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(out.data()), &mlen, nullptr, p + kNonceBytes,
          raw->size() - kNonceBytes, reinterpret_cast<const uint8_t*>(place.data()), place.size(),
          p, key->bytes.data()) != 0) {
    return std::unexpected(InvalidArgument(fmt::format(
        "a stored secret ({}) does not open: it was changed, or moved from another place", place)));
  }
  out.resize(mlen);
  return out;
}

std::string Keyring::Ref(std::string_view value) const {
  std::array<uint8_t, 16> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const uint8_t*>(value.data()),
                     value.size(), ref_key_.data(), ref_key_.size());
  return "ik_" + Hex(h.data(), h.size());
}

bool IsSealed(std::string_view value) { return value.starts_with(kSealedPrefix); }

std::optional<std::string> SealedKeyId(std::string_view value) {
  if (!IsSealed(value)) return std::nullopt;
  std::string_view rest = value.substr(kSealedPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return std::string(rest.substr(0, colon));
}

// ---- where keys come from -------------------------------------------------------------------

Result<Keyring> ReadKeyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return std::unexpected(NotFound(fmt::format("secrets key file {} does not exist", path)));
    }
    return std::unexpected(InvalidArgument(
        fmt::format("secrets key file {} cannot be read: {}", path, std::strerror(errno))));
  }
  if (!S_ISREG(st.st_mode)) {
    return std::unexpected(
        InvalidArgument(fmt::format("secrets key file {} is not a regular file", path)));
  }
  if ((st.st_mode & 077) != 0) {
    return std::unexpected(FailedPrecondition(
        fmt::format("secrets key file {} is readable by others (mode {:o}); chmod 600 it", path,
                    st.st_mode & 0777)));
  }
  std::ifstream in(path);
  if (!in) {
    return std::unexpected(
        InvalidArgument(fmt::format("secrets key file {} cannot be read", path)));
  }
  std::vector<Key> keys;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    auto k = KeyFromBase64(t);
    sodium_memzero(line.data(), line.size());
    if (!k) {
      return std::unexpected(
          InvalidArgument(fmt::format("{}:{}: {}", path, n, k.error().message())));
    }
    keys.push_back(*k);
  }
  if (keys.empty()) {
    return std::unexpected(InvalidArgument(fmt::format("secrets key file {} holds no key", path)));
  }
  auto ring = Keyring::FromKeys(std::move(keys));
  if (!ring) {
    return std::unexpected(
        InvalidArgument(fmt::format("secrets key file {}: {}", path, ring.error().message())));
  }
  return ring;
}

Result<Keyring> CreateKeyFile(const std::string& path) {
  Key k = NewKey();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return std::unexpected(AlreadyExists(fmt::format("{} already exists", path)));
    }
    return std::unexpected(InvalidArgument(
        fmt::format("cannot create secrets key file {}: {}", path, std::strerror(errno))));
  }
  std::string text = fmt::format(
      "# houston secrets key (id {}); keep it safe and apart from database backups.\n{}\n", k.id,
      ToBase64(k));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!ok) {
    ::unlink(path.c_str());
    return std::unexpected(Unavailable(
        fmt::format("cannot write secrets key file {}: {}", path, std::strerror(errno))));
  }
  return Keyring::FromKeys({k});
}

KeySource KeySourceFromEnv(std::string key_file_flag) {
  KeySource s;
  s.key_file = std::move(key_file_flag);
  if (s.key_file.empty()) {
    if (const char* f = std::getenv("HOUSTON_SECRETS_KEY_FILE")) s.key_file = f;
  }
  if (const char* k = std::getenv("HOUSTON_SECRETS_KEY")) s.key_env = k;
  return s;
}

Result<std::optional<Keyring>> LoadKeys(const KeySource& source) {
  if (!source.key_file.empty()) {
    HOUSTON_ASSIGN_OR_RETURN(Keyring ring, ReadKeyFile(source.key_file));
    return std::optional<Keyring>(std::move(ring));
  }
  if (!source.key_env.empty()) {
    std::vector<Key> keys;
    std::string_view rest = source.key_env;
    for (int n = 1; !rest.empty(); ++n) {
      size_t comma = rest.find(',');
      std::string_view one = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      auto k = KeyFromBase64(one);
      if (!k) {
        return std::unexpected(InvalidArgument(
            fmt::format("HOUSTON_SECRETS_KEY (key {}): {}", n, k.error().message())));
      }
      keys.push_back(*k);
    }
    auto ring = Keyring::FromKeys(std::move(keys));
    if (!ring) {
      return std::unexpected(InvalidArgument("HOUSTON_SECRETS_KEY: " + ring.error().message()));
    }
    return std::optional<Keyring>(std::move(*ring));
  }
  return std::optional<Keyring>();
}

std::string DefaultKeyFileFor(const std::string& sqlite_path) { return sqlite_path + ".key"; }

Result<ResolvedKeys> ResolveKeys(const KeySource& source, const std::string& sqlite_path) {
  ResolvedKeys out;
  HOUSTON_ASSIGN_OR_RETURN(out.ring, LoadKeys(source));
  if (out.ring) {
    out.from = source.key_file.empty() ? "HOUSTON_SECRETS_KEY" : "key file " + source.key_file;
    return out;
  }
  if (sqlite_path.empty()) return out;
  std::string path = DefaultKeyFileFor(sqlite_path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 &&
      ::chmod(path.c_str(), 0600) == 0) {
    out.warning = fmt::format("{} was readable by other users (mode {:o}); now 0600", path,
                              st.st_mode & 0777);
  }
  auto ring = ReadKeyFile(path);
  if (!ring && ring.error().code() == StatusCode::kNotFound) {
    ring = CreateKeyFile(path);
    if (ring) out.created_file = path;
  }
  if (!ring) return std::unexpected(ring.error());
  out.ring = std::move(*ring);
  out.from = "key file " + path;
  return out;
}

}  // namespace houston::secrets
