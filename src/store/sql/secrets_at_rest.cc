#include "store/sql/secrets_at_rest.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "store/sql/event_keys.h"

namespace houston::store::sql {

namespace {

constexpr std::string_view kIntegration = "integration";

std::string OrgObjectPlace(const std::string& kind, const std::string& stored_id) {
  return fmt::format("org_objects.spec_json:{}/{}", kind, stored_id);
}
constexpr std::string_view kOrgSourcePlace = "org_source.yaml:1";
std::string ServerSecretPlace(const std::string& name) { return "server_secrets.value:" + name; }

// The integration key an integration spec names ("key").
Result<std::string> IntegrationKeyOf(const std::string& spec_json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(spec_json, ec);
  const boost::json::object* o = ec ? nullptr : v.if_object();
  const boost::json::value* key = o ? o->if_contains("key") : nullptr;
  if (key == nullptr || !key->is_string() || key->as_string().empty()) {
    return std::unexpected(InvalidArgument("a stored integration has no key"));
  }
  return std::string(key->as_string().c_str(), key->as_string().size());
}

Result<std::string> OpenOr(const secrets::Keyring* ring, const std::string& stored,
                           std::string_view place) {
  if (!secrets::IsSealed(stored)) return stored;
  if (ring == nullptr) {
    return std::unexpected(FailedPrecondition(fmt::format(
        "the database holds secrets encrypted with secrets key {}; start houston with that key "
        "(--secrets-key-file or HOUSTON_SECRETS_KEY)",
        secrets::SealedKeyId(stored).value_or("?"))));
  }
  return ring->Open(stored, place);
}

// One stored secret value and where it is.
struct Entry {
  enum class Table { kOrgObjects, kOrgSource, kServerSecrets } table;
  std::string kind;       // org_objects.kind
  std::string stored_id;  // org_objects.id, server_secrets.name
  int64_t updated_at = 0;
  std::string value;

  std::string Place() const {
    switch (table) {
      case Table::kOrgObjects:
        return OrgObjectPlace(kind, stored_id);
      case Table::kOrgSource:
        return std::string(kOrgSourcePlace);
      case Table::kServerSecrets:
        return ServerSecretPlace(stored_id);
    }
    return "";
  }
};

Result<std::vector<Entry>> ReadEntries(Db& db) {
  std::vector<Entry> out;
  {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                             db.Prepare("SELECT kind, id, spec_json, updated_at FROM org_objects" +
                                        std::string(db.Sql(Fragment::kForUpdate))));
    for (;;) {
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      out.push_back(
          Entry{Entry::Table::kOrgObjects, s->Text(0), s->Text(1), s->Int(3), s->Text(2)});
    }
    s->Reset();
  }
  {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT yaml FROM org_source" +
                                                  std::string(db.Sql(Fragment::kForUpdate))));
    for (;;) {
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      out.push_back(Entry{Entry::Table::kOrgSource, "", "", 0, s->Text(0)});
    }
    s->Reset();
  }
  {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT name, value FROM server_secrets" +
                                                  std::string(db.Sql(Fragment::kForUpdate))));
    for (;;) {
      HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      out.push_back(Entry{Entry::Table::kServerSecrets, "", s->Text(0), 0, s->Text(1)});
    }
    s->Reset();
  }
  return out;
}

