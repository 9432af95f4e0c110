#include "ingest/ingest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/random.h"
#include "testing/status_matchers.h"

namespace houston::ingest {
namespace {

using ::houston::testing::StatusIs;

using core::EventAction;
using core::Severity;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

TimePoint Ms(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

template <typename T>
std::vector<std::string> Problems(const Result<T>& r) {
  if (r.has_value()) return {"<no error: parse succeeded>"};
  return r.error().details();
}

template <typename T>
std::string Message(const Result<T>& r) {
  if (r.has_value()) return "<no error: parse succeeded>";
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  return r.error().message();
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A trigger body with the given payload members (JSON text without braces).
std::string Trigger(std::string_view payload_members, std::string_view extra = "") {
  return std::string(R"({"routing_key":"rk","event_action":"trigger",)") + std::string(extra) +
         R"("payload":{)" + std::string(payload_members) + "}}";
}
constexpr std::string_view kGoodPayload =
    R"("summary":"disk full","source":"db-1","severity":"critical")";

// ---------------------------------------------------------------------------------------------
// PagerDuty Events API v2

// The trigger example of PagerDuty's Events API v2 documentation.
constexpr std::string_view kPagerDutyExample = R"json({
  "payload": {
    "summary": "Example alert on host1.example.com",
    "timestamp": "2015-07-17T08:42:58.315+0000",
    "severity": "info",
    "source": "host1.example.com",
    "component": "postgres",
    "group": "prod-datapipe",
    "class": "deploy",
    "custom_details": {
      "ping time": "1500ms",
      "load avg": 0.75
    }
  },
  "routing_key": "samplekeyhere",
  "dedup_key": "samplekeyhere",
  "images": [{
    "src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
    "href": "https://example.com/",
    "alt": "Example text"
  }],
  "links": [{
    "href": "https://example.com/",
    "text": "Link text"
  }],
  "event_action": "trigger",
  "client": "Sample Monitoring Service",
  "client_url": "https://monitoring.example.com"
})json";

TEST(EventsV2, PagerDutyDocumentedExample) {
  Result<core::AlertEvent> r = ParseEventsV2(kPagerDutyExample);
  ASSERT_OK(r);
  const core::AlertEvent& e = *r;
  EXPECT_EQ(e.integration_key, "samplekeyhere");
  EXPECT_EQ(e.action, EventAction::kTrigger);
  EXPECT_EQ(e.dedup_key, "samplekeyhere");
  EXPECT_EQ(e.group_key, "");
  EXPECT_EQ(e.summary, "Example alert on host1.example.com");
  EXPECT_EQ(e.source, "host1.example.com");
  EXPECT_EQ(e.severity, Severity::kInfo);
  EXPECT_EQ(e.timestamp, Ms(1437122578315));
  EXPECT_EQ(e.component, "postgres");
  EXPECT_EQ(e.group, "prod-datapipe");
  EXPECT_EQ(e.klass, "deploy");
  EXPECT_EQ(e.details_json, R"({"ping time":"1500ms","load avg":0.75})");
  EXPECT_EQ(e.client, "Sample Monitoring Service");
  EXPECT_EQ(e.client_url, "https://monitoring.example.com");
  EXPECT_EQ(e.links_json, R"([{"href":"https://example.com/","text":"Link text"}])");
  EXPECT_EQ(e.images_json,
            R"([{"src":"https://www.pagerduty.com/wp-content/uploads/2016/05/)"
            R"(pagerduty-logo-green.png","href":"https://example.com/","alt":"Example text"}])");
  EXPECT_EQ(e.service_id, "");
}

// The exact shape Alertmanager's pagerduty notifier (notify/pagerduty) sends with
// routing_key set: no timestamp, custom_details of strings, no images.
TEST(EventsV2, AlertmanagerPagerDutyNotifierTrigger) {
  const std::string dedup = Sha256Hex("{}/{severity=\"critical\"}:{alertname=\"HighLatency\"}");
  const std::string body =
      R"({"routing_key":"0123456789abcdef0123456789abcdef","dedup_key":")" + dedup +
      R"json(","event_action":"trigger","payload":{"summary":)json"
      R"json("[FIRING:2] HighLatency (api prod)","source":"Alertmanager",)json"
      R"json("severity":"critical","custom_details":{"firing":"Labels:\n )json"
      R"json(- alertname = HighLatency\n - instance = api-1:8080\nAnnotations:)json"
      R"json(\n - summary = p99 above 2s\nSource: http://prom:9090/graph\n",)json"
      R"json("num_firing":"2","num_resolved":"0","resolved":""}},)json"
      R"json("client":"Alertmanager","client_url":)json"
      R"json("http://alertmanager:9093/#/alerts?receiver=pager",)json"
      R"json("links":[{"href":"http://grafana/d/api","text":"Dashboard"}]})json";
  Result<core::AlertEvent> r = ParseEventsV2(body);
  ASSERT_OK(r);
  EXPECT_EQ(r->dedup_key, dedup);
  EXPECT_THAT(r->dedup_key, SizeIs(64));
  EXPECT_EQ(r->action, EventAction::kTrigger);
  EXPECT_EQ(r->summary, "[FIRING:2] HighLatency (api prod)");
  EXPECT_EQ(r->source, "Alertmanager");
  EXPECT_EQ(r->severity, Severity::kCritical);
  EXPECT_EQ(r->timestamp, std::nullopt);
  EXPECT_EQ(r->client, "Alertmanager");
  EXPECT_EQ(r->client_url, "http://alertmanager:9093/#/alerts?receiver=pager");
  EXPECT_THAT(r->details_json, StartsWith(R"({"firing":"Labels:\n - alertname = HighLatency)"));
  EXPECT_THAT(r->details_json, HasSubstr(R"("num_firing":"2","num_resolved":"0","resolved":"")"));
  EXPECT_EQ(r->links_json, R"([{"href":"http://grafana/d/api","text":"Dashboard"}])");
  EXPECT_EQ(r->images_json, "[]");
}

TEST(EventsV2, AlertmanagerPagerDutyNotifierResolve) {
  // On resolve Alertmanager still sends the whole payload; it is accepted and ignored.
  const std::string dedup(64, 'a');
  Result<core::AlertEvent> r = ParseEventsV2(
      R"({"routing_key":"k","dedup_key":")" + dedup +
      R"(","event_action":"resolve","payload":{"summary":"[RESOLVED] x","source":"Alertmanager",)"
      R"("severity":"error","custom_details":{"num_firing":"0"}},"client":"Alertmanager"})");
  ASSERT_OK(r);
  EXPECT_EQ(r->action, EventAction::kResolve);
  EXPECT_EQ(r->dedup_key, dedup);
  EXPECT_EQ(r->summary, "");
  EXPECT_EQ(r->details_json, "{}");
}

TEST(EventsV2, MinimalTrigger) {
  Result<core::AlertEvent> r = ParseEventsV2(Trigger(kGoodPayload));
  ASSERT_OK(r);
  EXPECT_EQ(r->integration_key, "rk");
  EXPECT_EQ(r->dedup_key, "");  // the store generates one
  EXPECT_EQ(r->summary, "disk full");
  EXPECT_EQ(r->source, "db-1");
  EXPECT_EQ(r->severity, Severity::kCritical);
  EXPECT_EQ(r->timestamp, std::nullopt);
  EXPECT_EQ(r->details_json, "{}");
  EXPECT_EQ(r->links_json, "[]");
  EXPECT_EQ(r->images_json, "[]");
  EXPECT_EQ(r->client, "");
}

TEST(EventsV2, EverySeverity) {
  for (auto [name, severity] :
       std::vector<std::pair<std::string, Severity>>{{"critical", Severity::kCritical},
                                                     {"error", Severity::kError},
                                                     {"warning", Severity::kWarning},
                                                     {"info", Severity::kInfo}}) {
    Result<core::AlertEvent> r =
        ParseEventsV2(Trigger(R"("summary":"s","source":"h","severity":")" + name + "\""));
    ASSERT_TRUE(r.has_value()) << name;
    EXPECT_EQ(r->severity, severity);
  }
}

TEST(EventsV2, SeverityMustBeLowerCaseEnum) {
  for (std::string_view bad : {"CRITICAL", "high", "", "Critical"}) {
    Result<core::AlertEvent> r = ParseEventsV2(
        Trigger(R"("summary":"s","source":"h","severity":")" + std::string(bad) + "\""));
    EXPECT_EQ(Message(r), "Event object is invalid");
    EXPECT_THAT(Problems(r), ElementsAre("'payload.severity' must be one of critical, error, "
                                         "warning, info"))
        << bad;
  }
}

