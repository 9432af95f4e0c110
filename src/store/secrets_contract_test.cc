// The store contract for secrets at rest (store/sql/secrets_at_rest.h), on SQLite and
// PostgreSQL: what the store reads back is what was written, and what the database holds reveals
// none of the secrets; a database sealed with one key refuses another; rotation.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "secrets/secrets.h"
#include "store/opsgenie_store.h"
#include "store/postgres/pg_db.h"
#include "store/sql/secrets_at_rest.h"
#include "store/sqlite/db.h"
#include "testing/store_backend.h"

namespace houston::store {
namespace {

// Strings that must never be in the database's own rows.
const char* const kSecrets[] = {"whsec_c29tZS1zZWNyZXQtYnl0ZXM", "am-SECRET-int-key-77",
                                "T0KEN-in-a-header-value", "https://hooks.slack.test/T00/B00/XYZ",
                                "L1NK-KEY-shared"};

std::vector<OrgObject> Objects() {
  return {
      OrgObject{"integration", "am-SECRET-int-key-77",
                R"({"key":"am-SECRET-int-key-77","service":"checkout"})"},
      OrgObject{"integration", "zz-second-key-000", R"({"key":"zz-second-key-000"})"},
      OrgObject{"service", "checkout", R"({"name":"Checkout"})"},
      OrgObject{"user", "alice",
                R"({"contact_methods":[{"secret":"whsec_c29tZS1zZWNyZXQtYnl0ZXM","headers":)"
                R"({"Authorization":"T0KEN-in-a-header-value"}},{"url":)"
                R"("https://hooks.slack.test/T00/B00/XYZ"}]})"},
  };
}
const std::string kYaml =
    "services:\n  - id: checkout\n    integrations:\n      - key: am-SECRET-int-key-77\n"
    "users:\n  - id: alice\n    contact_methods:\n      - secret: whsec_c29tZS1zZWNyZXQtYnl0ZXM\n"
    "        headers: {Authorization: T0KEN-in-a-header-value}\n"
    "      - url: https://hooks.slack.test/T00/B00/XYZ\n";

std::shared_ptr<const secrets::Keyring> Ring(std::vector<secrets::Key> keys) {
  auto r = secrets::Keyring::FromKeys(std::move(keys));
  EXPECT_TRUE(r.has_value());
  return std::make_shared<const secrets::Keyring>(std::move(*r));
}

class SecretsContractTest : public houston::testing::StoreBackendTest {
 protected:
  void SetUp() override {
    key_ = secrets::NewKey();
    StoreBackendTest::SetUp();
  }

  Result<std::unique_ptr<sql::Db>> Raw() {
    if (postgres()) {
      HOUSTON_ASSIGN_OR_RETURN(auto db, postgres::PgDb::Connect(url_, clock_));
      return std::unique_ptr<sql::Db>(std::move(db));
    }
    HOUSTON_ASSIGN_OR_RETURN(auto db,
                             sqlite::SqliteDb::Open((dir_ / "houston.db").string(), false));
    return std::unique_ptr<sql::Db>(std::move(db));
  }
  // Every value of the tables that hold secrets, as text.
  std::string Dump() {
    auto db = Raw();
    EXPECT_TRUE(db) << db.error().ToString();
    if (!db) return "";
    std::string out;
    for (const char* sql : {"SELECT kind || '|' || id || '|' || spec_json FROM org_objects",
                            "SELECT name || '|' || yaml FROM org_source",
                            "SELECT name || '|' || value FROM server_secrets",
                            "SELECT details_json FROM audit_log"}) {
      auto s = (*db)->Prepare(sql);
      EXPECT_TRUE(s) << s.error().ToString();
      if (!s) continue;
      for (;;) {
        auto row = (*s)->Step();
        EXPECT_TRUE(row) << row.error().ToString();
        if (!row || !*row) break;
        out += (*s)->Text(0) + "\n";
      }
      (*s)->Reset();
    }
    return out;
  }
  // `houston secrets rotate` from key_ to `next`, on a connection of its own (the store closed).
  Result<sql::SecretsSummary> RotateTo(const secrets::Keyring& next) {
    HOUSTON_ASSIGN_OR_RETURN(auto raw, Raw());
    return sql::RotateSecrets(*raw, *Ring({key_}), next);
  }
  Result<int> Apply(std::vector<OrgObject> objects, const std::string& yaml = kYaml) {
    return Wait<int>([&](auto cb) {
      store_->ApplyOrg(std::move(objects), {}, yaml, "/etc/houston/org.yaml",
                       Actor{"user", "", "cli"}, cb);
    });
  }
  Result<std::string> Shared(const std::string& candidate) {
    return Wait<std::string>([&](auto cb) { store_->SharedSecret("link_key", candidate, cb); });
  }
  void ExpectNoSecretIn(const std::string& dump) {
    for (const char* s : kSecrets) EXPECT_EQ(dump.find(s), std::string::npos) << s << "\n" << dump;
  }
  void ExpectOrgReadsBack() {
    auto snap = store_->LoadOrg();
    ASSERT_TRUE(snap) << snap.error().ToString();
    auto want = Objects();
    std::sort(want.begin(), want.end(), [](const OrgObject& a, const OrgObject& b) {
      return std::tie(a.kind, a.id) < std::tie(b.kind, b.id);
    });
    EXPECT_EQ(snap->objects, want);
    EXPECT_EQ(snap->source_yaml, kYaml);
    EXPECT_EQ(snap->source_name, "/etc/houston/org.yaml");
    EXPECT_EQ(Shared("another-candidate").value_or(""), "L1NK-KEY-shared");
  }

  // ---- the event tables

  static constexpr const char* kEventKey = "am-SECRET-int-key-77";
  static core::AlertEvent Event(core::EventAction action, const std::string& dedup,
                                const std::string& group = "") {
    core::AlertEvent e;
    e.integration_key = kEventKey;
    e.service_id = "checkout";
    e.action = action;
    e.dedup_key = dedup;
    e.group_key = group;
    e.summary = "disk full";
    e.source = "db1";
    e.details_json = "{}";
    e.links_json = "[]";
    e.images_json = "[]";
    return e;
  }
  Result<std::vector<EventOutcome>> Send(std::vector<core::AlertEvent> events) {
    return Wait<std::vector<EventOutcome>>([&](auto cb) {
      store_->ApplyAlertEvents(std::move(events), Actor{"integration", "t", "integration"}, cb);
    });
  }
  // Writes a row with kEventKey into every event table: alerts and incidents (one incident for
  // a group, so the grouping index is used), a change, a heartbeat and its beat, an Opsgenie
  // request, and the noise roll-ups (an alert that resolves and comes back: a flap).
  void FillEventTables() {
    auto hb = Wait<int>([&](auto cb) {
      store_->ApplyOrg(Objects(), {Heartbeat{kEventKey, "checkout", std::chrono::minutes(5)}},
                       kYaml, "/etc/houston/org.yaml", Actor{"user", "", "cli"}, cb);
    });
    ASSERT_TRUE(hb) << hb.error().ToString();
    ASSERT_TRUE(Wait<Heartbeat>([&](auto cb) { store_->RecordHeartbeat(kEventKey, cb); }));
    auto first = Send({Event(core::EventAction::kTrigger, "disk", "db"),
                       Event(core::EventAction::kTrigger, "cpu", "db")});
    ASSERT_TRUE(first) << first.error().ToString();
    EXPECT_EQ(first->at(0).incident_id, first->at(1).incident_id);  // grouped by key + group
    clock_.Advance(std::chrono::minutes(1));
    ASSERT_TRUE(Send({Event(core::EventAction::kResolve, "cpu")}));
    clock_.Advance(std::chrono::minutes(1));
    ASSERT_TRUE(Send({Event(core::EventAction::kTrigger, "cpu", "db")}));  // a flap
    core::ChangeEvent ch;
    ch.integration_key = kEventKey;
    ch.service_id = "checkout";
    ch.summary = "deploy v42";
    ASSERT_TRUE(Wait<core::Change>([&](auto cb) { store_->RecordChange(ch, cb); }));
    OpsgenieRequest og;
    og.request_id = "req-1";
    og.integration_key = kEventKey;
    og.service_id = "checkout";
    og.action = OpsgenieAction::kCreate;
    og.event = Event(core::EventAction::kTrigger, "og-alias");
    ASSERT_TRUE(Wait<OpsgenieRequestStatus>([&](auto cb) {
      store_->ApplyOpsgenieRequest(og, clock_.Now(), Actor{"integration", "t", "integration"}, cb);
    }));
    clock_.Advance(std::chrono::hours(1));
    auto folded = Wait<int64_t>([&](auto cb) { store_->RollUpNoise(clock_.Now(), 1000, cb); });
    ASSERT_TRUE(folded) << folded.error().ToString();
    EXPECT_EQ(*folded, 4);
  }
  // Every integration key column of the event tables, and the grouping columns, as text.
  std::string DumpEventTables() {
    auto db = Raw();
    EXPECT_TRUE(db) << db.error().ToString();
    if (!db) return "";
    std::string out;
    for (const char* sql :
         {"SELECT integration_key || '|' || group_key FROM alerts",
          "SELECT integration_key || '|' || group_key || '|' || grouping_key FROM incidents",
          "SELECT integration_key FROM changes", "SELECT integration_key FROM heartbeats",
          "SELECT integration_key FROM opsgenie_requests", "SELECT integration_key FROM noise_days",
          "SELECT integration_key FROM noise_flaps", "SELECT integration_key FROM noise_keys"}) {
      auto s = (*db)->Prepare(sql);
      EXPECT_TRUE(s) << s.error().ToString();
      if (!s) continue;
      int rows = 0;
      for (;;) {
        auto row = (*s)->Step();
        EXPECT_TRUE(row) << row.error().ToString();
        if (!row || !*row) break;
        out += (*s)->Text(0) + "\n";
        ++rows;
      }
      (*s)->Reset();
      EXPECT_GT(rows, 0) << "no row to check in: " << sql;
    }
    return out;
  }
  // The store reads the key back everywhere and still finds rows by it.
  void ExpectEventKeysWork() {
    auto alerts = store_->ListAlerts({});
    ASSERT_TRUE(alerts) << alerts.error().ToString();
    ASSERT_FALSE(alerts->empty());
    for (const auto& a : *alerts) EXPECT_EQ(a.integration_key, kEventKey);
    auto incidents = store_->ListIncidents({});
    ASSERT_TRUE(incidents) << incidents.error().ToString();
    for (const auto& i : *incidents) EXPECT_EQ(i.integration_key, kEventKey);
    auto changes = store_->ListChanges({});
    ASSERT_TRUE(changes);
    ASSERT_EQ(changes->size(), 1u);
    EXPECT_EQ(changes->front().integration_key, kEventKey);
    auto beats = store_->ListHeartbeats();
    ASSERT_TRUE(beats);
    ASSERT_EQ(beats->size(), 1u);
    EXPECT_EQ(beats->front().integration_key, kEventKey);
    ASSERT_TRUE(Wait<Heartbeat>([&](auto cb) { store_->RecordHeartbeat(kEventKey, cb); }));
    auto req = store_->GetOpsgenieRequest("req-1");
    ASSERT_TRUE(req) << req.error().ToString();
    EXPECT_EQ(req->integration_key, kEventKey);
    auto by_alias = store_->FindOpenAlertByAlias(kEventKey, "og-alias");
    ASSERT_TRUE(by_alias) << by_alias.error().ToString();
    EXPECT_TRUE(by_alias->has_value());
    // A repeat folds into the open alert; a new alert of the group joins its incident.
    auto again =
        Send({Event(core::EventAction::kTrigger, "disk", "db"),
              Event(core::EventAction::kTrigger, "new-" + std::to_string(++checks_), "db")});
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_EQ(again->at(0).kind, EventOutcome::Kind::kDeduplicated);
    EXPECT_EQ(again->at(1).kind, EventOutcome::Kind::kCreated);
    EXPECT_FALSE(again->at(1).incident_created);
    auto noise = store_->Noise({.from = TimePoint{}, .to = clock_.Now() + std::chrono::hours(1)});
    ASSERT_TRUE(noise) << noise.error().ToString();
    ASSERT_FALSE(noise->top_integrations.empty());
    EXPECT_EQ(noise->top_integrations.front().key, kEventKey);
    ASSERT_FALSE(noise->top_flapping.empty());
    EXPECT_EQ(noise->top_flapping.front().key, std::string(kEventKey) + "/cpu");
  }

  secrets::Key key_;
  int checks_ = 0;  // ExpectEventKeysWork calls
};

TEST_P(SecretsContractTest, SealedInTheDatabaseAndReadBackInClear) {
  keyring_ = Ring({key_});
  Reopen();
  auto n = Apply(Objects());
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 4);
  EXPECT_EQ(Shared("L1NK-KEY-shared").value_or(""), "L1NK-KEY-shared");
  ExpectOrgReadsBack();
  std::string dump = Dump();
  ExpectNoSecretIn(dump);
  EXPECT_NE(dump.find("integration|" + keyring_->Ref("am-SECRET-int-key-77") +
                      "|enc:v1:" + key_.id + ":"),
            std::string::npos)
      << dump;
  EXPECT_NE(dump.find("user|alice|enc:v1:"), std::string::npos) << dump;

  // Equal specs compare equal although every seal differs: a second apply changes nothing.
  EXPECT_EQ(Apply(Objects()).value_or(-1), 0);
  auto changed = Objects();
  changed[1].spec_json = R"({"key":"zz-second-key-000","rate_limit_per_second":5})";
  changed.erase(changed.begin() + 2);  // the service goes
  EXPECT_EQ(Apply(changed).value_or(-1), 2);
  auto snap = store_->LoadOrg();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->objects.size(), 3u);
  EXPECT_EQ(snap->objects[1], changed[1]);
  // The audit record of the apply names the integration by its ref, never by its key.
  ExpectNoSecretIn(Dump());
}

TEST_P(SecretsContractTest, PlaintextDatabaseIsSealedWhenOpenedWithAKey) {
  ASSERT_TRUE(Apply(Objects()));
  ASSERT_TRUE(Shared("L1NK-KEY-shared"));
  EXPECT_NE(Dump().find("am-SECRET-int-key-77"), std::string::npos);  // no key: in clear

  keyring_ = Ring({key_});
  Reopen();
  ExpectNoSecretIn(Dump());
  ExpectOrgReadsBack();
  // Reopening again finds nothing left to seal.
  auto raw = Raw();
  ASSERT_TRUE(raw);
  auto again = sql::SecureSecretsAtRest(**raw, keyring_.get());
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->sealed, 0);
  EXPECT_EQ(again->unchanged, 6);  // 4 objects, the document, the link key
}

