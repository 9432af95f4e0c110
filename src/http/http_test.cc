#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "http/http.h"
#include "http/internal/connection_limits.h"
#include "http/internal/request_checks.h"

namespace houston::http {
namespace {

TEST(Router, MatchesParamsAndDistinguishes404From405) {
  Router r;
  int hit = 0;
  r.Add(bhttp::verb::get, "/api/v1/alerts", [&](const HttpRequest&, Responder) { hit = 1; });
  r.Add(bhttp::verb::get, "/api/v1/alerts/{id}", [&](const HttpRequest&, Responder) { hit = 2; });
  r.Add(bhttp::verb::post, "/api/v1/alerts/{id}/acknowledge",
        [&](const HttpRequest&, Responder) { hit = 3; });
  auto m = r.Find(bhttp::verb::get, "/api/v1/alerts/42");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(*m.pattern, "/api/v1/alerts/{id}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].second, "42");
  EXPECT_NE(r.Find(bhttp::verb::get, "/api/v1/alerts/").handler, nullptr);  // trailing slash
  auto wrong_method = r.Find(bhttp::verb::delete_, "/api/v1/alerts/42");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  auto unknown = r.Find(bhttp::verb::get, "/nope");
  EXPECT_EQ(unknown.handler, nullptr);
  EXPECT_FALSE(unknown.path_known);
  EXPECT_NE(r.Find(bhttp::verb::head, "/api/v1/alerts").handler, nullptr);
}

TEST(Router, ListsThePathsMethodsAndKeepsPreBodyChecks) {
  Router r;
  auto handler = [](const HttpRequest&, Responder) {};
  r.Add(bhttp::verb::get, "/x/{id}", handler);
  r.Add(bhttp::verb::post, "/x/{id}", handler,
        [](const HttpRequest&) -> std::optional<Response> { return std::nullopt; });
  r.Add(bhttp::verb::delete_, "/x/{id}", handler);
  r.Add(bhttp::verb::post, "/y", handler);
  auto wrong = r.Find(bhttp::verb::put, "/x/1");
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_EQ(wrong.allow, "GET, HEAD, POST, DELETE");
  EXPECT_EQ(r.Find(bhttp::verb::get, "/y").allow, "POST");
  EXPECT_EQ(r.Find(bhttp::verb::get, "/x/1").check, nullptr);
  EXPECT_NE(r.Find(bhttp::verb::post, "/x/1").check, nullptr);
}

TEST(Router, RestSegmentMatchesZeroOrMoreSegments) {
  Router r;
  auto handler = [](const HttpRequest&, Responder) {};
  r.Add(bhttp::verb::post, "{prefix*}/v2/alerts", handler);
  r.Add(bhttp::verb::post, "{prefix*}/v2/alerts/{id}/close", handler);
  r.Add(bhttp::verb::get, "/files/{rest*}", handler);
  r.Add(bhttp::verb::get, "/a/{mid*}/z", handler);
  auto param = [](const Router::Match& m, std::string_view name) {
    for (const auto& [k, v] : m.params) {
      if (k == name) return v;
    }
    return std::string("<absent>");
  };
  auto none = r.Find(bhttp::verb::post, "/v2/alerts");
  ASSERT_NE(none.handler, nullptr);
  EXPECT_EQ(*none.pattern, "{prefix*}/v2/alerts");
  EXPECT_EQ(param(none, "prefix"), "");
  auto two = r.Find(bhttp::verb::post, "/some/pre%20fix/v2/alerts/");
  ASSERT_NE(two.handler, nullptr);
  EXPECT_EQ(param(two, "prefix"), "some/pre fix");
  auto close = r.Find(bhttp::verb::post, "/h/v2/alerts/abc/close/");
  ASSERT_NE(close.handler, nullptr);
  EXPECT_EQ(*close.pattern, "{prefix*}/v2/alerts/{id}/close");
  EXPECT_EQ(param(close, "prefix"), "h");
  EXPECT_EQ(param(close, "id"), "abc");
  EXPECT_EQ(param(r.Find(bhttp::verb::get, "/files/x/y/z"), "rest"), "x/y/z");
  EXPECT_EQ(param(r.Find(bhttp::verb::get, "/files"), "rest"), "");
  EXPECT_EQ(param(r.Find(bhttp::verb::get, "/a/z"), "mid"), "");
  EXPECT_EQ(param(r.Find(bhttp::verb::get, "/a/b/c/z"), "mid"), "b/c");
  EXPECT_EQ(r.Find(bhttp::verb::get, "/a/b/c").handler, nullptr);
  EXPECT_FALSE(r.Find(bhttp::verb::post, "/v2/alertsx").path_known);
  EXPECT_FALSE(r.Find(bhttp::verb::post, "/x/v2/alerts/abc").path_known);
  // A wildcard route knows its paths: 405 with its methods.
  auto wrong = r.Find(bhttp::verb::get, "/p/v2/alerts");
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_TRUE(wrong.path_known);
  EXPECT_EQ(wrong.allow, "POST");
}

TEST(Router, FixedRoutesWinOverRestSegments) {
  Router r;
  int hit = 0;
  r.Add(bhttp::verb::get, "{prefix*}/v2/alerts", [&](const HttpRequest&, Responder) { hit = 1; });
  r.Add(bhttp::verb::post, "{prefix*}/v2/alerts", [&](const HttpRequest&, Responder) { hit = 2; });
  r.Add(bhttp::verb::post, "/integrations/prometheus/{key}/api/v2/alerts",
        [&](const HttpRequest&, Responder) { hit = 3; });
  r.Add(bhttp::verb::post, "/v2/enqueue", [&](const HttpRequest&, Responder) { hit = 4; });
  // Added after the wildcard route, the fixed route still wins its path.
  auto prom = r.Find(bhttp::verb::post, "/integrations/prometheus/k1/api/v2/alerts");
  ASSERT_NE(prom.handler, nullptr);
  EXPECT_EQ(*prom.pattern, "/integrations/prometheus/{key}/api/v2/alerts");
  // Another method on the fixed route's path is its 405, not the wildcard route's GET.
  auto wrong = r.Find(bhttp::verb::get, "/integrations/prometheus/k1/api/v2/alerts");
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_TRUE(wrong.path_known);
  EXPECT_EQ(wrong.allow, "POST");
  EXPECT_EQ(*r.Find(bhttp::verb::post, "/v2/enqueue").pattern, "/v2/enqueue");
  EXPECT_EQ(*r.Find(bhttp::verb::get, "/api/v2/alerts").pattern, "{prefix*}/v2/alerts");
}

TEST(HttpRequest, DecodesQueryParameters) {
  Request raw;
  HttpRequest req{
      raw, "/x", "status=triggered&service=check%20out&since=2026-01-01T00%3A00%3A00Z&e",
      {},  "",   ""};
  EXPECT_EQ(req.Query("status"), "triggered");
  EXPECT_EQ(req.Query("service"), "check out");
  EXPECT_EQ(req.Query("since"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(req.Query("e"), "");
  EXPECT_EQ(req.Query("missing"), std::nullopt);
}

TEST(ErrorResponse, MapsCodesAndRendersJson) {
  auto res = ErrorResponse(InvalidArgument("bad \"thing\"", {"a", "b"}));
  EXPECT_EQ(res.result(), bhttp::status::bad_request);
  EXPECT_EQ(
      res.body(),
      R"({"error":{"code":"invalid_argument","message":"bad \"thing\"","details":["a","b"]}})");
  EXPECT_EQ(ErrorResponse(Unauthenticated("x")).result(), bhttp::status::unauthorized);
  EXPECT_EQ(ErrorResponse(PermissionDenied("x")).result(), bhttp::status::forbidden);
  EXPECT_EQ(ErrorResponse(ResourceExhausted("x")).result(), bhttp::status::too_many_requests);
  EXPECT_EQ(ErrorResponse(Unavailable("x")).result(), bhttp::status::service_unavailable);
  EXPECT_EQ(ErrorResponse(NotFound("x")).result(), bhttp::status::not_found);
}

// ---------------------------------------------------------------------------------------------
// Request checks and connection limits, without sockets.

Request MakeHeader(std::initializer_list<std::pair<std::string, std::string>> fields,
                   unsigned version = 11) {
  Request req{bhttp::verb::post, "/x", version};
  for (const auto& [k, v] : fields) req.insert(k, v);
  return req;
}

TEST(CheckFraming, AcceptsChunkedAloneAndRefusesEverythingElse) {
  EXPECT_FALSE(internal::CheckFraming(MakeHeader({})));
  EXPECT_FALSE(internal::CheckFraming(MakeHeader({{"Content-Length", "3"}})));
  EXPECT_FALSE(internal::CheckFraming(MakeHeader({{"Transfer-Encoding", "chunked"}})));
  EXPECT_FALSE(internal::CheckFraming(MakeHeader({{"Transfer-Encoding", " Chunked "}})));
  for (const char* te : {"xchunked", "chunked, identity", "gzip", "identity", "", " , ",
                         "chunked;x=1", "chunked, chunked"}) {
    auto bad = internal::CheckFraming(MakeHeader({{"Transfer-Encoding", te}}));
    ASSERT_TRUE(bad) << te;
    EXPECT_EQ(bad->status, bhttp::status::bad_request) << te;
  }
  // Two fields are one list: "chunked" then "identity" does not end in chunked.
  auto two = internal::CheckFraming(
      MakeHeader({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "identity"}}));
  ASSERT_TRUE(two);
  EXPECT_EQ(two->status, bhttp::status::bad_request);
  auto with_length =
      internal::CheckFraming(MakeHeader({{"Transfer-Encoding", "gzip"}, {"Content-Length", "5"}}));
  ASSERT_TRUE(with_length);
  EXPECT_EQ(with_length->status, bhttp::status::bad_request);
  auto http10 = internal::CheckFraming(MakeHeader({{"Transfer-Encoding", "chunked"}}, 10));
  ASSERT_TRUE(http10);
  EXPECT_EQ(http10->status, bhttp::status::bad_request);
  // A coding we cannot undo, framed by chunked: not implemented.
  auto gzip = internal::CheckFraming(MakeHeader({{"Transfer-Encoding", "gzip, chunked"}}));
  ASSERT_TRUE(gzip);
  EXPECT_EQ(gzip->status, bhttp::status::not_implemented);
}

TEST(CheckHost, NeedsExactlyOneValidHostInHttp11) {
  EXPECT_FALSE(internal::CheckHost(MakeHeader({{"Host", "example.com:8080"}})));
  EXPECT_FALSE(internal::CheckHost(MakeHeader({{"Host", "[::1]:80"}})));
  EXPECT_FALSE(internal::CheckHost(MakeHeader({{"Host", ""}})));  // allowed by RFC 9112 3.2
  EXPECT_FALSE(internal::CheckHost(MakeHeader({}, 10)));          // HTTP/1.0 may omit it
  EXPECT_TRUE(internal::CheckHost(MakeHeader({})));
  EXPECT_TRUE(internal::CheckHost(MakeHeader({{"Host", "a"}, {"Host", "b"}})));
  EXPECT_TRUE(internal::CheckHost(MakeHeader({{"Host", "a"}, {"Host", "a"}}, 10)));
  EXPECT_TRUE(internal::CheckHost(MakeHeader({{"Host", "a b"}})));
  EXPECT_TRUE(internal::CheckHost(MakeHeader({{"Host", "a/b"}})));
}

TEST(CheckFraming, OneContentLengthOfDigitsOnly) {
  EXPECT_FALSE(internal::CheckFraming(MakeHeader({{"Content-Length", "0"}})));
  for (auto fields : {std::initializer_list<std::pair<std::string, std::string>>{
                          {"Content-Length", "2"}, {"Content-Length", "2"}},
                      {{"Content-Length", "2"}, {"Content-Length", "3"}},
                      {{"Content-Length", "2, 2"}},
                      {{"Content-Length", "+2"}},
                      {{"Content-Length", ""}}}) {
    auto bad = internal::CheckFraming(MakeHeader(fields));
    ASSERT_TRUE(bad.has_value());
    EXPECT_EQ(bad->status, bhttp::status::bad_request);
  }
}

TEST(CheckRawHead, RefusesObsFoldAndBareLineEnds) {
  EXPECT_FALSE(internal::CheckRawHead("GET / HTTP/1.1\r\nHost: a\r\nX: b c\r\n"));
  EXPECT_FALSE(internal::CheckRawHead("\r\nGET / HTTP/1.1\r\nHost: a\r\n"));
  for (std::string_view head : {
           "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n",
           "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n",
           "GET / HTTP/1.1\nHost: a\r\n",
           "GET / HTTP/1.1\r\nHost: a\rX: b\r\n",
           "GET / HTTP/1.1\r\nHost: a\n",
       }) {
    auto bad = internal::CheckRawHead(head);
    ASSERT_TRUE(bad.has_value()) << head;
    EXPECT_EQ(bad->status, bhttp::status::bad_request);
  }
}

TEST(CheckHeaderCount, RefusesTooManyFieldsWith431) {
  Request req{bhttp::verb::get, "/", 11};
  for (int i = 0; i < 5; ++i) req.insert(fmt::format("X-{}", i), "v");
  EXPECT_FALSE(internal::CheckHeaderCount(req, 5));
  auto bad = internal::CheckHeaderCount(req, 4);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status, bhttp::status::request_header_fields_too_large);
}

TEST(CheckPath, OneSpellingPerPath) {
  // An encoded slash or backslash is data inside its segment (an Opsgenie alias "db/primary").
  for (std::string_view ok :
       {"/", "/healthz", "/api/v1/incidents/12", "/a//b/", "/a%20b", "/caf%C3%A9", "/%25",
        "/%252e%252e", "/a.b/..c/...", "/x+y", "/v2/alerts/db%2Fprimary", "/a%5cb"}) {
    EXPECT_FALSE(internal::CheckPath(ok)) << ok;
  }
  const std::vector<std::string_view> bad = {
      // not origin form
      "*", "healthz", "",
      // dot segments, also encoded
      "/..", "/a/../b", "/./a", "/a/.", "/%2e%2e/a", "/%2E/a", "/.%2e", "/a/%2e",
      // a literal backslash; encoded control characters
      "/a\\b", "/a%00", "/a%0d%0a", "/a%7f", "/a%1f",
      // malformed escapes
      "/a%", "/a%2", "/a%zz", "/a%%30",
      // overlong UTF-8, a surrogate, above U+10FFFF, a stray byte, a truncated sequence
      "/%c0%ae%c0%ae", "/%c0%af", "/%e0%80%ae", "/%ed%a0%80", "/%f4%90%80%80", "/%ff", "/%c3"};
  for (std::string_view path : bad) {
    auto rejected = internal::CheckPath(path);
    ASSERT_TRUE(rejected.has_value()) << path;
    EXPECT_EQ(rejected->status, bhttp::status::bad_request) << path;
  }
}

TEST(Router, MatchesTheDecodedSegmentsOnce) {
  Router r;
  auto handler = [](const HttpRequest&, Responder) {};
  r.Add(bhttp::verb::get, "/healthz", handler);
  r.Add(bhttp::verb::get, "/api/v1/incidents/{id}", handler, {}, 1234);
  EXPECT_NE(r.Find(bhttp::verb::get, "/%68ealthz").handler, nullptr);
  auto m = r.Find(bhttp::verb::get, "/api/v1/%69ncidents/%252e%252e");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at(0).second, "%2e%2e");  // decoded once, never twice
  // An encoded slash is never a separator: no route for "/api/v1" + "incidents/3".
  EXPECT_FALSE(r.Find(bhttp::verb::get, "/api/v1%2Fincidents/3").path_known);
  EXPECT_EQ(r.Find(bhttp::verb::get, "/api/v1/incidents/a%2Fb").params.at(0).second, "a/b");
  EXPECT_EQ(m.max_body_bytes, 1234u);
  EXPECT_EQ(r.Find(bhttp::verb::get, "/healthz").max_body_bytes, 0u);
}

