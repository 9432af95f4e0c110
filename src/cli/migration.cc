// houston import pagerduty (the `import` command itself; `import opsgenie` is in
// import_opsgenie.cc) and houston export.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/commands.h"
#include "cli/internal.h"
#include "config/config.h"
#include "core/time_util.h"
#include "migration/migration.h"
#include "migration/pagerduty_import.h"
#include "store/postgres/postgres_store.h"

namespace houston::cli {
namespace {

// Exit codes (commands.h): bad input or usage 2, other failures 1.
int ExitCodeFor(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return 2;
    default:
      return 1;
  }
}

}  // namespace

Status WriteOutputFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout)) {
      return Internal("cannot write to standard output");
    }
    return OkStatus();
  }
  // A temporary file beside the target, renamed over it: readers never see half a file, and an
  // error leaves any earlier file as it was.
  std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return InvalidArgument(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string error = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Internal(fmt::format("cannot write {}: {}", path, error));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string error = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Internal(fmt::format("cannot write {}: {}", path, error));
  }
  return OkStatus();
}

int WriteImportResult(const migration::ImportResult& result, const std::string& source,
                      const ImportOutputs& outputs) {
  std::string yaml = fmt::format(
      "# Imported from {} by `houston import` at {}.\n"
      "# Read the import report, then: houston apply --dry-run -f {}\n"
      "# This file holds integration keys (the senders' secrets): keep it private.\n\n",
      source, FormatRfc3339(RealClock().Now()), outputs.out == "-" ? "FILE" : outputs.out);
  yaml += migration::WriteOrgYaml(result.org);
  // The importers promise an org that houston accepts; check before anything is written.
  if (auto org = config::ParseOrg(yaml, "imported org.yaml"); !org) {
    PrintError(
        Internal(fmt::format("the imported org does not validate (a bug in the {} "
                             "importer; nothing was written): {}",
                             source, org.error().message())));
    for (const auto& d : org.error().details()) std::fprintf(stderr, "  %s\n", d.c_str());
    return 1;
  }
  std::string report = migration::FormatReport(result);
  if (!outputs.report_json.empty()) {
    if (Status st = WriteOutputFile(outputs.report_json, migration::FormatReportJson(result));
        !st.ok()) {
      PrintError(st);
      return 1;
    }
  }
  if (!outputs.report.empty()) {
    if (Status st = WriteOutputFile(outputs.report, report); !st.ok()) {
      PrintError(st);
      return 1;
    }
  }
  if (Status st = WriteOutputFile(outputs.out, yaml); !st.ok()) {
    PrintError(st);
    return 1;
  }
  if (outputs.report.empty()) std::fprintf(stderr, "%s", report.c_str());
  std::fprintf(stderr,
               "wrote %s%s%s. Next: houston apply --dry-run -f %s, then houston apply -f %s\n",
               outputs.out == "-" ? "the org to standard output" : outputs.out.c_str(),
               outputs.report.empty() ? "" : " and the report to ", outputs.report.c_str(),
               outputs.out == "-" ? "FILE" : outputs.out.c_str(),
               outputs.out == "-" ? "FILE" : outputs.out.c_str());
  return 0;
}

namespace {

int ImportPagerDuty(const std::string& dir, const std::string& api_key, const std::string& api_url,
                    const std::vector<std::string>& allow_egress, const ImportOutputs& outputs) {
  if (dir.empty() == api_key.empty()) {
    PrintError(InvalidArgument("give either --dir (saved API answers) or --api-key (read live)"));
    return 2;
  }
  Result<std::string> resolved = ResolveApiKey(api_key, "PAGERDUTY_API_KEY");
  if (!resolved) {
    PrintError(resolved.error());
    return 2;
  }
  const std::string& key = *resolved;
  TimePoint now = RealClock().Now();
  migration::FetchJson fetch;
  if (!dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      PrintError(NotFound(fmt::format("--dir '{}' is not a directory", dir)));
      return 2;
    }
    fetch = migration::PagerDutyDirSource(dir);
  } else {
    Result<migration::HttpGetOptions> http = ImportHttpOptions(allow_egress);
    if (!http) {
      PrintError(http.error());
      return 2;
    }
    fetch = migration::PagerDutyApiSource(api_url, key, now, *http);
  }
  auto data = migration::LoadPagerDuty(fetch);
  if (!data) {
    PrintError(Status(data.error().code(),
                      fmt::format("cannot import from PagerDuty (nothing was written): {}",
                                  data.error().message()),
                      data.error().details()));
    return ExitCodeFor(data.error());
  }
  migration::ImportResult result = migration::MapPagerDuty(*data, now);
  return WriteImportResult(result, "PagerDuty", outputs);
}