TEST_P(SecretsContractTest, EventTablesHoldNoIntegrationKey) {
  keyring_ = Ring({key_});
  Reopen();
  FillEventTables();
  std::string dump = DumpEventTables();
  EXPECT_EQ(dump.find("SECRET"), std::string::npos) << dump;
  EXPECT_NE(dump.find("enc:v1:" + key_.id + ":"), std::string::npos) << dump;
  ExpectEventKeysWork();
  // A key file that gains a new primary key keeps opening and finding them.
  keyring_ = Ring({secrets::NewKey(), key_});
  Reopen();
  ExpectEventKeysWork();
  EXPECT_EQ(DumpEventTables().find("SECRET"), std::string::npos);
}

TEST_P(SecretsContractTest, EventTablesInClearAreSealedOnceWhenOpenedWithAKey) {
  FillEventTables();
  EXPECT_NE(DumpEventTables().find(kEventKey), std::string::npos);  // no key: in clear
  keyring_ = Ring({key_});
  Reopen();
  EXPECT_EQ(DumpEventTables().find("SECRET"), std::string::npos);
  ExpectEventKeysWork();
  // Sealed once: the next open rewrites nothing.
  store_.reset();
  auto raw = Raw();
  ASSERT_TRUE(raw);
  auto again = sql::SecureSecretsAtRest(**raw, keyring_.get());
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->sealed, 0);
  EXPECT_EQ(again->event_key_id, key_.id);
  // Without the key the database is refused, naming it.
  auto refused = sql::SecureSecretsAtRest(**raw, nullptr);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find(key_.id), std::string::npos);
}