TEST(SplitTarget, RoutesOriginAndAbsoluteFormByPath) {
  auto t = internal::SplitTarget("/a/b?x=1");
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_EQ(t.query, "x=1");
  t = internal::SplitTarget("http://example.com:8080/healthz?v=2");
  EXPECT_EQ(t.path, "/healthz");
  EXPECT_EQ(t.query, "v=2");
  t = internal::SplitTarget("HTTPS://example.com");
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.query, "");
  t = internal::SplitTarget("http://example.com?q");
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.query, "q");
  EXPECT_EQ(internal::SplitTarget("ftp://example.com/x").path, "ftp://example.com/x");
  EXPECT_EQ(internal::SplitTarget("*").path, "*");
}

TEST(MethodLabel, FoldsUnknownMethods) {
  EXPECT_EQ(internal::MethodLabel(bhttp::verb::get), "GET");
  EXPECT_EQ(internal::MethodLabel(bhttp::verb::delete_), "DELETE");
  EXPECT_EQ(internal::MethodLabel(bhttp::verb::patch), "PATCH");
  EXPECT_EQ(internal::MethodLabel(bhttp::verb::propfind), "other");
  EXPECT_EQ(internal::MethodLabel(bhttp::verb::unknown), "other");
}

TEST(ConnectionBound, StaysBelowTheOpenFileLimit) {
  EXPECT_EQ(internal::ConnectionBound(10000, std::nullopt), 10000u);
  EXPECT_EQ(internal::ConnectionBound(10000, 1'048'576), 10000u);
  EXPECT_EQ(internal::ConnectionBound(10000, 1024), 1024u - 128);
  EXPECT_EQ(internal::ConnectionBound(10000, 256), 256u - 64);
  EXPECT_EQ(internal::ConnectionBound(10000, 128), 64u);
  EXPECT_EQ(internal::ConnectionBound(10000, 100), 50u);
  EXPECT_EQ(internal::ConnectionBound(10000, 1), 1u);
  EXPECT_EQ(internal::ConnectionBound(10, 1024), 10u);
  EXPECT_EQ(internal::ConnectionBound(100'000, 20'000), 20'000u - 1024);
}

TEST(LogThrottle, OneLinePerIntervalCountingTheRest) {
  internal::LogThrottle t(std::chrono::seconds(10));
  SteadyPoint t0{};
  EXPECT_EQ(t.Event(t0), 1u);
  for (int i = 1; i < 1000; ++i) EXPECT_EQ(t.Event(t0 + std::chrono::milliseconds(i)), 0u);
  EXPECT_EQ(t.Event(t0 + std::chrono::seconds(10)), 1000u);
  EXPECT_EQ(t.Event(t0 + std::chrono::seconds(11)), 0u);
}

TEST(AcceptBackoff, DoublesThePauseAndLogsOncePerInterval) {
  using std::chrono::milliseconds;
  internal::AcceptBackoff b;
  SteadyPoint now{};
  auto p = b.Failed(now);
  EXPECT_EQ(p.delay, internal::AcceptBackoff::kFirstPause);
  EXPECT_EQ(p.log_failures, 1u);
  std::vector<milliseconds> delays;
  int lines = 0;
  uint64_t logged = 1;
  // Failing for a minute: one retry per pause, never faster than the pause allows.
  for (now += p.delay; now < SteadyPoint{} + std::chrono::minutes(1); now += p.delay) {
    p = b.Failed(now);
    delays.push_back(p.delay);
    if (p.log_failures > 0) ++lines;
    logged += p.log_failures;
  }
  EXPECT_EQ(delays[0], milliseconds(20));
  EXPECT_EQ(delays[1], milliseconds(40));
  EXPECT_EQ(delays.back(), internal::AcceptBackoff::kMaxPause);
  EXPECT_LT(delays.size(), 70u);  // about one a second once at the longest pause
  EXPECT_GE(lines, 5);
  EXPECT_LE(lines, 6);  // one per 10 s
  // The lines count every failure once, except those since the last line (under 10 s of them).
  EXPECT_LE(logged, delays.size() + 1);
  EXPECT_GE(logged + 10, delays.size() + 1);
  // Success: one line with what failed since the last line; the pause starts over.
  EXPECT_EQ(b.Succeeded(now), delays.size() + 1);
  EXPECT_EQ(b.Failed(now).delay, internal::AcceptBackoff::kFirstPause);
  // Flapping (fail, succeed, fail, ...) does not log per failure either.
  int flap_lines = 0;
  for (int i = 0; i < 1000; ++i) {
    now += milliseconds(1);
    if (b.Failed(now).log_failures > 0) ++flap_lines;
    if (b.Succeeded(now) > 0) ++flap_lines;
  }
  EXPECT_LE(flap_lines, 2);
  EXPECT_EQ(b.Succeeded(now), 0u);
}

// ---------------------------------------------------------------------------------------------
// A real Server over loopback, driven with raw bytes.

// One client connection. Reads time out after 10 s so that a failing test does not hang.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  struct Reply {
    int status = 0;
    std::string head;  // status line and headers
    std::string body;
    std::string Header(std::string_view name) const {
      std::string needle = "\r\n" + std::string(name) + ": ";
      size_t at = head.find(needle);
      if (at == std::string::npos) return "";
      at += needle.size();
      return head.substr(at, head.find("\r\n", at) - at);
    }
  };

  // Reads one response; nullopt if the connection ends first. `headers_only`: a HEAD answer.
  std::optional<Reply> Read(bool headers_only = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    Reply r;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r.status = std::atoi(r.head.c_str() + r.head.find(' ') + 1);
    size_t length =
        headers_only || r.status < 200 ? 0 : std::atoi(r.Header("Content-Length").c_str());
    while (buf_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  // True if the server ends the connection (EOF or reset) before sending anything more.
  bool ClosedByServer() {
    if (!buf_.empty()) return false;
    char c;
    ssize_t n = recv(fd_, &c, 1, 0);
    if (n == 1) buf_.push_back(c);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  const std::string& buffered() const { return buf_; }

 private:
  bool Fill() {
    char chunk[16384];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
};

// The value of an unlabelled series or of name{labels} in `text`, 0 if absent.
double MetricValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::atof(text.c_str() + at + series.size() + 2);
}

Handler Echo(std::atomic<int>* hits = nullptr) {
  return [hits](const HttpRequest& req, Responder respond) {
    if (hits) hits->fetch_add(1);
    Response res{bhttp::status::ok, 11};
    res.body() =
        fmt::format("{} {} {} {}", req.raw.method_string(), req.path, req.query, req.raw.body());
    // What a pre-body check left for the handler (a string in these tests).
    if (req.checked) res.body() += " (" + *static_cast<const std::string*>(req.checked.get()) + ")";
    respond(std::move(res));
  };
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(std::move(options), std::move(router_), metrics_);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().ToString();
    port_ = *port;
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  // Waits (bounded) until `series` reaches `at_least`.
  bool WaitForMetric(const std::string& series, double at_least) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (MetricValue(metrics_.Render(), series) < at_least) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  Router router_;
  Metrics metrics_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, TransferEncodingNotEndingInChunkedIsRefusedNotSmuggled) {
  std::atomic<int> smuggled{0}, posted{0};
  router_.Add(bhttp::verb::post, "/in", Echo(&posted));
  router_.Add(bhttp::verb::get, "/smuggled", Echo(&smuggled));
  StartServer();
  const std::string second = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  struct Case {
    std::string headers;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"Transfer-Encoding: xchunked\r\n", 400},
           {"Transfer-Encoding: chunked, identity\r\n", 400},
           {"Transfer-Encoding: gzip\r\n", 400},
           {"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", 400},
           {"Transfer-Encoding: gzip\r\nContent-Length: " + std::to_string(second.size()) + "\r\n",
            400},
           {"Transfer-Encoding: gzip, chunked\r\n", 501},
       }) {
    SCOPED_TRACE(c.headers);
    RawClient client(port_);
    client.Send("POST /in HTTP/1.1\r\nHost: x\r\n" + c.headers + "\r\n" + second);
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, c.status);
    EXPECT_EQ(reply->Header("Connection"), "close");
    EXPECT_TRUE(client.ClosedByServer()) << client.buffered();
  }
  EXPECT_EQ(smuggled.load(), 0);
  EXPECT_EQ(posted.load(), 0);
  // chunked alone still works, and keeps the connection.
  RawClient client(port_);
  client.Send(
      "POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
      second);
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "POST /in  abc");
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(smuggled.load(), 1);
}

