#include "cli/rest_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/table.h"

namespace houston::cli {

namespace json = boost::json;

void AddClientFlags(CLI::App* cmd, ClientFlags& f) {
  const char* env_url = std::getenv("HOUSTON_URL");
  const char* env_token = std::getenv("HOUSTON_TOKEN");
  // `houston serve`'s default --listen; a server listening elsewhere is named by HOUSTON_URL.
  f.server = env_url && *env_url ? env_url : "http://127.0.0.1:8080";
  f.token = env_token ? env_token : "";
  cmd->add_option("--server", f.server, "houston URL (env HOUSTON_URL)")->capture_default_str();
  cmd->add_option("--token", f.token, "API token (env HOUSTON_TOKEN)");
  cmd->add_option("--cacert", f.cacert, "CA certificate to trust for an https --server");
  cmd->add_flag("--json", f.json, "print the server's JSON instead of a table");
}

namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

Result<HttpResult> Call(const ClientFlags& f, const char* method, const std::string& path,
                        const std::string& body) {
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
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!f.cacert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, f.cacert.c_str());
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else if (std::string(method) == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    std::string hint;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
      hint = std::getenv("HOUSTON_URL")
                 ? " (HOUSTON_URL names this address)"
                 : " (the default: if houston serve runs with another --listen, set "
                   "HOUSTON_URL=http://HOST:PORT or pass --server)";
    }
    return std::unexpected(Unavailable(
        fmt::format("cannot reach houston at {}: {}{}", f.server, curl_easy_strerror(rc), hint)));
  }
  return r;
}

// Fetches `path`; on a non-2xx answer returns the server's error message.
Result<json::value> Fetch(const ClientFlags& f, const char* method, const std::string& path,
                          std::string* raw, const std::string& body) {
  HOUSTON_ASSIGN_OR_RETURN(HttpResult r, Call(f, method, path, body));
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (r.code < 200 || r.code >= 300) {
    std::string msg = fmt::format("server answered HTTP {}", r.code);
    if (!ec && v.is_object() && v.as_object().contains("error")) {
      const auto& e = v.at("error");
      std::vector<std::string> details;
      std::string message;
      if (e.is_object() && e.as_object().contains("message") && e.at("message").is_string()) {
        message = std::string(e.at("message").as_string());
        msg += ": " + message;
      }
      if (e.is_object() && e.as_object().contains("details") && e.at("details").is_array()) {
        for (const auto& d : e.at("details").as_array()) {
          if (d.is_string() && std::string_view(d.as_string()) != message) {
            details.emplace_back(d.as_string());
          }
        }
      }
      StatusCode code = r.code == 401   ? StatusCode::kUnauthenticated
                        : r.code == 403 ? StatusCode::kPermissionDenied
                        : r.code == 404 ? StatusCode::kNotFound
                        : r.code == 400 ? StatusCode::kInvalidArgument
                                        : StatusCode::kFailedPrecondition;
      return std::unexpected(Status(code, msg, std::move(details)));
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
  // Boost.JSON writes doubles in exponent form (4.85E-1); people read 0.485.
  if (p->is_double()) return PlainNumber(p->as_double(), 3);
  return json::serialize(*p);
}

// Prints a table for the terminal (see FormatTable): long cells wrap, nothing is cut.
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::fputs(FormatTable(headers, rows, TableWidth()).c_str(), stdout);
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

// The end of every client command: a failed call prints its error (exit 1); with --json the
// server's answer is printed as is; otherwise `print` shows it for people.
int Answer(const ClientFlags& f, const Result<json::value>& v, const std::string& raw,
           const std::function<void(const json::value&)>& print) {
  if (!v) {
    PrintError(v.error());
    return 1;
  }
  if (f.json) {
    std::printf("%s\n", raw.c_str());
  } else {
    print(*v);
  }
  return 0;
}

}  // namespace houston::cli
