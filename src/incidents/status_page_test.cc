#include "incidents/status_page.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace houston::incidents {
namespace {

using core::ComponentState;

constexpr std::string_view kScript = "<script>alert(1)</script>";
constexpr std::string_view kScriptHtml = "&lt;script&gt;alert(1)&lt;/script&gt;";

TimePoint At(int y, unsigned mo, unsigned d, int h, int mi) {
  return TimePoint(std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(mo) /
                                         std::chrono::day(d))) +
         std::chrono::hours(h) + std::chrono::minutes(mi);
}

// Two components (one down), one open incident with two updates, one resolved incident from
// three days ago and one upcoming maintenance window. Titles and texts carry markup and '&'.
StatusPageModel FullModel() {
  StatusPageModel m;
  m.title = "Acme & Co <Status>";
  m.url = "https://status.example.com/status";
  m.generated_at = At(2026, 11, 20, 13, 0);
  m.overall = ComponentState::kMajorOutage;
  m.components = {
      {.id = "api",
       .name = "API",
       .description = "Public REST API",
       .state = ComponentState::kMajorOutage},
      {.id = "web", .name = "Web app", .description = "", .state = ComponentState::kOperational},
  };
  PublicIncident open;
  open.id = 42;
  open.title = "API errors " + std::string(kScript);
  open.phase = "identified";
  open.impact = ComponentState::kMajorOutage;
  open.components = {"API"};
  open.started_at = At(2026, 11, 20, 12, 0);
  open.updates = {
      {.id = 2,
       .at = At(2026, 11, 20, 12, 45),
       .phase = "identified",
       .text = "Root cause found.\nRolling back & watching."},
      {.id = 1,
       .at = At(2026, 11, 20, 12, 5),
       .phase = "investigating",
       .text = "We see errors " + std::string(kScript)},
  };
  m.open = {open};
  PublicIncident past;
  past.id = 7;
  past.title = "Slow logins";
  past.phase = "resolved";
  past.impact = ComponentState::kOperational;
  past.components = {"Web app"};
  past.started_at = At(2026, 11, 17, 9, 0);
  past.resolved_at = At(2026, 11, 17, 10, 30);
  past.updates = {
      {.id = 4, .at = At(2026, 11, 17, 10, 30), .phase = "resolved", .text = "Fixed."},
      {.id = 3,
       .at = At(2026, 11, 17, 9, 10),
       .phase = "investigating",
       .text = "Logins are slow."},
  };
  m.history = {past};
  PublicMaintenance window;
  window.id = "db-upgrade";
  window.components = {"API"};
  window.start = At(2026, 11, 22, 1, 0);
  window.end = At(2026, 11, 22, 3, 0);
  m.maintenance = {window};
  return m;
}

StatusPageModel EmptyModel() {
  StatusPageModel m;
  m.url = "https://status.example.com/status";
  m.generated_at = At(2026, 11, 20, 13, 0);
  return m;
}

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// Asserts that the needles occur in `haystack` in this order.
void ExpectInOrder(std::string_view haystack, const std::vector<std::string>& needles) {
  size_t last = 0;
  for (const auto& needle : needles) {
    const size_t pos = haystack.find(needle, last);
    ASSERT_NE(pos, std::string_view::npos) << "missing (in order): " << needle;
    last = pos + needle.size();
  }
}

// A small XML well-formedness check: balanced, properly nested tags, one root element, quoted
// attributes, no raw '<' in text or attributes and only the five predefined or numeric entities.
bool ValidEntities(std::string_view text) {
  for (size_t amp = text.find('&'); amp != std::string_view::npos; amp = text.find('&', amp + 1)) {
    const size_t semi = text.find(';', amp);
    if (semi == std::string_view::npos) return false;
    std::string_view name = text.substr(amp + 1, semi - amp - 1);
    if (name != "amp" && name != "lt" && name != "gt" && name != "quot" && name != "apos" &&
        !(name.size() > 1 && name[0] == '#')) {
      return false;
    }
  }
  return text.find('<') == std::string_view::npos;
}

