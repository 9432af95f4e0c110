// Subcommands that read the learning domain's analytics from a running server over its REST API:
//   houston analytics incidents|oncall-load|noise   (GET /api/v1/analytics/...)
//   houston report weekly                           (GET /api/v1/analytics/weekly)
//   houston record USER                             (GET /api/v1/users/USER/record, Markdown)
// Tables for people (--format text), the server's JSON (--format json), or CSV (--format csv).
#include <curl/curl.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "cli/commands.h"
#include "cli/internal.h"
#include "cli/rest_client.h"
#include "cli/table.h"

namespace houston::cli {
namespace {

namespace json = boost::json;

struct ReportFlags {
  std::string server;
  std::string token;
  std::string cacert;
  std::string format = "text";
};

void AddReportFlags(CLI::App* cmd, ReportFlags& f, bool formats = true) {
  const char* env_url = std::getenv("HOUSTON_URL");
  const char* env_token = std::getenv("HOUSTON_TOKEN");
  f.server = env_url && *env_url ? env_url : "http://127.0.0.1:8080";
  f.token = env_token ? env_token : "";
  cmd->add_option("--server", f.server, "houston URL (env HOUSTON_URL)")->capture_default_str();
  cmd->add_option("--token", f.token, "API token, viewer or more (env HOUSTON_TOKEN)");
  cmd->add_option("--cacert", f.cacert, "CA certificate to trust for an https --server");
  if (formats) {
    cmd->add_option("--format", f.format, "text (tables), json (the server's answer) or csv")
        ->check(CLI::IsMember({"text", "json", "csv"}))
        ->capture_default_str();
  }
}

// GETs `path`; the body of a 2xx answer, else the server's error (its message and details).
Result<std::string> Get(const ReportFlags& f, const std::string& path) {
  ClientFlags client{f.server, f.token, f.cacert, false};
  std::string raw;
  auto v = Fetch(client, "GET", path, &raw);
  if (!v) return std::unexpected(v.error());
  return raw;
}

// A number or string field for people ("-" when absent or null).
std::string Cell(const json::value& v, std::string_view key) {
  const auto* p = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  if (!p || p->is_null()) return "-";
  if (p->is_string()) return std::string(p->as_string());
  if (p->is_double()) return PlainNumber(p->as_double(), 2);
  return json::serialize(*p);
}

// Seconds for people: "45s", "12m 5s", "3h 20m", "2d 4h"; "-" for null. CSV keeps seconds.
std::string Duration(const json::value& stats, std::string_view key, bool csv) {
  const auto* p = stats.is_object() ? stats.as_object().if_contains(key) : nullptr;
  if (!p || p->is_null()) return csv ? "" : "-";
  double s = p->is_double() ? p->as_double() : static_cast<double>(p->to_number<int64_t>());
  if (csv) return PlainNumber(s, 3);
  auto v = static_cast<int64_t>(s + 0.5);
  if (v < 60) return fmt::format("{}s", v);
  if (v < 3600) return fmt::format("{}m {}s", v / 60, v % 60);
  if (v < 86400) return fmt::format("{}h {}m", v / 3600, v % 3600 / 60);
  return fmt::format("{}d {}h", v / 86400, v % 86400 / 3600);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void PrintRows(const ReportFlags& f, const std::vector<std::string>& headers,
               const std::vector<std::vector<std::string>>& rows) {
  if (f.format == "csv") {
    std::string out;
    for (size_t i = 0; i < headers.size(); ++i) out += (i ? "," : "") + CsvField(headers[i]);
    out += '\n';
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) out += (i ? "," : "") + CsvField(r[i]);
      out += '\n';
    }
    std::fputs(out.c_str(), stdout);
    return;
  }
  std::fputs(FormatTable(headers, rows, TableWidth()).c_str(), stdout);
}

// Fetches and prints: JSON as is, else `print` renders it.
int Run(const ReportFlags& f, const std::string& path,
        const std::function<void(const json::value&)>& print) {
  auto body = Get(f, path);
  if (!body) {
    PrintError(body.error());
    return body.error().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (f.format == "json") {
    std::printf("%s\n", body->c_str());
    return 0;
  }
  boost::system::error_code ec;
  json::value v = json::parse(*body, ec);
  if (ec) {
    PrintError(Internal("the server's answer is not JSON: " + ec.message()));
    return 1;
  }
  print(v);
  return 0;
}

struct AnalyticsOptions {
  ReportFlags flags;
  std::string from, to, tz, group_by, interval, team, window;
};

void AddAnalyticsCommands(CLI::App& app, std::function<int()>* run) {
  auto* analytics = app.add_subcommand(
      "analytics", "Incident response times, on-call load and alert noise (docs/analytics.md)");
  analytics->require_subcommand(1);
  auto o = std::make_shared<AnalyticsOptions>();
  auto range = [o](CLI::App* cmd) {
    cmd->add_option("--from", o->from, "start: RFC 3339 or YYYY-MM-DD (default: 30 days ago)");
    cmd->add_option("--to", o->to, "end, exclusive: RFC 3339 or YYYY-MM-DD (default: now)");
    cmd->add_option("--tz", o->tz, "time zone of dates and buckets (default UTC)");
  };

  auto* incidents = analytics->add_subcommand(
      "incidents", "Incidents per group and interval: count, time to acknowledge/mitigate/resolve");
  range(incidents);
  incidents->add_option("--group-by", o->group_by, "service (default), team or severity")
      ->check(CLI::IsMember({"service", "team", "severity"}));
  incidents->add_option("--interval", o->interval, "day, week or month (default: the whole range)")
      ->check(CLI::IsMember({"day", "week", "month"}));
  incidents->add_option("--team", o->team, "only the services this team owns");
  AddReportFlags(incidents, o->flags);
  incidents->callback([o, run] {
    *run = [o] {
      bool csv = o->flags.format == "csv";
      return Run(o->flags,
                 "/api/v1/analytics/incidents" + Query({{"from", o->from},
                                                        {"to", o->to},
                                                        {"tz", o->tz},
                                                        {"group_by", o->group_by},
                                                        {"interval", o->interval},
                                                        {"team", o->team}}),
                 [&](const json::value& v) {
                   std::vector<std::vector<std::string>> rows;
                   for (const auto& b : v.at("buckets").as_array()) {
                     for (const auto& g : b.at("groups").as_array()) {
                       rows.push_back(
                           {Cell(b, "label"), Cell(g, "group"), Cell(g, "count"),
                            Duration(g.at("tta"), "p50", csv), Duration(g.at("tta"), "p90", csv),
                            Duration(g.at("ttm"), "p50", csv), Duration(g.at("ttr"), "p50", csv),
                            Duration(g.at("ttr"), "p90", csv), Duration(g.at("ttr"), "mean", csv)});
                     }
                   }
                   PrintRows(
                       o->flags,
                       {"BUCKET", Cell(v, "group_by") == "severity" ? "SEV" : "GROUP", "COUNT",
                        "TTA P50", "TTA P90", "TTM P50", "TTR P50", "TTR P90", "TTR MEAN"},
                       rows);
                 });
    };
  });

  auto* load = analytics->add_subcommand(
      "oncall-load", "Per person: pages, out of hours and at night, hours on call, incidents");
  range(load);
  load->add_option("--team", o->team, "only this team's members");
  AddReportFlags(load, o->flags);
  load->callback([o, run] {
    *run = [o] {
      return Run(o->flags,
                 "/api/v1/analytics/oncall-load" +
                     Query({{"from", o->from}, {"to", o->to}, {"tz", o->tz}, {"team", o->team}}),
                 [&](const json::value& v) {
                   std::vector<std::vector<std::string>> rows;
                   for (const auto& p : v.at("people").as_array()) {
                     rows.push_back({Cell(p, "user"), Cell(p, "pages"), Cell(p, "out_of_hours"),
                                     Cell(p, "night"), Cell(p, "hours_on_call"),
                                     Cell(p, "incidents_handled"), Cell(p, "timezone")});
                   }
                   PrintRows(o->flags,
                             {"USER", "PAGES", "OUT OF HOURS", "NIGHT", "HOURS ON CALL",
                              "INCIDENTS", "TIME ZONE"},
                             rows);
                   if (o->flags.format == "text") {
                     const auto& s = v.at("spread");
                     std::printf(
                         "\nPages per person: min %s, max %s (%s, %s%% of all), mean %s, "
                         "stddev %s\n",
                         Cell(s, "min").c_str(), Cell(s, "max").c_str(), Cell(s, "busiest").c_str(),
                         PlainNumber(s.at("busiest_share").to_number<double>() * 100, 0).c_str(),
                         Cell(s, "mean").c_str(), Cell(s, "stddev").c_str());
                   }
                 });
    };
  });

  auto* noise = analytics->add_subcommand(
      "noise", "Alerts per incident, never acknowledged, flapping, the noisiest sources");
  range(noise);
  noise->add_option(
      "--window", o->window,
      "minutes after a resolution within which a re-trigger is a flap (1 to 1440, default "
      "60)");
  AddReportFlags(noise, o->flags);
  noise->callback([o, run] {
    *run = [o] {
      return Run(
          o->flags,
          "/api/v1/analytics/noise" +
              Query({{"from", o->from}, {"to", o->to}, {"tz", o->tz}, {"window", o->window}}),
          [&](const json::value& v) {
            const auto& api = v.at("alerts_per_incident");
            std::vector<std::vector<std::string>> rows{
                {"incidents", Cell(v, "incidents")},
                {"alerts", Cell(v, "alerts")},
                {"alerts per incident (mean / p50 / p90)",
                 Cell(api, "mean") + " / " + Cell(api, "p50") + " / " + Cell(api, "p90")},
                {"never acknowledged", Cell(v, "never_acknowledged")},
                {"still open", Cell(v, "open")},
                {"flaps (window " + Cell(v, "window_minutes") + " min)", Cell(v, "flaps")},
                {"flapping keys", Cell(v, "flapping_keys")}};
            for (const auto& s : v.at("top_sources").as_array()) {
              rows.push_back({"source " + Cell(s, "source"), Cell(s, "alerts")});
            }
            for (const auto& s : v.at("top_integrations").as_array()) {
              rows.push_back({"integration " + Cell(s, "integration"), Cell(s, "alerts")});
            }
            for (const auto& s : v.at("top_flapping").as_array()) {
              rows.push_back({"flapping " + Cell(s, "integration") + " " + Cell(s, "dedup_key"),
                              Cell(s, "flaps")});
            }
            PrintRows(o->flags, {"WHAT", "VALUE"}, rows);
          });
    };
  });
}

struct WeeklyOptions {
  ReportFlags flags;
  std::string team, week, tz;
};

void PrintWeekly(const WeeklyOptions& o, const json::value& v) {
  const bool csv = o.flags.format == "csv";
  if (csv) {
    // One table: section, item, value (what a spreadsheet takes).
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : v.at("incidents_by_severity").as_array()) {
      rows.push_back({"incidents", Cell(s, "sev"), Cell(s, "count")});
    }
    for (const auto& s : v.at("slowest_acknowledge").as_array()) {
      rows.push_back({"slowest_acknowledge", "#" + Cell(s, "id") + " " + Cell(s, "title"),
                      Cell(s, "seconds")});
    }
    for (const auto& s : v.at("slowest_resolve").as_array()) {
      rows.push_back(
          {"slowest_resolve", "#" + Cell(s, "id") + " " + Cell(s, "title"), Cell(s, "seconds")});
    }
    for (const auto& a : v.at("overdue_action_items").at("items").as_array()) {
      rows.push_back({"overdue_action_item", Cell(a, "title") + " (" + Cell(a, "owner") + ")",
                      Cell(a, "due")});
    }
    for (const auto& p : v.at("overdue_postmortems").at("items").as_array()) {
      rows.push_back({"overdue_postmortem", "#" + Cell(p, "incident") + " " + Cell(p, "title"),
                      Cell(p, "due_at")});
    }
    for (const auto& n : v.at("night_pages").as_array()) {
      rows.push_back({"night_pages", Cell(n, "user"), Cell(n, "night")});
    }
    PrintRows(o.flags, {"section", "item", "value"}, rows);
    return;
  }
  std::printf("Week of %s (%s)%s\n\n", Cell(v, "week").c_str(), Cell(v, "tz").c_str(),
              v.at("team").is_null() ? "" : (", team " + Cell(v, "team")).c_str());
  std::printf("Incidents by severity\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : v.at("incidents_by_severity").as_array()) {
    rows.push_back({Cell(s, "sev"), Cell(s, "count"), Duration(s.at("tta"), "p50", false),
                    Duration(s.at("ttr"), "p50", false), Duration(s.at("ttr"), "p90", false)});
  }
  PrintRows(o.flags, {"SEV", "COUNT", "TTA P50", "TTR P50", "TTR P90"}, rows);
  auto slow = [&](const char* title, const char* key) {
    std::printf("\n%s\n", title);
    std::vector<std::vector<std::string>> r;
    for (const auto& s : v.at(key).as_array()) {
      json::object secs{{"s", s.at("seconds")}};
      r.push_back({"#" + Cell(s, "id"), Cell(s, "sev"), Cell(s, "service"),
                   Duration(secs, "s", false), Cell(s, "title")});
    }
    PrintRows(o.flags, {"INCIDENT", "SEV", "SERVICE", "TOOK", "TITLE"}, r);
  };
  slow("Slowest to acknowledge", "slowest_acknowledge");
  slow("Slowest to resolve", "slowest_resolve");
  std::printf("\nOverdue action items: %s\n", Cell(v.at("overdue_action_items"), "total").c_str());
  rows.clear();
  for (const auto& a : v.at("overdue_action_items").at("items").as_array()) {
    rows.push_back({Cell(a, "id"), "#" + Cell(a, "incident"), Cell(a, "owner"), Cell(a, "due"),
                    Cell(a, "status"), Cell(a, "title")});
  }
  if (!rows.empty())
    PrintRows(o.flags, {"ID", "INCIDENT", "OWNER", "DUE", "STATUS", "TITLE"}, rows);
  std::printf("\nPostmortems past due: %s\n", Cell(v.at("overdue_postmortems"), "total").c_str());
  rows.clear();
  for (const auto& p : v.at("overdue_postmortems").at("items").as_array()) {
    rows.push_back({"#" + Cell(p, "incident"), Cell(p, "owner"), Cell(p, "status"),
                    Cell(p, "due_at"), Cell(p, "title")});
  }
  if (!rows.empty()) PrintRows(o.flags, {"INCIDENT", "OWNER", "STATUS", "DUE", "TITLE"}, rows);
  std::printf("\nNight pages (22:00-07:00 in each person's time zone)\n");
  rows.clear();
  for (const auto& n : v.at("night_pages").as_array()) {
    rows.push_back({Cell(n, "user"), Cell(n, "night"), Cell(n, "pages"), Cell(n, "timezone")});
  }
  if (rows.empty()) {
    std::printf("none\n");
  } else {
    PrintRows(o.flags, {"USER", "NIGHT", "ALL PAGES", "TIME ZONE"}, rows);
  }
}

void AddWeeklyCommand(CLI::App& app, std::function<int()>* run) {
  auto* report = app.add_subcommand("report", "Reports for people (the week on Monday)");
  report->require_subcommand(1);
  auto o = std::make_shared<WeeklyOptions>();
  auto* weekly = report->add_subcommand(
      "weekly",
      "The week as a head of SRE reads it: incidents by severity, slowest responses, overdue "
      "action items and postmortems, night pages per person");
  weekly->add_option("--team", o->team, "only this team's services and members");
  weekly->add_option("--week", o->week,
                     "any day (YYYY-MM-DD) of the ISO week (default: the last full week)");
  weekly->add_option("--tz", o->tz, "time zone the week runs in (default UTC)");
  AddReportFlags(weekly, o->flags);
  weekly->callback([o, run] {
    *run = [o] {
      return Run(
          o->flags,
          "/api/v1/analytics/weekly" + Query({{"team", o->team}, {"week", o->week}, {"tz", o->tz}}),
          [&](const json::value& v) { PrintWeekly(*o, v); });
    };
  });
}

struct RecordOptions {
  ReportFlags flags;
  std::string user, from, to, tz;
  bool json = false;
};

void AddRecordCommand(CLI::App& app, std::function<int()>* run) {
  auto o = std::make_shared<RecordOptions>();
  auto* record = app.add_subcommand(
      "record",
      "A responder's record as Markdown: incidents handled, roles, pages answered, postmortems "
      "written, action items closed");
  record->add_option("USER", o->user, "user id")->required();
  record->add_option("--from", o->from, "start: RFC 3339 or YYYY-MM-DD (default: 30 days ago)");
  record->add_option("--to", o->to, "end, exclusive (default: now)");
  record->add_option("--tz", o->tz, "time zone of the dates (default UTC)");
  record->add_flag("--json", o->json, "print the server's JSON instead of Markdown");
  AddReportFlags(record, o->flags, /*formats=*/false);
  record->callback([o, run] {
    *run = [o] {
      if (o->json) o->flags.format = "json";
      char* user = curl_easy_escape(nullptr, o->user.c_str(), static_cast<int>(o->user.size()));
      std::string path = fmt::format("/api/v1/users/{}/record", user) +
                         Query({{"from", o->from}, {"to", o->to}, {"tz", o->tz}});
      curl_free(user);
      return Run(o->flags, path, [&](const json::value& v) {
        const auto& pa = v.at("pages_answered");
        std::string roles;
        for (const auto& [role, n] : v.at("roles").as_object()) {
          roles += fmt::format("  - {}: {}\n", std::string_view(role), json::serialize(n));
        }
        std::string md = fmt::format(
            "# Responder record: {}\n\n{} to {}\n\n"
            "- Incidents handled: {}\n"
            "- Roles held:\n{}"
            "- Responder on: {} incidents\n"
            "- Pages received: {}\n"
            "- Pages answered: {} (time to acknowledge: mean {}, p50 {})\n"
            "- Postmortems written (published): {}\n"
            "- Action items closed: {}\n",
            Cell(v, "user"), Cell(v, "from"), Cell(v, "to"), Cell(v, "incidents_handled"),
            roles.empty() ? "  - none\n" : roles, Cell(v, "responder_on"),
            Cell(v, "pages_received"), Cell(pa, "n"), Duration(pa, "mean", false),
            Duration(pa, "p50", false), Cell(v, "postmortems_published"),
            Cell(v, "action_items_closed"));
        std::fputs(md.c_str(), stdout);
      });
    };
  });
}

}  // namespace

void AddLearningReportCommands(CLI::App& app, std::function<int()>* run) {
  AddAnalyticsCommands(app, run);
  AddWeeklyCommand(app, run);
  AddRecordCommand(app, run);
}

}  // namespace houston::cli