// The org the database holds, as org.yaml: the parsed stored source written canonically (or,
// with `original`, the stored text itself), checked to flatten to the stored objects.
int Export(const std::string& db, const std::string& out, bool original) {
  if (!store::postgres::IsPostgresUrl(db)) {
    std::error_code ec;
    if (!std::filesystem::exists(db, ec)) {
      PrintError(NotFound(fmt::format("there is no database at '{}' (--db)", db)));
      return 2;
    }
  }
  auto store = OpenStore(db, false);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  auto snap = (*store)->LoadOrg();
  if (!snap) {
    PrintError(snap.error());
    return 1;
  }
  if (snap->source_yaml.empty()) {
    PrintError(FailedPrecondition(fmt::format(
        "the database '{}' holds no org yet: nothing to export (apply one with houston apply -f "
        "org.yaml --db {})",
        db, db)));
    return 1;
  }
  auto org = config::ParseOrg(snap->source_yaml, snap->source_name);
  if (!org) {
    PrintError(Status(org.error().code(),
                      fmt::format("the org stored in the database no longer validates: {}",
                                  org.error().message()),
                      org.error().details()));
    return 1;
  }
  std::string text;
  if (original) {
    text = snap->source_yaml;
  } else {
    text = fmt::format(
        "# Exported by `houston export` from {} at {}.\n"
        "# The org applied from {}{}.\n"
        "# This file holds secrets (integration keys, webhook secrets): keep it private.\n\n",
        db.starts_with("postgres") ? "a PostgreSQL database" : db, FormatRfc3339(RealClock().Now()),
        snap->source_name, snap->applied_at ? " at " + FormatRfc3339(*snap->applied_at) : "");
    text += migration::WriteOrgYaml(*org);
  }
  // Applying the export must change nothing: it describes exactly the stored objects.
  auto again = config::ParseOrg(text, "exported org.yaml");
  if (!again) {
    PrintError(
        Internal(fmt::format("the exported org does not read back (a bug; nothing was "
                             "written): {}",
                             again.error().message())));
    return 1;
  }
  std::vector<config::OrgObject> stored;
  for (const auto& o : snap->objects) stored.push_back({o.kind, o.id, o.spec_json});
  config::OrgDiff diff = config::Diff(stored, config::Flatten(*again));
  if (!diff.empty()) {
    std::fprintf(stderr,
                 "houston: warning: the stored objects differ from the stored org text (applied "
                 "by another houston version?); `houston apply` of this export would change:\n%s",
                 config::FormatDiff(diff).c_str());
  }
  if (Status st = WriteOutputFile(out, text); !st.ok()) {
    PrintError(st);
    return 1;
  }
  if (out != "-") {
    std::fprintf(stderr, "wrote %s: the org applied from %s (%zu objects)\n", out.c_str(),
                 snap->source_name.c_str(), snap->objects.size());
  }
  return 0;
}

}  // namespace

void AddImportOutputOptions(CLI::App& cmd, ImportOutputs& outputs) {
  cmd.add_option("-o,--output", outputs.out,
                 "where to write the org.yaml ('-': standard output); written with mode 0600, "
                 "it holds integration keys")
      ->required();
  cmd.add_option("--report", outputs.report,
                 "write the report to this file instead of standard error");
  cmd.add_option("--report-json", outputs.report_json,
                 "also write the report as JSON to this file (for scripts)");
}

