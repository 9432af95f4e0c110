// notify over loopback: the real Sender against a tiny HTTP server (plain POSIX sockets, one
// thread) and against Debian's python3-aiosmtpd writing a Maildir. Labelled e2e in CTest.
// Waits are bounded polls, never fixed sleeps.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "notify/notify.h"

extern char** environ;

namespace houston::notify {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Steady = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A listening TCP socket on `address` (127.0.0.1 by default) and `port` (0: kernel-chosen; the
// port bound is written back).
int Listen(int& port, const char* address = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, address, &a.sin_addr);
  a.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// ---- a tiny HTTP/1.1 server -----------------------------------------------------------------

class HttpServer {
 public:
  struct Reply {
    int status = 200;
    std::string headers;  // extra header lines, each ending in \r\n
    std::string body = "ok";
    bool never = false;       // read the request, then never answer
    size_t big_body = 0;      // answer with this many bytes instead of `body`
    bool keep_alive = false;  // keep the connection open for the next request
  };
  struct Request {
    std::string method, target, body;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string Header(const std::string& name) const {
      for (const auto& [n, v] : headers) {
        if (n == name) return v;
      }
      return {};
    }
    int Count(const std::string& name) const {
      int n = 0;
      for (const auto& h : headers) n += h.first == name;
      return n;
    }
  };

  HttpServer() : fd_(Listen(port_)), thread_([this] { Run(); }) {}
  ~HttpServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  int port() const { return port_; }
  std::string Url(const std::string& path = "/hook") const {
    return fmt::format("http://127.0.0.1:{}{}", port_, path);
  }
  void SetReply(Reply r) {
    std::lock_guard lock(mu_);
    reply_ = std::move(r);
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      while (Serve(c)) {
      }
      close(c);
    }
  }

  // Appends what arrives within a short wait; false on EOF, error or stop.
  bool ReadSome(int c, std::string& buf) {
    while (!stop_) {
      pollfd p{c, POLLIN, 0};
      int r = poll(&p, 1, 20);
      if (r < 0) return false;
      if (r == 0) continue;
      char tmp[16384];
      ssize_t n = recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  // One request: true if the connection stays open for another.
  bool Serve(int c) {
    std::string buf;
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadSome(c, buf)) return false;
    }
    Request r;
    std::istringstream head(buf.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    std::istringstream first(line);
    first >> r.method >> r.target;
    size_t length = 0;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(Lower(line.substr(0, colon)), value);
      if (r.headers.back().first == "content-length") length = std::stoul(value);
    }
    while (buf.size() < header_end + 4 + length) {
      if (!ReadSome(c, buf)) return false;
    }
    r.body = buf.substr(header_end + 4, length);
    Reply reply;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
      reply = reply_;
    }
    if (reply.never) {
      while (ReadSome(c, buf)) {
      }
      return false;
    }
    std::string body = reply.big_body > 0 ? std::string(reply.big_body, 'x') : reply.body;
    std::string out = fmt::format(
        "HTTP/1.1 {} Status\r\nContent-Length: {}\r\n{}{}\r\n{}", reply.status, body.size(),
        reply.keep_alive ? "" : "Connection: close\r\n", reply.headers, body);
    for (size_t sent = 0; sent < out.size();) {
      ssize_t n = send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;  // the client hung up (e.g. past its response cap)
      sent += static_cast<size_t>(n);
    }
    return reply.keep_alive;
  }

  int port_ = 0;
  int fd_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  Reply reply_;
  std::vector<Request> requests_;
  std::thread thread_;
};

// ---- helpers --------------------------------------------------------------------------------

std::string OpenSslHmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Message Page(std::string id = "msg-loop-1") {
  Message m;
  m.id = std::move(id);
  m.event = "incident.triggered";
  IncidentRef i;
  i.id = 42;
  i.title = "Checkout latency high";
  i.service = "checkout";
  i.service_name = "Checkout API";
  i.severity = "critical";
  i.status = "triggered";
  i.url = "https://houston.example.com/incidents/42";
  m.incidents = {i};
  m.ack_url = "https://houston.example.com/act/v1.42.ack.sig";
  m.resolve_url = "https://houston.example.com/act/v1.42.resolve.sig";
  m.user_id = "alice";
  m.user_name = "Alice";
  m.step = 1;
  m.created_at = RealClock().Now();
  return m;
}