TEST(EventsV2, AcknowledgeAndResolveNeedOnlyDedupKey) {
  for (auto [name, action] : std::vector<std::pair<std::string, EventAction>>{
           {"acknowledge", EventAction::kAcknowledge}, {"resolve", EventAction::kResolve}}) {
    Result<core::AlertEvent> r = ParseEventsV2(R"({"routing_key":"rk","event_action":")" + name +
                                               R"(","dedup_key":"srv01/HTTP"})");
    ASSERT_OK(r);
    EXPECT_EQ(r->action, action);
    EXPECT_EQ(r->dedup_key, "srv01/HTTP");
    EXPECT_EQ(r->details_json, "{}");
    EXPECT_EQ(r->links_json, "[]");
  }
}

TEST(EventsV2, AcknowledgeIgnoresItsPayload) {
  Result<core::AlertEvent> r =
      ParseEventsV2(R"({"routing_key":"rk","event_action":"acknowledge","dedup_key":"d",)"
                    R"("payload":{"whatever":1,"summary":5}})");
  ASSERT_OK(r);
  EXPECT_EQ(r->action, EventAction::kAcknowledge);
}

TEST(EventsV2, DedupKeyRequiredForAcknowledgeAndResolve) {
  Result<core::AlertEvent> r = ParseEventsV2(R"({"routing_key":"rk","event_action":"resolve"})");
  EXPECT_EQ(Message(r), "Event object is invalid");
  EXPECT_THAT(Problems(r),
              ElementsAre("'dedup_key' is missing (it is required for resolve events)"));
  r = ParseEventsV2(R"({"routing_key":"rk","event_action":"acknowledge","dedup_key":""})");
  EXPECT_THAT(Problems(r),
              ElementsAre("'dedup_key' is missing (it is required for acknowledge events)"));
  r = ParseEventsV2(R"({"routing_key":"rk","event_action":"acknowledge","dedup_key":null})");
  EXPECT_THAT(Problems(r),
              ElementsAre("'dedup_key' is missing (it is required for acknowledge events)"));
}

TEST(EventsV2, EmptyDedupKeyOnTriggerIsAbsent) {
  Result<core::AlertEvent> r = ParseEventsV2(Trigger(kGoodPayload, R"("dedup_key":"",)"));
  ASSERT_OK(r);
  EXPECT_EQ(r->dedup_key, "");
}

TEST(EventsV2, DedupKeyMustBeAString) {
  Result<core::AlertEvent> r = ParseEventsV2(Trigger(kGoodPayload, R"("dedup_key":42,)"));
  EXPECT_THAT(Problems(r), ElementsAre("'dedup_key' must be a string"));
  // Not reported twice as missing on a resolve.
  r = ParseEventsV2(R"({"routing_key":"rk","event_action":"resolve","dedup_key":["a"]})");
  EXPECT_THAT(Problems(r), ElementsAre("'dedup_key' must be a string"));
}

TEST(EventsV2, DedupKeyLengthCountsCodePoints) {
  std::string ok = Repeat("\xc3\xbc", 255);  // 255 x "ü" = 510 bytes
  Result<core::AlertEvent> r =
      ParseEventsV2(Trigger(kGoodPayload, "\"dedup_key\":\"" + ok + "\","));
  ASSERT_OK(r);
  EXPECT_EQ(r->dedup_key, ok);
  r = ParseEventsV2(Trigger(kGoodPayload, "\"dedup_key\":\"" + std::string(256, 'k') + "\","));
  EXPECT_THAT(Problems(r), ElementsAre("'dedup_key' is longer than 255 characters"));
}

TEST(EventsV2, SummaryLengthCountsCodePoints) {
  for (std::string_view ch : {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}) {  // é € 😀
    std::string summary = Repeat(ch, 1024);
    Result<core::AlertEvent> r =
        ParseEventsV2(Trigger("\"summary\":\"" + summary + R"(","source":"h","severity":"info")"));
    ASSERT_OK(r);
    EXPECT_EQ(r->summary, summary);
    r = ParseEventsV2(Trigger("\"summary\":\"" + summary + std::string(ch) +
                              R"(","source":"h","severity":"info")"));
    EXPECT_THAT(Problems(r), ElementsAre("'payload.summary' is longer than 1024 characters"));
  }
  // 1024 ASCII characters are fine, 1025 are not.
  EXPECT_TRUE(ParseEventsV2(Trigger("\"summary\":\"" + std::string(1024, 'x') +
                                    R"(","source":"h","severity":"info")"))
                  .has_value());
  EXPECT_FALSE(ParseEventsV2(Trigger("\"summary\":\"" + std::string(1025, 'x') +
                                     R"(","source":"h","severity":"info")"))
                   .has_value());
  // An escaped character counts once.
  EXPECT_TRUE(ParseEventsV2(Trigger("\"summary\":\"" + Repeat("\\u00e9", 1024) +
                                    R"(","source":"h","severity":"info")"))
                  .has_value());
}

TEST(EventsV2, RequiredFields) {
  Result<core::AlertEvent> r = ParseEventsV2("{}");
  EXPECT_EQ(Message(r), "Event object is invalid");
  EXPECT_THAT(Problems(r), ElementsAre("'routing_key' is missing", "'event_action' is missing"));

  r = ParseEventsV2(R"({"routing_key":"rk","event_action":"trigger"})");
  EXPECT_THAT(Problems(r), ElementsAre("'payload' is missing"));

  r = ParseEventsV2(Trigger(""));
  EXPECT_THAT(Problems(r),
              ElementsAre("'payload.summary' is missing", "'payload.source' is missing",
                          "'payload.severity' is missing"));

  r = ParseEventsV2(Trigger(R"("summary":"","source":"","severity":"info")"));
  EXPECT_THAT(Problems(r),
              ElementsAre("'payload.summary' is missing", "'payload.source' is missing"));

  r = ParseEventsV2(R"({"routing_key":"","event_action":"trigger","payload":{)" +
                    std::string(kGoodPayload) + "}}");
  EXPECT_THAT(Problems(r), ElementsAre("'routing_key' is missing"));
}

TEST(EventsV2, BadEventAction) {
  Result<core::AlertEvent> r =
      ParseEventsV2(R"({"routing_key":"rk","event_action":"close","dedup_key":"x"})");
  EXPECT_THAT(Problems(r),
              ElementsAre("'event_action' must be one of trigger, acknowledge, resolve"));
  r = ParseEventsV2(R"({"routing_key":"rk","event_action":"Trigger","payload":{)" +
                    std::string(kGoodPayload) + "}}");
  EXPECT_THAT(Problems(r),
              ElementsAre("'event_action' must be one of trigger, acknowledge, resolve"));
  r = ParseEventsV2(R"({"routing_key":"rk","event_action":1})");
  EXPECT_THAT(Problems(r), ElementsAre("'event_action' must be a string"));
}

TEST(EventsV2, PayloadIsCheckedEvenWhenActionIsUnusable) {
  Result<core::AlertEvent> r =
      ParseEventsV2(R"({"routing_key":"rk","event_action":"fire","payload":{"source":"h"}})");
  EXPECT_THAT(Problems(r),
              ElementsAre("'event_action' must be one of trigger, acknowledge, resolve",
                          "'payload.summary' is missing", "'payload.severity' is missing"));
}

TEST(EventsV2, WrongTypesAreNamed) {
  Result<core::AlertEvent> r =
      ParseEventsV2(R"({"routing_key":123,"event_action":"trigger","client":false,"client_url":{},)"
                    R"("payload":{"summary":7,"source":["h"],"severity":1,"timestamp":1437122578,)"
                    R"("component":2,"group":3,"class":4}})");
  EXPECT_EQ(Message(r), "Event object is invalid");
  EXPECT_THAT(
      Problems(r),
      ElementsAre("'routing_key' must be a string", "'payload.summary' must be a string",
                  "'payload.source' must be a string", "'payload.severity' must be a string",
                  "'payload.timestamp' must be a string", "'payload.component' must be a string",
                  "'payload.group' must be a string", "'payload.class' must be a string",
                  "'client' must be a string", "'client_url' must be a string"));
}

TEST(EventsV2, PayloadMustBeAnObject) {
  Result<core::AlertEvent> r =
      ParseEventsV2(R"({"routing_key":"rk","event_action":"trigger","payload":"disk full"})");
  EXPECT_THAT(Problems(r), ElementsAre("'payload' must be an object"));
}

TEST(EventsV2, EveryProblemIsReportedAtOnce) {
  Result<core::AlertEvent> r =
      ParseEventsV2(R"({"event_action":"trigger","dedup_key":")" + std::string(300, 'd') +
                    R"(","foo":1,"payload":{"source":"h","severity":"urgent","bar":true}})");
  EXPECT_EQ(Message(r), "Event object is invalid");
  EXPECT_THAT(
      Problems(r),
      UnorderedElementsAre("'routing_key' is missing", "'dedup_key' is longer than 255 characters",
                           "'payload.summary' is missing",
                           "'payload.severity' must be one of critical, error, warning, info",
                           "unknown field 'payload.bar'", "unknown field 'foo'"));
}

TEST(EventsV2, UnknownFieldsAreRejected) {
  Result<core::AlertEvent> r = ParseEventsV2(Trigger(kGoodPayload, R"("priority":"P1",)"));
  EXPECT_THAT(Problems(r), ElementsAre("unknown field 'priority'"));
  r = ParseEventsV2(Trigger(std::string(kGoodPayload) + R"(,"details":{})"));
  EXPECT_THAT(Problems(r), ElementsAre("unknown field 'payload.details'"));
}

TEST(EventsV2, V1FieldsGetAHint) {
  Result<core::AlertEvent> r = ParseEventsV2(
      R"({"service_key":"k","event_type":"trigger","incident_key":"i","description":"d"})");
  EXPECT_EQ(Message(r), "Event object is invalid");
  EXPECT_THAT(
      Problems(r),
      ElementsAre(
          "'routing_key' is missing", "'event_action' is missing",
          "unknown field 'service_key': that is an Events API v1 field, Events API v2 uses "
          "'routing_key'",
          "unknown field 'event_type': that is an Events API v1 field, Events API v2 uses "
          "'event_action'",
          "unknown field 'incident_key': that is an Events API v1 field, Events API v2 uses "
          "'dedup_key'",
          "unknown field 'description': that is an Events API v1 field, Events API v2 uses "
          "'payload.summary'"));
}

TEST(EventsV2, NullCountsAsAbsent) {
  Result<core::AlertEvent> r = ParseEventsV2(
      Trigger(std::string(kGoodPayload) + R"(,"component":null,"custom_details":null)",
              R"("client":null,"links":null,"dedup_key":null,)"));
  ASSERT_OK(r);
  EXPECT_EQ(r->component, "");
  EXPECT_EQ(r->details_json, "{}");
  EXPECT_EQ(r->links_json, "[]");
  r = ParseEventsV2(Trigger(R"("summary":null,"source":"h","severity":"info")"));
  EXPECT_THAT(Problems(r), ElementsAre("'payload.summary' is missing"));
}

TEST(EventsV2, CustomDetailsKeepsAnyJsonValue) {
  auto details = [](std::string_view value) {
    Result<core::AlertEvent> r = ParseEventsV2(
        Trigger(std::string(kGoodPayload) + R"(,"custom_details":)" + std::string(value)));
    EXPECT_TRUE(r.has_value()) << value;
    return r.has_value() ? r->details_json : "";
  };
  EXPECT_EQ(details(R"({ "a" : [1, 2.5, true, null], "b": {"c": "\"q\"\n"} })"),
            R"({"a":[1,2.5,true,null],"b":{"c":"\"q\"\n"}})");
  EXPECT_EQ(details(R"("just text")"), R"({"details":"just text"})");
  EXPECT_EQ(details("[1,2]"), R"({"details":[1,2]})");
  EXPECT_EQ(details("42"), R"({"details":42})");
  EXPECT_EQ(details("false"), R"({"details":false})");
  EXPECT_EQ(details("{}"), "{}");
}

