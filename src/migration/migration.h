// migration: moving a team's on-call setup into houston and out again.
//
// Importers read another tool's objects (Opsgenie, PagerDuty), either from files saved earlier
// (Opsgenie's own backup tool, PagerDuty REST API list answers) or live from that tool's REST
// API, and map them to a config::Org. Every object or field that cannot be carried over exactly
// is named in the report with the reason: nothing is dropped silently. The exporter writes a
// config::Org as org.yaml text that config::ParseOrg reads back to the same objects.
//
// The module does no I/O except reading the files / calling the API it is pointed at. Nothing
// here touches the store: the CLI writes the org.yaml and `houston apply` applies it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/status.h"

namespace houston::migration {

// One thing the import could not carry over exactly.
struct ReportEntry {
  enum class Kind {
    kDropped,     // not imported at all
    kChanged,     // imported, but its meaning differs (an approximation); `reason` says how
    kManualStep,  // imported; a person must still do something (e.g. set a password)
  };
  Kind kind = Kind::kDropped;
  std::string object;  // e.g. "schedule 'Ops_schedule' rotation 'nights'"
  std::string field;   // e.g. "timeRestriction"; empty: the whole object
  std::string reason;  // why, and what the user can do about it
};

// What an import produced: the org (valid: config::ParseOrg(WriteOrgYaml(org)) succeeds), the
// report, and counts per kind of object for the summary line.
struct ImportResult {
  config::Org org;
  std::vector<ReportEntry> report;
  std::map<std::string, int> counts;  // "users" -> 12, "schedules" -> 3, ...
};

// Where an importer reads the source tool's objects from. A document is one JSON text named by
// its logical path (e.g. "users", "schedules/<id>"); the directory source maps names to files,
// the API source to REST calls. Implementations say which names they answer.
// Errors: NotFound (no such document: a missing file names the path it looked for),
// InvalidArgument (a corrupt file: names the file and the JSON error), Unavailable (the API
// failed; names the URL and status).
using FetchJson = std::function<Result<std::string>(const std::string& url_or_path)>;

// Renders an org as org.yaml. Defaults are left out, ids are quoted when YAML would read them
// as something else, and the sections come in docs/config.md's order. Secrets are written as
// they are (the file is the configuration). Round trip: ParseOrg(WriteOrgYaml(o)) flattens to
// the same objects as `o`.
std::string WriteOrgYaml(const config::Org& org);

// The report as text for people, one line per entry grouped by kind, ending with the counts.
std::string FormatReport(const ImportResult& result);

// The report for programs: {"entries": [{"kind": "dropped"|"changed"|"manual_step", "object",
// "field", "reason"}...], "counts": {"users": 12, ...}}, entries in report order.
std::string FormatReportJson(const ImportResult& result);
// "dropped", "changed", "manual_step".
std::string_view ToString(ReportEntry::Kind kind);

}  // namespace houston::migration
