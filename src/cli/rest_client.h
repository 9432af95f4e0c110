// What every subcommand that talks to a running server uses: the --server/--token/--cacert/
// --json flags, one REST call with libcurl, the server's error as a Status, and the common ways
// of printing an answer (a table, or the raw JSON with --json).
#pragma once

#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace houston::cli {

struct ClientFlags {
  std::string server;
  std::string token;
  std::string cacert;
  bool json = false;
};

// Adds --server (env HOUSTON_URL), --token (env HOUSTON_TOKEN), --cacert and --json to `cmd`.
void AddClientFlags(CLI::App* cmd, ClientFlags& f);

struct HttpResult {
  long code = 0;
  std::string body;
};

// One request to the server (Unavailable when it cannot be reached, with a hint).
Result<HttpResult> Call(const ClientFlags& f, const char* method, const std::string& path,
                        const std::string& body = "");
// Fetches `path` as JSON; on a non-2xx answer returns the server's error message and details.
// `raw`, when given, receives the body as sent.
Result<boost::json::value> Fetch(const ClientFlags& f, const char* method, const std::string& path,
                                 std::string* raw, const std::string& body = "");

// A member of a JSON object as people read it ("-" for null or absent).
std::string Str(const boost::json::value& v, std::string_view key);
// Prints a table for the terminal (long cells wrap, nothing is cut).
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);
// "?k=v&..." from the non-empty values, percent-encoded.
std::string Query(const std::vector<std::pair<std::string, std::string>>& params);
// The end of every client command: a failed call prints its error (exit 1); with --json the
// server's answer is printed as is; otherwise `print` shows it for people.
int Answer(const ClientFlags& f, const Result<boost::json::value>& v, const std::string& raw,
           const std::function<void(const boost::json::value&)>& print);

}  // namespace houston::cli