SenderOptions LoopbackOptions(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  SenderOptions o;
  o.egress.allow_cidrs = {"127.0.0.1/32"};
  o.timeout = timeout;
  return o;
}

Channel Webhook(const std::string& url, const std::string& secret = "") {
  Channel c;
  c.type = "webhook";
  c.url = url;
  c.secret = secret;
  return c;
}

// ---- webhook --------------------------------------------------------------------------------

TEST(WebhookLoopbackTest, DeliveredSignedWithAStableMessageId) {
  HttpServer server;
  auto sender = NewSender(LoopbackOptions());
  Channel c = Webhook(server.Url(), "s3cret");
  c.headers = {{"Authorization", "Bearer t0ken"}, {"X-Houston-Signature", "forged"}};
  Message m = Page();
  Delivery d = sender->Send(c, m);
  EXPECT_EQ(d.outcome, Outcome::kSent) << d.detail;
  EXPECT_EQ(d.http_status, 200);

  std::vector<HttpServer::Request> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const HttpServer::Request& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/hook");
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("user-agent"), "houston/0.1");
  EXPECT_EQ(r.Header("x-houston-message-id"), "msg-loop-1");
  EXPECT_EQ(r.Header("x-houston-event"), "incident.triggered");
  EXPECT_EQ(r.Header("authorization"), "Bearer t0ken");
  // Verified with OpenSSL, independently of the libsodium code that signed it.
  EXPECT_EQ(r.Count("x-houston-signature"), 1);  // the contact method cannot forge it
  EXPECT_EQ(r.Header("x-houston-signature"), "v1=" + Hex(OpenSslHmac("s3cret", r.body)));
  EXPECT_EQ(r.Header("webhook-id"), "msg-loop-1");
  std::string ts = r.Header("webhook-timestamp");
  int64_t now =
      std::chrono::floor<std::chrono::seconds>(RealClock().Now()).time_since_epoch().count();
  EXPECT_LE(std::abs(std::stoll(ts) - now), 300);
  EXPECT_EQ(r.Header("webhook-signature"),
            "v1," + Base64(OpenSslHmac("s3cret", "msg-loop-1." + ts + "." + r.body)));
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("event"), "incident.triggered");
  EXPECT_EQ(body.at("message_id"), "msg-loop-1");
  EXPECT_EQ(body.at("incident").at("id").as_int64(), 42);
  EXPECT_EQ(json::value_to<std::string>(body.at("ack_url")), m.ack_url);

  // A retry of the same message carries the same id; without a secret, no signature.
  sender->Send(Webhook(server.Url()), m);
  reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Header("x-houston-message-id"), "msg-loop-1");
  EXPECT_EQ(reqs[1].Count("x-houston-signature"), 0);
  EXPECT_EQ(reqs[1].Count("webhook-signature"), 0);
}

