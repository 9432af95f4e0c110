#include "notify/notify.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <set>

#include <boost/json.hpp>
#include <cstring>
#include <string>

#include "notify/internal/codec.h"
#include "testing/status_matchers.h"

namespace houston::notify {
namespace {

using ::houston::testing::StatusIs;

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

TimePoint At(int64_t unix_ms) { return TimePoint(std::chrono::milliseconds(unix_ms)); }

IncidentRef Checkout() {
  IncidentRef i;
  i.id = 42;
  i.title = "Checkout latency \"high\" & rising";
  i.service = "checkout";
  i.service_name = "Checkout API";
  i.severity = "critical";
  i.status = "triggered";
  i.url = "https://houston.example.com/incidents/42";
  return i;
}

Message Page() {
  Message m;
  m.id = "msg-0001";
  m.event = "incident.triggered";
  m.incidents = {Checkout()};
  m.ack_url = "https://houston.example.com/act/v1.42.ack.sig";
  m.resolve_url = "https://houston.example.com/act/v1.42.resolve.sig";
  m.user_id = "alice";
  m.user_name = "Alice Example";
  m.step = 2;
  m.loop = 1;
  m.created_at = At(1'767'225'600'000);  // 2026-01-01T00:00:00Z
  m.runbook_url = "https://wiki.example.com/checkout";
  return m;
}

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : "?"; }

json::value Parse(const std::string& s) {
  boost::system::error_code ec;
  json::value v = json::parse(s, ec);
  EXPECT_FALSE(ec) << ec.message() << " in " << s;
  return v;
}

// ---- webhook --------------------------------------------------------------------------------

TEST(WebhookBodyTest, CarriesTheContractFields) {
  json::value v = Parse(WebhookBody(Page()));
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("event"), "incident.triggered");
  EXPECT_EQ(o.at("message_id"), "msg-0001");
  EXPECT_EQ(o.at("created_at"), "2026-01-01T00:00:00.000Z");
  const json::object& inc = o.at("incident").as_object();
  EXPECT_EQ(inc.at("id").as_int64(), 42);
  EXPECT_EQ(inc.at("title"), "Checkout latency \"high\" & rising");
  EXPECT_EQ(inc.at("service"), "checkout");
  EXPECT_EQ(inc.at("service_name"), "Checkout API");
  EXPECT_EQ(inc.at("severity"), "critical");
  EXPECT_EQ(inc.at("status"), "triggered");
  EXPECT_EQ(inc.at("url"), "https://houston.example.com/incidents/42");
  ASSERT_EQ(o.at("incidents").as_array().size(), 1u);
  EXPECT_EQ(o.at("incidents").as_array()[0], o.at("incident"));
  EXPECT_EQ(o.at("ack_url"), "https://houston.example.com/act/v1.42.ack.sig");
  EXPECT_EQ(o.at("resolve_url"), "https://houston.example.com/act/v1.42.resolve.sig");
  EXPECT_EQ(o.at("runbook_url"), "https://wiki.example.com/checkout");
  EXPECT_EQ(o.at("user").at("id"), "alice");
  EXPECT_EQ(o.at("user").at("name"), "Alice Example");
  EXPECT_EQ(o.at("step").as_int64(), 2);
  EXPECT_EQ(o.at("loop").as_int64(), 1);
}

TEST(WebhookBodyTest, BundledAndEmpty) {
  Message m = Page();
  IncidentRef other = Checkout();
  other.id = 43;
  other.service_name = "";  // falls back to the service id
  m.incidents.push_back(other);
  json::value v = Parse(WebhookBody(m));
  EXPECT_EQ(v.at("incident").at("id").as_int64(), 42);
  ASSERT_EQ(v.at("incidents").as_array().size(), 2u);
  EXPECT_EQ(v.at("incidents").as_array()[1].at("service_name"), "checkout");

  Message test;
  test.id = "t";
  test.event = "test";
  json::value t = Parse(WebhookBody(test));
  EXPECT_TRUE(t.at("incident").is_null());
  EXPECT_TRUE(t.at("incidents").as_array().empty());
}

