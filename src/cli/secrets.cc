// houston secrets rotate: re-encrypts the secrets a database holds under a new key.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"
#include "secrets/secrets.h"
#include "store/postgres/pg_db.h"
#include "store/postgres/postgres_store.h"
#include "store/sql/secrets_at_rest.h"
#include "store/sqlite/db.h"

namespace houston::cli {

namespace {

constexpr const char* kRotateHelp =
    "Re-encrypt every secret the database holds (the org document and objects, the action-link "
    "key, the integration keys of the alerts, incidents and other event rows) under the first "
    "key of --new-key-file, in one transaction, and recompute the keyed "
    "hashes that stand for integration keys. Values are opened with the old keys (--old-key-file, "
    "else the key the server would use: --secrets-key-file, HOUSTON_SECRETS_KEY_FILE, "
    "HOUSTON_SECRETS_KEY, or <db>.key for SQLite) or the new ones, so a rerun changes nothing.\n"
    "Stop the servers first, or run them with a key file that lists the new key first and the "
    "old key after it; afterwards start every server with the new key file (the old key no "
    "longer opens the database).";

struct RotateFlags {
  std::string db = "houston.db";
  std::string new_key_file;
  std::string old_key_file;
};

int Rotate(const RotateFlags& f) {
  const bool pg = store::postgres::IsPostgresUrl(f.db);
  if (!pg) {
    std::error_code ec;
    if (!std::filesystem::exists(f.db, ec)) {
      PrintError(NotFound(fmt::format("there is no database at '{}' (--db)", f.db)));
      return 2;
    }
  }
  auto next = secrets::ReadKeyFile(f.new_key_file);
  if (!next) {
    PrintError(next.error());
    return 2;
  }
  // The old keys, as the server would find them; never generated here.
  Result<secrets::Keyring> old = std::unexpected(NotFound(""));
  if (!f.old_key_file.empty()) {
    old = secrets::ReadKeyFile(f.old_key_file);
  } else {
    auto env = secrets::LoadKeys(secrets::KeySourceFromEnv(""));
    if (!env) {
      old = std::unexpected(env.error());
    } else if (*env) {
      old = std::move(**env);
    } else if (!pg) {
      old = secrets::ReadKeyFile(secrets::DefaultKeyFileFor(f.db));
      if (!old && old.error().code() == StatusCode::kNotFound) old = *next;  // never sealed
    } else {
      old = *next;  // PostgreSQL without a key: the secrets are in clear
    }
  }
  if (!old) {
    PrintError(old.error());
    return 2;
  }
  std::unique_ptr<store::sql::Db> db;
  if (pg) {
    auto c = store::postgres::PgDb::Connect(f.db);
    if (c)
      db = std::move(*c);
    else
      PrintError(c.error());
  } else {
    auto c = store::sqlite::SqliteDb::Open(f.db, false);
    if (c)
      db = std::move(*c);
    else
      PrintError(c.error());
  }
  if (!db) return 1;
  std::fprintf(stderr, "houston: rotating the secrets of %s from key(s) %s to key %s\n",
               pg ? "the PostgreSQL database" : f.db.c_str(), old->KeyIds().c_str(),
               next->primary().id.c_str());
  auto sum = store::sql::RotateSecrets(*db, *old, *next);
  if (!sum) {
    PrintError(sum.error());
    std::fprintf(stderr, "houston: nothing was changed\n");
    return 1;
  }
  std::printf(
      "rotated to secrets key %s: %d re-encrypted, %d encrypted from clear, %d already under "
      "it\n",
      next->primary().id.c_str(), sum->resealed, sum->sealed, sum->unchanged);
  std::printf("start houston with --secrets-key-file %s (or HOUSTON_SECRETS_KEY_FILE)%s\n",
              f.new_key_file.c_str(),
              pg || !f.old_key_file.empty() || std::getenv("HOUSTON_SECRETS_KEY_FILE") ||
                      std::getenv("HOUSTON_SECRETS_KEY")
                  ? ""
                  : fmt::format(", or move it to {}", secrets::DefaultKeyFileFor(f.db)).c_str());
  return 0;
}

}  // namespace

int SecretsAfterImport(const std::string& sqlite_path, const std::string& pg_url) {
  auto given = secrets::LoadKeys(secrets::KeySourceFromEnv(""));
  if (!given) {
    PrintError(given.error());
    return 2;
  }
  const std::string key_file = secrets::DefaultKeyFileFor(sqlite_path);
  auto source = secrets::ReadKeyFile(key_file);
  if (!source && source.error().code() != StatusCode::kNotFound) {
    PrintError(source.error());
    return 1;
  }
  if (!*given) {
    if (source) {
      std::printf(
          "the secrets stay encrypted with secrets key %s: start houston on PostgreSQL with "
          "--secrets-key-file %s (a copy of it, mode 0600, on every server)\n",
          source->primary().id.c_str(), key_file.c_str());
    }
    return 0;
  }
  if (!source || (*given)->Has(source->primary().id)) {
    std::printf("secrets: the given key %s encrypts the secrets\n", (*given)->primary().id.c_str());
    if (!source) source = **given;  // seals whatever came over in clear
  }
  auto db = store::postgres::PgDb::Connect(pg_url);
  if (!db) {
    PrintError(db.error());
    return 1;
  }
  auto sum = store::sql::RotateSecrets(**db, *source, **given);
  if (!sum) {
    PrintError(sum.error());
    return 1;
  }
  std::printf("secrets: %d re-encrypted under the given key %s, %d encrypted from clear\n",
              sum->resealed, (*given)->primary().id.c_str(), sum->sealed);
  return 0;
}

void AddSecretsCommands(CLI::App& app, std::function<int()>* run) {
  auto* secrets_cmd = app.add_subcommand("secrets", "Manage the key that encrypts stored secrets");
  secrets_cmd->require_subcommand(1);
  auto flags = std::make_shared<RotateFlags>();
  auto* rotate = secrets_cmd->add_subcommand("rotate", kRotateHelp);
  rotate->add_option("--db", flags->db, "SQLite database path, or a postgres:// URL")
      ->capture_default_str();
  rotate
      ->add_option("--new-key-file", flags->new_key_file,
                   "Key file whose first key encrypts from now on (one base64 32-byte key per "
                   "line, mode 0600; make one with: head -c 32 /dev/urandom | base64)")
      ->required();
  rotate->add_option("--old-key-file", flags->old_key_file,
                     "Key file with the key(s) the database is encrypted with now");
  rotate->callback([run, flags] { *run = [flags] { return Rotate(*flags); }; });
}

}  // namespace houston::cli
