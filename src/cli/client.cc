// Subcommands that talk to a running server over its REST API: alert, incident.
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/internal.h"

namespace houston::cli {
namespace {

namespace json = boost::json;

struct ClientFlags {
  std::string server;
  std::string token;
  std::string cacert;
  bool json = false;
};

void AddClientFlags(CLI::App* cmd, ClientFlags& f) {
  const char* env_url = std::getenv("HOUSTON_URL");
  const char* env_token = std::getenv("HOUSTON_TOKEN");
  f.server = env_url ? env_url : "http://127.0.0.1:8080";
  f.token = env_token ? env_token : "";
  cmd->add_option("--server", f.server, "houston URL (env HOUSTON_URL)")->capture_default_str();
  cmd->add_option("--token", f.token, "API token (env HOUSTON_TOKEN)");
  cmd->add_option("--cacert", f.cacert, "CA certificate to trust for an https --server");
  cmd->add_flag("--json", f.json, "print the server's JSON instead of a table");
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct HttpResult {
  long code = 0;
  std::string body;
};

Result<HttpResult> Call(const ClientFlags& f, const char* method, const std::string& path) {
  if (f.token.empty()) {
    return std::unexpected(InvalidArgument(
        "no API token: pass --token or set HOUSTON_TOKEN (create one with 'houston token "
        "create --role responder --name me')"));
  }
  CURL* curl = curl_easy_init();
  if (!curl) return std::unexpected(Internal("curl_easy_init failed"));
  std::string url = f.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  HttpResult r;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Authorization: Bearer " + f.token).c_str());
  headers = curl_slist_append(headers, "X-Houston-Client: cli");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!f.cacert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, f.cacert.c_str());
  if (std::string(method) == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return std::unexpected(Unavailable(
        fmt::format("cannot reach houston at {}: {}", f.server, curl_easy_strerror(rc))));
  }
  return r;
}

// Fetches `path`; on a non-2xx answer returns the server's error message.
Result<json::value> Fetch(const ClientFlags& f, const char* method, const std::string& path,
                          std::string* raw) {
  HOUSTON_ASSIGN_OR_RETURN(HttpResult r, Call(f, method, path));
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (r.code < 200 || r.code >= 300) {
    std::string msg = fmt::format("server answered HTTP {}", r.code);
    if (!ec && v.is_object() && v.as_object().contains("error")) {
      const auto& e = v.at("error");
      if (e.is_object() && e.as_object().contains("message") && e.at("message").is_string()) {
        msg += ": " + std::string(e.at("message").as_string());
      }
    }
    return std::unexpected(Status(r.code == 401   ? StatusCode::kUnauthenticated
                                  : r.code == 403 ? StatusCode::kPermissionDenied
                                  : r.code == 404 ? StatusCode::kNotFound
                                                  : StatusCode::kFailedPrecondition,
                                  msg));
  }
  if (ec) return std::unexpected(Internal("the server's answer is not JSON: " + ec.message()));
  if (raw) *raw = r.body;
  return v;
}

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return "";
  auto* p = v.as_object().if_contains(key);
  if (!p || p->is_null()) return "-";
  if (p->is_string()) return std::string(p->as_string());
  return json::serialize(*p);
}

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c)
      width[c] = std::max(width[c], std::min<size_t>(r[c].size(), 60));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      std::string cell = cells[c].size() > 60 ? cells[c].substr(0, 57) + "..." : cells[c];
      out += cell;
      if (c + 1 < cells.size()) out += std::string(width[c] - cell.size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  };
  line(headers);
  for (const auto& r : rows) line(r);
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    char* esc = curl_easy_escape(nullptr, v.c_str(), static_cast<int>(v.size()));
    q += (q.empty() ? "?" : "&") + k + "=" + esc;
    curl_free(esc);
  }
  return q;
}

struct ListFlags {
  std::string status, service, since;
  int limit = 50;
};

