#include "incidents/status_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <string_view>
#include <utility>

#include "core/time_util.h"

namespace houston::incidents {
namespace {

using Day = std::chrono::sys_days;

// ---- escaping ------------------------------------------------------------------------------

enum class Markup { kHtml, kXml };

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed UTF-8 sequence at s[i] that encodes a character XML 1.0 allows
// (not a surrogate, not U+FFFE/U+FFFF, no overlong form), or 0 if there is none.
size_t ValidUtf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) {
    return 0;
  }
  return n;
}

// Appends `s` escaped for HTML or XML text and (double-quoted or single-quoted) attribute
// values. The texts are user-written: control characters XML 1.0 forbids even as character
// references are dropped and malformed UTF-8 becomes U+FFFD, so one bad update cannot make a
// feed unreadable for every subscriber.
void AppendEscaped(std::string& out, std::string_view s, Markup markup) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = ValidUtf8Length(s, i);
      if (n == 0) {
        out += kReplacementChar;
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        // &apos; is not an HTML 4 entity; the numeric reference works everywhere.
        out += markup == Markup::kHtml ? "&#39;" : "&apos;";
        break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += static_cast<char>(c);
    }
  }
}

std::string Html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(out, s, Markup::kHtml);
  return out;
}

std::string Xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(out, s, Markup::kXml);
  return out;
}

// Multi-line plain text as escaped HTML, its line breaks kept as <br>.
std::string HtmlText(std::string_view s) {
  std::string out;
  while (true) {
    const size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    AppendEscaped(out, line, Markup::kHtml);
    if (nl == std::string_view::npos) break;
    out += "<br>";
    s.remove_prefix(nl + 1);
  }
  return out;
}

// ---- time ----------------------------------------------------------------------------------

constexpr std::string_view kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

Day DayOf(TimePoint t) { return std::chrono::floor<std::chrono::days>(t); }

// "2026-11-20 12:45 UTC".
std::string HumanTime(TimePoint t) {
  const Day day = DayOf(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::minutes>(t - day));
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count());
}

// "Nov 20, 2026".
std::string HumanDay(Day day) {
  const std::chrono::year_month_day ymd(day);
  return fmt::format("{} {}, {}", kMonths[static_cast<unsigned>(ymd.month()) - 1],
                     static_cast<unsigned>(ymd.day()), static_cast<int>(ymd.year()));
}