TEST_P(SecretsContractTest, RotationMovesTheEventTablesToTheNewKey) {
  keyring_ = Ring({key_});
  Reopen();
  FillEventTables();
  store_.reset();
  secrets::Key next_key = secrets::NewKey();
  auto next = Ring({next_key});
  auto sum = RotateTo(*next);
  ASSERT_TRUE(sum) << sum.error().ToString();
  EXPECT_EQ(sum->event_key_id, next_key.id);
  EXPECT_EQ(sum->resealed, 5 + 8);  // the org's values and one key per event table
  std::string dump = DumpEventTables();
  EXPECT_EQ(dump.find("SECRET"), std::string::npos) << dump;
  EXPECT_EQ(dump.find(key_.id), std::string::npos) << dump;
  keyring_ = next;
  Reopen();
  ExpectEventKeysWork();
}

TEST_P(SecretsContractTest, AnotherKeyOrNoKeyIsRefusedNamingTheKeyNeeded) {
  keyring_ = Ring({key_});
  Reopen();
  ASSERT_TRUE(Apply(Objects()));
  store_.reset();

  for (auto ring : {Ring({secrets::NewKey()}), std::shared_ptr<const secrets::Keyring>()}) {
    keyring_ = ring;
    auto opened = Open();
    ASSERT_FALSE(opened) << "opened with " << (ring ? ring->KeyIds() : "no key");
    EXPECT_EQ(opened.error().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(opened.error().message().find(key_.id), std::string::npos)
        << opened.error().message();
  }
  // Nothing was changed by the refusals.
  keyring_ = Ring({key_});
  Reopen();
  auto snap = store_->LoadOrg();
  ASSERT_TRUE(snap) << snap.error().ToString();
  EXPECT_EQ(snap->source_yaml, kYaml);
}

TEST_P(SecretsContractTest, SwappedValuesDoNotOpen) {
  keyring_ = Ring({key_});
  Reopen();
  ASSERT_TRUE(Apply(Objects()));
  store_.reset();
  auto raw = Raw();
  ASSERT_TRUE(raw);
  // Move alice's sealed spec onto the service row: a value bound to another row.
  ASSERT_TRUE((*raw)
                  ->Exec("UPDATE org_objects SET spec_json = (SELECT spec_json FROM org_objects "
                         "WHERE kind = 'user') WHERE kind = 'service'")
                  .ok());
  auto opened = Open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(opened.error().message().find("org_objects.spec_json:service/checkout"),
            std::string::npos)
      << opened.error().message();
}

TEST_P(SecretsContractTest, RotationReseals) {
  keyring_ = Ring({key_});
  Reopen();
  ASSERT_TRUE(Apply(Objects()));
  ASSERT_TRUE(Shared("L1NK-KEY-shared"));
  store_.reset();

  secrets::Key next_key = secrets::NewKey();
  auto next = Ring({next_key});
  auto sum = RotateTo(*next);
  ASSERT_TRUE(sum) << sum.error().ToString();
  EXPECT_EQ(sum->resealed, 6);
  EXPECT_EQ(sum->sealed, 0);
  // A rerun changes nothing.
  auto rerun = RotateTo(*next);
  ASSERT_TRUE(rerun) << rerun.error().ToString();
  EXPECT_EQ(rerun->resealed, 0);
  EXPECT_EQ(rerun->unchanged, 6);

  std::string dump = Dump();
  ExpectNoSecretIn(dump);
  EXPECT_EQ(dump.find("enc:v1:" + key_.id), std::string::npos) << dump;
  EXPECT_NE(dump.find(next->Ref("am-SECRET-int-key-77")), std::string::npos) << dump;

  // The old key alone no longer opens the database; the new one does.
  keyring_ = Ring({key_});
  auto old = Open();
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message().find(next_key.id), std::string::npos);
  keyring_ = next;
  Reopen();
  ExpectOrgReadsBack();
}

HOUSTON_STORE_CONTRACT(SecretsContractTest);

}  // namespace
}  // namespace houston::store
