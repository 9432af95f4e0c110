// StoreBackendTest: the fixture of the store contract suite. Every test written against it runs
// once on SQLite (a file in a temp dir) and once on PostgreSQL (a fresh database on a server the
// suite starts itself, testing::PgServer), through the same Store interface:
//
//   class MyTest : public testing::StoreBackendTest {};
//   TEST_P(MyTest, Something) { ... store_->... }
//   HOUSTON_STORE_CONTRACT(MyTest);
//
// Both stores run on a FakeClock. Not thread-safe (a gtest fixture).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/pg_server.h"

namespace houston::testing {

class StoreBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() { Server().reset(); }

  void SetUp() override {
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name_) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("houston-store-" + std::to_string(::getpid()) + "-" + name_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (postgres()) {
      auto& server = Server();
      if (!server) {
        auto s = PgServer::Start();
        ASSERT_TRUE(s) << s.error().ToString();
        server = std::move(*s);
      }
      auto url = server->NewDatabase("t" + std::to_string(++databases_));
      ASSERT_TRUE(url) << url.error().ToString();
      url_ = *url;
    }
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool postgres() const { return GetParam() == "postgres"; }

  // Opens the store again on the same database (the previous one is shut down first).
  void Reopen(size_t capacity = 65536) {
    store_.reset();
    auto s = Open(capacity);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }

  // Another store on the same database (another server process, as far as the database knows).
  Result<std::unique_ptr<store::Store>> Open(size_t capacity = 65536) {
    if (postgres()) {
      store::postgres::PostgresOptions o;
      o.url = url_;
      o.clock = &clock_;
      o.queue_capacity = capacity;
      o.keyring = keyring_;
      HOUSTON_ASSIGN_OR_RETURN(auto s, store::postgres::PostgresStore::Open(std::move(o)));
      return std::unique_ptr<store::Store>(std::move(s));
    }
    store::sqlite::SqliteOptions o;
    o.path = (dir_ / "houston.db").string();
    o.clock = &clock_;
    o.queue_capacity = capacity;
    o.synchronous_full = false;  // durability is tested end to end (kill -9)
    o.keyring = keyring_;
    HOUSTON_ASSIGN_OR_RETURN(auto s, store::sqlite::SqliteStore::Open(std::move(o)));
    return std::unique_ptr<store::Store>(std::move(s));
  }

  static std::unique_ptr<PgServer>& Server() {
    static std::unique_ptr<PgServer> server;
    return server;
  }

  std::string name_;
  std::filesystem::path dir_;
  std::string url_;
  FakeClock clock_;
  // The secrets key stores open with (null: secrets stored as given); set it, then Reopen().
  std::shared_ptr<const secrets::Keyring> keyring_;
  std::unique_ptr<store::Store> store_;

 private:
  static inline int databases_ = 0;
};

}  // namespace houston::testing

// Runs every TEST_P of `fixture` on both backends.
#define HOUSTON_STORE_CONTRACT(fixture)                                                \
  INSTANTIATE_TEST_SUITE_P(Backends, fixture, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })
