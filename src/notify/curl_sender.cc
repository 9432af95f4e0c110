// The real Sender: one libcurl easy handle per Send, HTTP POST for webhook/slack/sms_provider and
// SMTP for email, every connection vetted by the egress guard before connect().
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "notify/internal/codec.h"
#include "notify/notify.h"

namespace houston::notify {
namespace {

// What one transfer's callbacks see and record.
struct Transfer {
  std::string response;
  size_t max_response = 0;
  bool truncated = false;
  std::string_view upload;  // SMTP: the message
  size_t uploaded = 0;
};

std::string AddressText(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// Called by libcurl for every address it is about to connect to, after DNS resolution: the only
// reliable place to stop SSRF (it also sees every spelling of an address and DNS rebinding).
curl_socket_t OpenSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  return static_cast<CurlEgressGuard*>(clientp)->Open(static_cast<int>(purpose), address->family,
                                                      address->socktype, address->protocol,
                                                      &address->addr, address->addrlen);
}

size_t WriteResponse(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  size_t len = size * n;
  size_t room = t->max_response - t->response.size();
  if (len > room) {
    t->response.append(data, room);
    t->truncated = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.append(data, len);
  return len;
}

size_t ReadUpload(char* buffer, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  size_t len = std::min(size * n, t->upload.size() - t->uploaded);
  std::memcpy(buffer, t->upload.data() + t->uploaded, len);
  t->uploaded += len;
  return len;
}

class Slist {
 public:
  Slist() = default;
  Slist(const Slist&) = delete;
  Slist& operator=(const Slist&) = delete;
  ~Slist() { curl_slist_free_all(head_); }
  bool Add(const std::string& s) {
    curl_slist* next = curl_slist_append(head_, s.c_str());
    if (next == nullptr) return false;
    head_ = next;
    return true;
  }
  curl_slist* get() const { return head_; }

 private:
  curl_slist* head_ = nullptr;
};

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHeaderName(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && std::strchr("!#$%&'*+-.^_`|~", c) == nullptr) return false;
  }
  return true;
}

bool IsHeaderValue(std::string_view s) {
  return s.size() <= 8192 && s.find_first_of(std::string_view("\r\n\0", 3)) == s.npos;
}

// Headers houston sets itself; a contact method's own headers cannot replace them.
bool Reserved(const std::string& lower_name) {
  static constexpr std::string_view kNames[] = {
      "content-length", "host",       "transfer-encoding", "connection",        "expect",
      "webhook-id",     "user-agent", "webhook-timestamp", "webhook-signature",
  };
  if (lower_name.starts_with("x-houston-")) return true;
  return std::find(std::begin(kNames), std::end(kNames), lower_name) != std::end(kNames);
}

// The start of a response body, safe to show in one line.
std::string Snippet(std::string_view body) {
  std::string out;
  for (unsigned char c : body.substr(0, 200)) {
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::optional<std::chrono::seconds> RetryAfter(CURL* h, const Clock& clock) {
  curl_header* header = nullptr;
  if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &header) != CURLHE_OK ||
      header == nullptr || header->value == nullptr) {
    return std::nullopt;
  }
  std::string_view v = header->value;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc() && ptr == v.data() + v.size() && seconds >= 0) {
    return std::chrono::seconds(std::min<int64_t>(seconds, 365LL * 24 * 3600));
  }
  // An HTTP-date.
  time_t when = curl_getdate(std::string(v).c_str(), nullptr);
  if (when == -1) return std::nullopt;
  auto now = std::chrono::floor<std::chrono::seconds>(clock.Now()).time_since_epoch().count();
  return std::chrono::seconds(std::max<int64_t>(0, static_cast<int64_t>(when) - now));
}

Delivery Make(Outcome outcome, std::string detail, int status = 0) {
  Delivery d;
  d.outcome = outcome;
  d.detail = std::move(detail);
  d.http_status = status;
  return d;
}

std::string CurlError(CURLcode rc, const char* errbuf) {
  return errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
}

bool IsTlsError(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return true;
    default:
      return false;
  }
}

// The outcome of a transfer that failed without a usable reply. `maybe_received`: the whole
// request may have reached the receiver, so a retry could deliver it twice.
Delivery ClassifyTransportError(CURLcode rc, const char* errbuf, bool maybe_received) {
  std::string err = CurlError(rc, errbuf);
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Make(Outcome::kFailed, "unsupported protocol (only http and https): " + err);
    case CURLE_URL_MALFORMAT:
      return Make(Outcome::kFailed, "malformed URL: " + err);
    case CURLE_COULDNT_RESOLVE_HOST:
      return Make(Outcome::kRetry, "DNS lookup failed: " + err);
    case CURLE_COULDNT_CONNECT:
      return Make(Outcome::kRetry, "connection failed: " + err);
    case CURLE_LOGIN_DENIED:
      return Make(Outcome::kFailed, "authentication failed: " + err);
    case CURLE_USE_SSL_FAILED:
      return Make(Outcome::kFailed, "the server does not offer STARTTLS: " + err);
    case CURLE_SEND_ERROR:
      // The request did not get out whole: nothing could have acted on it.
      return Make(Outcome::kRetry, "sending failed: " + err);
    default:
      break;
  }
  if (IsTlsError(rc)) return Make(Outcome::kFailed, "TLS error: " + err);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return maybe_received ? Make(Outcome::kUnknown, "timed out after the request was sent: " + err)
                          : Make(Outcome::kRetry, "timed out before the request was sent: " + err);
  }
  return maybe_received ? Make(Outcome::kUnknown, "no reply after the request was sent: " + err)
                        : Make(Outcome::kRetry, err);
}

Delivery Refused(const CurlEgressGuard& g) {
  return Make(Outcome::kFailed, RefusedDetail(g.refused()));
}

class CurlSender final : public Sender {
 public:
  explicit CurlSender(SenderOptions options) : options_(std::move(options)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    clock_ = options_.clock != nullptr ? options_.clock : &RealClock();
  }

  Delivery Send(const Channel& channel, const Message& message) override {
    if (channel.type == "webhook") {
      return SendHttp(channel, message, WebhookBody(message), "application/json");
    }
    if (channel.type == "slack") {
      return SendHttp(channel, message, SlackBody(message), "application/json");
    }
    if (channel.type == "sms_provider") {
      std::string content_type = "application/json";
      for (const auto& [name, value] : channel.headers) {
        if (Lower(name) == "content-type") content_type = value;
      }
      if (channel.body_template.empty()) {
        return SendHttp(channel, message, WebhookBody(message), content_type);
      }
      Result<std::string> body =
          ProviderBody(channel.body_template, message,
                       ProviderContext{channel.address, EscapeForContentType(content_type)});
      if (!body) return Make(Outcome::kFailed, body.error().message());
      return SendHttp(channel, message, *body, content_type);
    }
    if (channel.type == "email") return SendEmail(channel, message);
    return Make(Outcome::kFailed, fmt::format("unknown contact method type '{}'", channel.type));
  }