TEST(WebhookBodyTest, EscapesControlCharactersAndKeepsUtf8) {
  Message m = Page();
  m.incidents[0].title = "line1\nline2\t\x01 caf\xc3\xa9 \xe2\x98\x95";
  json::value v = Parse(WebhookBody(m));
  EXPECT_EQ(v.at("incident").at("title"), "line1\nline2\t\x01 caf\xc3\xa9 \xe2\x98\x95");
}

// ---- signatures -----------------------------------------------------------------------------

TEST(SignatureTest, Rfc4231TestCase2) {
  EXPECT_EQ(SignatureHeader("Jefe", "what do ya want for nothing?"),
            "v1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SignatureTest, LongKeysAreHashedFirst) {
  // RFC 4231 test case 6: a 131-byte key (longer than the SHA-256 block).
  EXPECT_EQ(SignatureHeader(std::string(131, '\xaa'),
                            "Test Using Larger Than Block-Size Key - Hash Key First"),
            "v1=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(SignatureTest, StandardWebhooksSpecExample) {
  // The example in the Standard Webhooks spec (and its reference libraries).
  EXPECT_EQ(StandardWebhookSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                     "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                     R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // A secret that is not whsec_ is used as it is.
  std::string raw = StandardWebhookSignature("s3cret", "m", 1, "{}");
  EXPECT_TRUE(raw.starts_with("v1,"));
  EXPECT_NE(raw, StandardWebhookSignature("s3cret", "m", 2, "{}"));
}

// ---- Slack ----------------------------------------------------------------------------------

TEST(SlackBodyTest, SingleIncident) {
  Message m = Page();
  m.incidents[0].title = "DB <down> & out";
  json::value v = Parse(SlackBody(m));
  std::string text(v.at("text").as_string());
  EXPECT_THAT(text, HasSubstr("DB &lt;down&gt; &amp; out"));
  EXPECT_THAT(text, HasSubstr("CRITICAL"));
  const json::array& blocks = v.at("blocks").as_array();
  ASSERT_GE(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].at("type"), "header");
  EXPECT_EQ(blocks[0].at("text").at("text"), ":red_circle: DB <down> & out");
  std::string fields = json::serialize(blocks[1].at("fields"));
  EXPECT_THAT(fields, HasSubstr("Checkout API"));
  EXPECT_THAT(fields, HasSubstr("<https://houston.example.com/incidents/42|#42>"));
  EXPECT_THAT(fields, HasSubstr("<https://wiki.example.com/checkout|open runbook>"));
  const json::value* actions = nullptr;
  for (const json::value& b : blocks) {
    if (b.at("type") == "actions") actions = &b;
  }
  ASSERT_NE(actions, nullptr);
  const json::array& buttons = actions->at("elements").as_array();
  ASSERT_EQ(buttons.size(), 4u);
  EXPECT_EQ(buttons[0].at("text").at("text"), "Acknowledge");
  EXPECT_EQ(Str(buttons[0].at("url")), m.ack_url);
  EXPECT_EQ(buttons[0].at("style"), "primary");
  EXPECT_EQ(Str(buttons[1].at("url")), m.resolve_url);
  EXPECT_EQ(Str(buttons[2].at("url")), m.incidents[0].url);
  EXPECT_EQ(Str(buttons[3].at("url")), m.runbook_url);
  EXPECT_THAT(json::serialize(blocks.back()), HasSubstr("escalation step 2"));
}

TEST(SlackBodyTest, LeavesOutButtonsThatAreNotHttpLinks) {
  Message m = Page();
  m.ack_url = "javascript:alert(1)";
  m.resolve_url = "";
  m.runbook_url = "";
  std::string body = SlackBody(m);
  EXPECT_THAT(body, Not(HasSubstr("javascript:")));
  json::value v = Parse(body);
  for (const json::value& b : v.at("blocks").as_array()) {
    if (b.at("type") == "actions") {
      EXPECT_EQ(b.at("elements").as_array().size(), 1u);  // open incident
    }
  }
}

TEST(SlackBodyTest, BundledListsIncidentsAndAcksAll) {
  Message m = Page();
  for (int k = 1; k < 13; ++k) {
    IncidentRef i = Checkout();
    i.id = 42 + k;
    i.severity = "warning";
    m.incidents.push_back(i);
  }
  json::value v = Parse(SlackBody(m));
  const json::array& blocks = v.at("blocks").as_array();
  EXPECT_THAT(std::string(blocks[0].at("text").at("text").as_string()),
              HasSubstr("13 incidents need attention"));
  std::string all = json::serialize(v);
  EXPECT_THAT(all, HasSubstr("#51 "));
  EXPECT_THAT(all, Not(HasSubstr("#52 ")));  // only 10 listed
  EXPECT_THAT(all, HasSubstr("and 3 more"));
  EXPECT_THAT(all, HasSubstr("Acknowledge all"));
  EXPECT_THAT(all, HasSubstr(":large_yellow_circle:"));
  EXPECT_LE(blocks.size(), 50u);  // Slack's limit
}

TEST(SlackBodyTest, TestMessageWithoutIncident) {
  Message m;
  m.id = "t";
  m.event = "test";
  json::value v = Parse(SlackBody(m));
  EXPECT_THAT(std::string(v.at("blocks").as_array()[0].at("text").at("text").as_string()),
              HasSubstr("Test notification"));
}

// ---- email ----------------------------------------------------------------------------------

TEST(EmailTest, EscapesHtmlAndCarriesLinks) {
  Message m = Page();
  m.incidents[0].title = "<script>alert('x')</script> & more";
  Email e = EmailFor(m);
  EXPECT_THAT(e.subject, HasSubstr("[houston] Triggered: [CRITICAL] <script>"));
  EXPECT_THAT(e.html, Not(HasSubstr("<script>")));
  EXPECT_THAT(e.html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
  EXPECT_THAT(e.html, HasSubstr("href=\"https://houston.example.com/act/v1.42.ack.sig\""));
  EXPECT_THAT(e.html, HasSubstr("href=\"https://houston.example.com/act/v1.42.resolve.sig\""));
  EXPECT_THAT(e.text, HasSubstr("<script>alert('x')</script> & more"));
  EXPECT_THAT(e.text, HasSubstr("Acknowledge: https://houston.example.com/act/v1.42.ack.sig"));
  EXPECT_THAT(e.text, HasSubstr("Resolve: https://houston.example.com/act/v1.42.resolve.sig"));
  EXPECT_THAT(e.text, HasSubstr("Service:  Checkout API"));
}

TEST(EmailTest, NonHttpLinksAreNotClickable) {
  Message m = Page();
  m.ack_url = "javascript:alert(1)";
  m.incidents[0].url = "data:text/html,x";
  Email e = EmailFor(m);
  EXPECT_THAT(e.html, Not(HasSubstr("href=\"javascript:")));
  EXPECT_THAT(e.html, Not(HasSubstr("href=\"data:")));
}

TEST(EmailTest, SubjectIsOneLine) {
  Message m = Page();
  m.incidents[0].title = "a\r\nBcc: victim@example.com";
  Email e = EmailFor(m);
  EXPECT_EQ(e.subject.find_first_of("\r\n"), std::string::npos);
}

TEST(EmailTest, MimeMessage) {
  Message m = Page();
  m.incidents[0].title = "Caf\xc3\xa9 down \xe2\x98\x95";
  std::string mime = MimeMessage(EmailFor(m), {"Houston Pager <pager@houston.example.com>",
                                               "alice@example.com", m.id, m.created_at});
  EXPECT_THAT(mime, HasSubstr("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"));
  EXPECT_THAT(mime, HasSubstr("From: Houston Pager <pager@houston.example.com>\r\n"));
  EXPECT_THAT(mime, HasSubstr("To: alice@example.com\r\n"));
  EXPECT_THAT(mime, HasSubstr("Subject: =?UTF-8?B?"));
  EXPECT_THAT(mime, HasSubstr("Message-ID: <msg-0001@houston.example.com>\r\n"));
  EXPECT_THAT(mime, HasSubstr("MIME-Version: 1.0\r\n"));
  EXPECT_THAT(mime,
              HasSubstr("Content-Type: multipart/alternative; boundary=\"=_houston_msg-0001\""));
  EXPECT_THAT(mime, HasSubstr("Content-Type: text/plain; charset=utf-8\r\n"));
  EXPECT_THAT(mime, HasSubstr("Content-Type: text/html; charset=utf-8\r\n"));
  EXPECT_TRUE(mime.ends_with("--=_houston_msg-0001--\r\n"));
  // Every line ends in CRLF and fits SMTP's limits.
  size_t start = 0;
  while (start < mime.size()) {
    size_t eol = mime.find("\r\n", start);
    ASSERT_NE(eol, std::string::npos);
    EXPECT_LE(eol - start, 78u) << mime.substr(start, eol - start);
    EXPECT_EQ(mime.substr(start, eol - start).find('\n'), std::string::npos);
    start = eol + 2;
  }
}

TEST(CodecTest, EncodedWordsDecodeToTheSubject) {
  std::string subject = "[houston] Caf\xc3\xa9 \xe2\x98\x95 " + std::string(60, 'x') + " \xc3\xa9";
  std::string enc = internal::EncodeHeaderWords(subject);
  std::string decoded;
  size_t pos = 0;
  while ((pos = enc.find("=?UTF-8?B?", pos)) != std::string::npos) {
    size_t end = enc.find("?=", pos + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - pos, 75u);
    std::optional<std::string> part = internal::Base64Decode(enc.substr(pos + 10, end - pos - 10));
    ASSERT_TRUE(part.has_value());
    decoded += *part;
    pos = end + 2;
  }
  EXPECT_EQ(decoded, subject);
  EXPECT_EQ(internal::EncodeHeaderWords("plain ascii"), "plain ascii");
}

TEST(CodecTest, QuotedPrintable) {
  EXPECT_EQ(internal::QuotedPrintable("a=b \nc\xc3\xa9\t\n.dot"),
            "a=3Db=20\r\nc=C3=A9=09\r\n=2Edot");
  std::string long_line(200, 'y');
  std::string qp = internal::QuotedPrintable(long_line);
  EXPECT_THAT(qp, HasSubstr("=\r\n"));
  for (size_t start = 0, eol; start < qp.size(); start = eol + 2) {
    eol = qp.find("\r\n", start);
    if (eol == std::string::npos) eol = qp.size();
    EXPECT_LE(eol - start, 76u);
  }
}

TEST(CodecTest, Utf8TruncateNeverSplitsACharacter) {
  std::string s = "\xe2\x98\x95\xe2\x98\x95\xe2\x98\x95";  // three 3-byte characters
  EXPECT_EQ(internal::Utf8Truncate(s, 9), s);
  EXPECT_EQ(internal::Utf8Truncate(s, 8), "\xe2\x98\x95\xe2\x80\xa6");
  EXPECT_EQ(internal::Utf8Truncate(s, 7), "\xe2\x98\x95\xe2\x80\xa6");
}

// ---- provider template ----------------------------------------------------------------------

TEST(ProviderBodyTest, RendersVariablesWithJsonEscaping) {
  Message m = Page();
  Result<std::string> body = ProviderBody(
      R"({"to":"{{address}}","text":"{{incident.title}} [{{incident.severity}}] {{incident.service}} #{{incident.id}}","ack":"{{ack_url}}","resolve":"{{resolve_url}}","user":"{{user.name}}","id":"{{message_id}}","url":"{{incident.url}}"})",
      m, {"+15555550100", TemplateEscape::kJson});
  ASSERT_OK(body);
  json::value v = Parse(*body);
  EXPECT_EQ(v.at("to"), "+15555550100");
  EXPECT_EQ(v.at("text"), "Checkout latency \"high\" & rising [critical] checkout #42");
  EXPECT_EQ(Str(v.at("ack")), m.ack_url);
  EXPECT_EQ(Str(v.at("resolve")), m.resolve_url);
  EXPECT_EQ(v.at("user"), "Alice Example");
  EXPECT_EQ(v.at("id"), "msg-0001");
  EXPECT_EQ(Str(v.at("url")), m.incidents[0].url);
}

TEST(ProviderBodyTest, OtherEscapingsListsAndSummary) {
  Message m = Page();
  Result<std::string> form =
      ProviderBody("To={{address}}&Body={{incident.title}}", m, {"+1 555", TemplateEscape::kForm});
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(*form, "To=%2B1+555&Body=Checkout+latency+%22high%22+%26+rising");
  Result<std::string> raw = ProviderBody("{{{incident.title}}}|{{&incident.title}}", m);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(*raw, "Checkout latency \"high\" & rising|Checkout latency \"high\" & rising");
  Result<std::string> xml =
      ProviderBody("<t>{{incident.title}}</t>", m, {"", TemplateEscape::kXml});
  ASSERT_TRUE(xml.has_value());
  EXPECT_EQ(*xml, "<t>Checkout latency &quot;high&quot; &amp; rising</t>");
  Result<std::string> list =
      ProviderBody("{{incident_count}}:{{#incidents}}[{{id}}]{{/incidents}}{{nope}}", m);
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(*list, "1:[42]");
  Result<std::string> summary = ProviderBody("{{{summary}}}", m);
  ASSERT_TRUE(summary.has_value());
  EXPECT_THAT(*summary, HasSubstr("[CRITICAL] Checkout latency"));
  EXPECT_THAT(*summary, HasSubstr("Ack: " + m.ack_url));
}

TEST(ProviderBodyTest, TemplateErrorsSayWhere) {
  Result<std::string> r = ProviderBody("{\"text\":\n  \"{{#incident}}{{title}}\"}", Page());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(r.error().message(),
            "invalid message template: Unclosed section \"incident\" at line 2, column 4");
  Result<std::string> tag = ProviderBody("ok\n{{incident.title", Page());
  ASSERT_FALSE(tag.has_value());
  EXPECT_THAT(tag.error().message(), HasSubstr("Unclosed tag at line 2, column 1"));
}

TEST(ProviderBodyTest, EscapeForContentType) {
  EXPECT_EQ(EscapeForContentType("application/json; charset=utf-8"), TemplateEscape::kJson);
  EXPECT_EQ(EscapeForContentType("Application/X-WWW-Form-Urlencoded"), TemplateEscape::kForm);
  EXPECT_EQ(EscapeForContentType("text/xml"), TemplateEscape::kXml);
  EXPECT_EQ(EscapeForContentType("text/plain"), TemplateEscape::kNone);
}

// ---- egress guard ---------------------------------------------------------------------------

bool Allowed(const std::string& ip, const EgressPolicy& policy = {}) {
  sockaddr_storage ss{};
  if (ip.find(':') == std::string::npos) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, ip.c_str(), &in->sin_addr), 1) << ip;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), &in6->sin6_addr), 1) << ip;
  }
  return AddressAllowed(reinterpret_cast<const sockaddr*>(&ss), policy);
}