::testing::AssertionResult WellFormedXml(std::string_view xml) {
  if (xml.starts_with("<?xml")) xml.remove_prefix(xml.find("?>") + 2);
  std::vector<std::string_view> open;
  int roots = 0;
  size_t pos = 0;
  while (true) {
    const size_t lt = xml.find('<', pos);
    const std::string_view text = xml.substr(pos, lt - pos);
    if (!ValidEntities(text)) return ::testing::AssertionFailure() << "bad text: " << text;
    if (open.empty() && text.find_first_not_of(" \n") != std::string_view::npos) {
      return ::testing::AssertionFailure() << "text outside the root: " << text;
    }
    if (lt == std::string_view::npos) break;
    const size_t gt = xml.find('>', lt);
    if (gt == std::string_view::npos) return ::testing::AssertionFailure() << "unclosed tag";
    std::string_view tag = xml.substr(lt + 1, gt - lt - 1);
    pos = gt + 1;
    if (tag.starts_with('/')) {
      if (open.empty() || open.back() != tag.substr(1)) {
        return ::testing::AssertionFailure() << "mismatched </" << tag.substr(1) << ">";
      }
      open.pop_back();
      continue;
    }
    const bool self_closing = tag.ends_with('/');
    if (self_closing) tag.remove_suffix(1);
    const std::string_view name = tag.substr(0, tag.find_first_of(" \n"));
    if (name.empty()) return ::testing::AssertionFailure() << "empty tag name";
    // Attributes: name="value" pairs with escaped values.
    std::string_view attrs = tag.substr(name.size());
    while (true) {
      const size_t start = attrs.find_first_not_of(" \n");
      if (start == std::string_view::npos) break;
      const size_t eq = attrs.find('=', start);
      if (eq == std::string_view::npos || eq + 1 >= attrs.size() || attrs[eq + 1] != '"') {
        return ::testing::AssertionFailure() << "bad attribute in <" << tag << ">";
      }
      const size_t end = attrs.find('"', eq + 2);
      if (end == std::string_view::npos || !ValidEntities(attrs.substr(eq + 2, end - eq - 2))) {
        return ::testing::AssertionFailure() << "bad attribute value in <" << tag << ">";
      }
      attrs.remove_prefix(end + 1);
    }
    if (open.empty()) ++roots;
    if (!self_closing) open.push_back(name);
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "unclosed <" << open.back() << ">";
  if (roots != 1) return ::testing::AssertionFailure() << roots << " root elements";
  return ::testing::AssertionSuccess();
}

TEST(StatusPageTest, Labels) {
  EXPECT_EQ(OverallDescription(ComponentState::kOperational), "All systems operational");
  EXPECT_EQ(OverallDescription(ComponentState::kDegradedPerformance), "Degraded performance");
  EXPECT_EQ(OverallDescription(ComponentState::kPartialOutage), "Partial outage");
  EXPECT_EQ(OverallDescription(ComponentState::kMajorOutage), "Major outage");
  EXPECT_EQ(OverallDescription(ComponentState::kUnderMaintenance), "Under maintenance");
  EXPECT_EQ(StateLabel(ComponentState::kOperational), "Operational");
  EXPECT_EQ(StateLabel(ComponentState::kDegradedPerformance), "Degraded performance");
  EXPECT_EQ(StateLabel(ComponentState::kPartialOutage), "Partial outage");
  EXPECT_EQ(StateLabel(ComponentState::kMajorOutage), "Major outage");
  EXPECT_EQ(StateLabel(ComponentState::kUnderMaintenance), "Under maintenance");
}

TEST(StatusPageTest, HtmlIsACompleteSelfContainedPage) {
  const std::string html = StatusPageHtml(FullModel());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("<meta name=\"viewport\""), std::string::npos);
  EXPECT_NE(html.find("<title>Acme &amp; Co &lt;Status&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("@media (max-width:"), std::string::npos);
  // No JavaScript and nothing fetched from elsewhere.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("stylesheet"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(StatusPageTest, HtmlShowsBannerComponentsIncidentsAndFeeds) {
  const std::string html = StatusPageHtml(FullModel());
  // The banner, coloured by the overall state.
  EXPECT_NE(html.find("class=\"banner s-major_outage\""), std::string::npos);
  ExpectInOrder(html, {"class=\"banner s-major_outage\"", "Major outage</p>"});
  // Components with their states.
  ExpectInOrder(html,
                {"API", "Public REST API", "class=\"state s-major_outage\"", "Major outage</span>",
                 "Web app", "class=\"state s-operational\"", "Operational</span>"});
  // The open incident: anchor, title, impact, components and its updates, newest first.
  ExpectInOrder(html, {"<h2>Active incidents</h2>", "id=\"incident-42\"", "API errors",
                       "Major outage</span>", "Affects API", "<strong>Identified</strong>",
                       "Root cause found.<br>Rolling back &amp; watching.", "2026-11-20 12:45 UTC",
                       "<strong>Investigating</strong>", "We see errors", "2026-11-20 12:05 UTC"});
  EXPECT_NE(html.find("<time datetime=\"2026-11-20T12:45:00.000Z\">2026-11-20 12:45 UTC</time>"),
            std::string::npos);
  // Maintenance with its window.
  ExpectInOrder(html, {"<h2>Maintenance</h2>", "Scheduled maintenance", "Affects API",
                       "2026-11-22 01:00 UTC", "2026-11-22 03:00 UTC"});
  // Feeds: absolute paths, in <head> and in the footer.
  ExpectInOrder(html, {"<link rel=\"alternate\" type=\"application/atom+xml\"",
                       "href=\"/status/feed.atom\">", "</head>"});
  ExpectInOrder(html, {"<link rel=\"alternate\" type=\"application/rss+xml\"",
                       "href=\"/status/feed.rss\">", "</head>"});
  ExpectInOrder(html, {"<footer>", "<a href=\"/status/feed.atom\">Atom</a>",
                       "<a href=\"/status/feed.rss\">RSS</a>", "Last updated",
                       "2026-11-20 13:00 UTC", "</footer>"});
  EXPECT_EQ(html.find("\"status/feed"), std::string::npos);
}

TEST(StatusPageTest, HtmlHistoryIsGroupedByDayNewestFirst) {
  const std::string html = StatusPageHtml(FullModel());
  // The whole 90 days the heading promises (Aug 23 to Nov 20): the 17th has the resolved
  // incident, the quiet days before and after it are one line each.
  ExpectInOrder(
      html,
      {"<h2>Past incidents (last 90 days)</h2>",
       "<time datetime=\"2026-11-20\">Nov 18 &ndash; Nov 20, 2026</time>", "No incidents reported.",
       "<time datetime=\"2026-11-17\">Nov 17, 2026</time>", "id=\"incident-7\"", "Slow logins",
       "Resolved</span>Resolved <time datetime=\"2026-11-17T10:30:00.000Z\">", "Affected Web app",
       "<strong>Resolved</strong>", "Fixed.", "2026-11-17 10:30 UTC",
       "<strong>Investigating</strong>", "Logins are slow.",
       "<time datetime=\"2026-11-16\">Aug 23 &ndash; Nov 16, 2026</time>", "No incidents reported.",
       "</section>"});
  EXPECT_EQ(Count(html, "No incidents reported."), 2u);
  EXPECT_EQ(html.find("Aug 22"), std::string::npos);
}

TEST(StatusPageTest, HtmlHistoryCoversTheWholeWindowCompactly) {
  StatusPageModel m = FullModel();
  m.history[0].started_at = At(2026, 10, 1, 9, 0);
  const std::string html = StatusPageHtml(m);
  EXPECT_EQ(Count(html, "No incidents reported."), 2u);
  ExpectInOrder(html,
                {"Oct 2 &ndash; Nov 20, 2026", "No incidents reported.", "Oct 1, 2026",
                 "id=\"incident-7\"", "Aug 23 &ndash; Sep 30, 2026", "No incidents reported."});
  // On the first day of the window, nothing quiet is left before it.
  m.history[0].started_at = At(2026, 8, 23, 9, 0);
  EXPECT_EQ(Count(StatusPageHtml(m), "No incidents reported."), 1u);
  // The heading says what the window is.
  m.history_days = 30;
  m.history[0].started_at = At(2026, 11, 20, 9, 0);
  const std::string month = StatusPageHtml(m);
  ExpectInOrder(month, {"<h2>Past incidents (last 30 days)</h2>", "Nov 20, 2026",
                        "id=\"incident-7\"", "Oct 22 &ndash; Nov 19, 2026"});
}

TEST(StatusPageTest, HtmlMarksPastIncidentsResolved) {
  StatusPageModel m = FullModel();
  const std::string html = StatusPageHtml(m);
  const std::string past = html.substr(html.find("id=\"incident-7\""));
  ExpectInOrder(past, {"<span class=\"badge s-operational\">Resolved</span>",
                       "Resolved <time datetime=\"2026-11-17T10:30:00.000Z\">"
                       "2026-11-17 10:30 UTC</time>"});
  // Open incidents are not.
  const std::string open = html.substr(html.find("id=\"incident-42\""));
  EXPECT_LT(open.find("Identified"), open.find("Resolved"));
}

TEST(StatusPageTest, HtmlShowsRecurringAndActiveMaintenance) {
  StatusPageModel m = EmptyModel();
  m.overall = ComponentState::kUnderMaintenance;
  m.maintenance = {
      {.id = "weekly", .components = {"DB"}, .recurrence = "every sat, sun 01:00-03:00 (UTC)"},
      {.id = "now",
       .components = {"API"},
       .start = At(2026, 11, 20, 12, 0),
       .end = At(2026, 11, 20, 14, 0),
       .active = true},
  };
  const std::string html = StatusPageHtml(m);
  EXPECT_NE(html.find("class=\"banner s-under_maintenance\""), std::string::npos);
  // The active window comes first.
  ExpectInOrder(html, {"Maintenance in progress", "Affects API", "2026-11-20 12:00 UTC",
                       "2026-11-20 14:00 UTC", "Scheduled maintenance", "Affects DB",
                       "Recurring: every sat, sun 01:00-03:00 (UTC)"});
}

TEST(StatusPageTest, HtmlEscapesEveryModelString) {
  const std::string evil = "\"'&" + std::string(kScript);
  const std::string escaped = "&quot;&#39;&amp;" + std::string(kScriptHtml);
  StatusPageModel m = FullModel();
  m.title = evil;
  m.components[0].name = evil;
  m.components[0].description = evil;
  m.open[0].title = evil;
  m.open[0].components = {evil};
  m.open[0].updates[0].text = evil;
  m.open[0].updates[0].phase = evil;
  m.history[0].title = evil;
  m.history[0].updates[1].text = evil;
  m.maintenance[0].components = {evil};
  m.maintenance[0].recurrence = evil;
  const std::string html = StatusPageHtml(m);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("\"'"), std::string::npos);
  // <title>, the description and two feed titles, <h1>, component name and description,
  // incident title, its components, update text and phase, past title and text, maintenance
  // components and recurrence.
  EXPECT_EQ(Count(html, escaped), 15u);
}

TEST(StatusPageTest, EmptyModelIsAllOperationalWithoutIncidents) {
  const StatusPageModel m = EmptyModel();
  const std::string html = StatusPageHtml(m);
  ExpectInOrder(html, {"class=\"banner s-operational\"", "All systems operational</p>"});
  EXPECT_EQ(html.find("Active incidents"), std::string::npos);
  EXPECT_EQ(html.find("incident-"), std::string::npos);
  EXPECT_EQ(html.find("<h2>Maintenance</h2>"), std::string::npos);
  EXPECT_EQ(Count(html, "No incidents reported."), 1u);
  EXPECT_NE(html.find("Aug 23 &ndash; Nov 20, 2026"), std::string::npos);
  EXPECT_NE(html.find("Last updated <time datetime=\"2026-11-20T13:00:00.000Z\">"),
            std::string::npos);

  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(StatusPageJson(m), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(json.at_pointer("/status/indicator"), "operational");
  EXPECT_EQ(json.at_pointer("/status/description"), "All systems operational");
  EXPECT_TRUE(json.at_pointer("/incidents").as_array().empty());
  EXPECT_TRUE(json.at_pointer("/history").as_array().empty());
  EXPECT_TRUE(json.at_pointer("/components").as_array().empty());
  EXPECT_TRUE(json.at_pointer("/maintenances").as_array().empty());

  const std::string atom = StatusPageAtom(m);
  EXPECT_TRUE(WellFormedXml(atom));
  EXPECT_EQ(atom.find("<entry>"), std::string::npos);
  EXPECT_NE(atom.find("<updated>2026-11-20T13:00:00.000Z</updated>"), std::string::npos);
  const std::string rss = StatusPageRss(m);
  EXPECT_TRUE(WellFormedXml(rss));
  EXPECT_EQ(rss.find("<item>"), std::string::npos);
  EXPECT_NE(rss.find("<lastBuildDate>Fri, 20 Nov 2026 13:00:00 +0000</lastBuildDate>"),
            std::string::npos);
}

TEST(StatusPageTest, JsonHasTheDocumentedShape) {
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(StatusPageJson(FullModel()), ec);
  ASSERT_FALSE(ec) << ec.message();
  const auto& root = json.as_object();
  EXPECT_EQ(root.size(), 6u);

  EXPECT_EQ(json.at_pointer("/page/title"), "Acme & Co <Status>");
  EXPECT_EQ(json.at_pointer("/page/url"), "https://status.example.com/status");
  EXPECT_EQ(json.at_pointer("/page/updated_at"), "2026-11-20T13:00:00.000Z");
  EXPECT_EQ(json.at_pointer("/status/indicator"), "major_outage");
  EXPECT_EQ(json.at_pointer("/status/description"), "Major outage");

  const auto& components = json.at_pointer("/components").as_array();
  ASSERT_EQ(components.size(), 2u);
  EXPECT_EQ(components[0], (boost::json::object{{"id", "api"},
                                                {"name", "API"},
                                                {"description", "Public REST API"},
                                                {"status", "major_outage"}}));
  EXPECT_EQ(components[1].at("status"), "operational");

  const auto& incidents = json.at_pointer("/incidents").as_array();
  ASSERT_EQ(incidents.size(), 1u);
  const auto& open = incidents[0].as_object();
  EXPECT_EQ(open.at("id"), 42);
  EXPECT_EQ(open.at("title").as_string(), "API errors " + std::string(kScript));
  EXPECT_EQ(open.at("status"), "identified");
  EXPECT_EQ(open.at("impact"), "major_outage");
  EXPECT_EQ(open.at("components"), (boost::json::array{"API"}));
  EXPECT_EQ(open.at("started_at"), "2026-11-20T12:00:00.000Z");
  EXPECT_TRUE(open.at("resolved_at").is_null());
  const auto& updates = open.at("updates").as_array();
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0],
            (boost::json::object{{"id", 2},
                                 {"at", "2026-11-20T12:45:00.000Z"},
                                 {"status", "identified"},
                                 {"text", "Root cause found.\nRolling back & watching."}}));
  EXPECT_EQ(updates[1].at("id"), 1);

  const auto& history = json.at_pointer("/history").as_array();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].at("id"), 7);
  EXPECT_EQ(history[0].at("status"), "resolved");
  EXPECT_EQ(history[0].at("impact"), "operational");
  EXPECT_EQ(history[0].at("resolved_at"), "2026-11-17T10:30:00.000Z");
  EXPECT_EQ(history[0].at("updates").as_array().size(), 2u);

  const auto& maintenances = json.at_pointer("/maintenances").as_array();
  ASSERT_EQ(maintenances.size(), 1u);
  EXPECT_EQ(maintenances[0], (boost::json::object{{"id", "db-upgrade"},
                                                  {"components", boost::json::array{"API"}},
                                                  {"start", "2026-11-22T01:00:00.000Z"},
                                                  {"end", "2026-11-22T03:00:00.000Z"},
                                                  {"recurrence", ""},
                                                  {"active", false}}));
}