 private:
  // Options every transfer gets: the egress guard (no proxies, no redirects), timeouts, the
  // response cap. False if the guard could not be installed.
  bool Common(CURL* h, Transfer& t, CurlEgressGuard& guard, char* errbuf) const {
    t.max_response = options_.max_response_bytes;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteResponse);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    return guard.Install(h);
  }

  Delivery SendHttp(const Channel& c, const Message& m, const std::string& body,
                    const std::string& content_type) const {
    if (c.url.empty()) return Make(Outcome::kFailed, "the contact method has no url");
    if (body.size() > options_.max_request_bytes) {
      return Make(Outcome::kFailed, fmt::format("the {} byte body is over the {} byte limit",
                                                body.size(), options_.max_request_bytes));
    }
    Slist headers;
    bool ok = headers.Add("Content-Type: " + content_type) &&
              headers.Add("Expect:") &&  // no 100-continue round trip
              headers.Add("X-Houston-Message-Id: " + internal::OneLine(m.id)) &&
              headers.Add("X-Houston-Event: " + internal::OneLine(m.event)) &&
              headers.Add("webhook-id: " + internal::OneLine(m.id));
    int64_t now =
        std::chrono::floor<std::chrono::seconds>(clock_->Now()).time_since_epoch().count();
    ok = ok && headers.Add(fmt::format("webhook-timestamp: {}", now));
    if (!c.secret.empty()) {
      ok = ok && headers.Add("X-Houston-Signature: " + SignatureHeader(c.secret, body)) &&
           headers.Add("webhook-signature: " + StandardWebhookSignature(c.secret, m.id, now, body));
    }
    for (const auto& [name, value] : c.headers) {
      if (!IsHeaderName(name) || !IsHeaderValue(value)) {
        return Make(Outcome::kFailed, fmt::format("invalid header '{}' in the contact method",
                                                  internal::OneLine(name)));
      }
      std::string lower = Lower(name);
      if (lower == "content-type" || Reserved(lower)) continue;
      std::string line = name;
      line += value.empty() ? ";" : ": ";
      line += value;
      ok = ok && headers.Add(line);
    }
    if (!ok) return Make(Outcome::kRetry, "out of memory building the request");

    Easy easy = TakeHttpHandle();
    if (!easy) return Make(Outcome::kRetry, "curl_easy_init failed");
    CURL* h = easy.get();
    Transfer t;
    CurlEgressGuard guard(options_.egress);
    char errbuf[CURL_ERROR_SIZE] = "";
    // Back to the pool (reset) on every return below, before the guard, the transfer and the
    // error buffer it points to are gone.
    struct Returner {
      const CurlSender* sender;
      Easy& easy;
      ~Returner() {
        if (easy) sender->ReturnHttpHandle(std::move(easy));
      }
    } returner{this, easy};
    if (!Common(h, t, guard, errbuf)) {
      return Make(Outcome::kFailed, "libcurl refused the egress guard's options");
    }
    curl_easy_setopt(h, CURLOPT_URL, c.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    CURLcode rc = curl_easy_perform(h);

    if (guard.RefusedAll()) return Refused(guard);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200) {
      // The receiver answered; what happened to the rest of the body does not change that.
      Delivery d = ClassifyStatus(h, status, t);
      if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.truncated)) {
        d.detail += " (then: " + CurlError(rc, errbuf) + ")";
      }
      return d;
    }
    if (rc == CURLE_OK) return Make(Outcome::kUnknown, "no HTTP status in the reply");
    return ClassifyTransportError(rc, errbuf, MaybeReceived(h));
  }

  // True once libcurl got as far as sending the request: past that point the receiver may act
  // on it even if no reply comes back.
  static bool MaybeReceived(CURL* h) {
    long request_size = 0;
    curl_off_t uploaded = 0, pretransfer_us = 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_size);
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &uploaded);
    curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
    return request_size > 0 || uploaded > 0 || pretransfer_us > 0;
  }

  Delivery ClassifyStatus(CURL* h, long status, const Transfer& t) const {
    int code = static_cast<int>(status);
    std::string snippet = Snippet(t.response);
    std::string suffix = snippet.empty() ? "" : ": " + snippet;
    Delivery d;
    if (status < 300) {
      d = Make(Outcome::kSent, fmt::format("HTTP {}", status), code);
      if (t.truncated) {
        d.detail += fmt::format(" (response body cut at {} bytes)", options_.max_response_bytes);
      }
    } else if (status < 400) {
      char* location = nullptr;
      curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
      d = Make(
          Outcome::kFailed,
          fmt::format("HTTP {}: redirect{} not followed; point the contact method at the "
                      "final URL",
                      status,
                      location ? " to " + internal::Utf8Truncate(internal::OneLine(location), 300)
                               : std::string()),
          code);
    } else if (status == 408 || status == 429 || status >= 500) {
      d = Make(Outcome::kRetry, fmt::format("HTTP {}{}", status, suffix), code);
    } else if (status == 410) {
      d = Make(Outcome::kFailed,
               fmt::format("HTTP 410 Gone: the receiver asks to stop sending; fix or remove the "
                           "contact method{}",
                           suffix),
               code);
    } else {
      d = Make(Outcome::kFailed, fmt::format("HTTP {}{}", status, suffix), code);
    }
    d.retry_after = RetryAfter(h, *clock_);
    return d;
  }

  Delivery SendEmail(const Channel& c, const Message& m) const {
    const SmtpSettings& s = options_.smtp;
    if (s.url.empty() || s.from.empty()) {
      return Make(Outcome::kFailed,
                  "email is not configured: set the SMTP server and from address");
    }
    auto bad_address = [](std::string_view a) {
      return a.empty() || a.find('@') == a.npos ||
             a.find_first_of(std::string_view(" <>\r\n\t\0,;", 9)) != a.npos;
    };
    std::string from_addr(s.from);
    if (size_t lt = from_addr.rfind('<'), gt = from_addr.rfind('>');
        lt != std::string::npos && gt != std::string::npos && gt > lt) {
      from_addr = from_addr.substr(lt + 1, gt - lt - 1);
    }
    if (bad_address(from_addr)) {
      return Make(Outcome::kFailed,
                  fmt::format("invalid SMTP from address '{}'", internal::OneLine(s.from)));
    }
    if (bad_address(c.address)) {
      return Make(Outcome::kFailed,
                  fmt::format("invalid email address '{}'", internal::OneLine(c.address)));
    }
    std::string message = MimeMessage(EmailFor(m), {s.from, c.address, m.id, m.created_at});
    if (message.size() > options_.max_request_bytes) {
      return Make(Outcome::kFailed, fmt::format("the {} byte email is over the {} byte limit",
                                                message.size(), options_.max_request_bytes));
    }
    Slist rcpt;
    if (!rcpt.Add("<" + c.address + ">")) return Make(Outcome::kRetry, "out of memory");

    Easy easy(curl_easy_init());
    if (!easy) return Make(Outcome::kRetry, "curl_easy_init failed");
    CURL* h = easy.get();
    Transfer t;
    t.upload = message;
    CurlEgressGuard guard(options_.egress);
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!Common(h, t, guard, errbuf)) {
      return Make(Outcome::kFailed, "libcurl refused the egress guard's options");
    }
    curl_easy_setopt(h, CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    std::string mail_from = "<" + from_addr + ">";
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    if (!s.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, s.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, s.password.c_str());
    }
    if (s.require_starttls) curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    CURLcode rc = curl_easy_perform(h);

    if (guard.RefusedAll()) return Refused(guard);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    int reply = static_cast<int>(code);
    if (rc == CURLE_OK) {
      return Make(Outcome::kSent, fmt::format("accepted by the SMTP server ({})", code), reply);
    }
    std::string err = CurlError(rc, errbuf);
    if (rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED || IsTlsError(rc) ||
        rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ||
        rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT) {
      Delivery d = ClassifyTransportError(rc, errbuf, false);
      d.http_status = reply;
      return d;
    }
    if (code >= 400 && code < 500) {
      return Make(Outcome::kRetry, fmt::format("SMTP {} (temporary): {}", code, err), reply);
    }
    if (code >= 500 && code < 600) {
      return Make(Outcome::kFailed, fmt::format("SMTP {} (rejected): {}", code, err), reply);
    }
    // Once the whole message is out, the server may have queued it before the link broke.
    Delivery d = ClassifyTransportError(rc, errbuf, t.uploaded == message.size());
    d.http_status = reply;
    return d;
  }

  // HTTP handles are kept between sends, so that their connections to a receiver are reused
  // (keep-alive): a page to a receiver already connected costs no TCP (or TLS) handshake. A
  // handle is reset before it goes back, which keeps its connection cache and nothing else;
  // every send sets all of its options again, the egress guard included. A connection was
  // checked by the guard when it was opened, under the same policy (one per sender).
  Easy TakeHttpHandle() const {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        Easy h = std::move(idle_.back());
        idle_.pop_back();
        return h;
      }
    }
    return Easy(curl_easy_init());
  }
  void ReturnHttpHandle(Easy h) const {
    curl_easy_reset(h.get());
    std::lock_guard lock(pool_mu_);
    if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(h));
  }
  static constexpr size_t kMaxIdleHandles = 16;

  SenderOptions options_;
  const Clock* clock_ = nullptr;
  mutable std::mutex pool_mu_;
  mutable std::vector<Easy> idle_;
};

}  // namespace

