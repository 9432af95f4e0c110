// houston's subcommands. Each returns the process exit code (0 ok, 1 failure, 2 bad usage or
// bad input) after printing what went wrong.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/status.h"
#include "migration/http_get.h"
#include "migration/migration.h"
#include "server/app.h"
#include "store/store.h"

namespace houston::cli {

// Adds every subcommand to `app`; the selected one stores its runner in `*run`.
void AddCommands(CLI::App& app, std::function<int()>* run);
// analytics incidents|oncall-load|noise, report weekly, record (cli/learning_report.cc).
void AddLearningReportCommands(CLI::App& app, std::function<int()>* run);

// secrets rotate (cli/secrets.cc).
void AddSecretsCommands(CLI::App& app, std::function<int()>* run);
// After `migrate --from sqlite:PATH --to URL` copied the rows (secrets sealed under PATH's key):
// re-encrypts them under the key given (--secrets-key-file / environment), or says which key
// file the PostgreSQL servers need. Returns the exit code.
int SecretsAfterImport(const std::string& sqlite_path, const std::string& pg_url);

// import pagerduty|opsgenie and export (cli/migration.cc).
void AddMigrationCommands(CLI::App& app, std::function<int()>* run);
// `import opsgenie`, added under the `import` command (cli/import_opsgenie.cc).
void AddImportOpsgenieCommand(CLI::App& import_cmd, std::function<int()>* run);

// Where an import writes its results (cli/migration.cc).
struct ImportOutputs {
  std::string out;          // the org.yaml; "-" is standard output
  std::string report;       // the report for people; empty: standard error
  std::string report_json;  // the report as JSON; empty: not written
};
// Shared by the importers: checks that the org's org.yaml parses (else nothing is written and
// it returns 1), writes the JSON report, the report and the org.yaml (each atomically, mode
// 0600), prints the report to stderr when it has no file, and returns the exit code. `source`
// names the tool in the file's header comment ("PagerDuty").
int WriteImportResult(const migration::ImportResult& result, const std::string& source,
                      const ImportOutputs& outputs);
// Adds -o/--output, --report and --report-json to an import command, filling `outputs`.
void AddImportOutputOptions(CLI::App& cmd, ImportOutputs& outputs);
// The API key of an import: `key` itself, or for "-" the value of the environment variable
// `env` (which keeps it off the command line). InvalidArgument when "-" and `env` is unset.
Result<std::string> ResolveApiKey(const std::string& key, const char* env);
// Adds --allow-egress CIDR (repeatable) to an import command that reads an API: the addresses
// its requests may reach although private or loopback (refused by default, as for the server's
// notifications).
void AddImportEgressOption(CLI::App& cmd, std::vector<std::string>& allow);
// The HTTP options of an import's API requests with that allowlist; InvalidArgument naming an
// entry that is not an address or address/prefix.
Result<migration::HttpGetOptions> ImportHttpOptions(const std::vector<std::string>& allow);
// Writes `text` to `path` ("-": standard output) through a temporary file renamed over it, with
// mode 0600. InvalidArgument when it cannot be created, Internal when writing fails.
Status WriteOutputFile(const std::string& path, const std::string& text);

// Opens the store named by --db (a SQLite path or a postgres:// URL).
using server::OpenStore;

// Prints `st` (message and detail lines) to stderr as "houston: ...".
void PrintError(const Status& st);

}  // namespace houston::cli
