#include "secrets/secrets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace houston::secrets {
namespace {

Keyring Ring(std::vector<Key> keys) {
  auto r = Keyring::FromKeys(std::move(keys));
  EXPECT_TRUE(r.has_value());
  return std::move(*r);
}

TEST(SecretsTest, SealOpensOnlyInItsPlace) {
  Keyring ring = Ring({NewKey()});
  std::string sealed = ring.Seal("whsec_top-secret", "org_source.yaml:1");
  EXPECT_TRUE(sealed.starts_with("enc:v1:" + ring.primary().id + ":")) << sealed;
  EXPECT_EQ(sealed.find("top-secret"), std::string::npos);
  EXPECT_EQ(ring.Open(sealed, "org_source.yaml:1").value(), "whsec_top-secret");
  // Another place (a row swapped with another): refused.
  auto moved = ring.Open(sealed, "server_secrets.value:link_key");
  ASSERT_FALSE(moved.has_value());
  EXPECT_EQ(moved.error().code(), StatusCode::kInvalidArgument);
  // Two seals of one value differ (random nonces).
  EXPECT_NE(sealed, ring.Seal("whsec_top-secret", "org_source.yaml:1"));
  EXPECT_EQ(ring.Open(ring.Seal("", "p"), "p").value(), "");
}

TEST(SecretsTest, StableSealsAreEqualForEqualValuesAndOpen) {
  Key a = NewKey(), b = NewKey();
  Keyring ring = Ring({a, b});
  auto one = ring.SealStable("am-checkout", "integration_key", b.id);
  ASSERT_TRUE(one.has_value()) << one.error().message();
  // Under the key asked for, not the primary; the same text every time; opens like any seal.
  EXPECT_TRUE(one->starts_with("enc:v1:" + b.id + ":")) << *one;
  EXPECT_EQ(*one, ring.SealStable("am-checkout", "integration_key", b.id).value());
  EXPECT_EQ(one->find("checkout"), std::string::npos);
  EXPECT_EQ(ring.Open(*one, "integration_key").value(), "am-checkout");
  EXPECT_FALSE(ring.Open(*one, "another place").has_value());
  // Other values, places or keys seal differently.
  EXPECT_NE(*one, ring.SealStable("am-checkouu", "integration_key", b.id).value());
  EXPECT_NE(*one, ring.SealStable("am-checkout", "integration_kez", b.id).value());
  EXPECT_NE(*one, ring.SealStable("am-checkout", "integration_key", a.id).value());
  // The nonce (the first 24 bytes: 32 base64 characters after "enc:v1:<id>:") separates place
  // from value: ("ab", "c") and ("a", "bc") never share one.
  auto nonce = [&](const std::string& sealed) { return sealed.substr(8 + a.id.size(), 32); };
  EXPECT_NE(nonce(ring.SealStable("c", "ab", a.id).value()),
            nonce(ring.SealStable("bc", "a", a.id).value()));
  EXPECT_EQ(nonce(ring.SealStable("c", "ab", a.id).value()),
            nonce(ring.SealStable("c", "ab", a.id).value()));
  // A key the ring lacks: refused, naming it.
  Key other = NewKey();
  auto missing = ring.SealStable("am-checkout", "integration_key", other.id);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.error().message().find(other.id), std::string::npos);
}

TEST(SecretsTest, TamperedValueDoesNotOpen) {
  Keyring ring = Ring({NewKey()});
  std::string sealed = ring.Seal("hunter2", "p");
  // Flip one character of the base64 body (keep it valid base64).
  std::string bad = sealed;
  char& c = bad[bad.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(ring.Open(bad, "p").has_value());
  EXPECT_FALSE(ring.Open(sealed.substr(0, sealed.size() - 8), "p").has_value());
  EXPECT_FALSE(ring.Open("enc:v1:" + ring.primary().id + ":!!!", "p").has_value());
  auto plain = ring.Open("hunter2", "p");
  ASSERT_FALSE(plain.has_value());
  EXPECT_EQ(plain.error().code(), StatusCode::kInvalidArgument);
}

TEST(SecretsTest, WrongKeyNamesTheKeyIdNeeded) {
  Keyring a = Ring({NewKey()});
  Keyring b = Ring({NewKey()});
  std::string sealed = a.Seal("s", "p");
  auto r = b.Open(sealed, "p");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.error().message().find(a.primary().id), std::string::npos) << r.error().message();
  EXPECT_EQ(SealedKeyId(sealed).value(), a.primary().id);
  EXPECT_FALSE(SealedKeyId("plain").has_value());
}