// Writes `next` in place of `old` (same table; for org objects perhaps a new id).
Status WriteEntry(Db& db, const Entry& old, const Entry& next) {
  switch (old.table) {
    case Entry::Table::kOrgObjects: {
      HOUSTON_ASSIGN_OR_RETURN(Stmt * del,
                               db.Prepare("DELETE FROM org_objects WHERE kind = ? AND id = ?"));
      HOUSTON_RETURN_IF_ERROR(del->Bind(1, old.kind).Bind(2, old.stored_id).Run());
      HOUSTON_ASSIGN_OR_RETURN(
          Stmt * ins, db.Prepare("INSERT INTO org_objects(kind, id, spec_json, updated_at) "
                                 "VALUES (?,?,?,?)"));
      return ins->Bind(1, next.kind)
          .Bind(2, next.stored_id)
          .Bind(3, next.value)
          .Bind(4, next.updated_at)
          .Run();
    }
    case Entry::Table::kOrgSource: {
      HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                               db.Prepare("UPDATE org_source SET yaml = ? WHERE singleton = 1"));
      return s->Bind(1, next.value).Run();
    }
    case Entry::Table::kServerSecrets: {
      HOUSTON_ASSIGN_OR_RETURN(Stmt * s,
                               db.Prepare("UPDATE server_secrets SET value = ? WHERE name = ?"));
      return s->Bind(1, next.value).Bind(2, old.stored_id).Run();
    }
  }
  return OkStatus();
}

// The pass both operations share: opens every value with `open` (sealed ones) and, for each that
// `must_reseal` says is not final, seals it under `seal`'s primary key. Runs in the caller's
// transaction.
template <typename Pred>
Result<SecretsSummary> Reseal(Db& db, const secrets::Keyring* open, const secrets::Keyring* seal,
                              Pred must_reseal) {
  SecretsSummary sum;
  HOUSTON_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadEntries(db));
  std::vector<std::pair<Entry, Entry>> writes;
  for (const Entry& e : entries) {
    if (e.value.empty()) continue;  // nothing secret (the write probe's row)
    HOUSTON_ASSIGN_OR_RETURN(std::string plain, OpenOr(open, e.value, e.Place()));
    bool sealed = secrets::IsSealed(e.value);
    if (sealed && !must_reseal(e)) {
      ++sum.unchanged;
      continue;
    }
    if (seal == nullptr) continue;  // no key: nothing to seal (OpenOr refused sealed values)
    Entry next = e;
    if (e.table == Entry::Table::kOrgObjects) {
      std::string id = e.stored_id;
      if (e.kind == kIntegration) {
        HOUSTON_ASSIGN_OR_RETURN(id, IntegrationKeyOf(plain));
      }
      next.stored_id = StoredOrgId(seal, e.kind, id);
    }
    next.value = seal->Seal(plain, next.Place());
    ++(sealed ? sum.resealed : sum.sealed);
    writes.emplace_back(e, std::move(next));
  }
  // Deletes and inserts of org objects in two rounds, so a new id never meets an old one.
  for (const auto& [old, next] : writes) {
    if (old.table != Entry::Table::kOrgObjects) {
      HOUSTON_RETURN_IF_ERROR(WriteEntry(db, old, next));
      continue;
    }
    HOUSTON_ASSIGN_OR_RETURN(Stmt * del,
                             db.Prepare("DELETE FROM org_objects WHERE kind = ? AND id = ?"));
    HOUSTON_RETURN_IF_ERROR(del->Bind(1, old.kind).Bind(2, old.stored_id).Run());
  }
  for (const auto& [old, next] : writes) {
    if (old.table != Entry::Table::kOrgObjects) continue;
    HOUSTON_ASSIGN_OR_RETURN(Stmt * ins,
                             db.Prepare("INSERT INTO org_objects(kind, id, spec_json, updated_at) "
                                        "VALUES (?,?,?,?)"));
    HOUSTON_RETURN_IF_ERROR(ins->Bind(1, next.kind)
                                .Bind(2, next.stored_id)
                                .Bind(3, next.value)
                                .Bind(4, next.updated_at)
                                .Run());
  }
  return sum;
}