TEST(EgressTest, RefusesPrivateLoopbackAndReservedSpellings) {
  for (const char* ip : {
           "127.0.0.1",
           "127.255.255.254",
           "10.0.0.1",
           "10.255.255.255",
           "172.16.0.1",
           "172.31.255.255",
           "192.168.1.1",
           "169.254.169.254",
           "100.64.0.1",
           "0.0.0.0",
           "0.1.2.3",
           "224.0.0.1",
           "239.255.255.250",
           "240.0.0.1",
           "255.255.255.255",
           "192.0.0.8",
           "198.18.0.1",
           "198.19.255.255",
           "::",
           "::1",
           "::ffff:127.0.0.1",
           "::ffff:10.1.2.3",
           "::ffff:169.254.169.254",
           "::127.0.0.1",
           "fc00::1",
           "fd12:3456::1",
           "fe80::1",
           "ff02::1",
           "64:ff9b::a00:1",
           "64:ff9b::7f00:1",
           "64:ff9b::a9fe:a9fe",
           "64:ff9b:1::1",
           "2002:7f00:1::1",
           "2002:c0a8:101::1",
           "2001::1",
           "fec0::1",
       }) {
    EXPECT_FALSE(Allowed(ip)) << ip;
  }
}

TEST(EgressTest, AllowsPublicAddresses) {
  for (const char* ip : {"93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1",
                         "11.0.0.1", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34",
                         "64:ff9b::5db8:d822", "2002:5db8:d822::1", "2a00:1450:4001::1"}) {
    EXPECT_TRUE(Allowed(ip)) << ip;
  }
}