TEST(EventsV2, Timestamps) {
  auto ts = [](std::string_view t) {
    return ParseEventsV2(
        Trigger(std::string(kGoodPayload) + R"(,"timestamp":")" + std::string(t) + "\""));
  };
  EXPECT_EQ(ts("2015-07-17T08:42:58.315+0000")->timestamp, Ms(1437122578315));
  EXPECT_EQ(ts("2015-07-17T08:42:58.315Z")->timestamp, Ms(1437122578315));
  EXPECT_EQ(ts("2015-07-17T10:42:58.315+02:00")->timestamp, Ms(1437122578315));
  Result<core::AlertEvent> r = ts("yesterday");
  ASSERT_THAT(Problems(r), SizeIs(1));
  EXPECT_THAT(Problems(r)[0],
              AllOf(StartsWith("'payload.timestamp' is not a valid ISO 8601 timestamp: "),
                    HasSubstr("yesterday")));
}

TEST(EventsV2, LinksAndImagesAreValidated) {
  Result<core::AlertEvent> r = ParseEventsV2(
      Trigger(kGoodPayload,
              R"("links":[{"href":"https://a","text":"A"},{"text":"no href"},"x",{"href":1}],)"
              R"("images":[{"href":"https://a"},{"src":"https://i","alt":5}],)"));
  EXPECT_THAT(Problems(r),
              ElementsAre("'images[0].src' is missing", "'images[1].alt' must be a string",
                          "'links[1].href' is missing", "'links[2]' must be an object",
                          "'links[3].href' must be a string"));
  r = ParseEventsV2(Trigger(kGoodPayload, R"("links":{"href":"x"},"images":"i",)"));
  EXPECT_THAT(Problems(r), ElementsAre("'images' must be an array", "'links' must be an array"));
  r = ParseEventsV2(Trigger(kGoodPayload, R"("links":[],"images":[],)"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->links_json, "[]");
  EXPECT_EQ(r->images_json, "[]");
}

TEST(EventsV2, DuplicateKeysLastWins) {
  Result<core::AlertEvent> r = ParseEventsV2(
      Trigger(std::string(kGoodPayload) + R"(,"severity":"info")", R"("routing_key":"second",)"));
  ASSERT_OK(r);
  EXPECT_EQ(r->integration_key, "second");
  EXPECT_EQ(r->severity, Severity::kInfo);
}

TEST(EventsV2, MalformedJson) {
  for (std::string_view body :
       {std::string_view(""), std::string_view("   "), std::string_view("{"),
        std::string_view(R"({"routing_key":"rk",})"), std::string_view("{'a':1}"),
        std::string_view(R"({"a":1} x)"), std::string_view(R"({"a":tru})"),
        std::string_view("{\"a\":\"tab\there\"}")}) {
    Result<core::AlertEvent> r = ParseEventsV2(body);
    EXPECT_EQ(Message(r), "Event object format is unrecognized") << body;
    EXPECT_THAT(Problems(r), ElementsAre(StartsWith("JSON parse error: "))) << body;
  }
  EXPECT_THAT(Problems(ParseEventsV2("")), ElementsAre("JSON parse error: empty body"));
}

TEST(EventsV2, NotAnObject) {
  Result<core::AlertEvent> r = ParseEventsV2("null");
  EXPECT_EQ(Message(r), "Event object format is unrecognized");
  EXPECT_THAT(Problems(r), ElementsAre("the event must be a JSON object, not null"));
  r = ParseEventsV2(std::string("[") + std::string(kPagerDutyExample) + "]");
  EXPECT_THAT(Problems(r), ElementsAre("the event must be a JSON object, not an array"));
  r = ParseEventsV2(R"("trigger")");
  EXPECT_THAT(Problems(r), ElementsAre("the event must be a JSON object, not a string"));
  r = ParseEventsV2("3");
  EXPECT_THAT(Problems(r), ElementsAre("the event must be a JSON object, not a number"));
}

TEST(EventsV2, InvalidUtf8) {
  for (std::string_view bad :
       {"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80" /* surrogate */, "\xc0\xaf" /* overlong */}) {
    Result<core::AlertEvent> r = ParseEventsV2(
        Trigger("\"summary\":\"a" + std::string(bad) + R"(b","source":"h","severity":"info")"));
    EXPECT_EQ(Message(r), "Event object format is unrecognized");
    EXPECT_THAT(Problems(r), ElementsAre("JSON parse error: not valid UTF-8"));
  }
  // Invalid UTF-8 in a key too.
  Result<core::AlertEvent> r = ParseEventsV2("{\"\xfe\":1}");
  EXPECT_THAT(Problems(r), ElementsAre("JSON parse error: not valid UTF-8"));
}

TEST(EventsV2, DeepNestingIsAnErrorNotACrash) {
  std::string deep = Trigger(std::string(kGoodPayload) + R"(,"custom_details":)" +
                             std::string(100, '[') + std::string(100, ']'));
  Result<core::AlertEvent> r = ParseEventsV2(deep);
  EXPECT_EQ(Message(r), "Event object format is unrecognized");
  EXPECT_THAT(Problems(r), ElementsAre("JSON parse error: nested deeper than 64 levels"));

  // Even very deep garbage (no recursion on our side).
  std::string deeper(200000, '[');
  r = ParseEventsV2(deeper);
  EXPECT_FALSE(r.has_value());

  // 64 levels in total are allowed: the event object, payload and 62 arrays.
  std::string ok = Trigger(std::string(kGoodPayload) + R"(,"custom_details":)" +
                           std::string(62, '[') + std::string(62, ']'));
  r = ParseEventsV2(ok);
  ASSERT_OK(r);
  EXPECT_EQ(r->details_json, R"({"details":)" + std::string(62, '[') + std::string(62, ']') + "}");
  std::string too_deep = Trigger(std::string(kGoodPayload) + R"(,"custom_details":)" +
                                 std::string(63, '[') + std::string(63, ']'));
  EXPECT_FALSE(ParseEventsV2(too_deep).has_value());
}

TEST(EventsV2, BodyLargerThanPagerDutyLimit) {
  std::string big = Trigger(std::string(kGoodPayload) + R"(,"custom_details":{"blob":")" +
                            std::string(core::kMaxEventBodyBytes, 'x') + "\"}");
  Result<core::AlertEvent> r = ParseEventsV2(big);
  EXPECT_EQ(Message(r), "Event object is invalid");
  EXPECT_THAT(Problems(r), ElementsAre("the event is larger than 524288 bytes"));
}

TEST(EventsV2, BigNumbersInCustomDetails) {
  // simdjson 3.0.1 refuses integers beyond 64 bits; that is a parse error, not a crash.
  Result<core::AlertEvent> r = ParseEventsV2(
      Trigger(std::string(kGoodPayload) + R"(,"custom_details":{"n":123456789012345678901234})"));
  EXPECT_EQ(Message(r), "Event object format is unrecognized");
  r = ParseEventsV2(Trigger(std::string(kGoodPayload) +
                            R"(,"custom_details":{"u":18446744073709551615,"d":1e300})"));
  ASSERT_OK(r);
  EXPECT_EQ(r->details_json, R"({"u":18446744073709551615,"d":1e+300})");
}

// ---------------------------------------------------------------------------------------------
// PagerDuty Change Events

// The example body of mission-anchors section 2.2 (PagerDuty's change events documentation).
constexpr std::string_view kChangeExample =
    R"({"routing_key":"R015CV2ALA5OJPNP0LJHWLC8BPIF1FOR","payload":{"summary":"Build Success: )"
    R"(Increase snapshot create timeout to 30 seconds","timestamp":"2020-07-17T08:42:58.315+0000",)"
    R"("source":"acme-build-pipeline-tool-default-i-9999","custom_details":)"
    R"({"build_state":"passed","build_number":"2","run_time":"1236s"}},)"
    R"("links":[{"href":"https://acme.pagerduty.dev/build/2",)"
    R"("text":"View more details in Acme!"}]})";

TEST(ChangeEvent, DocumentedExample) {
  Result<core::ChangeEvent> r = ParseChangeEvent(kChangeExample);
  ASSERT_OK(r);
  EXPECT_EQ(r->integration_key, "R015CV2ALA5OJPNP0LJHWLC8BPIF1FOR");
  EXPECT_EQ(r->summary, "Build Success: Increase snapshot create timeout to 30 seconds");
  EXPECT_EQ(r->source, "acme-build-pipeline-tool-default-i-9999");
  EXPECT_EQ(r->timestamp, Ms(1594975378315));
  EXPECT_EQ(r->details_json, R"({"build_state":"passed","build_number":"2","run_time":"1236s"})");
  EXPECT_EQ(
      r->links_json,
      R"([{"href":"https://acme.pagerduty.dev/build/2","text":"View more details in Acme!"}])");
  EXPECT_EQ(r->service_id, "");
}

TEST(ChangeEvent, MinimalAndOptionalFields) {
  Result<core::ChangeEvent> r =
      ParseChangeEvent(R"({"routing_key":"rk","payload":{"summary":"deploy v2"}})");
  ASSERT_OK(r);
  EXPECT_EQ(r->summary, "deploy v2");
  EXPECT_EQ(r->source, "");
  EXPECT_EQ(r->timestamp, std::nullopt);
  EXPECT_EQ(r->details_json, "{}");
  EXPECT_EQ(r->links_json, "[]");
  // images are accepted (validated, not kept).
  r = ParseChangeEvent(
      R"({"routing_key":"rk","payload":{"summary":"s"},"images":[{"src":"https://i"}]})");
  EXPECT_TRUE(r.has_value());
}

TEST(ChangeEvent, Errors) {
  Result<core::ChangeEvent> r = ParseChangeEvent("{}");
  EXPECT_EQ(Message(r), "Event object is invalid");
  EXPECT_THAT(Problems(r), ElementsAre("'routing_key' is missing", "'payload' is missing"));

  r = ParseChangeEvent(
      R"({"routing_key":"rk","event_action":"trigger","payload":{"source":1,"severity":"info",)"
      R"("timestamp":"soon"},"images":[{}],"links":"l"})");
  EXPECT_THAT(Problems(r),
              ElementsAre("'payload.summary' is missing", "'payload.source' must be a string",
                          StartsWith("'payload.timestamp' is not a valid ISO 8601 timestamp"),
                          "unknown field 'payload.severity'", "'links' must be an array",
                          "'images[0].src' is missing", "unknown field 'event_action'"));

  r = ParseChangeEvent(R"({"routing_key":"rk","payload":[]})");
  EXPECT_THAT(Problems(r), ElementsAre("'payload' must be an object"));

  r = ParseChangeEvent(R"({"routing_key":"rk","payload":{"summary":")" +
                       Repeat("\xe2\x82\xac", 1025) + "\"}}");
  EXPECT_THAT(Problems(r), ElementsAre("'payload.summary' is longer than 1024 characters"));

  r = ParseChangeEvent(R"({"service_key":"rk","payload":{"summary":"s"}})");
  EXPECT_THAT(Problems(r), Contains(StartsWith("unknown field 'service_key': that is an Events "
                                               "API v1 field")));
}

TEST(ChangeEvent, CustomDetailsAndMalformedBodies) {
  Result<core::ChangeEvent> r = ParseChangeEvent(
      R"({"routing_key":"rk","payload":{"summary":"s","custom_details":"rev abc"}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->details_json, R"({"details":"rev abc"})");

  r = ParseChangeEvent(R"({"routing_key":"rk",)");
  EXPECT_EQ(Message(r), "Event object format is unrecognized");
  EXPECT_THAT(Problems(r), ElementsAre(StartsWith("JSON parse error: ")));
  r = ParseChangeEvent("[]");
  EXPECT_EQ(Message(r), "Event object format is unrecognized");
}

// ---------------------------------------------------------------------------------------------
// Alertmanager

// What Alertmanager 0.25's webhook notifier sends for a group with one firing and one resolved
// alert.
constexpr std::string_view kAlertmanagerPayload = R"json({
  "receiver": "houston",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "HighRequestLatency",
        "instance": "api-1.prod:8080",
        "job": "api",
        "namespace": "checkout",
        "severity": "page"
      },
      "annotations": {
        "description": "p99 latency is 2.3s on api-1.prod:8080",
        "runbook_url": "https://wiki.example.com/runbooks/latency",
        "summary": "High request latency on api-1.prod:8080"
      },
      "startsAt": "2023-02-06T13:08:45.828Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=job%3Aapi_latency_p99+%3E+1&g0.tab=1",
      "fingerprint": "c4f5b7a1e2d3f609"
    },
    {
      "status": "resolved",
      "labels": {
        "alertname": "DiskFull",
        "device": "/dev/sda1",
        "instance": "db-1:9100",
        "job": "node"
      },
      "annotations": {
        "description": "Disk /dev/sda1 on db-1 is 97% full"
      },
      "startsAt": "2023-02-06T12:58:45.828Z",
      "endsAt": "2023-02-06T13:18:45.828Z",
      "generatorURL": "",
      "fingerprint": ""
    }
  ],
  "groupLabels": {"alertname": "HighRequestLatency"},
  "commonLabels": {},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}/{team=\"checkout\"}:{alertname=\"HighRequestLatency\"}",
  "truncatedAlerts": 0
})json";