bool LooksLikeRef(std::string_view id) {
  if (id.size() != 35 || !id.starts_with("ik_")) return false;
  for (char c : id.substr(3)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// Audit records of org applies written before the key named integrations by their keys
// ("integration/<key>" in details_json): rewritten to name them by their refs. Returns how many
// records changed.
Result<int> ScrubAuditIntegrationKeys(Db& db, const secrets::Keyring& ring) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("SELECT id, details_json FROM audit_log WHERE action = 'org.applied' "
                           "AND details_json LIKE '%\"integration/%'"));
  std::vector<std::pair<int64_t, std::string>> rows;
  for (;;) {
    HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    rows.emplace_back(s->Int(0), s->Text(1));
  }
  s->Reset();
  int changed = 0;
  for (auto& [id, details] : rows) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(details, ec);
    if (ec || !v.is_object()) continue;
    bool dirty = false;
    for (auto& [name, list] : v.as_object()) {
      if (!list.is_array()) continue;
      for (auto& item : list.as_array()) {
        if (!item.is_string()) continue;
        std::string text(item.as_string().c_str(), item.as_string().size());
        if (!text.starts_with("integration/")) continue;
        std::string key = text.substr(12);
        if (LooksLikeRef(key)) continue;
        std::string ref = "integration/" + ring.Ref(key);
        item = boost::json::string(ref.c_str());
        dirty = true;
      }
    }
    if (!dirty) continue;
    HOUSTON_ASSIGN_OR_RETURN(Stmt * u,
                             db.Prepare("UPDATE audit_log SET details_json = ? WHERE id = ?"));
    HOUSTON_RETURN_IF_ERROR(u->Bind(1, boost::json::serialize(v)).Bind(2, id).Run());
    ++changed;
  }
  return changed;
}

// The tables whose integration_key column holds integration keys as event_keys.h stores them.
constexpr std::string_view kEventKeyTables[] = {"alerts",     "incidents",        "changes",
                                                "heartbeats", "noise_days",       "noise_flaps",
                                                "noise_keys", "opsgenie_requests"};
// Distinct values rewritten per UPDATE (each a pass over the table).
constexpr size_t kEventKeyChunk = 100;

// The key the event tables' integration keys are sealed under ("": in clear), locked until the
// transaction ends.
Result<std::string> EventKeysSealedWith(Db& db) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s, db.Prepare("SELECT sealed_with FROM event_key_state WHERE singleton = 1" +
                           std::string(db.Sql(Fragment::kForUpdate))));
  HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
  std::string out = row ? s->Text(0) : "";
  s->Reset();
  return out;
}

// Seals every integration key of the event tables under `seal`'s key `key_id`, opening sealed
// ones with `open` (so a rerun or a database sealed under another key of `open` works), and
// records `key_id`. Returns how many distinct values (per table) it rewrote.
Result<int> ResealEventKeys(Db& db, const secrets::Keyring* open, const secrets::Keyring& seal,
                            const std::string& key_id) {
  int rewritten = 0;
  for (std::string_view table : kEventKeyTables) {
    std::vector<std::pair<std::string, std::string>> moves;  // stored now -> stored next
    {
      HOUSTON_ASSIGN_OR_RETURN(
          Stmt * s, db.Prepare(fmt::format("SELECT DISTINCT integration_key FROM {}", table)));
      for (;;) {
        HOUSTON_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        std::string stored = s->Text(0);
        if (stored.empty()) continue;  // a declared incident: no integration
        moves.emplace_back(std::move(stored), "");
      }
      s->Reset();
    }
    for (auto& [stored, next] : moves) {
      HOUSTON_ASSIGN_OR_RETURN(std::string plain, OpenOr(open, stored, kEventKeyPlace));
      HOUSTON_ASSIGN_OR_RETURN(next, seal.SealStable(plain, kEventKeyPlace, key_id));
    }
    std::erase_if(moves, [](const auto& m) { return m.first == m.second; });
    for (size_t at = 0; at < moves.size(); at += kEventKeyChunk) {
      const size_t n = std::min(kEventKeyChunk, moves.size() - at);
      std::string cases, in;
      for (size_t i = 0; i < n; ++i) {
        cases += " WHEN ? THEN ?";
        in += i ? ", ?" : "?";
      }
      HOUSTON_ASSIGN_OR_RETURN(
          Stmt * u, db.Prepare(fmt::format("UPDATE {0} SET integration_key = CASE integration_key"
                                           "{1} END WHERE integration_key IN ({2})",
                                           table, cases, in)));
      int i = 1;
      for (size_t k = at; k < at + n; ++k) {
        u->Bind(i++, moves[k].first);
        u->Bind(i++, moves[k].second);
      }
      for (size_t k = at; k < at + n; ++k) u->Bind(i++, moves[k].first);
      HOUSTON_RETURN_IF_ERROR(u->Run());
    }
    rewritten += static_cast<int>(moves.size());
  }
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * mark, db.Prepare("UPDATE event_key_state SET sealed_with = ? WHERE singleton = 1"));
  HOUSTON_RETURN_IF_ERROR(mark->Bind(1, key_id).Run());
  return rewritten;
}

