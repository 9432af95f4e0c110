// Secrets at rest in the SQL store: which columns hold secrets, how each is sealed (bound to its
// place), the pass that seals a database's remaining plaintext when a server opens it with a key,
// and key rotation.
//
// The columns (every other secret houston handles is stored only as a hash, or never stored):
//   org_source.yaml          the applied org document (webhook secrets, provider credentials and
//                            headers, Slack URLs, integration keys)
//   org_objects.spec_json    the flattened org; for kind "integration" the id (the integration
//                            key itself) is stored as its Ref (secrets::Keyring::Ref)
//   server_secrets.value     secrets the servers share (the action-link signing key)
//   <event table>.integration_key   the key each alert, incident, change, heartbeat, Opsgenie
//                            request and noise roll-up row came in on: sealed deterministically
//                            under the key event_key_state names (event_keys.h), so the dedup
//                            and grouping indexes still find rows by key
// With no keyring (a PostgreSQL database started without a key) the values are stored as given.
#pragma once

#include <string>

#include "core/status.h"
#include "secrets/secrets.h"
#include "store/sql/db.h"
#include "store/store.h"

namespace houston::store::sql {

// How an org object's id is stored: the Ref of an integration key, any other id as it is.
std::string StoredOrgId(const secrets::Keyring* ring, const std::string& kind,
                        const std::string& id);
// The stored spec_json of an org object whose stored id is `stored_id`.
std::string SealOrgSpec(const secrets::Keyring* ring, const std::string& kind,
                        const std::string& stored_id, const std::string& spec_json);
// An org object as stored, opened: its real id and spec. A plaintext spec is read as it is.
// Errors as secrets::Keyring::Open; InvalidArgument if an integration spec has no key.
Result<OrgObject> OpenOrgObject(const secrets::Keyring* ring, const std::string& kind,
                                const std::string& stored_id, const std::string& stored_spec);

std::string SealOrgSource(const secrets::Keyring* ring, const std::string& yaml);
Result<std::string> OpenOrgSource(const secrets::Keyring* ring, const std::string& stored);

std::string SealServerSecret(const secrets::Keyring* ring, const std::string& name,
                             const std::string& value);
Result<std::string> OpenServerSecret(const secrets::Keyring* ring, const std::string& name,
                                     const std::string& stored);

// What SecureSecretsAtRest or RotateSecrets did.
struct SecretsSummary {
  int sealed = 0;     // plaintext values sealed now (and old audit records scrubbed of keys)
  int resealed = 0;   // values opened with an older key and sealed under the primary key
  int unchanged = 0;  // values already sealed under the primary key
  // The key the event tables' integration keys are sealed under afterwards ("": in clear): what
  // the store's connections seal them with (event_keys.h).
  std::string event_key_id;
};

// Run on a freshly migrated database before a store serves from it (under the migration lock,
// in one transaction). With a keyring: checks that every sealed value opens (FailedPrecondition
// naming the key id a value needs when no given key has it; InvalidArgument for a damaged or
// moved value) and seals every plaintext secret. Without: FailedPrecondition if the database
// holds sealed values (they need a key), else nothing. The event tables' integration keys are
// sealed once, under the primary key, and stay under that key (a key file that gains a new
// primary key keeps opening them) until RotateSecrets moves them. On SQLite, the pages that held
// the plaintext are overwritten (secure_delete and a WAL checkpoint).
Result<SecretsSummary> SecureSecretsAtRest(Db& db, const secrets::Keyring* ring);

// Re-seals every secret under `next`'s primary key (and recomputes integration refs, and moves
// the event tables' integration keys to that key), in one
// transaction under the migration lock: values are opened with any key of `old` or `next`, so a
// rerun after success changes nothing (all `unchanged`). Errors as SecureSecretsAtRest; on error
// nothing changes.
Result<SecretsSummary> RotateSecrets(Db& db, const secrets::Keyring& old,
                                     const secrets::Keyring& next);

}  // namespace houston::store::sql