TEST(SecretsTest, RotationKeyringOpensOldAndSealsNew) {
  Key old_key = NewKey(), new_key = NewKey();
  Keyring old_ring = Ring({old_key});
  Keyring both = Ring({new_key, old_key});
  std::string before = old_ring.Seal("v", "p");
  EXPECT_EQ(both.Open(before, "p").value(), "v");
  std::string after = both.Seal("v", "p");
  EXPECT_EQ(SealedKeyId(after).value(), new_key.id);
  EXPECT_FALSE(old_ring.Open(after, "p").has_value());
  EXPECT_EQ(both.KeyIds(), new_key.id + ", " + old_key.id);
  // Refs follow the primary key.
  EXPECT_EQ(both.Ref("am-checkout"), Ring({new_key}).Ref("am-checkout"));
  EXPECT_NE(both.Ref("am-checkout"), old_ring.Ref("am-checkout"));
  EXPECT_NE(both.Ref("am-checkout"), both.Ref("am-checkouu"));
  EXPECT_TRUE(both.Ref("x").starts_with("ik_"));
  EXPECT_EQ(both.Ref("x").size(), 3u + 32u);
  // A key listed twice is refused.
  EXPECT_FALSE(Keyring::FromKeys({old_key, old_key}).has_value());
  EXPECT_FALSE(Keyring::FromKeys({}).has_value());
}

TEST(SecretsTest, KeysFromBase64) {
  Key k = NewKey();
  auto back = KeyFromBase64(ToBase64(k));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->bytes, k.bytes);
  EXPECT_EQ(back->id, k.id);
  EXPECT_EQ(back->id.size(), 12u);
  std::string unpadded = ToBase64(k);
  while (unpadded.back() == '=') unpadded.pop_back();
  EXPECT_TRUE(KeyFromBase64(unpadded).has_value());
  auto short_key = KeyFromBase64("c2hvcnQ=");
  ASSERT_FALSE(short_key.has_value());
  EXPECT_NE(short_key.error().message().find("32 bytes"), std::string::npos);
  EXPECT_FALSE(KeyFromBase64("not base64 at all!").has_value());
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("houston-secrets-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(KeyFileTest, CreateThenReadWithOldKeysListed) {
  auto created = CreateKeyFile(Path("k"));
  ASSERT_TRUE(created.has_value()) << created.error().message();
  struct stat st {};
  ASSERT_EQ(::stat(Path("k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = CreateKeyFile(Path("k"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  auto read = ReadKeyFile(Path("k"));
  ASSERT_TRUE(read.has_value()) << read.error().message();
  EXPECT_EQ(read->primary().id, created->primary().id);

  // Two keys: the first seals, both open.
  Key extra = NewKey();
  {
    std::ofstream f(Path("k"), std::ios::app);
    f << "\n# the old key, kept while servers move over\n" << ToBase64(extra) << "\n";
  }
  auto two = ReadKeyFile(Path("k"));
  ASSERT_TRUE(two.has_value()) << two.error().message();
  EXPECT_EQ(two->keys().size(), 2u);
  EXPECT_EQ(two->primary().id, created->primary().id);
  EXPECT_TRUE(two->Has(extra.id));
}

TEST_F(KeyFileTest, BadFilesAreNamed) {
  auto missing = ReadKeyFile(Path("none"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);

  {
    std::ofstream f(Path("bad"));
    f << "# comment\n" << ToBase64(NewKey()) << "\nnot-a-key\n";
  }
  ::chmod(Path("bad").c_str(), 0600);
  auto bad = ReadKeyFile(Path("bad"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find(Path("bad") + ":3:"), std::string::npos)
      << bad.error().message();

  {
    std::ofstream f(Path("open"));
    f << ToBase64(NewKey()) << "\n";
  }
  ::chmod(Path("open").c_str(), 0644);
  auto open = ReadKeyFile(Path("open"));
  ASSERT_FALSE(open.has_value());
  EXPECT_EQ(open.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(open.error().message().find("chmod 600"), std::string::npos);
}

TEST_F(KeyFileTest, ResolveGeneratesForSqliteOnly) {
  KeySource none;
  auto pg = ResolveKeys(none, "");
  ASSERT_TRUE(pg.has_value());
  EXPECT_FALSE(pg->ring.has_value());

  auto first = ResolveKeys(none, Path("h.db"));
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(first->created_file, Path("h.db.key"));
  auto second = ResolveKeys(none, Path("h.db"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->created_file, "");
  EXPECT_EQ(second->ring->primary().id, first->ring->primary().id);
  EXPECT_EQ(second->warning, "");
  // Left readable by others: tightened, with a warning (a given key file would be refused).
  ::chmod(Path("h.db.key").c_str(), 0644);
  auto loose = ResolveKeys(none, Path("h.db"));
  ASSERT_TRUE(loose.has_value()) << loose.error().message();
  EXPECT_NE(loose->warning.find("mode 644"), std::string::npos) << loose->warning;
  struct stat st {};
  ASSERT_EQ(::stat(Path("h.db.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(loose->ring->primary().id, first->ring->primary().id);

  Key k = NewKey(), k2 = NewKey();
  KeySource env;
  env.key_env = ToBase64(k) + "," + ToBase64(k2);
  auto from_env = ResolveKeys(env, Path("h.db"));
  ASSERT_TRUE(from_env.has_value());
  EXPECT_EQ(from_env->ring->primary().id, k.id);
  EXPECT_TRUE(from_env->ring->Has(k2.id));
  env.key_env = "short";
  auto bad_env = ResolveKeys(env, Path("h.db"));
  ASSERT_FALSE(bad_env.has_value());
  EXPECT_NE(bad_env.error().message().find("HOUSTON_SECRETS_KEY"), std::string::npos);
  EXPECT_EQ(bad_env.error().message().find("short"), std::string::npos);
}

}  // namespace
}  // namespace houston::secrets