TEST(Alertmanager, RealisticPayload) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(kAlertmanagerPayload, "am-key");
  ASSERT_OK(r);
  ASSERT_THAT(*r, SizeIs(2));
  const core::AlertEvent& firing = (*r)[0];
  EXPECT_EQ(firing.integration_key, "am-key");
  EXPECT_EQ(firing.action, EventAction::kTrigger);
  EXPECT_EQ(firing.dedup_key, "c4f5b7a1e2d3f609");
  EXPECT_EQ(firing.group_key, R"({}/{team="checkout"}:{alertname="HighRequestLatency"})");
  EXPECT_EQ(firing.summary, "High request latency on api-1.prod:8080");
  EXPECT_EQ(firing.severity, Severity::kCritical);  // "page"
  EXPECT_EQ(firing.source, "api-1.prod:8080");
  EXPECT_EQ(firing.component, "api");
  EXPECT_EQ(firing.group, "checkout");
  EXPECT_EQ(firing.klass, "");
  EXPECT_EQ(firing.timestamp, Ms(1675688925828));
  EXPECT_EQ(firing.client, "Alertmanager");
  EXPECT_EQ(firing.client_url, "http://alertmanager:9093");
  EXPECT_EQ(firing.details_json,
            R"({"labels":{"alertname":"HighRequestLatency","instance":"api-1.prod:8080",)"
            R"("job":"api","namespace":"checkout","severity":"page"},"annotations":{)"
            R"("description":"p99 latency is 2.3s on api-1.prod:8080","runbook_url":)"
            R"("https://wiki.example.com/runbooks/latency","summary":"High request latency on )"
            R"(api-1.prod:8080"},"startsAt":"2023-02-06T13:08:45.828Z","endsAt":)"
            R"("0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=)"
            R"(job%3Aapi_latency_p99+%3E+1&g0.tab=1","receiver":"houston"})");
  EXPECT_EQ(firing.links_json,
            R"([{"href":"http://prometheus:9090/graph?g0.expr=job%3Aapi_latency_p99+%3E+1&)"
            R"(g0.tab=1","text":"Source"}])");
  EXPECT_EQ(firing.images_json, "[]");

  const core::AlertEvent& resolved = (*r)[1];
  EXPECT_EQ(resolved.action, EventAction::kResolve);
  // No fingerprint: SHA-256 of the sorted labels.
  EXPECT_EQ(resolved.dedup_key,
            Sha256Hex("alertname=DiskFull\ndevice=/dev/sda1\ninstance=db-1:9100\njob=node\n"));
  EXPECT_EQ(resolved.dedup_key, "88076641da63c4bbc8c553bde42640a756985e1e6cb25d1b9634da4830637dae");
  EXPECT_EQ(resolved.group_key, firing.group_key);
  EXPECT_EQ(resolved.summary, "Disk /dev/sda1 on db-1 is 97% full");  // from description
  EXPECT_EQ(resolved.severity, Severity::kError);                     // no severity label
  EXPECT_EQ(resolved.source, "db-1:9100");
  EXPECT_EQ(resolved.component, "node");
  EXPECT_EQ(resolved.group, "");
  EXPECT_EQ(resolved.timestamp, Ms(1675688925828 + 10 * 60 * 1000));  // endsAt
  EXPECT_EQ(resolved.links_json, "[]");
}

// The example of mission-anchors section 2.4.
TEST(Alertmanager, AnchorExample) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(
      R"({"receiver":"sms","status":"firing","alerts":[{"status":"firing","labels":{"alertname":)"
      R"("ProbeFailure","instance":"https://server.example.org","job":"http_checks","severity":)"
      R"("critical"},"annotations":{"summary":)"
      R"("BlackBox Probe Failure: https://server.example.org"},)"
      R"("startsAt":"2023-02-06T13:08:45.828Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":)"
      R"("http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0","fingerprint":)"
      R"("1a30ba71cca2921f"}],"groupLabels":{"alertname":"ProbeFailure"},"commonLabels":)"
      R"({"alertname":"ProbeFailure","severity":"critical"},"commonAnnotations":{"summary":)"
      R"("BlackBox Probe Failure: https://server.example.org"},"externalURL":)"
      R"("http://prometheus.example.org:9093","version":"4","groupKey":)"
      R"("{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}","truncatedAlerts":0})",
      "k");
  ASSERT_OK(r);
  ASSERT_THAT(*r, SizeIs(1));
  EXPECT_EQ((*r)[0].dedup_key, "1a30ba71cca2921f");
  EXPECT_EQ((*r)[0].summary, "BlackBox Probe Failure: https://server.example.org");
  EXPECT_EQ((*r)[0].severity, Severity::kCritical);
  EXPECT_EQ((*r)[0].source, "https://server.example.org");
  EXPECT_EQ((*r)[0].timestamp, Ms(1675688925828));
}

std::string AmBody(std::string_view alerts, std::string_view extra = "") {
  return R"({"version":"4","groupKey":"g","status":"firing","receiver":"r",)" + std::string(extra) +
         R"("alerts":[)" + std::string(alerts) + "]}";
}

TEST(Alertmanager, EmptyAlertsGiveNoEvents) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(AmBody(""), "k");
  ASSERT_OK(r);
  EXPECT_THAT(*r, IsEmpty());
}

TEST(Alertmanager, UnknownKeysAreIgnored) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(
      AmBody(R"({"labels":{"alertname":"A"},"status":"firing","futureField":{"x":[1]}})",
             R"("truncatedAlerts":3,"notification_reason":"new","routeLabels":{"a":"b"},)"
             R"("groupLabels":{},"commonLabels":{},"commonAnnotations":{},)"),
      "k");
  ASSERT_OK(r);
  ASSERT_THAT(*r, SizeIs(1));
  EXPECT_EQ((*r)[0].summary, "A");
}

TEST(Alertmanager, Version) {
  Result<std::vector<core::AlertEvent>> r =
      ParseAlertmanager(R"({"version":"3","groupKey":"g","alerts":[]})", "k");
  EXPECT_EQ(Message(r), "unsupported Alertmanager payload version '3' (houston speaks version 4)");
  r = ParseAlertmanager(R"({"version":4,"groupKey":"g","alerts":[]})", "k");
  EXPECT_EQ(Message(r), "unsupported Alertmanager payload version '4' (houston speaks version 4)");
  r = ParseAlertmanager(R"({"groupKey":"g","alerts":[]})", "k");
  EXPECT_EQ(Message(r), "Alertmanager payload has no 'version' (houston speaks version 4)");
  // A Grafana payload sent to the Alertmanager endpoint.
  r = ParseAlertmanager(R"({"version":"1","groupKey":"g","state":"alerting","alerts":[]})", "k");
  EXPECT_EQ(Message(r), "unsupported Alertmanager payload version '1' (houston speaks version 4)");
}

TEST(Alertmanager, TopLevelErrors) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(R"({"version":"4"})", "k");
  EXPECT_EQ(Message(r), "groupKey is missing (and 1 more problem)");
  EXPECT_THAT(Problems(r), ElementsAre("groupKey is missing", "alerts is missing"));
  r = ParseAlertmanager(
      R"({"version":"4","groupKey":1,"alerts":{},"status":"ok","externalURL":[]})", "k");
  EXPECT_EQ(Message(r), "groupKey must be a string (and 3 more problems)");
  EXPECT_THAT(Problems(r),
              ElementsAre("groupKey must be a string", "externalURL must be a string",
                          "status must be 'firing' or 'resolved'", "alerts must be an array"));
}

TEST(Alertmanager, AlertErrorsNameTheIndex) {
  Result<std::vector<core::AlertEvent>> r =
      ParseAlertmanager(AmBody(R"({"labels":{"alertname":"ok"}},)"
                               R"({"labels":{"alertname":"A","n":1}},)"
                               R"({"labels":"alertname=A"},)"
                               R"({"labels":{"a":"b"},"annotations":{"summary":["s"]}},)"
                               R"({"annotations":{}},)"
                               R"({"labels":{},"status":"pending","startsAt":"noon","endsAt":5},)"
                               R"(7)"),
                        "k");
  EXPECT_EQ(Message(r),
            "alerts[1].labels must be an object of strings ('n' is a number) (and 7 "
            "more problems)");
  EXPECT_THAT(
      Problems(r),
      ElementsAre("alerts[1].labels must be an object of strings ('n' is a number)",
                  "alerts[2].labels must be an object of strings",
                  "alerts[3].annotations must be an object of strings ('summary' is an "
                  "array)",
                  "alerts[4].labels is missing", "alerts[5].status must be 'firing' or 'resolved'",
                  "alerts[5].endsAt must be a string",
                  StartsWith("alerts[5].startsAt is invalid: invalid timestamp \"noon\""),
                  "alerts[6] must be an object"));
}

TEST(Alertmanager, SingleProblemIsTheMessage) {
  Result<std::vector<core::AlertEvent>> r =
      ParseAlertmanager(AmBody(R"({"labels":{"a":"b"}},{"labels":null})"), "k");
  EXPECT_EQ(Message(r), "alerts[1].labels is missing");
  EXPECT_THAT(Problems(r), ElementsAre("alerts[1].labels is missing"));
}

TEST(Alertmanager, StatusFallsBackToTopLevel) {
  std::string body = R"({"version":"4","groupKey":"g","status":"resolved","alerts":[)"
                     R"({"labels":{"a":"b"}},{"labels":{"a":"c"},"status":"firing"}]})";
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(body, "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].action, EventAction::kResolve);
  EXPECT_EQ((*r)[1].action, EventAction::kTrigger);

  r = ParseAlertmanager(R"({"version":"4","groupKey":"g","alerts":[{"labels":{}}]})", "k");
  EXPECT_THAT(Problems(r),
              ElementsAre("alerts[0].status is missing and the top level does not say either"));
}

TEST(Alertmanager, SummaryFallbacks) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(
      AmBody(R"({"labels":{"job":"node","alertname":"Down","instance":"h:1"},)"
             R"("annotations":{"summary":"","description":"the description"}},)"
             R"({"labels":{"job":"node","alertname":"Down","instance":"h:1","q":"a\"b\\c\nd"}},)"
             R"({"labels":{"job":"node"}},)"
             R"({"labels":{"alertname":"OnlyName"}},)"
             R"({"labels":{}})"),
      "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].summary, "the description");
  EXPECT_EQ((*r)[1].summary, R"(Down{instance="h:1", job="node", q="a\"b\\c\nd"})");
  EXPECT_EQ((*r)[2].summary, R"({job="node"})");
  EXPECT_EQ((*r)[3].summary, "OnlyName");
  EXPECT_EQ((*r)[4].summary, "Alertmanager alert");
  EXPECT_EQ((*r)[4].source, "alertmanager");
  EXPECT_EQ((*r)[4].dedup_key, Sha256Hex(""));
}

