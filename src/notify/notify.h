// notify: channel senders. Delivers one notification (a page, a reminder, a test) to one contact
// method and reports a precise outcome; the engine's outbox owns retries, backoff, throttling and
// the dead-letter state, using the Outcome classification made here.
//
// The module owns the outbound wire formats: the webhook JSON and its signatures (DESIGN.md
// "Contracts", plus Standard Webhooks headers), the Slack incoming-webhook message, the email
// (MIME multipart/alternative over SMTP) and the templated provider body for SMS/voice gateways.
// It also owns the egress guard (which destination addresses a notification may reach) and the
// signed action links (acknowledge/resolve without logging in).
//
// Everything except Sender::Send is pure and thread-safe. Send blocks on the network: call it
// from a notification worker thread, never from the engine or an I/O thread. Nothing here throws.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace houston::notify {

// ---- what is sent ---------------------------------------------------------------------------

// The incident a notification is about, as the receiver sees it.
struct IncidentRef {
  int64_t id = 0;
  std::string title;
  std::string service;       // service id
  std::string service_name;  // display name (may equal the id)
  std::string severity;      // wire name, e.g. "critical"
  std::string status;        // "triggered", "acknowledged", "mitigated", "resolved"
  std::string url;           // the incident's page in the UI
  std::string sev;           // the SEV level, e.g. "SEV2"; empty while untriaged
};

// One notification to one contact method.
struct Message {
  // Stable per message across retries: receivers deduplicate on it (X-Houston-Message-Id,
  // webhook-id, the email Message-ID).
  std::string id;
  std::string event;  // "incident.triggered", "incident.escalated", "incident.reminder", "test"
  // Usually one; several when pages for one contact method were bundled (the first is the one
  // `ack_url`/`resolve_url` were made for; a bundled `ack_url` acknowledges them all).
  std::vector<IncidentRef> incidents;
  std::string ack_url, resolve_url;  // signed links; empty: not offered
  std::string user_id, user_name;    // who is being paged
  int step = 0, loop = 0;            // escalation step and policy repetition
  TimePoint created_at{};            // when the engine created the message (email Date header)
  std::string runbook_url;           // the service's runbook; empty: none
  // Suspect changes, one line each, most suspicious first (pages show the first few).
  std::vector<std::string> suspects;
  // Messages written for people rather than pages (a status update, a reminder, a role
  // assignment): the subject line and the text. Empty for pages.
  std::string subject;
  std::string text;
  // An outbound incident webhook's exact JSON body: sent as is by webhook channels.
  std::string body_json;
};

// What a contact method says, copied from config::ContactMethod by the caller.
struct Channel {
  std::string type;  // "webhook", "slack", "email" or "sms_provider"
  std::string url;
  std::string address;        // email: the recipient; sms_provider: the phone number ({{address}})
  std::string secret;         // HMAC key; empty: requests are not signed
  std::string body_template;  // sms_provider: mustache body (see ProviderBody)
  std::map<std::string, std::string> headers;  // extra request headers (HTTP channels)
};

// ---- outcomes -------------------------------------------------------------------------------

enum class Outcome {
  // The receiver accepted it (HTTP 2xx, SMTP 250 after DATA).
  kSent,
  // Transient, and the request surely or probably did not take effect: connection refused,
  // DNS failure, connect timeout, HTTP 5xx/429/408, SMTP 4xx. Safe to retry with backoff.
  kRetry,
  // Permanent: other 4xx, any 3xx (redirects are never followed), TLS errors, refused by the
  // egress guard, a malformed URL or header, a bad template, SMTP 5xx. Retrying will not help.
  kFailed,
  // The request may have been received (e.g. a timeout or a dropped connection after the whole
  // request was sent). Do NOT retry automatically: show it and let escalation move on
  // (GoAlert's rule; reliability.md G3).
  kUnknown,
};
std::string_view ToString(Outcome o);  // "sent", "retry", "failed", "unknown"

struct Delivery {
  Outcome outcome = Outcome::kFailed;
  int http_status = 0;  // HTTP status; for email the last SMTP reply code; 0 if none
  std::string detail;   // one line for people: what happened and, for failures, what to fix
  std::optional<std::chrono::seconds> retry_after;  // from a Retry-After header, if any
};

// ---- the sender -----------------------------------------------------------------------------

// Which destination addresses outbound requests may reach. By default private, loopback,
// link-local, multicast and reserved ranges are refused (see AddressAllowed); `allow_cidrs`
// ("127.0.0.1/32", "10.0.0.0/8", "fd00::/8", or a bare address) re-allows some of them.
struct EgressPolicy {
  std::vector<std::string> allow_cidrs;
  // Names pinned to addresses, in libcurl's CURLOPT_RESOLVE form ("host:port:addr[,addr...]"),
  // used instead of DNS for those names. Tests simulate DNS answers with it (a public-looking
  // name that resolves to a private address, an answer that changes): the guard still judges
  // every pinned address at connect time.
  std::vector<std::string> resolve;
};

struct SmtpSettings {
  std::string url;   // "smtp://host:port" (STARTTLS optional) or "smtps://host:port" (TLS)
  std::string from;  // "houston@example.com" or "Houston <houston@example.com>"
  std::string username, password;  // AUTH when username is set
  bool require_starttls = false;   // smtp://: refuse to send unless STARTTLS succeeds
};

struct SenderOptions {
  EgressPolicy egress;  // applies to every channel, SMTP included
  SmtpSettings smtp;
  std::chrono::milliseconds timeout{10000};       // whole request, connect included
  size_t max_response_bytes = size_t{64} * 1024;  // more is not read (the outcome still counts)
  size_t max_request_bytes = size_t{256} * 1024;  // a larger body is kFailed, not sent
  std::string user_agent = "houston/0.1";
  // Reads the time for webhook-timestamp and HTTP-date Retry-After values. nullptr: RealClock().
  const Clock* clock = nullptr;
};

// Delivers one message per call; no retries inside. Thread-safe; Send blocks for at most about
// SenderOptions::timeout.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual Delivery Send(const Channel& channel, const Message& message) = 0;
};

// The real sender: libcurl for webhook/slack/sms_provider (HTTP POST) and SMTP for email.
//
// HTTP channels POST with Content-Type application/json (sms_provider: its own Content-Type
// header if set), X-Houston-Message-Id, X-Houston-Event, the Standard Webhooks headers
// webhook-id and webhook-timestamp, and, when the channel has a secret, X-Houston-Signature
// (SignatureHeader) and webhook-signature (StandardWebhookSignature); then the channel's own
// headers (ones that would replace a header above are skipped). Only http/https, no redirects,
// no proxies, every resolved address checked by AddressAllowed before connect().
// Email goes through SmtpSettings (kFailed if smtp.url or smtp.from is empty) to
// Channel::address, as built by EmailFor and MimeMessage.
std::unique_ptr<Sender> NewSender(SenderOptions options);

// ---- pure helpers ---------------------------------------------------------------------------

// The webhook JSON (DESIGN.md "Contracts"):
// {"event","message_id","created_at","incident":{id,title,service,service_name,severity,sev,
//  status,url} (null when there is none),"incidents":[...],"ack_url","resolve_url",
//  "runbook_url","user":{"id","name"},"step","loop","suspects":[...]}, plus "subject" and
// "text" when the message has them. A message with `body_json` is sent as that body instead.
std::string WebhookBody(const Message& message);

// A Slack incoming-webhook message: "text" (the notification fallback) and blocks: a header
// with a severity emoji and the title, the service/severity/status/incident fields (one line
// per incident when bundled, at most 10 listed), and link buttons (acknowledge, resolve, open
// incident, runbook) for the http(s) URLs present.
std::string SlackBody(const Message& message);

struct Email {
  std::string subject;  // one line, UTF-8 (MimeMessage encodes it)
  std::string text;     // text/plain, '\n' line ends
  std::string html;     // text/html, every value escaped; links only for http(s) URLs
};
// The email for a message, with the acknowledge and resolve links.
Email EmailFor(const Message& message);