int ListAlerts(const ClientFlags& f, const ListFlags& l) {
  std::string raw;
  auto v = Fetch(f, "GET",
                 "/api/v1/alerts" + Query({{"status", l.status},
                                           {"service", l.service},
                                           {"since", l.since},
                                           {"limit", std::to_string(l.limit)}}),
                 &raw);
  if (!v) {
    PrintError(v.error());
    return 1;
  }
  if (f.json) {
    std::printf("%s\n", raw.c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : v->at("alerts").as_array()) {
    rows.push_back({Str(a, "id"), Str(a, "status"), Str(a, "severity"), Str(a, "service"),
                    Str(a, "event_count"), Str(a, "created_at"), Str(a, "summary")});
  }
  PrintTable({"ID", "STATUS", "SEVERITY", "SERVICE", "EVENTS", "CREATED", "SUMMARY"}, rows);
  return 0;
}

int AlertAction(const ClientFlags& f, const std::string& id, bool ack) {
  std::string raw;
  auto v = Fetch(f, "POST",
                 fmt::format("/api/v1/alerts/{}/{}", id, ack ? "acknowledge" : "resolve"), &raw);
  if (!v) {
    PrintError(v.error());
    return 1;
  }
  if (f.json) {
    std::printf("%s\n", raw.c_str());
  } else {
    const auto& a = v->at("alert");
    std::printf("alert %s is %s (incident %s)\n", Str(a, "id").c_str(), Str(a, "status").c_str(),
                Str(a, "incident_id").c_str());
  }
  return 0;
}

int ListIncidents(const ClientFlags& f, const ListFlags& l) {
  std::string raw;
  auto v = Fetch(f, "GET",
                 "/api/v1/incidents" + Query({{"status", l.status},
                                              {"service", l.service},
                                              {"since", l.since},
                                              {"limit", std::to_string(l.limit)}}),
                 &raw);
  if (!v) {
    PrintError(v.error());
    return 1;
  }
  if (f.json) {
    std::printf("%s\n", raw.c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : v->at("incidents").as_array()) {
    rows.push_back({Str(i, "id"), Str(i, "status"), Str(i, "severity"), Str(i, "service"),
                    Str(i, "alert_count"), Str(i, "created_at"), Str(i, "title")});
  }
  PrintTable({"ID", "STATUS", "SEVERITY", "SERVICE", "ALERTS", "CREATED", "TITLE"}, rows);
  return 0;
}

int IncidentAction(const ClientFlags& f, const std::string& id, bool ack) {
  std::string raw;
  auto v = Fetch(f, "POST",
                 fmt::format("/api/v1/incidents/{}/{}", id, ack ? "acknowledge" : "resolve"), &raw);
  if (!v) {
    PrintError(v.error());
    return 1;
  }
  if (f.json) {
    std::printf("%s\n", raw.c_str());
  } else {
    const auto& i = v->at("incident");
    std::printf("incident %s is %s: %s\n", Str(i, "id").c_str(), Str(i, "status").c_str(),
                Str(i, "title").c_str());
  }
  return 0;
}

struct OnCallFlags {
  std::string schedule, at, until;
};

int OnCall(const ClientFlags& f, const OnCallFlags& o) {
  std::string raw;
  if (!o.until.empty()) {
    auto v = Fetch(f, "GET",
                   fmt::format("/api/v1/schedules/{}/shifts", o.schedule) +
                       Query({{"from", o.at}, {"to", o.until}}),
                   &raw);
    if (!v) {
      PrintError(v.error());
      return 1;
    }
    if (f.json) {
      std::printf("%s\n", raw.c_str());
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : v->at("shifts").as_array()) {
      rows.push_back({Str(s, "start"), Str(s, "end"), Str(s, "user")});
    }
    for (const auto& g : v->at("gaps").as_array()) {
      rows.push_back({Str(g, "start"), Str(g, "end"), "(nobody: GAP)"});
    }
    std::sort(rows.begin(), rows.end());
    PrintTable({"FROM", "UNTIL", "ON CALL"}, rows);
    if (!v->at("gaps").as_array().empty()) {
      std::fprintf(stderr, "warning: nobody is on call during %zu gap(s)\n",
                   v->at("gaps").as_array().size());
    }
    return 0;
  }
  auto v =
      Fetch(f, "GET",
            fmt::format("/api/v1/schedules/{}/oncall", o.schedule) + Query({{"at", o.at}}), &raw);
  if (!v) {
    PrintError(v.error());
    return 1;
  }
  if (f.json) {
    std::printf("%s\n", raw.c_str());
    return 0;
  }
  const auto& users = v->at("users").as_array();
  std::string names;
  for (const auto& u : users) names += (names.empty() ? "" : ", ") + std::string(u.as_string());
  std::printf("%s at %s: %s\n", o.schedule.c_str(), Str(*v, "at").c_str(),
              users.empty() ? "nobody is on call" : names.c_str());
  return 0;
}

void AddListFlags(CLI::App* cmd, ListFlags& l) {
  cmd->add_option("--status", l.status, "triggered, acknowledged or resolved");
  cmd->add_option("--service", l.service, "only this service id");
  cmd->add_option("--since", l.since, "only those created at or after this RFC 3339 time");
  cmd->add_option("--limit", l.limit, "at most this many (1..1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
}

}  // namespace

void AddClientCommands(CLI::App& app, std::function<int()>* run) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  {
    auto* alert =
        app.add_subcommand("alert", "List, acknowledge and resolve alerts (via the API).");
    alert->require_subcommand(1);
    auto cf = std::make_shared<ClientFlags>();
    auto lf = std::make_shared<ListFlags>();
    auto* list = alert->add_subcommand("list", "List alerts, newest first.");
    AddClientFlags(list, *cf);
    AddListFlags(list, *lf);
    list->callback([=] { *run = [=] { return ListAlerts(*cf, *lf); }; });
    for (bool ack : {true, false}) {
      auto flags = std::make_shared<ClientFlags>();
      auto id = std::make_shared<std::string>();
      auto* cmd = alert->add_subcommand(ack ? "ack" : "resolve",
                                        ack ? "Acknowledge an alert." : "Resolve an alert.");
      cmd->add_option("ID", *id, "alert id")->required();
      AddClientFlags(cmd, *flags);
      cmd->callback([=] { *run = [=] { return AlertAction(*flags, *id, ack); }; });
    }
  }
  {
    auto* incident =
        app.add_subcommand("incident", "List, acknowledge and resolve incidents (via the API).");
    incident->require_subcommand(1);
    auto cf = std::make_shared<ClientFlags>();
    auto lf = std::make_shared<ListFlags>();
    auto* list = incident->add_subcommand("list", "List incidents, newest first.");
    AddClientFlags(list, *cf);
    AddListFlags(list, *lf);
    list->callback([=] { *run = [=] { return ListIncidents(*cf, *lf); }; });
    for (bool ack : {true, false}) {
      auto flags = std::make_shared<ClientFlags>();
      auto id = std::make_shared<std::string>();
      auto* cmd = incident->add_subcommand(
          ack ? "ack" : "resolve",
          ack ? "Acknowledge an incident (stops paging)." : "Resolve an incident.");
      cmd->add_option("ID", *id, "incident id")->required();
      AddClientFlags(cmd, *flags);
      cmd->callback([=] { *run = [=] { return IncidentAction(*flags, *id, ack); }; });
    }
  }
  {
    auto cf = std::make_shared<ClientFlags>();
    auto of = std::make_shared<OnCallFlags>();
    auto* cmd = app.add_subcommand(
        "oncall", "Who is on call for a schedule now (or --at), or the shifts until --until.");
    cmd->add_option("--schedule", of->schedule, "schedule id")->required();
    cmd->add_option("--at", of->at, "RFC 3339 instant (default: now); with --until, the start");
    cmd->add_option("--until", of->until, "RFC 3339 instant: list the shifts and gaps up to it");
    AddClientFlags(cmd, *cf);
    cmd->callback([=] { *run = [=] { return OnCall(*cf, *of); }; });
  }
}

}  // namespace houston::cli