TEST(Alertmanager, LongSummaryIsTruncatedOnACodePointBoundary) {
  std::string long_summary = Repeat("\xe2\x82\xac", 1500);  // 1500 x "€"
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(
      AmBody(R"({"labels":{"a":"b"},"annotations":{"summary":")" + long_summary + "\"}}"), "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].summary, Repeat("\xe2\x82\xac", 1024));
  // The details keep the whole text.
  EXPECT_THAT((*r)[0].details_json, HasSubstr(long_summary));
}

TEST(Alertmanager, SourceComponentGroup) {
  Result<std::vector<core::AlertEvent>> r =
      ParseAlertmanager(AmBody(R"({"labels":{"job":"node","cluster":"eu-1"}},)"
                               R"({"labels":{"instance":"h","namespace":"ns","cluster":"eu-1"}})"),
                        "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].source, "node");
  EXPECT_EQ((*r)[0].component, "node");
  EXPECT_EQ((*r)[0].group, "eu-1");
  EXPECT_EQ((*r)[1].source, "h");
  EXPECT_EQ((*r)[1].component, "");
  EXPECT_EQ((*r)[1].group, "ns");
}

TEST(Alertmanager, SeverityTable) {
  struct Case {
    std::string_view label;
    Severity want;
  };
  for (const Case& c : std::vector<Case>{{"critical", Severity::kCritical},
                                         {"page", Severity::kCritical},
                                         {"fatal", Severity::kCritical},
                                         {"emergency", Severity::kCritical},
                                         {"high", Severity::kCritical},
                                         {"CRITICAL", Severity::kCritical},
                                         {"error", Severity::kError},
                                         {"err", Severity::kError},
                                         {"major", Severity::kError},
                                         {"warning", Severity::kWarning},
                                         {"Warn", Severity::kWarning},
                                         {"minor", Severity::kWarning},
                                         {"medium", Severity::kWarning},
                                         {"low", Severity::kWarning},
                                         {"info", Severity::kInfo},
                                         {"informational", Severity::kInfo},
                                         {"none", Severity::kInfo},
                                         {"ok", Severity::kInfo},
                                         {"", Severity::kError},
                                         {"P2", Severity::kError},
                                         {"disaster", Severity::kError}}) {
    EXPECT_EQ(AlertmanagerSeverity(c.label), c.want) << c.label;
  }
  Result<std::vector<core::AlertEvent>> r =
      ParseAlertmanager(AmBody(R"({"labels":{"severity":"warning"}})"), "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0].severity, Severity::kWarning);
}

TEST(Alertmanager, Timestamps) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(
      AmBody(R"({"status":"resolved","labels":{"a":"1"},"startsAt":"2023-02-06T13:08:45.828Z",)"
             R"("endsAt":"0001-01-01T00:00:00Z"},)"
             R"({"status":"firing","labels":{"a":"2"},"endsAt":"0001-01-01T00:00:00.000+00:00"},)"
             R"({"status":"resolved","labels":{"a":"3"},"endsAt":"2023-02-06T14:08:45+01:00"},)"
             R"({"status":"firing","labels":{"a":"4"},"startsAt":""})"),
      "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].timestamp, std::nullopt);  // resolved with unset endsAt
  EXPECT_EQ((*r)[1].timestamp, std::nullopt);
  EXPECT_EQ((*r)[2].timestamp, Ms(1675688925000));
  EXPECT_EQ((*r)[3].timestamp, std::nullopt);
}

TEST(Alertmanager, DetailsEscapeAndDefaults) {
  Result<std::vector<core::AlertEvent>> r =
      ParseAlertmanager(R"({"version":"4","groupKey":"g","status":"firing",)"
                        R"("alerts":[{"labels":{"q":"a\"b\n\u0001"}}]})",
                        "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].details_json,
            R"({"labels":{"q":"a\"b\n\u0001"},"annotations":{},"startsAt":"","endsAt":"",)"
            R"("generatorURL":"","receiver":""})");
  EXPECT_EQ((*r)[0].client_url, "");
}

TEST(Alertmanager, LongFingerprintFallsBackToLabelHash) {
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(
      AmBody(R"({"labels":{"a":"b"},"fingerprint":")" + std::string(300, 'f') + "\"}"), "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].dedup_key, Sha256Hex("a=b\n"));
}

TEST(Alertmanager, BadBodies) {
  EXPECT_EQ(Message(ParseAlertmanager("", "k")), "body is not valid JSON: empty body");
  EXPECT_THAT(Message(ParseAlertmanager("{\"version\":", "k")),
              StartsWith("body is not valid JSON: "));
  EXPECT_EQ(Message(ParseAlertmanager(AmBody("{\"labels\":{\"a\":\"\xc3\x28\"}}"), "k")),
            "body is not valid UTF-8");
  EXPECT_EQ(Message(ParseAlertmanager("null", "k")),
            "Alertmanager payload must be a JSON object, not null");
  EXPECT_EQ(Message(ParseAlertmanager(R"([{"labels":{"alertname":"A"}}])", "k")),
            "Alertmanager payload must be a JSON object, not an array");
  std::string deep = AmBody(R"({"labels":{},"annotations":{"x":)" + std::string(100, '[') +
                            std::string(100, ']') + "}}");
  EXPECT_EQ(Message(ParseAlertmanager(deep, "k")),
            "body is not valid JSON: nested deeper than 64 levels");
}

TEST(Alertmanager, ManyAlertsAndBigBodies) {
  std::string alerts;
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) alerts += ",";
    alerts += R"({"status":"firing","labels":{"alertname":"A","i":")" + std::to_string(i) +
              R"("},"annotations":{"description":")" + std::string(600, 'd') + "\"}}";
  }
  std::string body = AmBody(alerts);
  ASSERT_GT(body.size(), 1024u * 1024u);  // past the parser's retained capacity
  Result<std::vector<core::AlertEvent>> r = ParseAlertmanager(body, "k");
  ASSERT_OK(r);
  EXPECT_THAT(*r, SizeIs(2000));
  EXPECT_EQ((*r)[1999].summary, std::string(600, 'd'));
  // The thread's parser is usable afterwards (and keeps the depth limit).
  EXPECT_TRUE(ParseAlertmanager(AmBody(""), "k").has_value());
  EXPECT_FALSE(ParseEventsV2(std::string(65, '[') + std::string(65, ']')).has_value());
  EXPECT_THAT(Problems(ParseEventsV2(std::string(65, '[') + std::string(65, ']'))),
              ElementsAre("JSON parse error: nested deeper than 64 levels"));
}

// ---------------------------------------------------------------------------------------------
// Grafana

// A Grafana 10 unified-alerting webhook body (shape of grafana.com's webhook notifier example).
constexpr std::string_view kGrafanaPayload = R"json({
  "receiver": "houston-webhook",
  "status": "firing",
  "orgId": 1,
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "High memory usage",
        "grafana_folder": "Infra",
        "team": "blue",
        "zone": "us-1"
      },
      "annotations": {
        "description": "The system has high memory usage",
        "runbook_url": "https://myrunbook.com/runbook/1234",
        "summary": "This alert was triggered for zone us-1"
      },
      "startsAt": "2021-10-12T09:51:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://play.grafana.org/alerting/grafana/1afz29v7z/view",
      "fingerprint": "c6eadffa33fcdf37",
      "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana",
      "dashboardURL": "https://play.grafana.org/d/a3b5c7/infra",
      "panelURL": "https://play.grafana.org/d/a3b5c7/infra?viewPanel=3",
      "values": {"B": 44.23943737541908, "C": 1},
      "valueString": "[ var='B' labels={zone=us-1} value=44.2 ], [ var='C' value=1 ]",
      "imageURL": "https://play.grafana.org/render/abc.png",
      "orgId": 1
    },
    {
      "status": "resolved",
      "labels": {
        "alertname": "High CPU usage",
        "team": "blue",
        "zone": "eu-1",
        "severity": "warning"
      },
      "annotations": {},
      "startsAt": "2021-10-12T09:41:03.157076+02:00",
      "endsAt": "2021-10-12T09:56:03.157076+02:00",
      "generatorURL": "https://play.grafana.org/alerting/grafana/d1rdpdv7k/view",
      "silenceURL": "https://play.grafana.org/alerting/silence/new",
      "dashboardURL": "",
      "panelURL": "",
      "values": null,
      "valueString": ""
    }
  ],
  "groupLabels": {},
  "commonLabels": {"team": "blue"},
  "commonAnnotations": {},
  "externalURL": "https://play.grafana.org/",
  "version": "1",
  "groupKey": "{}/{team=\"blue\"}:{}",
  "truncatedAlerts": 0,
  "title": "[FIRING:1, RESOLVED:1]  (blue)",
  "state": "alerting",
  "message": "**Firing**\n\nValue: B=44.2, C=1\nLabels:\n - alertname = High memory usage\n"
})json";