TEST(EgressTest, AllowlistOverridesTheDenyList) {
  EgressPolicy loopback{{"127.0.0.1/32"}};
  EXPECT_TRUE(Allowed("127.0.0.1", loopback));
  EXPECT_TRUE(Allowed("::ffff:127.0.0.1", loopback));  // the same connection
  EXPECT_FALSE(Allowed("127.0.0.2", loopback));
  EXPECT_FALSE(Allowed("::1", loopback));
  EXPECT_FALSE(Allowed("10.0.0.1", loopback));

  EgressPolicy mapped{{"::ffff:127.0.0.1/128"}};
  EXPECT_TRUE(Allowed("::ffff:127.0.0.1", mapped));
  EXPECT_FALSE(Allowed("127.0.0.1", mapped));

  EgressPolicy nets{{"10.0.0.0/8", "::1", "fd00::/8", "192.168.1.7"}};
  EXPECT_TRUE(Allowed("10.20.30.40", nets));
  EXPECT_TRUE(Allowed("::1", nets));
  EXPECT_TRUE(Allowed("fd12::1", nets));
  EXPECT_FALSE(Allowed("fc00::1", nets));
  EXPECT_TRUE(Allowed("192.168.1.7", nets));
  EXPECT_FALSE(Allowed("192.168.1.8", nets));
  EXPECT_FALSE(Allowed("169.254.169.254", nets));
}

