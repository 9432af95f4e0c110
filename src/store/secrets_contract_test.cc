// The store contract for secrets at rest (store/sql/secrets_at_rest.h), on SQLite and
// PostgreSQL: what the store reads back is what was written, and what the database holds reveals
// none of the secrets; a database sealed with one key refuses another; rotation.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "secrets/secrets.h"
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

  secrets::Key key_;
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
  auto raw = Raw();
  ASSERT_TRUE(raw);
  auto sum = sql::RotateSecrets(**raw, *Ring({key_}), *next);
  ASSERT_TRUE(sum) << sum.error().ToString();
  EXPECT_EQ(sum->resealed, 6);
  EXPECT_EQ(sum->sealed, 0);
  // A rerun changes nothing.
  auto rerun = sql::RotateSecrets(**raw, *Ring({key_}), *next);
  ASSERT_TRUE(rerun) << rerun.error().ToString();
  EXPECT_EQ(rerun->resealed, 0);
  EXPECT_EQ(rerun->unchanged, 6);
  raw->reset();

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