TEST(Grafana, RealisticPayload) {
  Result<std::vector<core::AlertEvent>> r = ParseGrafana(kGrafanaPayload, "gf-key");
  ASSERT_OK(r);
  ASSERT_THAT(*r, SizeIs(2));
  const core::AlertEvent& a = (*r)[0];
  EXPECT_EQ(a.integration_key, "gf-key");
  EXPECT_EQ(a.action, EventAction::kTrigger);
  EXPECT_EQ(a.dedup_key, "c6eadffa33fcdf37");
  EXPECT_EQ(a.group_key, R"({}/{team="blue"}:{})");
  EXPECT_EQ(a.summary, "This alert was triggered for zone us-1");
  EXPECT_EQ(a.severity, Severity::kError);
  EXPECT_EQ(a.source, "grafana");
  EXPECT_EQ(a.client, "Grafana");
  EXPECT_EQ(a.client_url, "https://play.grafana.org/");
  EXPECT_EQ(a.timestamp, Ms(1634025063157));  // microseconds truncated, +02:00 applied
  EXPECT_EQ(a.links_json,
            R"([{"href":"https://play.grafana.org/alerting/grafana/1afz29v7z/view","text":)"
            R"("Source"},{"href":"https://play.grafana.org/d/a3b5c7/infra","text":"Dashboard"},)"
            R"({"href":"https://play.grafana.org/d/a3b5c7/infra?viewPanel=3","text":"Panel"}])");
  EXPECT_THAT(a.details_json, StartsWith(R"({"labels":{"alertname":"High memory usage",)"));
  EXPECT_THAT(a.details_json, HasSubstr(R"("receiver":"houston-webhook"})"));
  EXPECT_THAT(a.details_json, Not(HasSubstr("valueString")));

  const core::AlertEvent& b = (*r)[1];
  EXPECT_EQ(b.action, EventAction::kResolve);
  EXPECT_EQ(b.dedup_key,
            Sha256Hex("alertname=High CPU usage\nseverity=warning\nteam=blue\nzone=eu-1\n"));
  EXPECT_EQ(b.summary, R"(High CPU usage{severity="warning", team="blue", zone="eu-1"})");
  EXPECT_EQ(b.severity, Severity::kWarning);
  EXPECT_EQ(b.timestamp, Ms(1634025063157 + 5 * 60 * 1000));
  EXPECT_EQ(b.links_json, R"([{"href":"https://play.grafana.org/alerting/grafana/d1rdpdv7k/view",)"
                          R"("text":"Source"}])");
}

std::string GfBody(std::string_view state, std::string_view alerts, std::string_view extra = "") {
  return R"({"version":"1","groupKey":"g","orgId":1,"state":")" + std::string(state) + "\"," +
         std::string(extra) + R"("alerts":[)" + std::string(alerts) + "]}";
}

TEST(Grafana, StateGivesTheActionOfAlertsWithoutStatus) {
  auto action = [](std::string_view state, std::string_view extra = "") {
    Result<std::vector<core::AlertEvent>> r =
        ParseGrafana(GfBody(state, R"({"labels":{"a":"b"}})", extra), "k");
    EXPECT_TRUE(r.has_value()) << state;
    return r.has_value() ? (*r)[0].action : EventAction::kAcknowledge;
  };
  EXPECT_EQ(action("alerting"), EventAction::kTrigger);
  EXPECT_EQ(action("no_data"), EventAction::kTrigger);
  EXPECT_EQ(action("ok"), EventAction::kResolve);
  EXPECT_EQ(action("ok", R"("status":"firing",)"), EventAction::kResolve);  // state wins
  EXPECT_EQ(action("pending", R"("status":"firing",)"), EventAction::kTrigger);
  EXPECT_EQ(action("paused", R"("status":"resolved",)"), EventAction::kResolve);

  Result<std::vector<core::AlertEvent>> r =
      ParseGrafana(GfBody("pending", R"({"labels":{}})"), "k");
  EXPECT_THAT(Problems(r),
              ElementsAre("alerts[0].status is missing and the top level does not say either"));
  // An alert's own status wins over state.
  r = ParseGrafana(GfBody("ok", R"({"status":"firing","labels":{}})"), "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0].action, EventAction::kTrigger);
}

TEST(Grafana, ExtrasAreIgnored) {
  Result<std::vector<core::AlertEvent>> r = ParseGrafana(
      GfBody("alerting",
             R"({"labels":{"a":"b"},"dashboardURL":5,"panelURL":null,"values":"x","orgId":"1",)"
             R"("silenceURL":[],"imageURL":{},"ruleUID":"u","enrichments":{"x":1}})",
             R"("title":7,"message":[],"appVersion":"10.2.0",)"),
      "k");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].links_json, "[]");
}

TEST(Grafana, VersionAndErrors) {
  Result<std::vector<core::AlertEvent>> r = ParseGrafana(kAlertmanagerPayload, "k");
  EXPECT_EQ(Message(r), "unsupported Grafana payload version '4' (houston speaks version 1)");
  // Legacy (pre-unified) Grafana alerting has no version.
  r = ParseGrafana(R"({"ruleName":"x","state":"alerting","evalMatches":[]})", "k");
  EXPECT_EQ(Message(r), "Grafana payload has no 'version' (houston speaks version 1)");
  r = ParseGrafana(GfBody("alerting", R"({"labels":{"a":1}})"), "k");
  EXPECT_EQ(Message(r), "alerts[0].labels must be an object of strings ('a' is a number)");
  r = ParseGrafana(R"({"version":"1","groupKey":"g","state":3,"alerts":[]})", "k");
  EXPECT_EQ(Message(r), "state must be a string");
  EXPECT_EQ(Message(ParseGrafana("[]", "k")),
            "Grafana payload must be a JSON object, not an array");
}

// ---------------------------------------------------------------------------------------------
// Generic webhook

TEST(Generic, DefaultMapping) {
  Result<core::AlertEvent> r =
      ParseGeneric(R"({"summary":"backup failed","extra":[1,2]})", "gk", GenericMapping{});
  ASSERT_OK(r);
  EXPECT_EQ(r->integration_key, "gk");
  EXPECT_EQ(r->action, EventAction::kTrigger);
  EXPECT_EQ(r->summary, "backup failed");
  EXPECT_EQ(r->severity, Severity::kError);
  EXPECT_EQ(r->source, "generic");
  EXPECT_EQ(r->dedup_key, "");
  EXPECT_EQ(r->details_json, R"({"summary":"backup failed","extra":[1,2]})");  // whole body
  EXPECT_EQ(r->links_json, "[]");
  EXPECT_EQ(r->images_json, "[]");

  r = ParseGeneric(
      R"({"summary":"s","severity":"warning","action":"resolve","dedup_key":"d","source":"cron",)"
      R"("details":{"k":"v"}})",
      "gk", GenericMapping{});
  ASSERT_OK(r);
  EXPECT_EQ(r->severity, Severity::kWarning);
  EXPECT_EQ(r->action, EventAction::kResolve);
  EXPECT_EQ(r->dedup_key, "d");
  EXPECT_EQ(r->source, "cron");
  EXPECT_EQ(r->details_json, R"({"k":"v"})");
}

GenericMapping CustomMapping() {
  GenericMapping m;
  m.summary = "alert.title";
  m.severity = "alert.level";
  m.dedup_key = "alert.id";
  m.action = "state";
  m.source = "origin.host";
  m.details = "alert.context";
  m.action_values = {{"open", "trigger"}, {"closed", "resolve"}, {"seen", "acknowledge"}};
  m.severity_values = {{"P1", "critical"}, {"P2", "error"}, {"P3", "warning"}, {"P4", "info"}};
  return m;
}

TEST(Generic, CustomMapping) {
  GenericMapping m = CustomMapping();
  ASSERT_TRUE(ValidateGenericMapping(m).ok());
  Result<core::AlertEvent> r = ParseGeneric(
      R"({"alert":{"title":"Queue backlog","level":"P1","id":12345,"context":{"queue":"q1"}},)"
      R"("state":"open","origin":{"host":"worker-3"}})",
      "gk", m);
  ASSERT_OK(r);
  EXPECT_EQ(r->summary, "Queue backlog");
  EXPECT_EQ(r->severity, Severity::kCritical);
  EXPECT_EQ(r->dedup_key, "12345");
  EXPECT_EQ(r->action, EventAction::kTrigger);
  EXPECT_EQ(r->source, "worker-3");
  EXPECT_EQ(r->details_json, R"({"queue":"q1"})");

  r = ParseGeneric(R"({"alert":{"title":"t","id":"abc","level":"P4"},"state":"closed"})", "gk", m);
  ASSERT_OK(r);
  EXPECT_EQ(r->action, EventAction::kResolve);
  EXPECT_EQ(r->severity, Severity::kInfo);
  EXPECT_EQ(r->dedup_key, "abc");
  // No alert.context: the whole body.
  EXPECT_EQ(r->details_json, R"({"alert":{"title":"t","id":"abc","level":"P4"},"state":"closed"})");

  // The literal words work too, in any letter case.
  r = ParseGeneric(R"({"alert":{"title":"t","level":"CRITICAL","id":1.5},"state":"Acknowledge"})",
                   "gk", m);
  ASSERT_OK(r);
  EXPECT_EQ(r->severity, Severity::kCritical);
  EXPECT_EQ(r->action, EventAction::kAcknowledge);
  EXPECT_EQ(r->dedup_key, "1.5");
}

