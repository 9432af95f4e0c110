// How the event tables store integration keys. alerts, incidents, changes, heartbeats,
// opsgenie_requests and the noise roll-ups name the integration each row came in on, and the
// store finds rows by that value (the dedup and grouping indexes, heartbeats by key). With a
// secrets key the column holds the key sealed with secrets::Keyring::SealStable under one fixed
// key, the one the event_key_state row names: equal keys stay equal, so the indexes keep working,
// and a database file reveals no key. Without one (a PostgreSQL database started without a key)
// the keys are stored as given. secrets_at_rest.h seals a database's keys and rotates them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "secrets/secrets.h"

namespace houston::store::sql {

// The associated data of every sealed event-table integration key: one place for all the tables,
// so a key sealed in one table equals the same key sealed in another (the noise roll-ups copy
// them from alerts).
inline constexpr std::string_view kEventKeyPlace = "event_tables.integration_key";

// One connection's codec, with a cache (an org has few integration keys). Thread-compatible,
// like the connection that owns it.
class EventKeys {
 public:
  // Keys in clear.
  EventKeys() = default;
  // Keys sealed under `key_id`, which `ring` must hold (SecureSecretsAtRest checked it).
  EventKeys(std::shared_ptr<const secrets::Keyring> ring, std::string key_id)
      : ring_(std::move(ring)), key_id_(std::move(key_id)) {}

  bool sealed() const { return ring_ != nullptr; }
  const std::string& key_id() const { return key_id_; }

  // What the column holds for `key` ("" stays "": a declared incident has no integration).
  std::string Stored(const std::string& key);
  // The key a stored value holds. A value in clear (written by a server that ran without the
  // key) or one that does not open (damaged; logged) is returned as it is stored.
  std::string Plain(const std::string& stored);

 private:
  static constexpr size_t kMaxCached = 4096;  // past this the cache starts over

  std::shared_ptr<const secrets::Keyring> ring_;
  std::string key_id_;
  std::unordered_map<std::string, std::string> stored_, plain_;
};

}  // namespace houston::store::sql