// Pages to a receiver that keeps connections open reuse one connection (no handshake per page),
// and each still goes through every check: a contact method that is refused stays refused.
TEST(WebhookLoopbackTest, AKeptAliveConnectionIsReusedForTheNextPage) {
  HttpServer server;
  HttpServer::Reply keep;
  keep.keep_alive = true;
  server.SetReply(keep);
  auto sender = NewSender(LoopbackOptions());
  for (int i = 0; i < 3; ++i) {
    Delivery d = sender->Send(Webhook(server.Url(), "s3cret"), Page());
    EXPECT_EQ(d.outcome, Outcome::kSent) << d.detail;
  }
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connections(), 1);
  // The same sender still refuses what the egress guard refuses, pooled handle or not.
  Delivery refused = sender->Send(Webhook("http://10.1.2.3:9/hook"), Page());
  EXPECT_EQ(refused.outcome, Outcome::kFailed) << refused.detail;
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(WebhookLoopbackTest, StatusCodesAreClassified) {
  HttpServer server;
  auto sender = NewSender(LoopbackOptions());
  struct Case {
    int status;
    Outcome outcome;
  };
  for (Case k :
       {Case{200, Outcome::kSent}, Case{202, Outcome::kSent}, Case{204, Outcome::kSent},
        Case{500, Outcome::kRetry}, Case{502, Outcome::kRetry}, Case{503, Outcome::kRetry},
        Case{429, Outcome::kRetry}, Case{408, Outcome::kRetry}, Case{404, Outcome::kFailed},
        Case{400, Outcome::kFailed}, Case{401, Outcome::kFailed}, Case{410, Outcome::kFailed}}) {
    server.SetReply({.status = k.status, .body = k.status == 204 ? "" : "receiver says hi"});
    Delivery d = sender->Send(Webhook(server.Url()), Page());
    EXPECT_EQ(d.outcome, k.outcome) << k.status << ": " << d.detail;
    EXPECT_EQ(d.http_status, k.status);
    if (k.status >= 400) {
      EXPECT_THAT(d.detail, HasSubstr("receiver says hi")) << k.status;
    }
  }
  server.SetReply({.status = 429, .headers = "Retry-After: 30\r\n"});
  Delivery d = sender->Send(Webhook(server.Url()), Page());
  EXPECT_EQ(d.outcome, Outcome::kRetry);
  ASSERT_TRUE(d.retry_after.has_value());
  EXPECT_EQ(*d.retry_after, std::chrono::seconds(30));
  server.SetReply({.status = 503, .headers = "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"});
  d = sender->Send(Webhook(server.Url()), Page());
  ASSERT_TRUE(d.retry_after.has_value());
  EXPECT_EQ(*d.retry_after, std::chrono::seconds(0));  // a date in the past
}