CurlEgressGuard::~CurlEgressGuard() {
  curl_slist_free_all(static_cast<curl_slist*>(resolve_list_));
}

bool CurlEgressGuard::Install(void* curl) {
  CURL* h = static_cast<CURL*>(curl);
  for (const std::string& entry : policy_.resolve) {
    curl_slist* next = curl_slist_append(static_cast<curl_slist*>(resolve_list_), entry.c_str());
    if (next == nullptr) return false;
    resolve_list_ = next;
  }
  bool ok = curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, OpenSocket) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, this) == CURLE_OK &&
            // Environment proxies (http_proxy, ...) would connect elsewhere than the guard sees.
            curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_NOPROXY, "*") == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L) == CURLE_OK;
  if (ok && resolve_list_ != nullptr) {
    ok = curl_easy_setopt(h, CURLOPT_RESOLVE, static_cast<curl_slist*>(resolve_list_)) == CURLE_OK;
  }
  return ok;
}

int CurlEgressGuard::Open(int purpose, int family, int socktype, int protocol,
                          const struct sockaddr* addr, size_t addrlen) {
  sockaddr_storage ss{};
  std::memcpy(&ss, addr, std::min<size_t>(addrlen, sizeof ss));
  if (purpose != CURLSOCKTYPE_IPCXN ||
      !AddressAllowed(reinterpret_cast<const sockaddr*>(&ss), policy_)) {
    refused_.push_back(AddressText(ss));
    return CURL_SOCKET_BAD;
  }
  ++opened_;
  return socket(family, socktype | SOCK_CLOEXEC, protocol);
}

std::unique_ptr<Sender> NewSender(SenderOptions options) {
  return std::make_unique<CurlSender>(std::move(options));
}

}  // namespace houston::notify