TEST(Generic, ArrayIndexInPath) {
  GenericMapping m;
  m.summary = "alerts.1.name";
  m.details = "alerts.1";
  Result<core::AlertEvent> r =
      ParseGeneric(R"({"alerts":[{"name":"first"},{"name":"second"}]})", "gk", m);
  ASSERT_OK(r);
  EXPECT_EQ(r->summary, "second");
  EXPECT_EQ(r->details_json, R"({"name":"second"})");
  m.summary = "alerts.2.name";
  EXPECT_EQ(Message(ParseGeneric(R"({"alerts":[{"name":"first"}]})", "gk", m)),
            "'summary' (mapped from 'alerts.2.name') is missing");
  m.summary = "alerts.x.name";
  EXPECT_FALSE(ParseGeneric(R"({"alerts":[{"name":"first"}]})", "gk", m).has_value());
}

TEST(Generic, Errors) {
  GenericMapping m = CustomMapping();
  Result<core::AlertEvent> r = ParseGeneric(R"({"alert":{}})", "gk", m);
  EXPECT_EQ(Message(r), "'summary' (mapped from 'alert.title') is missing");
  EXPECT_THAT(Problems(r), ElementsAre("'summary' (mapped from 'alert.title') is missing"));

  r = ParseGeneric(R"({"title":"x"})", "gk", GenericMapping{});
  EXPECT_EQ(Message(r), "'summary' is missing");

  r = ParseGeneric(R"({"alert":{"title":5,"level":"P9","id":true},"state":"done",)"
                   R"("origin":{"host":1}})",
                   "gk", m);
  EXPECT_EQ(Message(r),
            "'summary' (mapped from 'alert.title') must be a string (and 4 more "
            "problems)");
  EXPECT_THAT(
      Problems(r),
      ElementsAre("'summary' (mapped from 'alert.title') must be a string",
                  "'severity' (mapped from 'alert.level') must be one of critical, error, "
                  "warning, info or a key of severity_values (got 'P9')",
                  "'action' (mapped from 'state') must be one of trigger, acknowledge, resolve "
                  "or a key of action_values (got 'done')",
                  "'dedup_key' (mapped from 'alert.id') must be a string or a number",
                  "'source' (mapped from 'origin.host') must be a string"));

  r = ParseGeneric(R"({"summary":"s","action":"resolve"})", "gk", GenericMapping{});
  EXPECT_EQ(Message(r), "'dedup_key' is missing (it is required for resolve events)");
  r = ParseGeneric(R"({"summary":"s","action":"acknowledge","dedup_key":""})", "gk",
                   GenericMapping{});
  EXPECT_EQ(Message(r), "'dedup_key' is missing (it is required for acknowledge events)");
  r = ParseGeneric(R"({"summary":"s","severity":7})", "gk", GenericMapping{});
  EXPECT_EQ(Message(r), "'severity' must be a string");
}

TEST(Generic, Limits) {
  Result<core::AlertEvent> r = ParseGeneric(
      "{\"summary\":\"" + Repeat("\xf0\x9f\x98\x80", 1024) + "\"}", "gk", GenericMapping{});
  ASSERT_OK(r);
  r = ParseGeneric("{\"summary\":\"" + Repeat("\xf0\x9f\x98\x80", 1025) + "\"}", "gk",
                   GenericMapping{});
  EXPECT_EQ(Message(r), "'summary' is longer than 1024 characters");
  r = ParseGeneric(R"({"summary":"s","dedup_key":")" + std::string(256, 'd') + "\"}", "gk",
                   GenericMapping{});
  EXPECT_EQ(Message(r), "'dedup_key' is longer than 255 characters");
  r = ParseGeneric(R"({"summary":""})", "gk", GenericMapping{});
  EXPECT_EQ(Message(r), "'summary' is missing");
}

TEST(Generic, DetailsAndNulls) {
  Result<core::AlertEvent> r =
      ParseGeneric(R"({"summary":"s","details":"plain text","severity":null,"source":null})", "gk",
                   GenericMapping{});
  ASSERT_OK(r);
  EXPECT_EQ(r->details_json, R"({"details":"plain text"})");
  EXPECT_EQ(r->severity, Severity::kError);
  EXPECT_EQ(r->source, "generic");

  GenericMapping m;
  m.details = "";  // not mapped: whole body
  m.severity = "";
  r = ParseGeneric(R"({"summary":"s","severity":"bogus"})", "gk", m);
  ASSERT_OK(r);
  EXPECT_EQ(r->details_json, R"({"summary":"s","severity":"bogus"})");
}

TEST(Generic, BadBodies) {
  EXPECT_EQ(Message(ParseGeneric("[]", "gk", GenericMapping{})),
            "body must be a JSON object, not an array");
  EXPECT_EQ(Message(ParseGeneric("null", "gk", GenericMapping{})),
            "body must be a JSON object, not null");
  EXPECT_EQ(Message(ParseGeneric("\"s\"", "gk", GenericMapping{})),
            "body must be a JSON object, not a string");
  EXPECT_EQ(Message(ParseGeneric("", "gk", GenericMapping{})),
            "body is not valid JSON: empty body");
  EXPECT_THAT(Message(ParseGeneric("{\"summary\":}", "gk", GenericMapping{})),
              StartsWith("body is not valid JSON: "));
  EXPECT_EQ(Message(ParseGeneric("{\"summary\":\"\x80\"}", "gk", GenericMapping{})),
            "body is not valid UTF-8");
  EXPECT_EQ(Message(ParseGeneric(
                R"({"summary":"s","x":)" + std::string(100, '[') + std::string(100, ']') + "}",
                "gk", GenericMapping{})),
            "body is not valid JSON: nested deeper than 64 levels");
}

TEST(Generic, ValidateMapping) {
  EXPECT_TRUE(ValidateGenericMapping(GenericMapping{}).ok());
  GenericMapping m;
  m.summary = "";
  EXPECT_EQ(ValidateGenericMapping(m).message(), "the generic mapping must map 'summary'");
  m = GenericMapping{};
  m.action_values = {{"close", "closed"}};
  EXPECT_EQ(ValidateGenericMapping(m).message(),
            "action_values maps 'close' to 'closed', which is not one of trigger, acknowledge, "
            "resolve");
  m = GenericMapping{};
  m.severity_values = {{"P1", "sev1"}};
  EXPECT_EQ(ValidateGenericMapping(m).code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Robustness: mangled versions of the sample bodies are answered, never crash (run under ASan).

TEST(Ingest, MutatedBodiesNeverCrash) {
  GenericMapping mapping;
  mapping.summary = "alerts.0.annotations.summary";
  const std::vector<std::string> samples = {
      std::string(kPagerDutyExample), std::string(kChangeExample),
      std::string(kAlertmanagerPayload), std::string(kGrafanaPayload)};
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>(state >> 33);
  };
  constexpr std::string_view kBytes = "{}[]\":,0-9.eE+truefalsnl \\\x80\xc3\xff";
  int parsed = 0;
  for (const std::string& sample : samples) {
    for (int i = 0; i < 500; ++i) {
      std::string body = sample;
      for (size_t edits = 1 + next() % 4; edits > 0 && !body.empty(); --edits) {
        size_t pos = next() % body.size();
        switch (next() % 3) {
          case 0:
            body[pos] = kBytes[next() % kBytes.size()];
            break;
          case 1:
            body.erase(pos, 1 + next() % 8);
            break;
          default:
            body.insert(pos, 1, kBytes[next() % kBytes.size()]);
        }
      }
      parsed += ParseEventsV2(body).has_value();
      parsed += ParseChangeEvent(body).has_value();
      parsed += ParseAlertmanager(body, "k").has_value();
      parsed += ParseGrafana(body, "k").has_value();
      parsed += ParseGeneric(body, "k", mapping).has_value();
    }
  }
  EXPECT_GT(parsed, 0);  // some mutations stay valid, e.g. inside string values
}

// ---------------------------------------------------------------------------------------------
// Threads: each thread has its own parser.

TEST(Ingest, ConcurrentParsing) {
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &ok] {
      for (int i = 0; i < 300; ++i) {
        bool good = (i % 3 == 0)   ? ParseEventsV2(kPagerDutyExample).has_value()
                    : (i % 3 == 1) ? ParseAlertmanager(kAlertmanagerPayload, "k").has_value()
                                   : !ParseEventsV2("{").has_value();
        if (good) ++ok[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 300);
}

}  // namespace
}  // namespace houston::ingest
