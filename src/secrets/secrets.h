// secrets: encryption of the secrets houston keeps at rest (webhook signing secrets, provider
// credentials, integration keys, the action-link key, the org document that names them).
//
// A Keyring holds one or more 32-byte keys; the first (primary) seals, every key opens. A sealed
// value is text, safe in any TEXT column:
//   enc:v1:<key id>:<base64 of 24-byte nonce + XChaCha20-Poly1305 ciphertext and tag>
// The associated data is the value's place (e.g. "org_source.yaml:1"), so a sealed value copied
// to another row or column does not open. Integration keys, which intake and the store look up by
// value, get a Ref: a keyed BLAKE2b hash under a key derived from the primary key.
//
// This module owns the key file format and where keys come from (a file, an environment
// variable, or a file generated next to a SQLite database); it knows nothing of tables.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace houston::secrets {

inline constexpr std::string_view kSealedPrefix = "enc:v1:";

// One key: 32 bytes and its id (12 hex characters of a keyed hash of the key: naming a key never
// reveals it).
struct Key {
  std::string id;
  std::array<uint8_t, 32> bytes{};
};

// Keys from base64 text (standard alphabet, padding optional) of exactly 32 bytes.
// InvalidArgument (naming the problem, never the text) otherwise.
Result<Key> KeyFromBase64(std::string_view text);
// A new random key.
Key NewKey();
// The key as base64 (what a key file holds).
std::string ToBase64(const Key& key);

// Immutable once built; thread-safe.
class Keyring {
 public:
  // The first key seals; all open. InvalidArgument if `keys` is empty or two keys share an id.
  static Result<Keyring> FromKeys(std::vector<Key> keys);

  const Key& primary() const { return keys_.front(); }
  const std::vector<Key>& keys() const { return keys_; }
  // "a1b2c3d4e5f6, 0a1b2c3d4e5f" (the ids, primary first), for messages.
  std::string KeyIds() const;

  // Seals `plaintext` under the primary key, bound to `place` (associated data).
  std::string Seal(std::string_view plaintext, std::string_view place) const;
  // Opens a value Seal() made for the same `place`. FailedPrecondition if no key of this keyring
  // has the value's key id (the message names it); InvalidArgument if the value is not sealed
  // text, or is damaged, or belongs to another place.
  Result<std::string> Open(std::string_view sealed, std::string_view place) const;
  // Whether some key of this keyring has `key_id`.
  bool Has(std::string_view key_id) const;

  // Seals like Seal(), but under the key `key_id` and with the nonce a keyed hash of `place` and
  // `plaintext`, so one value always seals to the same text: what a database column that is
  // looked up and indexed by value needs (the integration keys of the event tables). It reveals
  // which stored values are equal, nothing else; Open() opens it. FailedPrecondition if no key
  // of this keyring has `key_id`.
  Result<std::string> SealStable(std::string_view plaintext, std::string_view place,
                                 std::string_view key_id) const;

  // A keyed hash of `value` for lookups by value: "ik_" + 32 hex characters, under a key derived
  // from the primary key (so it changes when the primary key does).
  std::string Ref(std::string_view value) const;

 private:
  explicit Keyring(std::vector<Key> keys);
  std::vector<Key> keys_;
  std::array<uint8_t, 32> ref_key_{};
};

// Whether `value` is sealed text (starts with kSealedPrefix).
bool IsSealed(std::string_view value);
// The key id of sealed text, or nullopt if `value` is not sealed.
std::optional<std::string> SealedKeyId(std::string_view value);

// ---- where keys come from -------------------------------------------------------------------

// A key file: one base64 key per line, the primary first; blank lines and lines starting with
// '#' are ignored. InvalidArgument naming the file and line for a bad key; NotFound if the file
// does not exist; FailedPrecondition if it is readable by group or others.
Result<Keyring> ReadKeyFile(const std::string& path);
// Writes a new key file holding one fresh key, mode 0600, refusing to overwrite (AlreadyExists).
Result<Keyring> CreateKeyFile(const std::string& path);

// How a command was told where its key is.
struct KeySource {
  std::string key_file;  // --secrets-key-file, else $HOUSTON_SECRETS_KEY_FILE
  std::string key_env;   // $HOUSTON_SECRETS_KEY: one base64 key (or several, comma-separated)
};
// The flag value, or the environment variables when it is empty.
KeySource KeySourceFromEnv(std::string key_file_flag);

// The keyring of `source`: the key file if named, else the environment key, else nullopt.
Result<std::optional<Keyring>> LoadKeys(const KeySource& source);

// The key file houston generates for a SQLite database when no key is given: "<db>.key".
std::string DefaultKeyFileFor(const std::string& sqlite_path);

// The keys a store opens with, and where they came from.
struct ResolvedKeys {
  std::optional<Keyring> ring;  // none: secrets are stored as given (PostgreSQL without a key)
  std::string from;             // "key file PATH", "HOUSTON_SECRETS_KEY", ...
  std::string created_file;     // the key file generated now, if any
  std::string warning;          // for the log: the default key file's mode was tightened
};
// `source` if it names keys; else, for a SQLite database at `sqlite_path`, the key file
// DefaultKeyFileFor(sqlite_path), generated with a fresh key when it does not exist (the caller
// deletes `created_file` again if the database then refuses the key; a default key file readable
// by others, as an older houston could leave it, is made 0600 with a `warning`); else
// (`sqlite_path` empty: PostgreSQL) no keys. Errors as ReadKeyFile and LoadKeys.
Result<ResolvedKeys> ResolveKeys(const KeySource& source, const std::string& sqlite_path);

}  // namespace houston::secrets