struct MimeHeaders {
  std::string from;        // as SmtpSettings::from
  std::string to;          // the recipient address
  std::string message_id;  // Message::id; becomes "<id@domain-of-from>"
  TimePoint date{};
};
// The whole RFC 5322 message, CRLF line ends: Date, From, To, Subject (RFC 2047 encoded when
// not ASCII), Message-ID, MIME-Version, Auto-Submitted, X-Houston-Message-Id and a
// multipart/alternative body (text then HTML, UTF-8, quoted-printable). Deterministic.
std::string MimeMessage(const Email& email, const MimeHeaders& headers);

// How ProviderBody escapes {{name}} values ({{{name}}} and {{&name}} are never escaped).
enum class TemplateEscape {
  kJson,  // for use inside a JSON string literal: \" \\ \n \u00XX (default)
  kForm,  // application/x-www-form-urlencoded (percent-encoding, space as +)
  kXml,   // & < > " ' as entities
  kNone,
};
struct ProviderContext {
  std::string address;  // Channel::address, e.g. the phone number
  TemplateEscape escape = TemplateEscape::kJson;
};
// Renders an SMS/voice provider body with kainjow mustache. Variables: event, message_id,
// created_at, ack_url, resolve_url, runbook_url, step, loop, address, summary (a one-line text
// fit for an SMS), incident_count, user.id, user.name, incident.{id,title,service,service_name,
// severity,status,url} (the first incident) and the list incidents (same fields).
// Unknown variables render empty. Returns InvalidArgument "invalid message template: ... at
// line L, column C" for a template that does not parse.
Result<std::string> ProviderBody(const std::string& mustache_template, const Message& message,
                                 const ProviderContext& context = {});
// The escaping that suits a Content-Type value (json -> kJson, x-www-form-urlencoded -> kForm,
// xml -> kXml, anything else -> kNone).
TemplateEscape EscapeForContentType(std::string_view content_type);

// "v1=" + lower-case hex HMAC-SHA256(secret, body): the X-Houston-Signature header value.
// `s` escaped for HTML text and attribute values (& < > " ').
std::string HtmlEscape(std::string_view s);

std::string SignatureHeader(std::string_view secret, std::string_view body);

// The Standard Webhooks signature header value: "v1," + base64 HMAC-SHA256(key,
// "<message_id>.<unix_seconds>.<body>"), where key is the base64-decoded part after "whsec_"
// when `secret` has that form, else the secret's bytes.
std::string StandardWebhookSignature(std::string_view secret, std::string_view message_id,
                                     int64_t unix_seconds, std::string_view body);

// True if a connection to `addr` may be made. `addr` points to a whole sockaddr_in or
// sockaddr_in6 (any other family is refused).
// Refused unless allowlisted: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24,
// 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4, 240/4;
// ::/96 (unspecified, loopback, IPv4-compatible), 100::/64, 2001::/32 (Teredo), 2001:db8::/32,
// 64:ff9b:1::/48, fc00::/7, fe80::/10, fec0::/10, ff00::/8; IPv4-mapped (::ffff:0:0/96), NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) addresses whose embedded IPv4 address is refused.
// An IPv4-mapped address is matched against the allowlist in both forms. Allowlist
// entries that do not parse match nothing (see ValidateEgressPolicy).
bool AddressAllowed(const struct sockaddr* addr, const EgressPolicy& policy);
// InvalidArgument naming each allowlist entry that is not "address" or "address/prefix".
Status ValidateEgressPolicy(const EgressPolicy& policy);
// The detail of a delivery the egress guard stopped: which addresses (as text, e.g. "127.0.0.1"
// or "::1"; duplicates removed) were refused, and the `--allow-egress CIDR` flags that would
// allow each of them ("127.0.0.1/32", "::1/128"), to be given as `command` says.
std::string RefusedDetail(std::vector<std::string> addresses,
                          std::string_view command = "start houston serve");