TEST(EgressTest, BadAllowlistEntriesMatchNothingAndAreReported) {
  EgressPolicy bad{{"127.0.0.1/33", "localhost", "10.0.0.0/", "::1/129", "127.0.0.1/0x8"}};
  EXPECT_FALSE(Allowed("127.0.0.1", bad));
  EXPECT_FALSE(Allowed("::1", bad));
  Status s = ValidateEgressPolicy(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.details().size(), 5u);
  EXPECT_TRUE(ValidateEgressPolicy({{"127.0.0.1/32", "::1", "0.0.0.0/0"}}).ok());
}

TEST(EgressTest, OtherFamiliesAreRefused) {
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  EXPECT_FALSE(AddressAllowed(reinterpret_cast<const sockaddr*>(&ss), {{"0.0.0.0/0"}}));
  EXPECT_FALSE(AddressAllowed(nullptr, {}));
}

TEST(EgressTest, RefusedDetailNamesTheAddressAndTheFlagThatAllowsIt) {
  std::string d = RefusedDetail({"127.0.0.1", "::1", "127.0.0.1"});
  EXPECT_THAT(d, HasSubstr("not allowed: 127.0.0.1, ::1 "));
  EXPECT_THAT(d, HasSubstr("egress allowlist, start houston serve with --allow-egress "
                           "127.0.0.1/32 --allow-egress ::1/128"));
  // The flag it names really allows the address.
  EXPECT_TRUE(Allowed("127.0.0.1", {{"127.0.0.1/32"}}));
  EXPECT_TRUE(Allowed("::1", {{"::1/128"}}));
  EXPECT_THAT(RefusedDetail({}), HasSubstr("--allow-egress CIDR"));
}