TEST_F(ServerTest, UnknownMethodsShareOneMetricsLabel) {
  router_.Add(bhttp::verb::get, "/x", Echo());
  StartServer();
  RawClient client(port_);
  for (int i = 0; i < 50; ++i) {
    client.Send(fmt::format("M{} /x HTTP/1.1\r\nHost: x\r\n\r\n", i));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 405);
  }
  client.Send("PROPFIND /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.Read());
  std::string text = metrics_.Render();
  EXPECT_EQ(text.find("M1"), std::string::npos) << text;
  EXPECT_EQ(text.find("PROPFIND"), std::string::npos) << text;
  EXPECT_EQ(
      MetricValue(text,
                  R"(houston_http_requests_total{route="unmatched",method="other",code="405"})"),
      50);
  EXPECT_EQ(
      MetricValue(text,
                  R"(houston_http_requests_total{route="unmatched",method="other",code="404"})"),
      1);
}

// A connection keeps the metric series of its last answer for the next one: whenever the route,
// the method or the status changes, the next answer is counted in its own series.
TEST_F(ServerTest, EachAnswerIsCountedInItsRoutesMethodsAndStatussSeries) {
  router_.Add(bhttp::verb::get, "/a", Echo());
  router_.Add(bhttp::verb::post, "/a", Echo());
  router_.Add(bhttp::verb::get, "/b", [](const HttpRequest& req, Responder respond) {
    respond(ErrorResponse(req.query.empty() ? NotFound("no b") : InvalidArgument("bad b")));
  });
  StartServer();
  RawClient client(port_);
  const std::vector<std::pair<std::string, int>> requests = {
      {"GET /a", 200}, {"GET /a", 200}, {"POST /a", 200},   {"GET /b", 404},  {"GET /b?x", 400},
      {"GET /a", 200}, {"GET /b", 404}, {"GET /nope", 404}, {"POST /a", 200},
  };
  for (const auto& [line, status] : requests) {
    client.Send(line + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    auto reply = client.Read();
    ASSERT_TRUE(reply) << line;
    EXPECT_EQ(reply->status, status) << line;
  }
  std::string text = metrics_.Render();
  auto count = [&](std::string_view route, std::string_view method, int code) {
    return MetricValue(
        text, fmt::format(R"(houston_http_requests_total{{route="{}",method="{}",code="{}"}})",
                          route, method, code));
  };
  EXPECT_EQ(count("/a", "GET", 200), 3) << text;
  EXPECT_EQ(count("/a", "POST", 200), 2) << text;
  EXPECT_EQ(count("/b", "GET", 404), 2) << text;
  EXPECT_EQ(count("/b", "GET", 400), 1) << text;
  EXPECT_EQ(count("unmatched", "GET", 404), 1) << text;
  auto observed = [&](std::string_view route) {
    return MetricValue(
        text, fmt::format(R"(houston_http_request_duration_seconds_count{{route="{}"}})", route));
  };
  EXPECT_EQ(observed("/a"), 5) << text;
  EXPECT_EQ(observed("/b"), 3) << text;
  EXPECT_EQ(observed("unmatched"), 1) << text;
}

TEST_F(ServerTest, HeadSendsTheHeadersOfGetWithoutItsBody) {
  router_.Add(bhttp::verb::get, "/x", [](const HttpRequest&, Responder respond) {
    respond(JsonResponse(bhttp::status::ok, R"({"status":"ok"})"));
  });
  StartServer();
  RawClient client(port_);
  client.Send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = client.Read(/*headers_only=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  // The next bytes are the GET's answer: no body came with the HEAD's.
  ASSERT_TRUE(client.buffered().empty() || client.buffered().starts_with("HTTP/1.1 200"))
      << client.buffered();
  auto get = client.Read();
  ASSERT_TRUE(get);
  EXPECT_TRUE(get->head.starts_with("HTTP/1.1 200 OK\r\n")) << get->head;
  EXPECT_EQ(get->body, R"({"status":"ok"})");
  EXPECT_EQ(head->Header("Content-Length"), std::to_string(get->body.size()));
  // An error answer to HEAD has no body either.
  client.Send("HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto missing = client.Read(true);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto after = client.Read();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->head.starts_with("HTTP/1.1 200 OK\r\n")) << after->head;
}

TEST_F(ServerTest, Http11RequestsNeedExactlyOneHost) {
  std::atomic<int> hits{0};
  router_.Add(bhttp::verb::get, "/x", Echo(&hits));
  StartServer();
  for (const char* request :
       {"GET /x HTTP/1.1\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /x HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a b\r\n\r\n"}) {
    SCOPED_TRACE(request);
    RawClient client(port_);
    client.Send(request);
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400);
    EXPECT_TRUE(client.ClosedByServer());
  }
  EXPECT_EQ(hits.load(), 0);
  RawClient old(port_);
  old.Send("GET /x HTTP/1.0\r\n\r\n");
  auto reply = old.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(ServerTest, AbsoluteFormTargetsAreRoutedByTheirPath) {
  router_.Add(bhttp::verb::get, "/x/{id}", Echo());
  StartServer();
  RawClient client(port_);
  client.Send("GET http://example.com:8080/x/7?a=b HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "GET /x/7 a=b ");
}

TEST_F(ServerTest, MethodNotAllowedListsTheAllowedMethods) {
  router_.Add(bhttp::verb::get, "/x", Echo());
  router_.Add(bhttp::verb::post, "/x", Echo());
  router_.Add(bhttp::verb::delete_, "/x/{id}", Echo());
  StartServer();
  RawClient client(port_);
  client.Send("PUT /x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->Header("Allow"), "GET, HEAD, POST");
  client.Send("BREW /x/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->Header("Allow"), "DELETE");
}

TEST_F(ServerTest, ContinueOnlyForHttp11RoutedAndCheckedRequests) {
  std::atomic<int> checks{0}, hits{0};
  router_.Add(bhttp::verb::post, "/open", Echo(&hits));
  router_.Add(bhttp::verb::post, "/guarded", Echo(&hits),
              [&checks](const HttpRequest& req) -> std::optional<Response> {
                checks.fetch_add(1);
                EXPECT_TRUE(req.raw.body().empty());  // called before the body is read
                EXPECT_EQ(req.path, "/guarded");
                if (req.Header("Authorization") != "Bearer good") {
                  return ErrorResponse(Unauthenticated("no"));
                }
                req.checked = std::make_shared<const std::string>("checked as good");
                return std::nullopt;
              });
  router_.Add(bhttp::verb::get, "/guarded", Echo(&hits),
              [&checks](const HttpRequest&) -> std::optional<Response> {
                checks.fetch_add(1);
                return ErrorResponse(Unauthenticated("no"));
              });
  StartServer();
  auto post = [](std::string_view path, std::string_view extra, std::string_view version = "1.1") {
    return fmt::format(
        "POST {} HTTP/{}\r\nHost: x\r\nContent-Length: 5\r\n{}Expect: 100-continue\r\n\r\n", path,
        version, extra);
  };
  {  // HTTP/1.0 gets no 100 Continue: the first answer is the final one.
    RawClient client(port_);
    client.Send(post("/open", "", "1.0") + "hello");
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "POST /open  hello");
  }
  {  // No route: 404 before the body, no 100, then closed.
    RawClient client(port_);
    client.Send(post("/nope", ""));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 404);
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // Wrong method: 405 before the body.
    RawClient client(port_);
    client.Send(
        "PUT /open HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 405);
    EXPECT_EQ(reply->Header("Allow"), "POST");
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // The pre-body check refuses: its answer, no 100, the body never read, then closed.
    RawClient client(port_);
    client.Send(post("/guarded", "Authorization: Bearer bad\r\n"));
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 401);
    EXPECT_TRUE(client.ClosedByServer());
  }
  EXPECT_EQ(hits.load(), 1);
  EXPECT_EQ(checks.load(), 1);
  {  // Also without Expect: the body of a refused request is not read.
    RawClient client(port_);
    client.Send("POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 401);
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // The check passes: 100 Continue, then the handler's answer.
    RawClient client(port_);
    client.Send(post("/guarded", "Authorization: Bearer good\r\n"));
    auto interim = client.Read();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
    client.Send("hello");
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    // The handler got what the check left: it need not check again.
    EXPECT_EQ(reply->body, "POST /guarded  hello (checked as good)");
    // The next request on the connection does not inherit it.
    client.Send("POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nworld");
    reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "POST /open  world");
  }
  EXPECT_EQ(checks.load(), 3);
  {  // A request without a body goes to the handler unchecked (the handler checks).
    RawClient client(port_);
    client.Send("GET /guarded HTTP/1.1\r\nHost: x\r\n\r\n");
    auto reply = client.Read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
  }
  EXPECT_EQ(checks.load(), 3);
}

TEST_F(ServerTest, AtTheBoundTheLongestIdleConnectionMakesRoom) {
  router_.Add(bhttp::verb::get, "/x", Echo());
  ServerOptions options;
  options.max_connections = 3;
  StartServer(options);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) {  // three keep-alive connections, idle in this order
    idle.push_back(std::make_unique<RawClient>(port_));
    idle.back()->Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(idle.back()->Read());
    // The client can read the reply before the server has put the connection on its idle list:
    // wait (bounded) until it has, so that the idle order is the order of these requests.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server_->idle_connections() < static_cast<size_t>(i) + 1) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline);
      std::this_thread::yield();
    }
  }
  RawClient sender(port_);
  sender.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto reply = sender.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_TRUE(idle[0]->ClosedByServer());  // the oldest idle one made room
  for (int i = 1; i < 3; ++i) {
    idle[i]->Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    auto again = idle[i]->Read();
    ASSERT_TRUE(again) << i;
    EXPECT_EQ(again->status, 200);
  }
  EXPECT_EQ(MetricValue(metrics_.Render(), "houston_http_connections_shed_total"), 1);
}

TEST_F(ServerTest, AtTheBoundASlowClientMakesRoomToo) {
  router_.Add(bhttp::verb::get, "/x", Echo());
  router_.Add(bhttp::verb::post, "/x", Echo());
  ServerOptions options;
  options.max_connections = 3;
  StartServer(options);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 3; ++i) {  // requests that never finish arriving: a head, then a body
    slow.push_back(std::make_unique<RawClient>(port_));
    slow.back()->Send(i == 1 ? "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc"
                             : "GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: a");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server_->idle_connections() < static_cast<size_t>(i) + 1) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline);
      std::this_thread::yield();
    }
  }
  // Each new client (kept open, so that the server stays at its bound) closes the slow one
  // waiting longest.
  std::vector<std::unique_ptr<RawClient>> senders;
  for (int i = 0; i < 3; ++i) {
    senders.push_back(std::make_unique<RawClient>(port_));
    senders.back()->Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    auto reply = senders.back()->Read();
    ASSERT_TRUE(reply) << i;
    EXPECT_EQ(reply->status, 200);
    EXPECT_TRUE(slow[i]->ClosedByServer()) << i;
  }
  EXPECT_GE(MetricValue(metrics_.Render(), "houston_http_connections_shed_total"), 3);
}

TEST_F(ServerTest, AtTheBoundWithNoneIdleANewConnectionIsClosed) {
  std::mutex mu;
  std::optional<Responder> held;
  router_.Add(bhttp::verb::get, "/slow", [&](const HttpRequest&, Responder respond) {
    std::lock_guard lock(mu);
    held = std::move(respond);
  });
  ServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  RawClient busy(port_);
  busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  // Wait (bounded) until the handler holds the request.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (held) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  RawClient refused(port_);
  EXPECT_TRUE(refused.ClosedByServer());
  EXPECT_EQ(MetricValue(metrics_.Render(), "houston_http_connections_refused_total"), 1);
  {
    std::lock_guard lock(mu);
    (*held)(Response{bhttp::status::ok, 11});
  }
  auto reply = busy.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

// Out of descriptors, the accept loop pauses (a few failed accepts, not a spinning loop), and
// accepts again once descriptors are free.
TEST_F(ServerTest, OutOfDescriptorsTheAcceptLoopPausesThenRecovers) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizer runtimes need descriptors of their own (UBSan's vptr check tests memory with a
  // pipe), so with none left they report errors that are not the program's. This test runs in
  // the plain build (make test), and e2e http_hostile_test exhausts a real server's descriptors.
  GTEST_SKIP() << "exhausts the process's descriptors, which the sanitizer runtime needs";
#endif
  router_.Add(bhttp::verb::get, "/x", Echo());
  StartServer();
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Use up every descriptor of this process (server and client alike) but one.
  int highest = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    highest = std::max(highest, std::atoi(entry.path().filename().c_str()));
  }
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 64);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (int fd; (fd = dup(0)) >= 0;) filler.push_back(fd);
  ASSERT_EQ(errno, EMFILE);
  close(filler.back());
  filler.pop_back();
  RawClient client(port_);  // takes the last descriptor; the server cannot accept it
  bool connected = client.connected();
  // Out of descriptors the server closes an idle connection to get one back. A stray one (another
  // test process on this machine that connected to this port when it was someone else's) would
  // let it accept at once; take every descriptor that frees, so that accepting keeps failing.
  bool failed_a_few = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (connected && std::chrono::steady_clock::now() < deadline) {
    for (int fd; (fd = dup(0)) >= 0;) filler.push_back(fd);
    if (MetricValue(metrics_.Render(), "houston_http_accept_errors_total") >= 3) {
      failed_a_few = true;
      break;
    }
    std::this_thread::yield();
  }
  double failures = MetricValue(metrics_.Render(), "houston_http_accept_errors_total");
  for (int fd : filler) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(connected);
  ASSERT_TRUE(failed_a_few);
  // Without a pause the loop would have failed thousands of times by now.
  EXPECT_LT(failures, 20);
  client.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto reply = client.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

// One I/O thread per CPU the process may run on, at most 2 (ServerOptions::threads = 0).
TEST(DefaultIoThreads, FollowTheAffinityMaskUpToTwo) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof original, &original), 0);
  EXPECT_EQ(DefaultIoThreads(), std::min(CPU_COUNT(&original), 2));
  int cpu = 0;
  while (!CPU_ISSET(cpu, &original)) ++cpu;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  EXPECT_EQ(DefaultIoThreads(), 1);
  ASSERT_EQ(sched_setaffinity(0, sizeof original, &original), 0);
}

// Shutdown used to take a session's strong reference while holding the sessions mutex: when
// that reference became the last one (the session closed meanwhile), the session's destructor
// took the mutex again and Shutdown hung. Shut servers down while clients open, use, abandon and
// close connections. The shutting-down thread runs under SCHED_IDLE on the CPU of the server's
// threads, so that each I/O thread it wakes (closing an idle session) preempts it at once: the
// old code then held the last reference of a closed session within a few sessions.
TEST(ServerShutdown, UnderConnectionChurnNeverHangs) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof original, &original), 0);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &original)) ++cpu;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  std::mt19937 rng(20261204);
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(round);
    // Threads started from here (the server's, the clients', the shutdown's) share one CPU.
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    Router router;
    router.Add(bhttp::verb::get, "/x", Echo());
    Metrics metrics;
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.shutdown_grace = std::chrono::milliseconds(200);
    auto server = std::make_unique<Server>(options, std::move(router), metrics);
    auto port = server->Start();
    ASSERT_TRUE(port);
    std::atomic<bool> stop{false}, quiet{false};
    std::atomic<int> answered{0};
    std::mutex kept_mu;
    std::vector<std::unique_ptr<RawClient>> kept;  // idle connections of clients that stopped
    std::vector<std::thread> clients;
    for (int c = 0; c < 3; ++c) {
      clients.emplace_back([&, seed = rng()] {
        std::mt19937 crng(seed);
        std::vector<std::unique_ptr<RawClient>> open;
        while (!stop.load() && !quiet.load()) {
          auto client = std::make_unique<RawClient>(*port);
          if (!client->connected()) break;  // the server stopped accepting
          switch (crng() % 4) {
            case 0:  // connect and close at once
              break;
            case 1:  // one request, then close
            case 2:  // one request, then keep the connection idle for a while
              client->Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
              if (client->Read()) answered.fetch_add(1);
              if (crng() % 4 != 0) open.push_back(std::move(client));
              break;
            case 3:  // half a request, abandoned
              client->Send("GET /x HTTP/1.1\r\n");
              break;
          }
          if (open.size() > 100) {
            open.erase(open.begin() + static_cast<long>(crng() % open.size()));
          }
        }
        std::lock_guard lock(kept_mu);
        for (auto& c : open) kept.push_back(std::move(c));
      });
    }
    // Shut down after a random amount of traffic, with a bound on how long it may take.
    int wait_for = 20 + static_cast<int>(rng() % 60);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (answered.load() < wait_for && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    // Every other round the clients stop first, leaving their connections idle: the sweep then
    // closes idle sessions with nothing else running.
    if (round % 2 == 1) {
      quiet.store(true);
      for (auto& t : clients) t.join();
      clients.clear();
    }
    auto done = std::async(std::launch::async, [&] {
      sched_param idle{};
      pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
      server->Shutdown();
    });
    ASSERT_EQ(sched_setaffinity(0, sizeof original, &original), 0);
    if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "Server::Shutdown hung in round " << round;
      std::abort();  // its threads are deadlocked: nothing can be cleaned up
    }
    server.reset();  // closes what is still open, so that blocked clients return
    stop.store(true);
    for (auto& t : clients) t.join();
    kept.clear();
  }
}

TEST(Metrics, RendersCountersAndHistograms) {
  Metrics m;
  m.Describe("req_total", "counter", "Requests.");
  m.Describe("lat_seconds", "histogram", "Latency.", {0.1, 1});
  m.Add("req_total", "code=\"200\"");
  m.Add("req_total", "code=\"200\"", 2);
  m.Observe("lat_seconds", "", 0.05);
  m.Observe("lat_seconds", "", 5);
  std::string out = m.Render();
  EXPECT_NE(out.find("# TYPE req_total counter\nreq_total{code=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_count 2\n"), std::string::npos);
}

TEST(Metrics, GaugesWithAndWithoutLabelsAreReadOutsideTheLock) {
  Metrics m;
  m.Describe("depth", "gauge", "Depth.");
  m.Describe("open", "gauge", "Open things.");
  m.SetGaugeSource("depth", [] { return 7.0; });
  // A source may use the registry itself (e.g. count while rendering) without deadlocking.
  m.SetGaugeSeriesSource("open", [&m] {
    m.Add("renders_total", "");
    return Metrics::GaugeSeries{{R"(status="triggered")", 2}, {R"(status="acknowledged")", 0}};
  });
  std::string out = m.Render();
  EXPECT_NE(out.find("# TYPE depth gauge\ndepth 7\n"), std::string::npos) << out;
  EXPECT_NE(out.find("open{status=\"triggered\"} 2\nopen{status=\"acknowledged\"} 0\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("renders_total 1\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace houston::http