TEST(WebhookLoopbackTest, RedirectsAreFailuresAndNotFollowed) {
  HttpServer server;
  auto sender = NewSender(LoopbackOptions());
  for (int status : {301, 302, 307, 308}) {
    server.SetReply(
        {.status = status, .headers = "Location: " + server.Url("/elsewhere") + "\r\n"});
    Delivery d = sender->Send(Webhook(server.Url()), Page());
    EXPECT_EQ(d.outcome, Outcome::kFailed) << status;
    EXPECT_EQ(d.http_status, status);
    EXPECT_THAT(d.detail, HasSubstr("not followed"));
    EXPECT_THAT(d.detail, HasSubstr("/elsewhere"));
  }
  for (const HttpServer::Request& r : server.requests()) EXPECT_EQ(r.target, "/hook");
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(WebhookLoopbackTest, NoResponseIsUnknownWithinTheTimeout) {
  HttpServer server;
  server.SetReply({.never = true});
  auto sender = NewSender(LoopbackOptions(std::chrono::milliseconds(300)));
  auto start = Steady::now();
  Delivery d = sender->Send(Webhook(server.Url()), Page());
  auto elapsed = Steady::now() - start;
  EXPECT_EQ(d.outcome, Outcome::kUnknown) << d.detail;
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  EXPECT_EQ(server.requests().size(), 1u);  // it did arrive: retrying could page twice
}

TEST(WebhookLoopbackTest, ConnectionRefusedIsRetry) {
  int port = 0;
  close(Listen(port));  // nothing listens there any more
  auto sender = NewSender(LoopbackOptions());
  Delivery d = sender->Send(Webhook(fmt::format("http://127.0.0.1:{}/hook", port)), Page());
  EXPECT_EQ(d.outcome, Outcome::kRetry) << d.detail;
  EXPECT_EQ(d.http_status, 0);
}

TEST(WebhookLoopbackTest, ResponseOverTheCapIsHandled) {
  HttpServer server;
  SenderOptions o = LoopbackOptions();
  o.max_response_bytes = 1024;
  auto sender = NewSender(o);
  server.SetReply({.status = 200, .big_body = 4 * 1024 * 1024});
  Delivery d = sender->Send(Webhook(server.Url()), Page());
  EXPECT_EQ(d.outcome, Outcome::kSent) << d.detail;
  EXPECT_THAT(d.detail, HasSubstr("cut at 1024 bytes"));
  server.SetReply({.status = 500, .big_body = 4 * 1024 * 1024});
  d = sender->Send(Webhook(server.Url()), Page());
  EXPECT_EQ(d.outcome, Outcome::kRetry) << d.detail;
  EXPECT_LT(d.detail.size(), 400u);
}

TEST(WebhookLoopbackTest, LoopbackIsRefusedWithoutTheAllowlistInEverySpelling) {
  int port = 0;
  int fd = Listen(port);  // never accepted: a completed connection would wait in the backlog
  SenderOptions o;
  o.timeout = std::chrono::seconds(5);
  auto sender = NewSender(o);
  for (std::string host : {"127.0.0.1",
                           "localhost",
                           "2130706433",
                           "0x7f.1",
                           "127.1",
                           "0177.0.0.1",
                           "0x7f000001",
                           "017700000001",
                           "127.0.1",
                           "0",
                           "[::ffff:127.0.0.1]",
                           "[::ffff:7f00:1]",
                           "[0:0:0:0:0:ffff:7f00:1]",
                           "[::127.0.0.1]",
                           "[64:ff9b::7f00:1]",
                           "[::1]",
                           "[::]",
                           "0.0.0.0",
                           "169.254.169.254",
                           "10.0.0.1",
                           "[fd00::1]"}) {
    std::string url = fmt::format("http://{}:{}/hook", host, port);
    Delivery d = sender->Send(Webhook(url), Page());
    EXPECT_EQ(d.outcome, Outcome::kFailed) << url << ": " << d.detail;
    EXPECT_THAT(d.detail, StartsWith("destination address not allowed")) << url;
    EXPECT_THAT(d.detail, HasSubstr("--allow-egress ")) << url;
  }
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "a refused destination saw a connection";
  close(fd);

  // The same server with the allowlist.
  HttpServer server;
  Delivery ok = NewSender(LoopbackOptions())->Send(Webhook(server.Url()), Page());
  EXPECT_EQ(ok.outcome, Outcome::kSent) << ok.detail;
}

// Accepts whatever connects to `fd` without blocking; how many connections were waiting.
int Accepted(int fd) {
  int n = 0;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return n;
    int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return n;
    close(c);
    ++n;
  }
}

TEST(WebhookLoopbackTest, NamesThatResolveToPrivateAddressesAreRefused) {
  int port = 0;
  int fd = Listen(port);
  SenderOptions o;
  o.timeout = std::chrono::seconds(5);
  // A resolver that answers these names (as an attacker's DNS would) with private addresses.
  std::vector<std::pair<std::string, std::string>> names = {
      {"hooks.example.com", "127.0.0.1"},
      {"localhost.", "127.0.0.1"},
      {"metadata.example.com", "169.254.169.254"},
      {"internal.example.com", "10.1.2.3"},
      {"v6.example.com", "::1"},
      {"mapped.example.com", "::ffff:127.0.0.1"},
  };
  for (const auto& [name, address] : names) {
    o.egress.resolve.push_back(
        fmt::format("{}:{}:{}", name, port,
                    address.find(':') == std::string::npos ? address : "[" + address + "]"));
  }
  auto sender = NewSender(o);
  for (const auto& [name, address] : names) {
    Delivery d = sender->Send(Webhook(fmt::format("http://{}:{}/hook", name, port)), Page());
    EXPECT_EQ(d.outcome, Outcome::kFailed) << name << ": " << d.detail;
    EXPECT_THAT(d.detail, StartsWith("destination address not allowed: " + address)) << name;
  }
  EXPECT_EQ(Accepted(fd), 0) << "a refused destination saw a connection";
  close(fd);
}

