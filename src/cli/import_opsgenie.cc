// houston import opsgenie: an Opsgenie account (a backup folder, or the REST API) as org.yaml.
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "migration/migration.h"
#include "migration/opsgenie.h"

namespace houston::cli {
namespace {

int ImportOpsgenie(const std::string& dir, const std::string& api_key, const std::string& api_url,
                   const std::vector<std::string>& allow_egress, const ImportOutputs& outputs) {
  if (dir.empty() == api_key.empty()) {
    PrintError(InvalidArgument(
        "give either --dir (a backup made by Opsgenie's backup tool) or --api-key (read live)"));
    return 2;
  }
  Result<migration::HttpGetOptions> http = ImportHttpOptions(allow_egress);
  if (!http) {
    PrintError(http.error());
    return 2;
  }
  Result<migration::OpsgenieData> data =
      dir.empty() ? migration::LoadOpsgenieApi(migration::OpsgenieHttpGet(api_key, *http), api_url)
                  : migration::LoadOpsgenieBackup(dir);
  Result<migration::ImportResult> result =
      data ? migration::MapOpsgenie(*data) : std::unexpected(data.error());
  if (!result) {
    const Status& st = result.error();
    PrintError(
        Status(st.code(),
               fmt::format("cannot import from Opsgenie (nothing was written): {}", st.message()),
               st.details()));
    switch (st.code()) {
      case StatusCode::kInvalidArgument:
      case StatusCode::kNotFound:
        return 2;
      default:
        return 1;
    }
  }
  return WriteImportResult(*result, "Opsgenie", outputs);
}

}  // namespace

void AddImportOpsgenieCommand(CLI::App& import_cmd, std::function<int()>* run) {
  auto dir = std::make_shared<std::string>();
  auto api_key = std::make_shared<std::string>();
  auto api_url = std::make_shared<std::string>("https://api.opsgenie.com");
  auto allow_egress = std::make_shared<std::vector<std::string>>();
  auto outputs = std::make_shared<ImportOutputs>();
  CLI::App* cmd = import_cmd.add_subcommand(
      "opsgenie",
      "Import users, teams, schedules (with overrides), escalations, integrations and heartbeats "
      "from Opsgenie: from a backup made by Opsgenie's backup tool (--dir) or live from its REST "
      "API (--api-key). Writes org.yaml (-o) and prints the report of everything that could not "
      "be carried over exactly. Nothing is applied: review, then `houston apply`. See "
      "docs/import-opsgenie.md.");
  cmd->add_option("--dir", *dir,
                  "the OpsGenieBackups folder written by opsgenie-configuration-backup (or the "
                  "folder containing it): users/, teams/, schedules/, escalations/, "
                  "integrations/, and optionally scheduleOverrides/, heartbeats/, notifications/");
  cmd->add_option("--api-key", *api_key,
                  "the key of an Opsgenie API integration with read and configuration access, to "
                  "read the account live; '-': take it from $OPSGENIE_API_KEY");
  cmd->add_option("--api-url", *api_url,
                  "Opsgenie REST API base URL (EU accounts: https://api.eu.opsgenie.com)")
      ->capture_default_str();
  AddImportEgressOption(*cmd, *allow_egress);
  AddImportOutputOptions(*cmd, *outputs);
  cmd->callback([=] {
    *run = [=] {
      Result<std::string> key = ResolveApiKey(*api_key, "OPSGENIE_API_KEY");
      if (!key) {
        PrintError(key.error());
        return 2;
      }
      return ImportOpsgenie(*dir, *key, *api_url, *allow_egress, *outputs);
    };
  });
}

}  // namespace houston::cli