// Runs `pass` in one write transaction under the migration lock. On SQLite the pages freed by the
// pass are zeroed and the WAL is checkpointed into the database file and truncated, so the
// plaintext they held is gone from both files.
template <typename Pass>
Result<SecretsSummary> InTransaction(Db& db, Pass pass) {
  const bool sqlite = db.dialect() == Dialect::kSqlite;
  if (sqlite) HOUSTON_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = ON"));
  HOUSTON_RETURN_IF_ERROR(db.Exec(db.Sql(Fragment::kLockMigrations)));
  Result<SecretsSummary> r = [&]() -> Result<SecretsSummary> {
    HOUSTON_RETURN_IF_ERROR(db.Exec(db.Sql(Fragment::kBeginWrite)));
    Result<SecretsSummary> sum = pass();
    if (!sum) {
      (void)db.Exec("ROLLBACK");
      return sum;
    }
    HOUSTON_RETURN_IF_ERROR(db.Exec("COMMIT"));
    return sum;
  }();
  Status unlock = db.Exec(db.Sql(Fragment::kUnlockMigrations));
  if (sqlite) {
    if (r && r->sealed + r->resealed > 0) {
      Status cp = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      if (!cp.ok()) spdlog::warn("secrets: WAL checkpoint after sealing failed: {}", cp.message());
    }
    (void)db.Exec("PRAGMA secure_delete = OFF");
  }
  if (r && !unlock.ok()) return std::unexpected(unlock);
  return r;
}

}  // namespace

std::string StoredOrgId(const secrets::Keyring* ring, const std::string& kind,
                        const std::string& id) {
  if (ring == nullptr || kind != kIntegration) return id;
  return ring->Ref(id);
}

std::string SealOrgSpec(const secrets::Keyring* ring, const std::string& kind,
                        const std::string& stored_id, const std::string& spec_json) {
  if (ring == nullptr) return spec_json;
  return ring->Seal(spec_json, OrgObjectPlace(kind, stored_id));
}

Result<OrgObject> OpenOrgObject(const secrets::Keyring* ring, const std::string& kind,
                                const std::string& stored_id, const std::string& stored_spec) {
  HOUSTON_ASSIGN_OR_RETURN(std::string spec,
                           OpenOr(ring, stored_spec, OrgObjectPlace(kind, stored_id)));
  std::string id = stored_id;
  if (kind == kIntegration && secrets::IsSealed(stored_spec)) {
    HOUSTON_ASSIGN_OR_RETURN(id, IntegrationKeyOf(spec));
  }
  return OrgObject{kind, std::move(id), std::move(spec)};
}

std::string SealOrgSource(const secrets::Keyring* ring, const std::string& yaml) {
  if (ring == nullptr || yaml.empty()) return yaml;
  return ring->Seal(yaml, kOrgSourcePlace);
}

Result<std::string> OpenOrgSource(const secrets::Keyring* ring, const std::string& stored) {
  return OpenOr(ring, stored, kOrgSourcePlace);
}