// ---- action tokens --------------------------------------------------------------------------

constexpr std::string_view kKey = "an action-link key of some length";

TEST(ActionTokenTest, RoundTrip) {
  TimePoint expires = At(1'767'229'200'123);
  std::string token = MakeActionToken(kKey, 42, "ack", expires, "alice");
  EXPECT_TRUE(token.starts_with("v1.42.ack.1767229200123."));
  for (char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')
        << token;
  }
  Result<ActionClaim> claim = VerifyActionToken(kKey, token, At(1'767'225'600'000));
  ASSERT_OK(claim);
  EXPECT_EQ(claim->incident_id, 42);
  EXPECT_EQ(claim->action, "ack");
  EXPECT_EQ(claim->expires, expires);
  EXPECT_EQ(claim->user_id, "alice");

  Result<ActionClaim> resolve =
      VerifyActionToken(kKey, MakeActionToken(kKey, 7, "resolve", expires), At(1'767'225'600'000));
  ASSERT_TRUE(resolve.has_value());
  EXPECT_EQ(resolve->action, "resolve");
  EXPECT_EQ(resolve->user_id, "");
}

// Each link has its own id (what the store records when it acts), stable for the link and
// telling nothing of it: not the token, not its signature.
TEST(ActionTokenTest, LinkIdNamesTheLinkWithoutBeingIt) {
  TimePoint now = At(1'767'225'600'000);
  TimePoint expires = now + std::chrono::hours(1);
  std::string ack = MakeActionToken(kKey, 42, "ack", expires, "alice");
  auto id = [&](const std::string& token) {
    Result<ActionClaim> c = VerifyActionToken(kKey, token, now);
    EXPECT_TRUE(c.has_value()) << token;
    return c ? c->link_id : std::string();
  };
  EXPECT_EQ(id(ack).size(), 32u);
  EXPECT_EQ(id(ack), id(ack));
  std::set<std::string> ids = {id(ack), id(MakeActionToken(kKey, 42, "ack", expires, "bob")),
                               id(MakeActionToken(kKey, 42, "resolve", expires, "alice")),
                               id(MakeActionToken(kKey, 43, "ack", expires, "alice")),
                               id(MakeActionToken(kKey, 42, "ack", expires, "alice", 1))};
  EXPECT_EQ(ids.size(), 5u);
  std::string mac = ack.substr(ack.rfind('.') + 1);
  EXPECT_EQ(ack.find(id(ack)), std::string::npos);
  EXPECT_EQ(id(ack).find(mac.substr(0, 8)), std::string::npos);
}

