#include "store/sql/event_keys.h"

#include <spdlog/spdlog.h>

namespace houston::store::sql {

std::string EventKeys::Stored(const std::string& key) {
  if (!ring_ || key.empty()) return key;
  if (auto it = stored_.find(key); it != stored_.end()) return it->second;
  Result<std::string> sealed = ring_->SealStable(key, kEventKeyPlace, key_id_);
  // SecureSecretsAtRest checked that the ring holds key_id_ before any connection got it.
  HOUSTON_CHECK(sealed.has_value());
  if (stored_.size() >= kMaxCached) stored_.clear();
  stored_.emplace(key, *sealed);
  return *sealed;
}

std::string EventKeys::Plain(const std::string& stored) {
  if (!ring_ || !secrets::IsSealed(stored)) return stored;
  if (auto it = plain_.find(stored); it != plain_.end()) return it->second;
  Result<std::string> opened = ring_->Open(stored, kEventKeyPlace);
  if (!opened) {
    spdlog::warn("store: a stored integration key does not open: {}", opened.error().message());
    return stored;
  }
  if (plain_.size() >= kMaxCached) plain_.clear();
  plain_.emplace(stored, *opened);
  return *opened;
}

}  // namespace houston::store::sql