std::string SealServerSecret(const secrets::Keyring* ring, const std::string& name,
                             const std::string& value) {
  if (ring == nullptr || value.empty()) return value;
  return ring->Seal(value, ServerSecretPlace(name));
}

Result<std::string> OpenServerSecret(const secrets::Keyring* ring, const std::string& name,
                                     const std::string& stored) {
  return OpenOr(ring, stored, ServerSecretPlace(name));
}

Result<SecretsSummary> SecureSecretsAtRest(Db& db, const secrets::Keyring* ring) {
  return InTransaction(db, [&]() -> Result<SecretsSummary> {
    // Sealed values are only checked; plaintext ones are sealed.
    HOUSTON_ASSIGN_OR_RETURN(SecretsSummary sum,
                             Reseal(db, ring, ring, [](const Entry&) { return false; }));
    HOUSTON_ASSIGN_OR_RETURN(std::string sealed_with, EventKeysSealedWith(db));
    if (ring == nullptr) {
      if (!sealed_with.empty()) {
        return std::unexpected(FailedPrecondition(fmt::format(
            "the database holds integration keys encrypted with secrets key {}; start houston "
            "with that key (--secrets-key-file or HOUSTON_SECRETS_KEY)",
            sealed_with)));
      }
      return sum;
    }
    if (sealed_with.empty()) {
      // Keys in clear (an older houston, or a PostgreSQL database used without a key): the
      // event tables and the audit log are sealed now, once, under the primary key. Afterwards
      // no server without the key opens the database, so nothing writes keys in clear again and
      // later starts skip both passes (the audit pass reads the whole log).
      HOUSTON_ASSIGN_OR_RETURN(int scrubbed, ScrubAuditIntegrationKeys(db, *ring));
      HOUSTON_ASSIGN_OR_RETURN(int n, ResealEventKeys(db, ring, *ring, ring->primary().id));
      sum.sealed += scrubbed + n;
      sealed_with = ring->primary().id;
    } else if (!ring->Has(sealed_with)) {
      return std::unexpected(FailedPrecondition(fmt::format(
          "stored integration keys are encrypted with secrets key {}, which is not among the "
          "given keys ({}); start with the key file that holds key {} (--secrets-key-file or "
          "HOUSTON_SECRETS_KEY_FILE)",
          sealed_with, ring->KeyIds(), sealed_with)));
    }
    sum.event_key_id = std::move(sealed_with);
    return sum;
  });
}

Result<SecretsSummary> RotateSecrets(Db& db, const secrets::Keyring& old,
                                     const secrets::Keyring& next) {
  std::vector<secrets::Key> keys = next.keys();
  for (const secrets::Key& k : old.keys()) {
    if (!next.Has(k.id)) keys.push_back(k);
  }
  HOUSTON_ASSIGN_OR_RETURN(secrets::Keyring both, secrets::Keyring::FromKeys(std::move(keys)));
  const std::string primary = next.primary().id;
  return InTransaction(db, [&]() -> Result<SecretsSummary> {
    HOUSTON_ASSIGN_OR_RETURN(SecretsSummary sum, Reseal(db, &both, &next, [&](const Entry& e) {
                               return secrets::SealedKeyId(e.value).value_or("") != primary;
                             }));
    HOUSTON_ASSIGN_OR_RETURN(std::string sealed_with, EventKeysSealedWith(db));
    if (sealed_with.empty()) {  // a database used in clear until now (see SecureSecretsAtRest)
      HOUSTON_ASSIGN_OR_RETURN(int scrubbed, ScrubAuditIntegrationKeys(db, next));
      sum.sealed += scrubbed;
    }
    if (sealed_with != primary) {
      HOUSTON_ASSIGN_OR_RETURN(int n, ResealEventKeys(db, &both, next, primary));
      (sealed_with.empty() ? sum.sealed : sum.resealed) += n;
    }
    sum.event_key_id = primary;
    return sum;
  });
}

}  // namespace houston::store::sql