TEST(ActionTokenTest, TamperedOrWrongKeyIsPermissionDenied) {
  TimePoint now = At(1'767'225'600'000);
  std::string token = MakeActionToken(kKey, 42, "ack", now + std::chrono::hours(1));
  auto code = [&](std::string_view key, const std::string& t) {
    Result<ActionClaim> r = VerifyActionToken(key, t, now);
    return r.has_value() ? StatusCode::kOk : r.error().code();
  };
  EXPECT_EQ(code("another key", token), StatusCode::kPermissionDenied);
  std::string other_incident = token;
  other_incident.replace(3, 2, "43");
  EXPECT_EQ(code(kKey, other_incident), StatusCode::kPermissionDenied);
  std::string resolve = token;
  resolve.replace(6, 3, "resolve");
  EXPECT_EQ(code(kKey, resolve), StatusCode::kPermissionDenied);
  std::string later = token;
  later[10] = later[10] == '9' ? '8' : '9';  // a later expiry
  EXPECT_EQ(code(kKey, later), StatusCode::kPermissionDenied);
  std::string mac = token;
  mac.back() = mac.back() == 'A' ? 'Q' : 'A';
  EXPECT_EQ(code(kKey, mac), StatusCode::kPermissionDenied);
  EXPECT_EQ(code("", token), StatusCode::kPermissionDenied);
}

TEST(ActionTokenTest, Expired) {
  TimePoint expires = At(1'767'225'600'000);
  std::string token = MakeActionToken(kKey, 42, "ack", expires);
  EXPECT_TRUE(VerifyActionToken(kKey, token, expires - std::chrono::milliseconds(1)).has_value());
  Result<ActionClaim> r = VerifyActionToken(kKey, token, expires);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(r.error().message(), "link expired");
  // A bad signature on an expired link is still a bad signature.
  EXPECT_THAT(VerifyActionToken("wrong", token, expires), StatusIs(StatusCode::kPermissionDenied));
}