TEST(StatusPageTest, JsonRecurringMaintenanceHasNullTimes) {
  StatusPageModel m = EmptyModel();
  m.maintenance = {{.id = "weekly", .recurrence = "every sat 01:00-03:00 (UTC)", .active = true}};
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(StatusPageJson(m), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(json.at_pointer("/maintenances/0/start").is_null());
  EXPECT_TRUE(json.at_pointer("/maintenances/0/end").is_null());
  EXPECT_EQ(json.at_pointer("/maintenances/0/recurrence"), "every sat 01:00-03:00 (UTC)");
  EXPECT_EQ(json.at_pointer("/maintenances/0/active"), true);
}

TEST(StatusPageTest, AtomHasOneEntryPerUpdateNewestFirst) {
  const std::string atom = StatusPageAtom(FullModel());
  EXPECT_TRUE(WellFormedXml(atom));
  ExpectInOrder(
      atom,
      {"<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
       "<id>https://status.example.com/status</id>", "<title>Acme &amp; Co &lt;Status&gt;</title>",
       "<updated>2026-11-20T12:45:00.000Z</updated>",
       "<link rel=\"self\" type=\"application/atom+xml\"",
       "href=\"https://status.example.com/status/feed.atom\"/>", "<author><name>"});
  EXPECT_EQ(Count(atom, "<entry>"), 4u);
  ExpectInOrder(
      atom,
      {"<entry>", "<id>urn:houston:status:incident-42:update-2</id>",
       "<title>API errors " + std::string(kScriptHtml) + ": Identified</title>",
       "<updated>2026-11-20T12:45:00.000Z</updated>",
       "href=\"https://status.example.com/status#incident-42\"",
       "<content type=\"text\">Root cause found.\nRolling back &amp; watching.</content>",
       "</entry>", "<id>urn:houston:status:incident-42:update-1</id>", ": Investigating</title>",
       "<content type=\"text\">We see errors " + std::string(kScriptHtml) + "</content>",
       "<id>urn:houston:status:incident-7:update-4</id>", "<title>Slow logins: Resolved</title>",
       "<updated>2026-11-17T10:30:00.000Z</updated>",
       "href=\"https://status.example.com/status#incident-7\"",
       "<id>urn:houston:status:incident-7:update-3</id>", "</feed>"});
  EXPECT_EQ(atom.find("<script"), std::string::npos);
}

TEST(StatusPageTest, RssHasOneItemPerUpdateNewestFirst) {
  const std::string rss = StatusPageRss(FullModel());
  EXPECT_TRUE(WellFormedXml(rss));
  ExpectInOrder(rss,
                {"<rss version=\"2.0\"", "<channel>", "<title>Acme &amp; Co &lt;Status&gt;</title>",
                 "<link>https://status.example.com/status</link>", "<description>",
                 "<lastBuildDate>Fri, 20 Nov 2026 12:45:00 +0000</lastBuildDate>",
                 "href=\"https://status.example.com/status/feed.rss\""});
  EXPECT_EQ(Count(rss, "<item>"), 4u);
  ExpectInOrder(
      rss,
      {"<item>", "<title>API errors " + std::string(kScriptHtml) + ": Identified</title>",
       "<link>https://status.example.com/status#incident-42</link>",
       "<guid isPermaLink=\"false\">urn:houston:status:incident-42:update-2</guid>",
       "<pubDate>Fri, 20 Nov 2026 12:45:00 +0000</pubDate>",
       // The description is HTML: escaped once for HTML, once more for XML.
       "<description>Root cause found.&lt;br&gt;Rolling back &amp;amp; watching.</description>",
       "</item>", "urn:houston:status:incident-42:update-1",
       "<description>We see errors &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
       "</description>", "urn:houston:status:incident-7:update-4",
       "<pubDate>Tue, 17 Nov 2026 10:30:00 +0000</pubDate>",
       "urn:houston:status:incident-7:update-3", "</channel>", "</rss>"});
  EXPECT_EQ(rss.find("<script"), std::string::npos);
}

TEST(StatusPageTest, FeedsOrderUpdatesAcrossIncidents) {
  StatusPageModel m = FullModel();
  // An update to the past incident newer than the open incident's latest one.
  m.history[0].updates.insert(m.history[0].updates.begin(), {.id = 9,
                                                             .at = At(2026, 11, 20, 12, 50),
                                                             .phase = "resolved",
                                                             .text = "Postmortem published."});
  ExpectInOrder(StatusPageAtom(m),
                {"<updated>2026-11-20T12:50:00.000Z</updated>", "<entry>", "incident-7:update-9",
                 "incident-42:update-2", "incident-42:update-1", "incident-7:update-4"});
  ExpectInOrder(StatusPageRss(m), {"<item>", "incident-7:update-9", "incident-42:update-2",
                                   "incident-42:update-1", "incident-7:update-4"});
}

TEST(StatusPageTest, FeedsEscapeApostrophesAndDropInvalidCharacters) {
  StatusPageModel m = FullModel();
  m.open[0].title = "It's \"down\"";
  m.open[0].updates[0].text =
      "bad\x01"
      "control and bad utf-8 \xff; good: caf\xc3\xa9";
  for (const std::string& xml : {StatusPageAtom(m), StatusPageRss(m)}) {
    EXPECT_TRUE(WellFormedXml(xml));
    EXPECT_NE(xml.find("It&apos;s &quot;down&quot;: Identified"), std::string::npos);
    EXPECT_EQ(xml.find('\x01'), std::string::npos);
    EXPECT_EQ(xml.find('\xff'), std::string::npos);
    EXPECT_NE(xml.find("badcontrol and bad utf-8 \xEF\xBF\xBD; good: caf\xc3\xa9"),
              std::string::npos);
  }
}

TEST(StatusPageTest, TrailingSlashInUrlDoesNotDoubleUp) {
  StatusPageModel m = FullModel();
  m.url = "https://status.example.com/status/";
  const std::string atom = StatusPageAtom(m);
  EXPECT_NE(atom.find("href=\"https://status.example.com/status/feed.atom\""), std::string::npos);
  EXPECT_NE(atom.find("href=\"https://status.example.com/status#incident-42\""), std::string::npos);
  EXPECT_EQ(atom.find("status//"), std::string::npos);
}

TEST(StatusPageCacheTest, BuildsOncePerVersionBaseAndAge) {
  StatusPageCache cache;
  int builds = 0;
  auto build = [&]() -> Result<StatusPageModel> {
    ++builds;
    StatusPageModel m = FullModel();
    m.title = "Build " + std::to_string(builds);
    return m;
  };
  using F = StatusPageCache::Format;
  const TimePoint t0 = At(2026, 12, 4, 10, 0);
  const auto age = std::chrono::milliseconds(1000);
  StatusPageCache::Version v{5, 1};
  auto get = [&](F f, StatusPageCache::Version version, const std::string& base, TimePoint now) {
    auto r = cache.Get(f, version, base, now, age, build);
    EXPECT_TRUE(r.has_value());
    return r.value_or("");
  };
  std::string html = get(F::kHtml, v, "http://a", t0);
  EXPECT_NE(html.find("Build 1"), std::string::npos);
  // Every format of one build comes from that build, however often it is asked for.
  EXPECT_EQ(get(F::kHtml, v, "http://a", t0 + std::chrono::milliseconds(999)), html);
  EXPECT_NE(get(F::kJson, v, "http://a", t0).find("Build 1"), std::string::npos);
  EXPECT_NE(get(F::kAtom, v, "http://a", t0).find("Build 1"), std::string::npos);
  EXPECT_NE(get(F::kRss, v, "http://a", t0).find("Build 1"), std::string::npos);
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(cache.builds(), 1u);
  // A commit, a new org, another base URL, or max_age passing: built again.
  EXPECT_NE(get(F::kHtml, {6, 1}, "http://a", t0).find("Build 2"), std::string::npos);
  EXPECT_NE(get(F::kHtml, {6, 2}, "http://a", t0).find("Build 3"), std::string::npos);
  EXPECT_NE(get(F::kHtml, {6, 2}, "http://b", t0).find("Build 4"), std::string::npos);
  EXPECT_NE(get(F::kHtml, {6, 2}, "http://b", t0 + age).find("Build 5"), std::string::npos);
  // A clock that went back does not keep a page from the future.
  EXPECT_NE(get(F::kHtml, {6, 2}, "http://b", t0).find("Build 6"), std::string::npos);
  EXPECT_EQ(cache.builds(), 6u);
}

TEST(StatusPageCacheTest, AFailedBuildIsNotKept) {
  StatusPageCache cache;
  bool fail = true;
  auto build = [&]() -> Result<StatusPageModel> {
    if (fail) return std::unexpected(Unavailable("database down"));
    return FullModel();
  };
  const TimePoint t0 = At(2026, 12, 4, 10, 0);
  auto r = cache.Get(StatusPageCache::Format::kJson, {1, 1}, "", t0,
                     std::chrono::milliseconds(1000), build);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  fail = false;
  EXPECT_TRUE(cache
                  .Get(StatusPageCache::Format::kJson, {1, 1}, "", t0,
                       std::chrono::milliseconds(1000), build)
                  .has_value());
  EXPECT_EQ(cache.builds(), 1u);
}

}  // namespace
}  // namespace houston::incidents
