// houston: a self-hosted incident-response server. See `houston --help`.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // Log lines go to stderr, so what a command prints on stdout stays what scripts read (`serve`
  // sets up its own logger, on stderr too).
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "houston", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  CLI::App app{
      "houston: self-hosted incident response (alerts, on-call, incidents, postmortems).\n"
      "Run `houston <command> --help` for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "houston 0.1.0");
  std::function<int()> run;
  // Every command that opens a database takes it (after the command name too: fallthrough); it
  // reaches the store through HOUSTON_SECRETS_KEY_FILE (server::OpenSecretsKeys).
  std::string secrets_key_file;
  app.add_option("--secrets-key-file", secrets_key_file,
                 "Key file that encrypts the secrets stored in the database (default: "
                 "$HOUSTON_SECRETS_KEY_FILE, $HOUSTON_SECRETS_KEY, else <db>.key for SQLite)");
  // PostgreSQL needs a key (SQLite makes its own): the explicit way to store secrets in clear.
  bool allow_unencrypted = false;
  app.add_flag("--allow-unencrypted-secrets", allow_unencrypted,
               "On PostgreSQL without a secrets key, store the secrets unencrypted instead of "
               "refusing to start (default: $HOUSTON_ALLOW_UNENCRYPTED_SECRETS=1)");
  app.fallthrough();
  houston::cli::AddCommands(app, &run);
  houston::cli::AddSecretsCommands(app, &run);
  houston::cli::AddLearningReportCommands(app, &run);
  houston::cli::AddMigrationCommands(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!secrets_key_file.empty()) ::setenv("HOUSTON_SECRETS_KEY_FILE", secrets_key_file.c_str(), 1);
  if (allow_unencrypted) ::setenv("HOUSTON_ALLOW_UNENCRYPTED_SECRETS", "1", 1);
  return run ? run() : 2;
}