TEST(ActionTokenTest, WrongFormat) {
  TimePoint now = At(0);
  for (const char* t : {"", "garbage", "v1.42.ack.1.", "v2.42.ack.1..AAAA", "v1.42.ack",
                        "v1.42.ack.1..%%%", "....."}) {
    Result<ActionClaim> r = VerifyActionToken(kKey, t, now);
    ASSERT_FALSE(r.has_value()) << t;
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << t;
  }
  // Right shape, 32-byte MAC, wrong version field.
  std::string token = MakeActionToken(kKey, 42, "ack", At(1000));
  std::string v2 = "v2" + token.substr(2);
  EXPECT_THAT(VerifyActionToken(kKey, v2, now), StatusIs(StatusCode::kInvalidArgument));
  // Signed by us but for an action we do not know: still refused.
  std::string odd = MakeActionToken(kKey, 42, "delete", At(1000));
  EXPECT_THAT(VerifyActionToken(kKey, odd, now), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyActionToken(kKey, std::string(600, 'a'), now),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ActionTokenTest, EpisodeIsSignedAndRoundTrips) {
  TimePoint now = At(1'767'225'600'000);
  TimePoint expires = now + std::chrono::hours(1);
  // Episode 0 keeps the v1 shape (links sent before episodes existed still verify as episode 0).
  Result<ActionClaim> first =
      VerifyActionToken(kKey, MakeActionToken(kKey, 42, "ack", expires), now);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->episode, 0);
  std::string token = MakeActionToken(kKey, 42, "ack", expires, "alice", 3);
  EXPECT_TRUE(token.starts_with("v2.42.ack.")) << token;
  Result<ActionClaim> claim = VerifyActionToken(kKey, token, now);
  ASSERT_OK(claim);
  EXPECT_EQ(claim->episode, 3);
  EXPECT_EQ(claim->user_id, "alice");
  // Changing the episode breaks the signature.
  std::string payload = token.substr(0, token.rfind('.'));
  std::string other = payload.substr(0, payload.rfind('.')) + ".4" + token.substr(token.rfind('.'));
  EXPECT_THAT(VerifyActionToken(kKey, other, now), StatusIs(StatusCode::kPermissionDenied));
  // A v2 token without an episode, or with episode 0, is not a token we make.
  std::string v2_short = "v2" + MakeActionToken(kKey, 42, "ack", expires).substr(2);
  EXPECT_THAT(VerifyActionToken(kKey, v2_short, now), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ActionTokenTest, ViewLinks) {
  TimePoint now = At(1'767'225'600'000);
  std::string url = IncidentPageUrl("http://h:9/", kKey, 7, 2, now + kViewLinkLifetime, "bob");
  ASSERT_TRUE(url.starts_with("http://h:9/actions/v2.7.view.")) << url;
  Result<ActionClaim> claim = VerifyActionToken(kKey, url.substr(url.rfind('/') + 1), now);
  ASSERT_OK(claim);
  EXPECT_EQ(claim->action, "view");
  EXPECT_EQ(claim->incident_id, 7);
  EXPECT_EQ(claim->episode, 2);
  EXPECT_EQ(claim->user_id, "bob");
  EXPECT_EQ(claim->expires, now + kViewLinkLifetime);
  // Without a link key there is no signed page: the API's address.
  EXPECT_EQ(IncidentPageUrl("http://h:9", "", 7, 2, now), "http://h:9/api/v1/incidents/7");
}

TEST(OutcomeTest, Names) {
  EXPECT_EQ(ToString(Outcome::kSent), "sent");
  EXPECT_EQ(ToString(Outcome::kRetry), "retry");
  EXPECT_EQ(ToString(Outcome::kFailed), "failed");
  EXPECT_EQ(ToString(Outcome::kUnknown), "unknown");
}

}  // namespace
}  // namespace houston::notify