TEST(WebhookLoopbackTest, EveryAddressIsJudgedWhenConnectingSoAChangedAnswerIsRefused) {
  HttpServer server;  // 127.0.0.1, allowlisted below
  int port = server.port();
  int other = Listen(port, "127.0.0.2");  // the same port on an address nobody allowed
  ASSERT_GE(other, 0);
  auto send = [&](const std::string& answer) {
    SenderOptions o = LoopbackOptions();
    o.egress.resolve = {fmt::format("hooks.example.com:{}:{}", port, answer)};
    return NewSender(o)->Send(Webhook(fmt::format("http://hooks.example.com:{}/hook", port)),
                              Page());
  };
  // The name first answers an allowed address: delivered.
  Delivery d = send("127.0.0.1");
  EXPECT_EQ(d.outcome, Outcome::kSent) << d.detail;
  // Then (DNS rebinding) a refused one: the address actually connected to is judged, not a
  // verdict about the name from before, so nothing reaches it.
  d = send("127.0.0.2");
  EXPECT_EQ(d.outcome, Outcome::kFailed) << d.detail;
  EXPECT_THAT(d.detail, StartsWith("destination address not allowed: 127.0.0.2"));
  // Two answers at once: the refused one is skipped, the allowed one is used.
  d = send("127.0.0.2,127.0.0.1");
  EXPECT_EQ(d.outcome, Outcome::kSent) << d.detail;
  EXPECT_EQ(Accepted(other), 0) << "the refused address saw a connection";
  EXPECT_EQ(server.requests().size(), 2u);
  close(other);
}

TEST(WebhookLoopbackTest, OnlyHttpAndHttps) {
  auto sender = NewSender(LoopbackOptions());
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/",
                          "dict://127.0.0.1:11211/", "not a url", ""}) {
    Delivery d = sender->Send(Webhook(url), Page());
    EXPECT_EQ(d.outcome, Outcome::kFailed) << url << ": " << d.detail;
  }
}

TEST(WebhookLoopbackTest, SlackAndProviderBodies) {
  HttpServer server;
  auto sender = NewSender(LoopbackOptions());
  Channel slack;
  slack.type = "slack";
  slack.url = server.Url("/services/T/B/X");
  EXPECT_EQ(sender->Send(slack, Page()).outcome, Outcome::kSent);

  Channel sms;
  sms.type = "sms_provider";
  sms.url = server.Url("/sms");
  sms.address = "+15555550100";
  sms.secret = "k";
  sms.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  sms.body_template = "To={{address}}&Body={{incident.title}}";
  EXPECT_EQ(sender->Send(sms, Page()).outcome, Outcome::kSent);

  Channel bad = sms;
  bad.body_template = "{{#incident}}";
  Delivery d = sender->Send(bad, Page());
  EXPECT_EQ(d.outcome, Outcome::kFailed);
  EXPECT_THAT(d.detail, HasSubstr("invalid message template"));

  std::vector<HttpServer::Request> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);  // the bad template sent nothing
  EXPECT_EQ(reqs[0].target, "/services/T/B/X");
  json::value slack_body = json::parse(reqs[0].body);
  EXPECT_TRUE(slack_body.at("blocks").is_array());
  EXPECT_EQ(reqs[1].Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(reqs[1].body, "To=%2B15555550100&Body=Checkout+latency+high");
  EXPECT_EQ(reqs[1].Header("x-houston-signature"), "v1=" + Hex(OpenSslHmac("k", reqs[1].body)));
}

// ---- email ----------------------------------------------------------------------------------