void AddImportEgressOption(CLI::App& cmd, std::vector<std::string>& allow) {
  cmd.add_option("--allow-egress", allow,
                 "CIDR the API requests may reach although private or loopback (repeatable), "
                 "e.g. 127.0.0.1/32 for a local fake; by default such addresses are refused "
                 "(SSRF guard)");
}

Result<migration::HttpGetOptions> ImportHttpOptions(const std::vector<std::string>& allow) {
  migration::HttpGetOptions options;
  options.egress.allow_cidrs = allow;
  if (Status st = notify::ValidateEgressPolicy(options.egress); !st.ok()) {
    return std::unexpected(Status(st.code(), "--allow-egress: " + st.message(), st.details()));
  }
  return options;
}

Result<std::string> ResolveApiKey(const std::string& key, const char* env) {
  if (key != "-") return key;
  // Keeps the key out of the command line (ps, shell history).
  const char* value = std::getenv(env);
  if (value == nullptr || *value == '\0') {
    return std::unexpected(
        InvalidArgument(fmt::format("--api-key - reads the key from ${}, which is not set", env)));
  }
  return std::string(value);
}

void AddMigrationCommands(CLI::App& app, std::function<int()>* run) {
  CLI::App* import_cmd = app.add_subcommand(
      "import",
      "Import an org from Opsgenie or PagerDuty: writes an org.yaml for `houston apply` and a "
      "report of everything that could not be carried over exactly.");
  import_cmd->require_subcommand(1);
  AddImportOpsgenieCommand(*import_cmd, run);
  {
    auto dir = std::make_shared<std::string>();
    auto api_key = std::make_shared<std::string>();
    auto api_url = std::make_shared<std::string>("https://api.pagerduty.com");
    auto allow_egress = std::make_shared<std::vector<std::string>>();
    auto outputs = std::make_shared<ImportOutputs>();
    CLI::App* cmd = import_cmd->add_subcommand(
        "pagerduty",
        "Import users, teams, schedules, escalation policies and services from PagerDuty (REST "
        "API v2), from saved API answers (--dir) or live (--api-key). Writes org.yaml (-o) and "
        "prints the report. Nothing is applied: review, then `houston apply`. See "
        "docs/migrate-from-pagerduty.md.");
    cmd->add_option("--dir", *dir,
                    "directory of saved API answers: users.json, teams.json, schedules.json, "
                    "schedules/<ID>.json, schedules/<ID>/overrides.json, "
                    "escalation_policies.json, services.json (further pages <name>.2.json, ...)");
    cmd->add_option("--api-key", *api_key,
                    "a PagerDuty REST API key (read-only is enough) to read the account live; "
                    "'-' reads it from $PAGERDUTY_API_KEY");
    cmd->add_option("--api-url", *api_url, "PagerDuty REST API base URL")->capture_default_str();
    AddImportEgressOption(*cmd, *allow_egress);
    AddImportOutputOptions(*cmd, *outputs);
    cmd->callback([=] {
      *run = [=] { return ImportPagerDuty(*dir, *api_key, *api_url, *allow_egress, *outputs); };
    });
  }
  {
    auto db = std::make_shared<std::string>("var/houston.db");
    auto out = std::make_shared<std::string>();
    auto original = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        "export",
        "Write the org the database holds (the one last applied) as org.yaml: applying the file "
        "to the same database changes nothing. Written in canonical form (defaults left out, "
        "comments not kept); --original writes the applied text as it was.");
    cmd->add_option("--db", *db, kDbHelp)->capture_default_str();
    cmd->add_option("-o,--output", *out,
                    "where to write it ('-': standard output); written with mode 0600, it holds "
                    "secrets")
        ->required();
    cmd->add_flag("--original", *original,
                  "write the text last applied, comments and all, instead of the canonical form");
    cmd->callback([=] { *run = [=] { return Export(*db, *out, *original); }; });
  }
}

}  // namespace houston::cli
