// Fuzz target: HTTP/1.1 requests as the server reads them from a connection: the raw head scan,
// Beast's parser under the server's limits, houston's own checks (http/internal/request_checks:
// header count, one body framing, Host, path spelling), routing with percent-decoded path
// parameters, and query-string lookups. Up to four pipelined requests per input, in the order
// and with the limits of server.cc (Session::ScanHead, OnHeader, ReadBody); keep the two in step.
#include <boost/beast/http.hpp>

#include "fuzz/fuzz_util.h"
#include "http/http.h"
#include "http/internal/request_checks.h"

namespace {

using namespace houston;
namespace bhttp = boost::beast::http;

constexpr size_t kMaxHeaderBytes = 8 * 1024;  // ServerOptions' defaults
constexpr size_t kMaxHeaderFields = 100;
constexpr size_t kMaxBodyBytes = 64 * 1024;

// Routes shaped like the server's: fixed, {param} and {name*} segments, several methods.
http::Router MakeRouter() {
  http::Router r;
  http::Handler none = [](const http::HttpRequest&, http::Responder) {};
  r.Add(bhttp::verb::post, "/v2/enqueue", none, {}, 512 * 1024);
  r.Add(bhttp::verb::get, "/api/v1/incidents", none);
  r.Add(bhttp::verb::get, "/api/v1/incidents/{id}", none);
  r.Add(bhttp::verb::post, "/api/v1/incidents/{id}/acknowledge", none);
  r.Add(bhttp::verb::post, "/v2/alerts/{identifier}/close", none);
  r.Add(bhttp::verb::get, "/integrations/heartbeat/{key}", none);
  r.Add(bhttp::verb::get, "/status/{slug}/feed.atom", none);
  r.Add(bhttp::verb::get, "/assets/{path*}", none);
  r.Add(bhttp::verb::get, "/healthz", none);
  return r;
}

// One request from the front of `in`; false when the connection would end here (refused,
// malformed or incomplete).
bool OneRequest(const http::Router& router, std::string_view& in) {
  // ScanHead: the whole head is buffered first, then its raw lines are checked.
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  if (end > kMaxHeaderBytes + 4) return false;  // 431
  if (http::internal::CheckRawHead(in.substr(0, end + 2))) return false;

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(kMaxHeaderBytes));
  parser.body_limit(boost::none);
  boost::beast::error_code ec;
  while (!parser.is_header_done()) {
    size_t n = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
    in.remove_prefix(n);
    if (ec || n == 0) return false;  // malformed (need_more cannot be: the head is all here)
  }
  const auto& h = parser.get();
  http::internal::MethodLabel(h.method());
  http::internal::Target target =
      http::internal::SplitTarget(std::string_view(h.target().data(), h.target().size()));
  fuzz::Check(!target.path.empty(), "an empty path");
  if (http::internal::CheckHeaderCount(h, kMaxHeaderFields)) return false;
  if (http::internal::CheckFraming(h)) return false;
  if (http::internal::CheckHost(h)) return false;
  if (http::internal::CheckPath(target.path)) return false;
  // Past the checks, the body has one framing.
  fuzz::Check(
      h.count(bhttp::field::transfer_encoding) == 0 || h.count(bhttp::field::content_length) == 0,
      "both Transfer-Encoding and Content-Length passed the checks");
  fuzz::Check(h.count(bhttp::field::content_length) <= 1, "two Content-Length fields passed");
  fuzz::Check(target.path.front() == '/', "a path not in origin form passed");

  http::Router::Match match = router.Find(h.method(), target.path);
  size_t limit = match.handler && match.max_body_bytes > 0 ? match.max_body_bytes : kMaxBodyBytes;
  if (auto cl = parser.content_length(); cl && *cl > limit) return false;  // 413
  for (const auto& [name, value] : match.params) {
    // A checked path decodes each segment once, to something that cannot climb out of its
    // route ("%2F" in an Opsgenie identifier is data, and stays inside its parameter).
    (void)name;
    fuzz::Check(value != "." && value != "..", "a dot segment as a param");
  }
  parser.body_limit(limit);
  parser.eager(true);
  while (!parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
    in.remove_prefix(n);
    // need_more, or nothing left to give: the connection waits for the rest, then times out.
    if (ec || n == 0) return false;
  }
  const bhttp::request<bhttp::string_body>& req = parser.get();
  fuzz::Check(req.body().size() <= limit, "a body over the limit was read");
  http::HttpRequest r{req, target.path, target.query, match.params, "127.0.0.1", "fuzz"};
  r.Query("apiKey");
  r.Query("limit");
  r.Query("");
  r.Param("id");
  r.Header("Authorization");
  return req.keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const http::Router router = MakeRouter();
  std::string_view in = fuzz::AsText(data, size);
  for (int i = 0; i < 4 && OneRequest(router, in); ++i) {
  }
  return 0;
}