// The egress guard on one libcurl transfer, for every outbound request houston makes
// (notifications here, the importers' API calls in migration/): installed on an easy handle, it
// vets each address libcurl is about to connect to, after DNS resolution and right before
// connect() (CURLOPT_OPENSOCKETFUNCTION), so every spelling of an address (2130706433, 0x7f.1,
// 0177.0.0.1, 127.1, [::ffff:7f00:1], a trailing dot) and a DNS answer that changes between
// lookups are judged by the address actually used; a refused address gets no packet. It also
// ignores proxies from the environment and follows no redirects. Not thread-safe: one per
// transfer, outliving it.
class CurlEgressGuard {
 public:
  explicit CurlEgressGuard(EgressPolicy policy) : policy_(std::move(policy)) {}
  ~CurlEgressGuard();
  CurlEgressGuard(const CurlEgressGuard&) = delete;
  CurlEgressGuard& operator=(const CurlEgressGuard&) = delete;

  // Installs the guard on `curl` (a CURL*, declared void* to keep libcurl out of this header).
  // Returns false if libcurl refused an option (the transfer must not run then).
  bool Install(void* curl);
  // Addresses the guard refused (as text, e.g. "127.0.0.1"), and sockets it let be opened.
  const std::vector<std::string>& refused() const { return refused_; }
  int opened() const { return opened_; }
  // The transfer failed because every address it tried was refused.
  bool RefusedAll() const { return opened_ == 0 && !refused_.empty(); }

  // Internal: the CURLOPT_OPENSOCKETFUNCTION decision (returns a socket or -1).
  int Open(int purpose, int family, int socktype, int protocol, const struct sockaddr* addr,
           size_t addrlen);

 private:
  EgressPolicy policy_;
  std::vector<std::string> refused_;
  int opened_ = 0;
  void* resolve_list_ = nullptr;  // curl_slist* of policy_.resolve
};

// ---- signed action links --------------------------------------------------------------------

// A URL-safe token that authorizes `action` on one incident until `expires`, on behalf of
// `user_id` (may be empty), signed with HMAC-SHA256 under `key`. `episode` binds it to one
// episode of the incident (core::Incident::episode: 0 until it is first reopened), so that a
// link sent before a resolve and reopen does nothing afterwards. Episode 0 gives
// "v1.<incident>.<action>.<expires_unix_ms>.<base64url user>.<base64url mac>"; a later episode
// "v2.<incident>.<action>.<expires_unix_ms>.<base64url user>.<episode>.<base64url mac>".
// `key` must not be empty and `action` must be lower-case letters (checked: a programming error).
std::string MakeActionToken(std::string_view key, int64_t incident_id, std::string_view action,
                            TimePoint expires, std::string_view user_id = {}, int64_t episode = 0);

// How long a link to an incident's page ("view") works: longer than acknowledge links, since
// people come back to a notification to read up on an incident.
inline constexpr std::chrono::hours kViewLinkLifetime{24 * 30};

// The address a person opens to read about an incident: a signed, read-only page
// "<base>/actions/<view token>" that needs no API token (a "view" token for `episode`, expiring
// at `expires`), or "<base>/api/v1/incidents/<id>" when links are disabled (`key` empty).
// Trailing slashes of `base` are dropped.
std::string IncidentPageUrl(std::string_view base, std::string_view key, int64_t incident_id,
                            int64_t episode, TimePoint expires, std::string_view user_id = {});

struct ActionClaim {
  // The incident; for "ack_batch" the message (batch) id; 0 for "ics".
  int64_t incident_id = 0;
  std::string action;  // "ack", "resolve", "view" (read the incident's page), "ack_batch" (every
                       // incident of a bundled message) or "ics" (a calendar feed; user_id
                       // names it)
  TimePoint expires{};
  std::string user_id;  // who the link was sent to; may be empty
  int64_t episode = 0;  // the incident's episode the link was made for
  // Names this link (and no other) without being it: hex BLAKE2b of its signature. What the store
  // records for a link that acted, so that a link that changes state acts once.
  std::string link_id;
};
// Checks a token from MakeActionToken. InvalidArgument "malformed action link" when it is not a
// token; PermissionDenied when the signature does not match (or `key` is empty);
// FailedPrecondition "link expired" when it is valid but now >= expires. The signature is
// compared in constant time and checked before anything else is believed. The caller compares
// `episode` with the incident's.
Result<ActionClaim> VerifyActionToken(std::string_view key, std::string_view token, TimePoint now);

}  // namespace houston::notify
