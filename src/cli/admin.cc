// Administrative subcommands that work on the database directly: migrate, apply, token.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "api/api.h"
#include "cli/commands.h"
#include "cli/internal.h"
#include "config/config.h"
#include "core/time_util.h"
#include "store/postgres/import.h"
#include "store/postgres/pg_db.h"
#include "store/postgres/postgres_store.h"
#include "store/sql/schema.h"
#include "store/sqlite/db.h"
#include "store/sqlite/sqlite_store.h"

namespace houston::cli {

void PrintError(const Status& st) {
  std::fprintf(stderr, "houston: %s\n", st.message().c_str());
  for (const auto& d : st.details()) std::fprintf(stderr, "  %s\n", d.c_str());
}

namespace {

// A connection for migrating `db` (SQLite path or postgres:// URL) and its migration list.
Result<std::pair<std::unique_ptr<store::sql::Db>, const std::vector<store::sql::Migration>*>>
MigrationTarget(const std::string& db) {
  if (store::postgres::IsPostgresUrl(db)) {
    HOUSTON_ASSIGN_OR_RETURN(auto conn, store::postgres::PgDb::Connect(db));
    return std::make_pair(std::unique_ptr<store::sql::Db>(std::move(conn)),
                          &store::sql::Migrations(store::sql::Dialect::kPostgres));
  }
  HOUSTON_ASSIGN_OR_RETURN(auto conn, store::sqlite::SqliteDb::Open(db, false));
  return std::make_pair(std::unique_ptr<store::sql::Db>(std::move(conn)),
                        &store::sql::Migrations(store::sql::Dialect::kSqlite));
}

int Migrate(const std::string& db, bool status_only) {
  auto target = MigrationTarget(db);
  if (!target) {
    PrintError(target.error());
    return 1;
  }
  auto& [conn, migrations] = *target;
  auto version = store::sql::SchemaVersion(*conn);
  if (!version) {
    PrintError(version.error());
    return 1;
  }
  const auto& all = *migrations;
  int latest = all.empty() ? 0 : all.back().version;
  if (status_only) {
    std::printf("schema version %d, latest %d: %s\n", *version, latest,
                *version == latest ? "up to date" : "migrations pending");
    for (const auto& m : all) {
      std::printf("  %s %3d %s\n", m.version <= *version ? "applied" : "pending", m.version,
                  m.name.c_str());
    }
    return 0;
  }
  auto applied = store::sql::Migrate(*conn, all, RealClock().Now());
  if (!applied) {
    PrintError(applied.error());
    return 1;
  }
  if (applied->empty()) {
    std::printf("schema is up to date (version %d)\n", *version);
  } else {
    for (int v : *applied) std::printf("applied migration %d (%s)\n", v, all[v - 1].name.c_str());
    std::printf("schema is now at version %d\n", latest);
  }
  return 0;
}

// houston migrate --from sqlite:PATH --to postgres://...
int Import(const std::string& from, const std::string& to) {
  if (!from.starts_with("sqlite:")) {
    PrintError(InvalidArgument(
        fmt::format("--from '{}' must be sqlite:PATH (the SQLite database to move)", from)));
    return 2;
  }
  if (!store::postgres::IsPostgresUrl(to)) {
    PrintError(
        InvalidArgument(fmt::format("--to '{}' must be a postgres:// or postgresql:// URL", to)));
    return 2;
  }
  std::string path = from.substr(7);
  std::printf("copying %s into %s (one transaction: all or nothing)\n", path.c_str(),
              store::postgres::RedactUrl(to).c_str());
  auto copied = store::postgres::ImportFromSqlite(
      path, to, RealClock().Now(), [](std::string_view table, int64_t rows) {
        std::printf("  %-20.*s %lld rows\n", static_cast<int>(table.size()), table.data(),
                    static_cast<long long>(rows));
        std::fflush(stdout);
      });
  if (!copied) {
    PrintError(copied.error());
    return 1;
  }
  int64_t total = 0;
  for (const auto& [table, rows] : *copied) total += rows;
  std::printf("done: %lld rows in %zu tables. Start houston with --db %s\n",
              static_cast<long long>(total), copied->size(),
              store::postgres::RedactUrl(to).c_str());
  return SecretsAfterImport(path, to);
}

int Apply(const std::string& file, const std::string& db, bool dry_run) {
  auto yaml = ReadFile(file);
  if (!yaml) {
    PrintError(yaml.error());
    return 2;
  }
  auto org = config::ParseOrg(*yaml, file);
  if (!org) {
    PrintError(org.error());
    return 2;
  }
  auto store = OpenStore(db, true);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  auto snap = (*store)->LoadOrg();
  if (!snap) {
    PrintError(snap.error());
    return 1;
  }
  std::vector<config::OrgObject> current;
  for (auto& o : snap->objects) {
    current.push_back(config::OrgObject{o.kind, o.id, o.spec_json});
  }
  auto diff = config::Diff(current, config::Flatten(*org));
  std::printf("%s", config::FormatDiff(diff).c_str());
  if (dry_run) {
    std::printf("(dry run: nothing was changed)\n");
    return 0;
  }
  auto changed =
      ApplyOrgToStore(**store, *org, *yaml, AbsolutePath(file), store::Actor{"user", "", "cli"});
  if (!changed) {
    PrintError(changed.error());
    return 1;
  }
  std::printf(
      "applied %s to %s (%d objects changed). Servers on this database run it within 2 "
      "seconds; it is now the database's org source, so a server started with another --config "
      "keeps it (see houston serve --help).\n",
      file.c_str(), db.c_str(), *changed);
  return 0;
}

int CreateToken(const std::string& db, const std::string& role_name, const std::string& name) {
  auto role = store::ParseRole(role_name);
  if (!role) {
    PrintError(InvalidArgument(
        fmt::format("--role '{}' is not one of admin, responder, viewer", role_name)));
    return 2;
  }
  if (name.empty()) {
    PrintError(InvalidArgument("--name must not be empty"));
    return 2;
  }
  auto store = OpenStore(db, true);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  std::string token = api::NewApiToken();
  auto created = store::Wait<store::Token>([&](auto cb) {
    (*store)->CreateToken(name, *role, api::TokenHash(token), token.substr(0, 8),
                          store::Actor{"user", "", "cli"}, cb);
  });
  if (!created) {
    PrintError(created.error());
    return 1;
  }
  std::fprintf(stderr, "created %s token '%s' (id %lld); it is shown only once:\n",
               role_name.c_str(), name.c_str(), static_cast<long long>(created->id));
  std::printf("%s\n", token.c_str());
  return 0;
}

int ListTokens(const std::string& db) {
  auto store = OpenStore(db, true);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  auto tokens = (*store)->ListTokens();
  if (!tokens) {
    PrintError(tokens.error());
    return 1;
  }
  std::printf("%-4s %-24s %-10s %-10s %-26s %s\n", "ID", "NAME", "ROLE", "PREFIX", "CREATED",
              "REVOKED");
  for (const auto& t : *tokens) {
    std::printf("%-4lld %-24s %-10s %-10s %-26s %s\n", static_cast<long long>(t.id), t.name.c_str(),
                std::string(store::ToString(t.role)).c_str(), t.prefix.c_str(),
                FormatRfc3339(t.created_at).c_str(),
                t.revoked_at ? FormatRfc3339(*t.revoked_at).c_str() : "-");
  }
  return 0;
}

int RevokeToken(const std::string& db, int64_t id) {
  auto store = OpenStore(db, true);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  auto t = store::Wait<store::Token>([&](auto cb) {
    (*store)->RevokeToken(id, store::Actor{"user", "", "cli"}, cb);
  });
  if (!t) {
    PrintError(t.error());
    return 1;
  }
  std::printf("revoked token %lld (%s); it no longer works\n", static_cast<long long>(t->id),
              t->name.c_str());
  return 0;
}

}  // namespace

void AddAdminCommands(CLI::App& app, std::function<int()>* run) {
  {
    auto db = std::make_shared<std::string>("var/houston.db");
    auto status = std::make_shared<bool>(false);
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "migrate",
        "Apply pending database schema migrations, or (--from/--to) move a SQLite database to "
        "PostgreSQL.");
    cmd->add_option("--db", *db, kDbHelp)->capture_default_str();
    cmd->add_flag("--status", *status, "only show the schema version and pending migrations");
    cmd->add_option("--from", *from, "sqlite:PATH: copy this SQLite database ...");
    cmd->add_option("--to", *to, "... into this empty PostgreSQL database (postgres://...)");
    cmd->callback([=] {
      *run = [=] {
        if (!from->empty() || !to->empty()) {
          if (from->empty() || to->empty()) {
            PrintError(InvalidArgument("--from and --to go together"));
            return 2;
          }
          return Import(*from, *to);
        }
        return Migrate(*db, *status);
      };
    });
  }
  {
    auto file = std::make_shared<std::string>();
    auto db = std::make_shared<std::string>("var/houston.db");
    auto dry = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "apply", "Validate an org.yaml, show what would change, and apply it to the database.");
    cmd->add_option("-f,--file", *file, "org.yaml to apply")->required();
    cmd->add_option("--db", *db, kDbHelp)->capture_default_str();
    cmd->add_flag("--dry-run", *dry, "show the changes without applying them");
    cmd->callback([=] { *run = [=] { return Apply(*file, *db, *dry); }; });
  }
  {
    auto* token = app.add_subcommand("token", "Manage API tokens.");
    token->require_subcommand(1);
    auto db = std::make_shared<std::string>("var/houston.db");
    auto role = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto* create =
        token->add_subcommand("create", "Create an API token and print it (shown only once).");
    create->add_option("--db", *db, kDbHelp)->capture_default_str();
    create->add_option("--role", *role, "admin, responder or viewer")->required();
    create->add_option("--name", *name, "a name for the token (who or what uses it)")->required();
    create->callback([=] { *run = [=] { return CreateToken(*db, *role, *name); }; });
    auto* list = token->add_subcommand("list", "List API tokens (never their secrets).");
    auto list_db = std::make_shared<std::string>("var/houston.db");
    list->add_option("--db", *list_db, kDbHelp)->capture_default_str();
    list->callback([=] { *run = [=] { return ListTokens(*list_db); }; });
    auto* revoke =
        token->add_subcommand("revoke", "Revoke an API token (it stops working at once).");
    auto revoke_db = std::make_shared<std::string>("var/houston.db");
    auto revoke_id = std::make_shared<int64_t>(0);
    revoke->add_option("ID", *revoke_id, "token id (see 'houston token list')")->required();
    revoke->add_option("--db", *revoke_db, kDbHelp)->capture_default_str();
    revoke->callback([=] { *run = [=] { return RevokeToken(*revoke_db, *revoke_id); }; });
  }
}

void AddCommands(CLI::App& app, std::function<int()>* run) {
  AddServeCommand(app, run);
  AddAdminCommands(app, run);
  AddUserCommands(app, run);
  AddClientCommands(app, run);
  AddLearningCommands(app, run);
}

}  // namespace houston::cli