// Debian's python3-aiosmtpd on a loopback port, delivering into a Maildir.
class SmtpSink {
 public:
  SmtpSink() {
    char tmpl[] = "/tmp/houston-notify-smtp-XXXXXX";
    dir_ = mkdtemp(tmpl);
    // A free port is found, closed and handed to aiosmtpd, and another process (a test running
    // beside this one) may take it in between. Then aiosmtpd exits (the address is in use), or
    // the readiness check reaches the other process, which does not greet as SMTP does: either
    // way, again on another port.
    for (int attempt = 0; attempt < 5 && !ready_; ++attempt) Start();
  }
  ~SmtpSink() {
    Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  bool ready() const { return ready_; }
  std::string url() const { return fmt::format("smtp://127.0.0.1:{}", port_); }
  std::string Log() const {
    std::ifstream in(dir_ + "/aiosmtpd.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Paths of delivered messages, waiting (bounded) for at least `n`.
  std::vector<std::string> Messages(size_t n) const {
    std::vector<std::string> out;
    auto deadline = Steady::now() + std::chrono::seconds(10);
    do {
      out.clear();
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir_ + "/Maildir/new", ec)) {
        out.push_back(e.path());
      }
      if (out.size() >= n) break;
      poll(nullptr, 0, 20);
    } while (Steady::now() < deadline);
    return out;
  }
  const std::string& dir() const { return dir_; }

 private:
  // One try on a new free port: ready_ once aiosmtpd greets there; pid_ -1 if it did not start.
  void Start() {
    port_ = 0;
    close(Listen(port_));
    std::string listen = fmt::format("127.0.0.1:{}", port_);
    std::string maildir = dir_ + "/Maildir";
    std::string log = dir_ + "/aiosmtpd.log";
    std::vector<std::string> args = {
        "/usr/bin/python3",          "-m",   "aiosmtpd", "-n", "-l", listen, "-c",
        "aiosmtpd.handlers.Mailbox", maildir};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return;
    }
    // Ready when its SMTP greeting arrives; bounded.
    auto deadline = Steady::now() + std::chrono::seconds(20);
    while (Steady::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port_));
      if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        pollfd p{fd, POLLIN, 0};
        char greeting[4] = {};
        bool smtp = poll(&p, 1, 5000) == 1 && recv(fd, greeting, 3, 0) == 3 &&
                    std::string_view(greeting, 3) == "220";
        close(fd);
        if (smtp) {
          ready_ = true;
        } else {
          Stop();  // someone else's port
        }
        return;
      }
      close(fd);
      poll(nullptr, 0, 50);
    }
    Stop();
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// Parses a delivered message with Python's email package (an independent MIME parser).
json::value ParseWithPython(const std::string& dir, const std::string& path) {
  std::string script = dir + "/parse.py";
  std::ofstream(script) << R"(import email, json, sys
from email import policy
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=policy.default)
parts, defects = [], [str(d) for d in m.defects]
for p in m.walk():
    defects += [str(d) for d in p.defects]
    if p.get_content_maintype() != 'multipart':
        parts.append({'type': p.get_content_type(), 'charset': p.get_content_charset(),
                      'cte': p.get('Content-Transfer-Encoding'), 'content': p.get_content()})
print(json.dumps({'subject': str(m['subject']), 'from': str(m['from']), 'to': str(m['to']),
                  'message_id': str(m['message-id']), 'date': str(m['date']),
                  'mail_from': str(m['x-mailfrom']), 'rcpt_to': str(m['x-rcptto']),
                  'content_type': m.get_content_type(), 'parts': parts, 'defects': defects}))
)";
  std::string cmd = "/usr/bin/python3 " + script + " " + path;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return nullptr;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  boost::system::error_code ec;
  json::value v = json::parse(out, ec);
  EXPECT_FALSE(ec) << out;
  return v;
}

std::string S(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : "?"; }