// "2026-11-20", an HTML valid date string.
std::string IsoDay(Day day) {
  const std::chrono::year_month_day ymd(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

// RFC 822 as RSS wants it (with a four-digit year, RFC 1123): "Fri, 20 Nov 2026 12:45:00 +0000".
std::string Rfc822(TimePoint t) {
  const Day day = DayOf(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::weekday wd(day);
  const std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::seconds>(t - day));
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kWeekdays[wd.c_encoding()],
                     static_cast<unsigned>(ymd.day()),
                     kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// `<time datetime="...">2026-11-20 12:45 UTC</time>`.
std::string HtmlTime(TimePoint t) {
  return fmt::format(R"(<time datetime="{}">{}</time>)", FormatRfc3339(t), HumanTime(t));
}

// ---- shared --------------------------------------------------------------------------------

// "investigating" -> "Investigating"; "" -> "Update".
std::string PhaseLabel(std::string_view phase) {
  if (phase.empty()) return "Update";
  std::string out(phase);
  std::replace(out.begin(), out.end(), '_', ' ');
  if (out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// The CSS class of a state, e.g. "s-major_outage".
std::string StateClass(core::ComponentState s) { return fmt::format("s-{}", core::ToString(s)); }

// m.url without a trailing slash, so that "/feed.atom" and "#incident-1" append cleanly.
std::string_view PageUrl(const StatusPageModel& m) {
  std::string_view url = m.url;
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return url;
}

struct FeedEntry {
  const PublicIncident* incident;
  const PublicUpdate* update;
};

// Every public update of open and past incidents, newest first (ties: higher ids first, so the
// order is stable from one fetch to the next).
std::vector<FeedEntry> FeedEntries(const StatusPageModel& m) {
  std::vector<FeedEntry> entries;
  for (const auto* list : {&m.open, &m.history}) {
    for (const auto& incident : *list) {
      for (const auto& update : incident.updates) entries.push_back({&incident, &update});
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const FeedEntry& a, const FeedEntry& b) {
    if (a.update->at != b.update->at) return a.update->at > b.update->at;
    if (a.incident->id != b.incident->id) return a.incident->id > b.incident->id;
    return a.update->id > b.update->id;
  });
  return entries;
}

// The time the feed last changed: its newest entry, else when the page was generated.
TimePoint FeedUpdated(const StatusPageModel& m, const std::vector<FeedEntry>& entries) {
  return entries.empty() ? m.generated_at : entries.front().update->at;
}

std::string EntryTitle(const FeedEntry& e) {
  return fmt::format("{}: {}", e.incident->title, PhaseLabel(e.update->phase));
}

std::string EntryLink(const StatusPageModel& m, const FeedEntry& e) {
  return fmt::format("{}#incident-{}", PageUrl(m), e.incident->id);
}

// Not a tag: URI: RFC 4151 requires a dated authority ("tag:example.com,2026:...") that a
// self-hosted install cannot know, and feed validators reject undated ones.
std::string EntryId(const FeedEntry& e) {
  return fmt::format("urn:houston:status:incident-{}:update-{}", e.incident->id, e.update->id);
}

// ---- HTML ----------------------------------------------------------------------------------

constexpr std::string_view kCss = R"css(
:root{--bg:#f5f6f8;--card:#fff;--text:#1d2330;--muted:#667085;--line:#e4e7ec;
--operational:#1f9d55;--degraded_performance:#e3a008;--partial_outage:#ef7b10;
--major_outage:#d92d20;--under_maintenance:#2f6fde;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0e1117;--card:#161b22;--text:#e6e8ec;
--muted:#98a2b3;--line:#2a313c}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);
font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:inherit}
.wrap{max-width:840px;margin:0 auto;padding:40px 20px 56px}
.top h1{font-size:30px;line-height:1.2;margin:0 0 28px;overflow-wrap:anywhere}
.s-operational{--c:var(--operational)}
.s-degraded_performance{--c:var(--degraded_performance)}
.s-partial_outage{--c:var(--partial_outage)}
.s-major_outage{--c:var(--major_outage)}
.s-under_maintenance{--c:var(--under_maintenance)}
.banner{display:flex;align-items:center;gap:14px;margin:0;padding:20px 24px;border-radius:12px;
background:var(--c);color:#fff;font-size:22px;font-weight:600;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.banner.s-degraded_performance{color:#1d2330}
.banner .icon{display:inline-flex;align-items:center;justify-content:center;flex:none;
width:32px;height:32px;border-radius:50%;background:rgba(255,255,255,.25);font-size:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px}
.components{list-style:none;margin:24px 0 0;padding:0}
.components li{display:flex;justify-content:space-between;align-items:center;gap:16px;
padding:14px 20px;border-top:1px solid var(--line)}
.components li:first-child{border-top:0}
.cname{font-weight:600;overflow-wrap:anywhere}
.cdesc{display:block;color:var(--muted);font-size:14px;font-weight:400}
.state{display:inline-flex;align-items:center;color:var(--c);font-size:14px;font-weight:600;
white-space:nowrap}
.dot{display:inline-block;width:10px;height:10px;margin-right:8px;border-radius:50%;
background:var(--c);box-shadow:0 0 0 3px color-mix(in srgb,var(--c) 20%,transparent)}
h2{font-size:20px;margin:44px 0 14px}
.incident{margin:0 0 16px;padding:18px 22px}
.incident.open{border-left:5px solid var(--c)}
.incident h3,.incident h4{margin:0 0 4px;font-size:18px;overflow-wrap:anywhere}
.incident h3 a,.incident h4 a{text-decoration:none}
.incident h3 a:hover,.incident h4 a:hover{text-decoration:underline}
.meta{margin:0 0 10px;color:var(--muted);font-size:14px}
.badge{display:inline-block;margin-right:6px;padding:1px 9px;border-radius:999px;
background:var(--c);color:#fff;font-size:12px;font-weight:600;vertical-align:1px}
.badge.s-degraded_performance{color:#1d2330}
.updates{list-style:none;margin:0;padding:0}
.updates li{padding:10px 0;border-top:1px solid var(--line)}
.updates p{margin:0;overflow-wrap:anywhere}
.updates time,.when{display:block;margin:2px 0 0;color:var(--muted);font-size:13px}
.day{margin:0 0 24px}
.day h3{margin:0 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line);font-size:16px}
.day .incident{padding:0;border:0;background:none}
.none{margin:0;color:var(--muted)}
footer{display:flex;flex-wrap:wrap;justify-content:space-between;gap:8px;margin-top:56px;
padding-top:16px;border-top:1px solid var(--line);color:var(--muted);font-size:14px}
@media (max-width:600px){.wrap{padding:24px 14px 40px}.top h1{font-size:24px}
.banner{padding:16px 18px;font-size:18px}.components li{flex-direction:column;
align-items:flex-start;gap:4px;padding:12px 16px}.incident{padding:14px 16px}}
)css";

// The colour of each state, for the favicon (the CSS has its own copy as custom properties).
std::string_view StateColor(core::ComponentState s) {
  switch (s) {
    case core::ComponentState::kOperational:
      return "1f9d55";
    case core::ComponentState::kDegradedPerformance:
      return "e3a008";
    case core::ComponentState::kPartialOutage:
      return "ef7b10";
    case core::ComponentState::kMajorOutage:
      return "d92d20";
    case core::ComponentState::kUnderMaintenance:
      return "2f6fde";
  }
  return "1f9d55";
}

std::string_view BannerIcon(core::ComponentState s) {
  switch (s) {
    case core::ComponentState::kOperational:
      return "&#10003;";  // check mark
    case core::ComponentState::kUnderMaintenance:
      return "&#9881;";  // gear
    case core::ComponentState::kDegradedPerformance:
    case core::ComponentState::kPartialOutage:
    case core::ComponentState::kMajorOutage:
      return "!";
  }
  return "!";
}

void AppendUpdates(std::string& out, const PublicIncident& incident) {
  if (incident.updates.empty()) return;
  out += "<ol class=\"updates\">\n";
  for (const auto& u : incident.updates) {
    fmt::format_to(std::back_inserter(out), "<li><p><strong>{}</strong> &ndash; {}</p>{}</li>\n",
                   Html(PhaseLabel(u.phase)), HtmlText(u.text), HtmlTime(u.at));
  }
  out += "</ol>\n";
}

void AppendOpenIncident(std::string& out, const PublicIncident& incident) {
  fmt::format_to(std::back_inserter(out),
                 "<article class=\"incident open card {0}\" id=\"incident-{1}\">\n"
                 "<h3><a href=\"#incident-{1}\">{2}</a></h3>\n"
                 "<p class=\"meta\"><span class=\"badge {0}\">{3}</span>",
                 StateClass(incident.impact), incident.id, Html(incident.title),
                 Html(StateLabel(incident.impact)));
  if (!incident.components.empty()) {
    fmt::format_to(std::back_inserter(out), "Affects {} &middot; ",
                   Html(Join(incident.components, ", ")));
  }
  fmt::format_to(std::back_inserter(out), "Started {}</p>\n", HtmlTime(incident.started_at));
  AppendUpdates(out, incident);
  out += "</article>\n";
}

void AppendPastIncident(std::string& out, const PublicIncident& incident) {
  fmt::format_to(std::back_inserter(out),
                 "<article class=\"incident\" id=\"incident-{0}\">\n"
                 "<h4><a href=\"#incident-{0}\">{1}</a></h4>\n<p class=\"meta\">",
                 incident.id, Html(incident.title));
  // Past incidents are over: say so, and when, before anything else.
  if (incident.resolved_at) {
    fmt::format_to(std::back_inserter(out), "<span class=\"badge {}\">Resolved</span>Resolved {}",
                   StateClass(core::ComponentState::kOperational), HtmlTime(*incident.resolved_at));
  } else {
    fmt::format_to(std::back_inserter(out), "<span class=\"badge {}\">Resolved</span>",
                   StateClass(core::ComponentState::kOperational));
  }
  if (!incident.components.empty()) {
    fmt::format_to(std::back_inserter(out), " &middot; Affected {}",
                   Html(Join(incident.components, ", ")));
  }
  out += "</p>\n";
  AppendUpdates(out, incident);
  out += "</article>\n";
}

// "Nov 20, 2026" for one day, "Nov 1 – Nov 20, 2026" (or with both years) for a run of days.
std::string HumanDays(Day first, Day last) {
  if (first == last) return HumanDay(first);
  const std::chrono::year_month_day a(first), b(last);
  if (a.year() == b.year()) {
    return fmt::format("{} {} &ndash; {}", kMonths[static_cast<unsigned>(a.month()) - 1],
                       static_cast<unsigned>(a.day()), HumanDay(last));
  }
  return fmt::format("{} &ndash; {}", HumanDay(first), HumanDay(last));
}

void AppendMaintenance(std::string& out, const PublicMaintenance& w) {
  fmt::format_to(std::back_inserter(out),
                 "<article class=\"incident open card s-under_maintenance\">\n"
                 "<h3>{}</h3>\n<p class=\"meta\"><span class=\"badge {}\">{}</span>",
                 w.active ? "Maintenance in progress" : "Scheduled maintenance",
                 StateClass(core::ComponentState::kUnderMaintenance),
                 w.active ? "In progress" : "Scheduled");
  if (!w.components.empty()) {
    fmt::format_to(std::back_inserter(out), "Affects {}", Html(Join(w.components, ", ")));
  }
  out += "</p>\n";
  if (w.start && w.end) {
    fmt::format_to(std::back_inserter(out), "<p class=\"when\">{} &ndash; {}</p>\n",
                   HtmlTime(*w.start), HtmlTime(*w.end));
  } else if (w.start) {
    fmt::format_to(std::back_inserter(out), "<p class=\"when\">From {}</p>\n", HtmlTime(*w.start));
  } else if (w.end) {
    fmt::format_to(std::back_inserter(out), "<p class=\"when\">Until {}</p>\n", HtmlTime(*w.end));
  }
  if (!w.recurrence.empty()) {
    fmt::format_to(std::back_inserter(out), "<p class=\"when\">Recurring: {}</p>\n",
                   Html(w.recurrence));
  }
  out += "</article>\n";
}

// The whole history window, newest day first: each day with incidents under its own heading,
// and each run of days without any as one line ("No incidents reported").
void AppendHistory(std::string& out, const StatusPageModel& m) {
  if (m.history_days <= 0) return;
  std::map<Day, std::vector<const PublicIncident*>, std::greater<>> days;
  for (const auto& incident : m.history) days[DayOf(incident.started_at)].push_back(&incident);
  fmt::format_to(std::back_inserter(out),
                 "<section class=\"history\">\n<h2>Past incidents (last {} days)</h2>\n",
                 m.history_days);
  const Day today = DayOf(m.generated_at);
  const Day oldest = today - std::chrono::days(m.history_days - 1);
  auto quiet = [&out](Day newest, Day oldest_quiet) {
    fmt::format_to(std::back_inserter(out),
                   "<div class=\"day quiet\">\n<h3><time datetime=\"{}\">{}</time></h3>\n"
                   "<p class=\"none\">No incidents reported.</p>\n</div>\n",
                   IsoDay(newest), HumanDays(oldest_quiet, newest));
  };
  Day next = today;  // the newest day not shown yet
  for (auto& [day, incidents] : days) {
    if (day > today || day < oldest) continue;
    if (day < next) quiet(next, day + std::chrono::days(1));
    fmt::format_to(std::back_inserter(out),
                   "<div class=\"day\">\n<h3><time datetime=\"{}\">{}</time></h3>\n", IsoDay(day),
                   HumanDay(day));
    std::stable_sort(incidents.begin(), incidents.end(),
                     [](const PublicIncident* a, const PublicIncident* b) {
                       return a->started_at > b->started_at;
                     });
    for (const auto* incident : incidents) AppendPastIncident(out, *incident);
    out += "</div>\n";
    next = day - std::chrono::days(1);
  }
  if (next >= oldest) quiet(next, oldest);
  out += "</section>\n";
}

// ---- JSON ----------------------------------------------------------------------------------

boost::json::value JsonTime(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return boost::json::value(FormatRfc3339(*t));
}

boost::json::array JsonStrings(const std::vector<std::string>& v) {
  boost::json::array out;
  out.reserve(v.size());
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

boost::json::object JsonIncident(const PublicIncident& incident) {
  boost::json::array updates;
  updates.reserve(incident.updates.size());
  for (const auto& u : incident.updates) {
    boost::json::object o;
    o["id"] = u.id;
    o["at"] = FormatRfc3339(u.at);
    o["status"] = u.phase;
    o["text"] = u.text;
    updates.emplace_back(std::move(o));
  }
  boost::json::object o;
  o["id"] = incident.id;
  o["title"] = incident.title;
  o["status"] = incident.phase;
  o["impact"] = core::ToString(incident.impact);
  o["components"] = JsonStrings(incident.components);
  o["started_at"] = FormatRfc3339(incident.started_at);
  o["resolved_at"] = JsonTime(incident.resolved_at);
  o["updates"] = std::move(updates);
  return o;
}

boost::json::array JsonIncidents(const std::vector<PublicIncident>& incidents) {
  boost::json::array out;
  out.reserve(incidents.size());
  for (const auto& incident : incidents) out.emplace_back(JsonIncident(incident));
  return out;
}

}  // namespace

std::string OverallDescription(core::ComponentState s) {
  switch (s) {
    case core::ComponentState::kOperational:
      return "All systems operational";
    case core::ComponentState::kDegradedPerformance:
      return "Degraded performance";
    case core::ComponentState::kPartialOutage:
      return "Partial outage";
    case core::ComponentState::kMajorOutage:
      return "Major outage";
    case core::ComponentState::kUnderMaintenance:
      return "Under maintenance";
  }
  return "All systems operational";
}

std::string StateLabel(core::ComponentState s) {
  switch (s) {
    case core::ComponentState::kOperational:
      return "Operational";
    case core::ComponentState::kDegradedPerformance:
      return "Degraded performance";
    case core::ComponentState::kPartialOutage:
      return "Partial outage";
    case core::ComponentState::kMajorOutage:
      return "Major outage";
    case core::ComponentState::kUnderMaintenance:
      return "Under maintenance";
  }
  return "Operational";
}

std::string StatusPageHtml(const StatusPageModel& m) {
  std::string out;
  out.reserve(16384);
  const std::string title = Html(m.title);
  fmt::format_to(
      std::back_inserter(out),
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n"
      "<meta name=\"description\" content=\"Current status and incident history of {0}\">\n"
      // An inline icon in the overall colour: no request for /favicon.ico.
      "<link rel=\"icon\" href=\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' "
      "viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%23{1}'/%3E%3C/svg%3E\">\n"
      "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{0} (Atom)\" "
      "href=\"/status/feed.atom\">\n"
      "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"{0} (RSS)\" "
      "href=\"/status/feed.rss\">\n"
      "<style>",
      title, StateColor(m.overall));
  out += kCss;
  fmt::format_to(std::back_inserter(out),
                 "</style>\n</head>\n<body>\n<div class=\"wrap\">\n"
                 "<header class=\"top\"><h1>{}</h1></header>\n<main>\n"
                 "<p class=\"banner {}\" role=\"status\"><span class=\"icon\" "
                 "aria-hidden=\"true\">{}</span>{}</p>\n",
                 title, StateClass(m.overall), BannerIcon(m.overall),
                 Html(OverallDescription(m.overall)));

  if (!m.components.empty()) {
    out += "<ul class=\"components card\">\n";
    for (const auto& c : m.components) {
      out += "<li><span class=\"cname\">";
      out += Html(c.name);
      if (!c.description.empty()) {
        fmt::format_to(std::back_inserter(out), "<span class=\"cdesc\">{}</span>",
                       Html(c.description));
      }
      fmt::format_to(std::back_inserter(out),
                     "</span><span class=\"state {}\"><span class=\"dot\" "
                     "aria-hidden=\"true\"></span>{}</span></li>\n",
                     StateClass(c.state), Html(StateLabel(c.state)));
    }
    out += "</ul>\n";
  }

  if (!m.open.empty()) {
    out += "<section class=\"active\">\n<h2>Active incidents</h2>\n";
    for (const auto& incident : m.open) AppendOpenIncident(out, incident);
    out += "</section>\n";
  }

  if (!m.maintenance.empty()) {
    // In progress before upcoming; the model's order otherwise.
    std::vector<const PublicMaintenance*> windows;
    for (const auto& w : m.maintenance) windows.push_back(&w);
    std::stable_partition(windows.begin(), windows.end(),
                          [](const PublicMaintenance* w) { return w->active; });
    out += "<section class=\"maintenance\">\n<h2>Maintenance</h2>\n";
    for (const auto* w : windows) AppendMaintenance(out, *w);
    out += "</section>\n";
  }

  AppendHistory(out, m);

  fmt::format_to(std::back_inserter(out),
                 "</main>\n<footer>\n<span>Subscribe: <a href=\"/status/feed.atom\">Atom</a> "
                 "&middot; <a href=\"/status/feed.rss\">RSS</a></span>\n"
                 "<span>Last updated {}</span>\n</footer>\n</div>\n</body>\n</html>\n",
                 HtmlTime(m.generated_at));
  return out;
}

std::string StatusPageJson(const StatusPageModel& m) {
  boost::json::object page;
  page["title"] = m.title;
  page["url"] = m.url;
  page["updated_at"] = FormatRfc3339(m.generated_at);

  boost::json::object status;
  status["indicator"] = core::ToString(m.overall);
  status["description"] = OverallDescription(m.overall);

  boost::json::array components;
  components.reserve(m.components.size());
  for (const auto& c : m.components) {
    boost::json::object o;
    o["id"] = c.id;
    o["name"] = c.name;
    o["description"] = c.description;
    o["status"] = core::ToString(c.state);
    components.emplace_back(std::move(o));
  }

  boost::json::array maintenances;
  maintenances.reserve(m.maintenance.size());
  for (const auto& w : m.maintenance) {
    boost::json::object o;
    o["id"] = w.id;
    o["components"] = JsonStrings(w.components);
    o["start"] = JsonTime(w.start);
    o["end"] = JsonTime(w.end);
    o["recurrence"] = w.recurrence;
    o["active"] = w.active;
    maintenances.emplace_back(std::move(o));
  }

  boost::json::object root;
  root["page"] = std::move(page);
  root["status"] = std::move(status);
  root["components"] = std::move(components);
  root["incidents"] = JsonIncidents(m.open);
  root["history"] = JsonIncidents(m.history);
  root["maintenances"] = std::move(maintenances);
  return boost::json::serialize(root);
}

std::string StatusPageAtom(const StatusPageModel& m) {
  const std::vector<FeedEntry> entries = FeedEntries(m);
  const std::string url = Xml(PageUrl(m));
  std::string out;
  fmt::format_to(std::back_inserter(out),
                 "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                 "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
                 "<id>{0}</id>\n"
                 "<title>{1}</title>\n"
                 "<updated>{2}</updated>\n"
                 "<link rel=\"self\" type=\"application/atom+xml\" href=\"{0}/feed.atom\"/>\n"
                 "<link rel=\"alternate\" type=\"text/html\" href=\"{0}\"/>\n"
                 // Atom requires an author on the feed when its entries have none.
                 "<author><name>{1}</name></author>\n"
                 "<generator>houston</generator>\n",
                 url.empty() ? "urn:houston:status" : url, Xml(m.title),
                 FormatRfc3339(FeedUpdated(m, entries)));
  for (const auto& e : entries) {
    fmt::format_to(std::back_inserter(out),
                   "<entry>\n"
                   "<id>{}</id>\n"
                   "<title>{}</title>\n"
                   "<updated>{}</updated>\n"
                   "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n"
                   "<content type=\"text\">{}</content>\n"
                   "</entry>\n",
                   Xml(EntryId(e)), Xml(EntryTitle(e)), FormatRfc3339(e.update->at),
                   Xml(EntryLink(m, e)), Xml(e.update->text));
  }
  out += "</feed>\n";
  return out;
}

std::string StatusPageRss(const StatusPageModel& m) {
  const std::vector<FeedEntry> entries = FeedEntries(m);
  const std::string url = Xml(PageUrl(m));
  std::string out;
  fmt::format_to(std::back_inserter(out),
                 "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                 "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n"
                 "<channel>\n"
                 "<title>{1}</title>\n"
                 "<link>{0}</link>\n"
                 "<description>{2}</description>\n"
                 "<lastBuildDate>{3}</lastBuildDate>\n"
                 "<generator>houston</generator>\n"
                 "<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"{0}/feed.rss\"/>\n",
                 url, Xml(m.title), Xml(fmt::format("Incident updates from {}", m.title)),
                 Rfc822(FeedUpdated(m, entries)));
  for (const auto& e : entries) {
    // RSS readers render <description> as HTML: the plain text is HTML-escaped (line breaks as
    // <br>) and the result XML-escaped, so "<b>" in an update shows as "<b>", not bold.
    fmt::format_to(std::back_inserter(out),
                   "<item>\n"
                   "<title>{}</title>\n"
                   "<link>{}</link>\n"
                   "<guid isPermaLink=\"false\">{}</guid>\n"
                   "<pubDate>{}</pubDate>\n"
                   "<description>{}</description>\n"
                   "</item>\n",
                   Xml(EntryTitle(e)), Xml(EntryLink(m, e)), Xml(EntryId(e)), Rfc822(e.update->at),
                   Xml(HtmlText(e.update->text)));
  }
  out += "</channel>\n</rss>\n";
  return out;
}

// ---- cache ---------------------------------------------------------------------------------

std::shared_ptr<StatusPageCache::Entry> StatusPageCache::Current(
    Version version, const std::string& base_url, TimePoint now,
    std::chrono::milliseconds max_age) const {
  std::lock_guard lock(mu_);
  if (entry_ && entry_->version == version && entry_->base_url == base_url &&
      now >= entry_->built_at && now - entry_->built_at < max_age) {
    return entry_;
  }
  return nullptr;
}

Result<std::string> StatusPageCache::Get(Format format, Version version,
                                         const std::string& base_url, TimePoint now,
                                         std::chrono::milliseconds max_age,
                                         const std::function<Result<StatusPageModel>()>& build) {
  std::shared_ptr<Entry> entry = Current(version, base_url, now, max_age);
  if (!entry) {
    std::lock_guard building(build_mu_);
    entry = Current(version, base_url, now, max_age);  // another request may just have built it
    if (!entry) {
      HOUSTON_ASSIGN_OR_RETURN(StatusPageModel model, build());
      entry = std::make_shared<Entry>();
      entry->version = version;
      entry->base_url = base_url;
      entry->built_at = now;
      entry->model = std::move(model);
      std::lock_guard lock(mu_);
      entry_ = entry;
      ++builds_;
    }
  }
  std::lock_guard lock(entry->mu);
  auto& slot = entry->rendered[static_cast<size_t>(format)];
  if (!slot) {
    switch (format) {
      case Format::kHtml:
        slot = StatusPageHtml(entry->model);
        break;
      case Format::kJson:
        slot = StatusPageJson(entry->model);
        break;
      case Format::kAtom:
        slot = StatusPageAtom(entry->model);
        break;
      case Format::kRss:
        slot = StatusPageRss(entry->model);
        break;
    }
  }
  return *slot;
}

uint64_t StatusPageCache::builds() const {
  std::lock_guard lock(mu_);
  return builds_;
}

// Whether a service's incident touches a public component, and which ones.
std::vector<const config::StatusComponent*> ComponentsOf(const config::Org& org,
                                                         const core::Incident& inc) {
  std::vector<const config::StatusComponent*> out;
  if (!org.status_page) return out;
  for (const auto& c : org.status_page->components) {
    for (const auto& s : c.services) {
      if (std::find(inc.services.begin(), inc.services.end(), s) != inc.services.end()) {
        out.push_back(&c);
        break;
      }
    }
  }
  return out;
}

}  // namespace houston::incidents
