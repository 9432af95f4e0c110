// The outbound formats: webhook JSON, Slack message, email, provider template.
#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <kainjow/mustache.hpp>
#include <string>
#include <vector>

#include "core/template.h"
#include "core/time_util.h"
#include "notify/internal/codec.h"
#include "notify/notify.h"

namespace houston::notify {
namespace {

namespace json = boost::json;
using internal::IsHttpUrl;
using internal::OneLine;
using internal::SlackEscape;

// Bundled incidents listed one by one in Slack and email; the rest are counted.
constexpr size_t kMaxListedIncidents = 10;

std::string_view EventLabel(std::string_view event) {
  if (event == "incident.triggered") return "Triggered";
  if (event == "incident.escalated") return "Escalated";
  if (event == "incident.reminder") return "Reminder";
  if (event == "incident.acknowledged") return "Acknowledged";
  if (event == "incident.resolved") return "Resolved";
  if (event == "incident.role_assigned") return "Role assigned";
  if (event == "incident.update_overdue") return "Status update overdue";
  if (event == "status_update_published") return "Status update";
  if (event == "test") return "Test";
  return event;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view SeverityEmoji(std::string_view severity) {
  std::string s = Upper(severity);
  if (s == "CRITICAL" || s == "SEV1" || s == "SEV2") return ":red_circle:";
  if (s == "ERROR" || s == "SEV3") return ":large_orange_circle:";
  if (s == "WARNING" || s == "SEV4") return ":large_yellow_circle:";
  if (s == "INFO" || s == "SEV5") return ":large_blue_circle:";
  return ":white_circle:";
}

const std::string& ServiceName(const IncidentRef& i) {
  return i.service_name.empty() ? i.service : i.service_name;
}

// "[CRITICAL] Checkout down (Checkout API #42)", on one line.
std::string IncidentLine(const IncidentRef& i) {
  std::string out;
  if (!i.severity.empty()) out += "[" + Upper(i.severity) + "] ";
  out += i.title;
  out += " (";
  if (!ServiceName(i).empty()) out += ServiceName(i) + " ";
  out += fmt::format("#{})", i.id);
  return OneLine(out);
}

// What the message is about in a few words, e.g. for a subject or an SMS.
std::string Headline(const Message& m) {
  std::string label(EventLabel(m.event));
  if (m.incidents.empty()) {
    return m.event == "test" ? "Test notification" : label;
  }
  if (m.incidents.size() == 1) return label + ": " + IncidentLine(m.incidents[0]);
  return fmt::format("{}: {} incidents ({} and {} more)", label, m.incidents.size(),
                     IncidentLine(m.incidents[0]), m.incidents.size() - 1);
}

// ---- webhook --------------------------------------------------------------------------------

json::object IncidentJson(const IncidentRef& i) {
  json::object o{{"id", i.id},
                 {"title", i.title},
                 {"service", i.service},
                 {"service_name", ServiceName(i)},
                 {"severity", i.severity},
                 {"status", i.status},
                 {"url", i.url}};
  o["sev"] = i.sev.empty() ? json::value(nullptr) : json::value(i.sev);
  return o;
}

// ---- Slack ----------------------------------------------------------------------------------

json::object PlainText(std::string_view text) {
  return {{"type", "plain_text"}, {"text", text}, {"emoji", true}};
}
json::object Mrkdwn(std::string_view text) { return {{"type", "mrkdwn"}, {"text", text}}; }

// `<url|text>` for an http(s) URL, else the text alone.
std::string SlackLink(std::string_view url, std::string_view text) {
  if (!IsHttpUrl(url)) return std::string(text);
  std::string label = SlackEscape(text);
  std::replace(label.begin(), label.end(), '|', '/');
  return fmt::format("<{}|{}>", SlackEscape(url), label);
}

void AddButton(json::array& elements, std::string_view text, std::string_view url,
               std::string_view action_id, std::string_view style = {}) {
  // Slack rejects a url button over 3000 characters; the link is then left out.
  if (!IsHttpUrl(url) || url.size() > 3000) return;
  json::object b{
      {"type", "button"}, {"text", PlainText(text)}, {"url", url}, {"action_id", action_id}};
  if (!style.empty()) b["style"] = style;
  elements.emplace_back(std::move(b));
}

// ---- email ----------------------------------------------------------------------------------

std::string HtmlLink(std::string_view url, std::string_view text) {
  if (!IsHttpUrl(url)) return HtmlEscape(text);
  return fmt::format("<a href=\"{}\">{}</a>", HtmlEscape(url), HtmlEscape(text));
}

std::string HtmlButton(std::string_view url, std::string_view text, std::string_view color) {
  if (!IsHttpUrl(url)) return {};
  return fmt::format(
      "<a href=\"{}\" style=\"display:inline-block;padding:10px 18px;margin:0 8px 8px 0;"
      "background:{};color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold\">"
      "{}</a>",
      HtmlEscape(url), color, HtmlEscape(text));
}

// "alice@example.com" from "Alice <alice@example.com>" or "alice@example.com".
std::string_view AddressPart(std::string_view from) {
  size_t lt = from.rfind('<');
  size_t gt = from.rfind('>');
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
    return from.substr(lt + 1, gt - lt - 1);
  }
  return from;
}

std::string FromHeader(std::string_view from) {
  size_t lt = from.rfind('<');
  if (lt == std::string_view::npos) return OneLine(from);
  std::string name(from.substr(0, lt));
  while (!name.empty() && name.back() == ' ') name.pop_back();
  std::string addr = OneLine(AddressPart(from));
  if (name.empty()) return "<" + addr + ">";
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  name = OneLine(name);
  std::string encoded = internal::EncodeHeaderWords(name, 6);  // after "From: "
  if (encoded == name && name.find_first_of("()<>[]:;@\\,.\"") != std::string::npos) {
    std::string quoted = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    encoded = quoted + "\"";
  }
  return encoded + " <" + addr + ">";
}

std::string Rfc5322Date(TimePoint t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd(day);
  date::weekday wd(day);
  date::hh_mm_ss<std::chrono::seconds> hms(std::chrono::floor<std::chrono::seconds>(t - day));
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[wd.c_encoding()],
                     unsigned(ymd.day()), kMonths[unsigned(ymd.month()) - 1], int(ymd.year()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// ---- provider template ----------------------------------------------------------------------

namespace mustache = kainjow::mustache;

mustache::object IncidentData(const IncidentRef& i) {
  return {{"id", std::to_string(i.id)}, {"title", i.title},
          {"service", i.service},       {"service_name", ServiceName(i)},
          {"severity", i.severity},     {"sev", i.sev},
          {"status", i.status},         {"url", i.url}};
}

std::string SmsSummary(const Message& m) {
  if (!m.text.empty()) {
    return "houston " + OneLine(m.subject.empty() ? m.text : m.subject + ": " + m.text);
  }
  std::string out = "houston " + Headline(m);
  if (!m.ack_url.empty()) {
    out += m.incidents.size() > 1 ? ". Ack all: " : ". Ack: ";
    out += m.ack_url;
  }
  return out;
}

}  // namespace

std::string_view ToString(Outcome o) {
  switch (o) {
    case Outcome::kSent:
      return "sent";
    case Outcome::kRetry:
      return "retry";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string WebhookBody(const Message& m) {
  if (!m.body_json.empty()) return m.body_json;
  json::array incidents;
  for (const IncidentRef& i : m.incidents) incidents.emplace_back(IncidentJson(i));
  json::object body;
  body["event"] = m.event;
  body["message_id"] = m.id;
  body["created_at"] = FormatRfc3339(m.created_at);
  if (m.incidents.empty()) {
    body["incident"] = nullptr;
  } else {
    body["incident"] = IncidentJson(m.incidents.front());
  }
  body["incidents"] = std::move(incidents);
  body["ack_url"] = m.ack_url;
  body["resolve_url"] = m.resolve_url;
  body["runbook_url"] = m.runbook_url;
  body["user"] = json::object{{"id", m.user_id}, {"name", m.user_name}};
  body["step"] = m.step;
  body["loop"] = m.loop;
  json::array suspects;
  for (const auto& line : m.suspects) suspects.emplace_back(line);
  body["suspects"] = std::move(suspects);
  if (!m.subject.empty()) body["subject"] = m.subject;
  if (!m.text.empty()) body["text"] = m.text;
  return json::serialize(body);
}

namespace {

// Suspect changes listed in a page, at most.
constexpr size_t kMaxListedSuspects = 3;

// A message written for people (status update, reminder, role): subject, text, incident link.
std::string SlackTextBody(const Message& m) {
  json::array blocks;
  std::string subject = m.subject.empty() ? std::string(EventLabel(m.event)) : m.subject;
  std::string emoji =
      m.incidents.empty()
          ? ":information_source:"
          : std::string(SeverityEmoji(m.incidents[0].sev.empty() ? m.incidents[0].severity
                                                                 : m.incidents[0].sev));
  blocks.emplace_back(json::object{
      {"type", "header"},
      {"text", PlainText(internal::Utf8Truncate(emoji + " " + OneLine(subject), 150))}});
  blocks.emplace_back(json::object{
      {"type", "section"}, {"text", Mrkdwn(SlackEscape(internal::Utf8Truncate(m.text, 2900)))}});
  json::array actions;
  if (!m.incidents.empty()) AddButton(actions, "Open incident", m.incidents[0].url, "houston_open");
  if (!actions.empty()) {
    blocks.emplace_back(json::object{{"type", "actions"}, {"elements", std::move(actions)}});
  }
  blocks.emplace_back(json::object{
      {"type", "context"},
      {"elements", json::array{Mrkdwn("houston · " + std::string(EventLabel(m.event)))}}});
  json::object body;
  body["text"] = SlackEscape(internal::Utf8Truncate(OneLine(subject), 3000));
  body["blocks"] = std::move(blocks);
  return json::serialize(body);
}

}  // namespace

std::string SlackBody(const Message& m) {
  if (!m.text.empty()) return SlackTextBody(m);
  json::array blocks;
  json::array actions;
  const bool bundled = m.incidents.size() > 1;
  if (m.incidents.empty()) {
    blocks.emplace_back(json::object{
        {"type", "header"},
        {"text", PlainText(internal::Utf8Truncate(
                     ":white_check_mark: " + std::string(Headline(m)) + " from houston", 150))}});
  } else if (!bundled) {
    const IncidentRef& i = m.incidents.front();
    blocks.emplace_back(json::object{
        {"type", "header"},
        {"text", PlainText(internal::Utf8Truncate(
                     fmt::format("{} {}", SeverityEmoji(i.severity), OneLine(i.title)), 150))}});
    json::array fields;
    fields.emplace_back(Mrkdwn("*Service*\n" + SlackEscape(ServiceName(i))));
    fields.emplace_back(Mrkdwn("*Severity*\n" + SlackEscape(i.severity)));
    fields.emplace_back(Mrkdwn("*Status*\n" + SlackEscape(i.status)));
    fields.emplace_back(Mrkdwn("*Incident*\n" + SlackLink(i.url, fmt::format("#{}", i.id))));
    if (IsHttpUrl(m.runbook_url)) {
      fields.emplace_back(Mrkdwn("*Runbook*\n" + SlackLink(m.runbook_url, "open runbook")));
    }
    blocks.emplace_back(json::object{{"type", "section"}, {"fields", std::move(fields)}});
    if (!m.suspects.empty()) {
      std::string text = "*Suspect changes*";
      for (size_t k = 0; k < std::min(m.suspects.size(), kMaxListedSuspects); ++k) {
        text += "\n• " + SlackEscape(OneLine(m.suspects[k]));
      }
      blocks.emplace_back(json::object{{"type", "section"}, {"text", Mrkdwn(text)}});
    }
    AddButton(actions, "Acknowledge", m.ack_url, "houston_ack", "primary");
    AddButton(actions, "Resolve", m.resolve_url, "houston_resolve", "danger");
    AddButton(actions, "Open incident", i.url, "houston_open");
    AddButton(actions, "Runbook", m.runbook_url, "houston_runbook");
  } else {
    const IncidentRef& first = m.incidents.front();
    blocks.emplace_back(json::object{
        {"type", "header"},
        {"text", PlainText(fmt::format("{} {} incidents need attention",
                                       SeverityEmoji(first.severity), m.incidents.size()))}});
    size_t listed = std::min(m.incidents.size(), kMaxListedIncidents);
    for (size_t k = 0; k < listed; ++k) {
      const IncidentRef& i = m.incidents[k];
      std::string title = internal::Utf8Truncate(OneLine(i.title), 200);
      blocks.emplace_back(json::object{
          {"type", "section"},
          {"text", Mrkdwn(fmt::format("{} *{}*\n{} · {} · {}", SeverityEmoji(i.severity),
                                      SlackLink(i.url, fmt::format("#{} {}", i.id, title)),
                                      SlackEscape(ServiceName(i)), SlackEscape(i.severity),
                                      SlackEscape(i.status)))}});
    }
    if (m.incidents.size() > listed) {
      blocks.emplace_back(json::object{
          {"type", "context"},
          {"elements",
           json::array{Mrkdwn(fmt::format("…and {} more", m.incidents.size() - listed))}}});
    }
    AddButton(actions, "Acknowledge all", m.ack_url, "houston_ack", "primary");
    AddButton(actions, fmt::format("Resolve #{}", first.id), m.resolve_url, "houston_resolve",
              "danger");
    AddButton(actions, "Runbook", m.runbook_url, "houston_runbook");
  }
  if (!actions.empty()) {
    blocks.emplace_back(json::object{{"type", "actions"}, {"elements", std::move(actions)}});
  }
  std::string context = "houston · " + std::string(EventLabel(m.event));
  if (m.step > 0) context += fmt::format(" · escalation step {}", m.step);
  if (m.loop > 0) context += fmt::format(" (repeat {})", m.loop);
  if (!m.user_name.empty()) context += " · paging " + SlackEscape(OneLine(m.user_name));
  blocks.emplace_back(
      json::object{{"type", "context"}, {"elements", json::array{Mrkdwn(context)}}});

  json::object body;
  body["text"] = SlackEscape(internal::Utf8Truncate(Headline(m), 3000));
  body["blocks"] = std::move(blocks);
  return json::serialize(body);
}

Email EmailFor(const Message& m) {
  Email e;
  if (!m.text.empty()) {
    // Written for people: the subject and text as they are, and a link to the incident.
    std::string subject = m.subject.empty() ? std::string(EventLabel(m.event)) : m.subject;
    e.subject = internal::Utf8Truncate("[houston] " + OneLine(subject), 250);
    e.text = m.text;
    if (!e.text.empty() && e.text.back() != '\n') e.text += '\n';
    std::string link = m.incidents.empty() ? "" : m.incidents[0].url;
    if (!link.empty()) e.text += "\nIncident: " + OneLine(link) + "\n";
    e.text += "\n-- \nSent by houston. Message " + OneLine(m.id) + "\n";
    std::string body;
    for (char c : m.text) body += c == '\n' ? std::string("<br>\n") : HtmlEscape(std::string(1, c));
    e.html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" +
             HtmlEscape(e.subject) +
             "</title></head>\n<body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,"
             "sans-serif;color:#222222;max-width:640px\">\n<p style=\"font-size:15px\">" +
             body + "</p>\n";
    if (!link.empty()) e.html += "<p>" + HtmlLink(link, "Open the incident") + "</p>\n";
    e.html += "<p style=\"color:#777777;font-size:12px\">Sent by houston. Message " +
              HtmlEscape(m.id) + "</p>\n</body></html>\n";
    return e;
  }
  e.subject = internal::Utf8Truncate("[houston] " + Headline(m), 250);

  const bool bundled = m.incidents.size() > 1;
  std::string label(EventLabel(m.event));
  std::string lead;
  if (m.incidents.empty()) {
    lead = m.event == "test" ? "This is a test notification from houston. It works."
                             : label + " (no incident attached).";
  } else if (bundled) {
    lead = fmt::format("{}: {} incidents need attention.", label, m.incidents.size());
  } else {
    lead = fmt::format("{}: incident #{} needs attention.", label, m.incidents[0].id);
  }

  std::string& t = e.text;
  t += lead + "\n";
  std::string incidents_html;
  size_t listed = std::min(m.incidents.size(), bundled ? kMaxListedIncidents * 5 : 1);
  for (size_t k = 0; k < listed; ++k) {
    const IncidentRef& i = m.incidents[k];
    t += fmt::format("\n#{} {}\n", i.id, OneLine(i.title));
    t += "  Service:  " + OneLine(ServiceName(i)) + "\n";
    t += "  Severity: " + OneLine(i.severity) + "\n";
    t += "  Status:   " + OneLine(i.status) + "\n";
    if (!i.url.empty()) t += "  Details:  " + OneLine(i.url) + "\n";
    incidents_html += fmt::format(
        "<tr><td style=\"padding:8px 0;border-top:1px solid #dddddd\">"
        "<div style=\"font-size:16px;font-weight:bold\">{}</div>"
        "<div style=\"color:#555555\">{} &middot; {} &middot; {}</div></td></tr>\n",
        HtmlLink(i.url, fmt::format("#{} {}", i.id, i.title)), HtmlEscape(ServiceName(i)),
        HtmlEscape(i.severity), HtmlEscape(i.status));
  }
  if (m.incidents.size() > listed) {
    t += fmt::format("\n...and {} more.\n", m.incidents.size() - listed);
    incidents_html +=
        fmt::format("<tr><td>&hellip;and {} more.</td></tr>\n", m.incidents.size() - listed);
  }
  if (!m.runbook_url.empty()) t += "\nRunbook: " + OneLine(m.runbook_url) + "\n";
  std::string suspects_html;
  if (!m.suspects.empty()) {
    t += "\nSuspect changes:\n";
    for (size_t k = 0; k < std::min(m.suspects.size(), kMaxListedSuspects); ++k) {
      t += "  - " + OneLine(m.suspects[k]) + "\n";
      suspects_html += "<li>" + HtmlEscape(OneLine(m.suspects[k])) + "</li>";
    }
  }
  std::string ack_label = bundled ? "Acknowledge all" : "Acknowledge";
  std::string resolve_label =
      bundled ? fmt::format("Resolve #{}", m.incidents[0].id) : std::string("Resolve");
  if (!m.ack_url.empty() || !m.resolve_url.empty()) {
    t += "\n";
    if (!m.ack_url.empty()) t += ack_label + ": " + OneLine(m.ack_url) + "\n";
    if (!m.resolve_url.empty()) t += resolve_label + ": " + OneLine(m.resolve_url) + "\n";
    t += "These links work without logging in until they expire.\n";
  }
  std::string footer = "Sent by houston";
  if (!m.user_name.empty()) footer += " to " + OneLine(m.user_name);
  if (m.step > 0) footer += fmt::format(" (escalation step {})", m.step);
  footer += ".";
  t += "\n-- \n" + footer + "\nMessage " + OneLine(m.id) + "\n";

  std::string& h = e.html;
  h += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + HtmlEscape(e.subject) +
       "</title></head>\n";
  h += "<body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;"
       "color:#222222;max-width:640px\">\n";
  h += "<p style=\"font-size:15px\">" + HtmlEscape(lead) + "</p>\n";
  if (!incidents_html.empty()) {
    h += "<table role=\"presentation\" style=\"width:100%;border-collapse:collapse\">\n" +
         incidents_html + "</table>\n";
  }
  if (!m.runbook_url.empty()) {
    h += "<p>Runbook: " + HtmlLink(m.runbook_url, m.runbook_url) + "</p>\n";
  }
  if (!suspects_html.empty()) h += "<p>Suspect changes:</p><ul>" + suspects_html + "</ul>\n";
  std::string buttons = HtmlButton(m.ack_url, ack_label, "#1f7a3a") +
                        HtmlButton(m.resolve_url, resolve_label, "#555555");
  if (!buttons.empty()) {
    h += "<p style=\"margin-top:16px\">" + buttons + "</p>\n";
    h += "<p style=\"color:#777777;font-size:12px\">These links work without logging in until "
         "they expire.</p>\n";
  }
  h += "<p style=\"color:#777777;font-size:12px\">" + HtmlEscape(footer) + " Message " +
       HtmlEscape(m.id) + "</p>\n</body></html>\n";
  return e;
}

std::string MimeMessage(const Email& email, const MimeHeaders& headers) {
  std::string_view addr = AddressPart(headers.from);
  size_t at = addr.rfind('@');
  std::string domain = at == std::string_view::npos ? "" : OneLine(addr.substr(at + 1));
  domain.erase(std::remove_if(domain.begin(), domain.end(),
                              [](char c) { return c == ' ' || c == '<' || c == '>'; }),
               domain.end());
  if (domain.empty()) domain = "houston.invalid";
  std::string id;
  for (char c : headers.message_id) {
    id += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '-';
  }
  if (id.empty()) id = "houston";
  // "=_" never occurs in quoted-printable text, so the boundary cannot clash with a body.
  std::string boundary = "=_houston_" + id;

  std::string out;
  out += "Date: " + Rfc5322Date(headers.date) + "\r\n";
  out += "From: " + FromHeader(headers.from) + "\r\n";
  out += "To: " + OneLine(headers.to) + "\r\n";
  out += "Subject: " + internal::EncodeHeaderWords(OneLine(email.subject), 9) + "\r\n";
  out += "Message-ID: <" + id + "@" + domain + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "X-Houston-Message-Id: " + id + "\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  auto part = [&](std::string_view type, std::string_view content) {
    out += "--" + boundary + "\r\n";
    out += "Content-Type: " + std::string(type) + "; charset=utf-8\r\n";
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    out += internal::QuotedPrintable(content);
    out += "\r\n";  // belongs to the boundary that follows, not to the content
  };
  part("text/plain", email.text);
  part("text/html", email.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

TemplateEscape EscapeForContentType(std::string_view content_type) {
  std::string ct;
  for (char c : content_type) ct += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ct.find("x-www-form-urlencoded") != std::string::npos) return TemplateEscape::kForm;
  if (ct.find("json") != std::string::npos) return TemplateEscape::kJson;
  if (ct.find("xml") != std::string::npos) return TemplateEscape::kXml;
  return TemplateEscape::kNone;
}

Result<std::string> ProviderBody(const std::string& mustache_template, const Message& m,
                                 const ProviderContext& context) {
  mustache::mustache tmpl{mustache_template};
  if (!tmpl.is_valid()) {
    return std::unexpected(InvalidArgument(
        "invalid message template: " +
        core::TemplateErrorWithLineColumn(tmpl.error_message(), mustache_template)));
  }
  switch (context.escape) {
    case TemplateEscape::kJson:
      tmpl.set_custom_escape(internal::JsonStringContent);
      break;
    case TemplateEscape::kForm:
      tmpl.set_custom_escape(internal::FormEncode);
      break;
    case TemplateEscape::kXml:
      tmpl.set_custom_escape(internal::HtmlEscape);
      break;
    case TemplateEscape::kNone:
      tmpl.set_custom_escape([](const std::string& s) { return s; });
      break;
  }
  mustache::data data;
  data.set("event", m.event);
  data.set("message_id", m.id);
  data.set("created_at", FormatRfc3339(m.created_at));
  data.set("ack_url", m.ack_url);
  data.set("resolve_url", m.resolve_url);
  data.set("runbook_url", m.runbook_url);
  data.set("step", std::to_string(m.step));
  data.set("loop", std::to_string(m.loop));
  data.set("address", context.address);
  data.set("summary", SmsSummary(m));
  data.set("incident_count", std::to_string(m.incidents.size()));
  data.set("user", mustache::object{{"id", m.user_id}, {"name", m.user_name}});
  mustache::data list{mustache::data::type::list};
  for (const IncidentRef& i : m.incidents) list.push_back(IncidentData(i));
  data.set("incidents", list);
  data.set("incident", m.incidents.empty() ? mustache::object{} : IncidentData(m.incidents[0]));
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid()) {
    return std::unexpected(InvalidArgument(
        "invalid message template: " +
        core::TemplateErrorWithLineColumn(tmpl.error_message(), mustache_template)));
  }
  return out;
}

std::string HtmlEscape(std::string_view s) { return internal::HtmlEscape(s); }

}  // namespace houston::notify