TEST(EmailLoopbackTest, DeliveredAsMultipartWithLinks) {
  SmtpSink sink;
  ASSERT_TRUE(sink.ready()) << "could not start /usr/bin/python3 -m aiosmtpd (install "
                               "python3-aiosmtpd: scripts/install-deps.sh): "
                            << sink.Log();
  SenderOptions o = LoopbackOptions();
  o.smtp.url = sink.url();
  o.smtp.from = "Houston Pager <pager@houston.example.com>";
  auto sender = NewSender(o);
  Message m = Page("msg-smtp-1");
  m.incidents[0].title = "Caf\xc3\xa9 <script>alert(1)</script> down \xe2\x98\x95";
  Channel c;
  c.type = "email";
  c.address = "alice@example.com";
  Delivery d = sender->Send(c, m);
  ASSERT_EQ(d.outcome, Outcome::kSent) << d.detail << "\n" << sink.Log();
  EXPECT_EQ(d.http_status, 250);

  std::vector<std::string> files = sink.Messages(1);
  ASSERT_EQ(files.size(), 1u) << sink.Log();
  json::value v = ParseWithPython(sink.dir(), files[0]);
  ASSERT_TRUE(v.is_object());
  EXPECT_TRUE(v.at("defects").as_array().empty()) << json::serialize(v.at("defects"));
  EXPECT_EQ(S(v.at("subject")), EmailFor(m).subject);
  EXPECT_THAT(S(v.at("subject")), HasSubstr("Caf\xc3\xa9 <script>"));
  EXPECT_EQ(S(v.at("from")), "Houston Pager <pager@houston.example.com>");
  EXPECT_EQ(S(v.at("to")), "alice@example.com");
  EXPECT_EQ(S(v.at("message_id")), "<msg-smtp-1@houston.example.com>");
  EXPECT_EQ(S(v.at("mail_from")), "pager@houston.example.com");
  EXPECT_EQ(S(v.at("rcpt_to")), "alice@example.com");
  EXPECT_EQ(S(v.at("content_type")), "multipart/alternative");
  const json::array& parts = v.at("parts").as_array();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(S(parts[0].at("type")), "text/plain");
  EXPECT_EQ(S(parts[0].at("charset")), "utf-8");
  std::string text = S(parts[0].at("content"));
  EXPECT_THAT(text, HasSubstr("Acknowledge: " + m.ack_url));
  EXPECT_THAT(text, HasSubstr("Resolve: " + m.resolve_url));
  EXPECT_THAT(text, HasSubstr("Caf\xc3\xa9 <script>alert(1)</script> down \xe2\x98\x95"));
  EXPECT_EQ(S(parts[1].at("type")), "text/html");
  std::string html = S(parts[1].at("content"));
  EXPECT_THAT(html, HasSubstr("href=\"" + m.ack_url + "\""));
  EXPECT_THAT(html, HasSubstr("href=\"" + m.resolve_url + "\""));
  EXPECT_THAT(html, HasSubstr("Caf\xc3\xa9 &lt;script&gt;alert(1)&lt;/script&gt; down"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script>")));
  EXPECT_EQ(html, EmailFor(m).html);
  EXPECT_EQ(text, EmailFor(m).text);
}

TEST(EmailLoopbackTest, SmtpGoesThroughTheEgressGuard) {
  SmtpSink sink;
  ASSERT_TRUE(sink.ready()) << sink.Log();
  SenderOptions o;  // no allowlist
  o.smtp.url = sink.url();
  o.smtp.from = "pager@houston.example.com";
  Channel c;
  c.type = "email";
  c.address = "alice@example.com";
  Delivery d = NewSender(o)->Send(c, Page());
  EXPECT_EQ(d.outcome, Outcome::kFailed);
  EXPECT_THAT(d.detail, StartsWith("destination address not allowed"));
  EXPECT_TRUE(sink.Messages(0).empty());

  // Not configured, or a bad address: failed before any connection.
  EXPECT_EQ(NewSender(LoopbackOptions())->Send(c, Page()).outcome, Outcome::kFailed);
  o = LoopbackOptions();
  o.smtp.url = sink.url();
  o.smtp.from = "pager@houston.example.com";
  c.address = "alice@example.com\r\nRCPT TO:<mallory@example.com>";
  EXPECT_EQ(NewSender(o)->Send(c, Page()).outcome, Outcome::kFailed);
  EXPECT_TRUE(sink.Messages(0).empty());
}

}  // namespace
}  // namespace houston::notify
