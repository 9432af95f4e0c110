#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "ingest/ingest.h"

namespace houston::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr std::array<core::Severity, 5> kSeverities{
    core::Severity::kCritical, core::Severity::kError, core::Severity::kWarning,
    core::Severity::kInfo, core::Severity::kInfo};

// What Alertmanager 0.25's opsgenie notifier sends (research 2.1).
constexpr std::string_view kAlertmanagerCreate = R"js({
  "alias": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
  "message": "[FIRING:1] DiskFull (db1)",
  "description": "Alerts Firing:\nLabels:\n - alertname = DiskFull\n",
  "details": {"alertname": "DiskFull", "instance": "db1"},
  "source": "http://alertmanager:9093",
  "responders": [{"name": "ops", "type": "team"}],
  "tags": ["disk", "db"],
  "priority": "P1"
})js";

TEST(OpsgenieCreate, ParsesAlertmanagersBody) {
  auto c = ParseOpsgenieCreate(kAlertmanagerCreate);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->message, "[FIRING:1] DiskFull (db1)");
  EXPECT_EQ(c->alias, "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b");
  EXPECT_EQ(c->priority, 1);
  EXPECT_TRUE(c->priority_given);
  EXPECT_THAT(c->tags, ElementsAre("disk", "db"));
  EXPECT_EQ(c->details_json, R"({"alertname":"DiskFull","instance":"db1"})");
  EXPECT_EQ(c->responders_json, R"([{"name":"ops","type":"team"}])");
  EXPECT_EQ(c->source, "http://alertmanager:9093");

  core::AlertEvent ev = OpsgenieAlertEvent(*c, "og-key-123", kSeverities);
  EXPECT_EQ(ev.integration_key, "og-key-123");
  EXPECT_EQ(ev.action, core::EventAction::kTrigger);
  EXPECT_EQ(ev.dedup_key, c->alias);
  EXPECT_EQ(ev.summary, "[FIRING:1] DiskFull (db1)");
  EXPECT_EQ(ev.severity, core::Severity::kCritical);
  EXPECT_EQ(ev.source, "http://alertmanager:9093");
  EXPECT_EQ(ev.client, "Opsgenie API");
  auto d = boost::json::parse(ev.details_json).as_object();
  EXPECT_EQ(d.at("priority"), "P1");
  EXPECT_EQ(d.at("details").at("instance"), "db1");
  EXPECT_EQ(d.at("tags").as_array().size(), 2u);
  EXPECT_EQ(d.at("responders").as_array()[0].at("name"), "ops");
  EXPECT_FALSE(d.contains("entity"));  // empty fields are left out
}

TEST(OpsgenieCreate, DefaultsAndLenience) {
  auto c = ParseOpsgenieCreate(
      R"({"message":"m","unknownField":{"x":1},"details":{"n":5,"b":true,"z":null}})");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->priority, 3);  // P3, as Opsgenie
  EXPECT_FALSE(c->priority_given);
  EXPECT_EQ(c->alias, "");
  EXPECT_EQ(c->details_json, R"({"n":"5","b":"true"})");
  core::AlertEvent ev = OpsgenieAlertEvent(*c, "k", kSeverities);
  EXPECT_EQ(ev.severity, core::Severity::kWarning);
  EXPECT_EQ(ev.source, "opsgenie");
  EXPECT_EQ(ev.dedup_key, "");  // the store generates one
}

TEST(OpsgenieCreate, TruncatesALongMessageAndKeepsItInDetails) {
  std::string msg;
  for (int i = 0; i < 140; ++i) msg += "é";  // 2 bytes, 1 code point each
  auto c = ParseOpsgenieCreate(R"({"message":")" + msg + R"("})");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->message_truncated);
  EXPECT_EQ(c->message.size(), 260u);  // 130 code points
  core::AlertEvent ev = OpsgenieAlertEvent(*c, "k", kSeverities);
  EXPECT_EQ(ev.summary.size(), 260u);
  EXPECT_EQ(boost::json::parse(ev.details_json).at("message").as_string(), msg);
}

TEST(OpsgenieCreate, MalformedBodiesAreBadRequests) {
  for (std::string_view body : {"{", "[]", "\"x\"", "", "{\"message\": \"a\xff\"}"}) {
    auto c = ParseOpsgenieCreate(body);
    ASSERT_FALSE(c.has_value()) << body;
    EXPECT_TRUE(c.error().malformed) << body;
  }
  EXPECT_THAT(ParseOpsgenieCreate("[1]").error().message, HasSubstr("JSON object, not an array"));
}

TEST(OpsgenieCreate, NamesEveryFieldOverItsLimit) {
  std::string tags = "[";
  for (int i = 0; i < 21; ++i) tags += std::string(i ? "," : "") + "\"t\"";
  tags += "]";
  std::string body =
      R"({"alias":")" + std::string(513, 'a') + R"(","description":")" + std::string(15001, 'd') +
      R"(","tags":)" + tags + R"(,"actions":[")" + std::string(51, 'x') + R"("],"details":{"k":")" +
      std::string(8000, 'v') + R"("},"entity":")" + std::string(513, 'e') + R"(","source":")" +
      std::string(101, 's') + R"(","user":")" + std::string(101, 'u') + R"(","note":")" +
      std::string(25001, 'n') +
      R"(","priority":"P6","responders":[{"name":"x"}],"visibleTo":[{"type":"schedule","id":"1"}]})";
  auto c = ParseOpsgenieCreate(body);
  ASSERT_FALSE(c.has_value());
  EXPECT_FALSE(c.error().malformed);
  EXPECT_THAT(
      c.error().errors,
      ElementsAre(Pair("message", "is missing"), Pair("alias", "is longer than 512 characters"),
                  Pair("description", "is longer than 15000 characters"),
                  Pair("responders[0].type", HasSubstr("is missing")),
                  Pair("visibleTo[0].type", "is 'schedule'; use team or user"),
                  Pair("actions[0]", "is longer than 50 characters"),
                  Pair("tags", "has 21 items; at most 20 are allowed"),
                  Pair("details", HasSubstr("is longer than 8000 characters")),
                  Pair("entity", "is longer than 512 characters"),
                  Pair("source", "is longer than 100 characters"),
                  Pair("priority", "must be one of P1, P2, P3, P4, P5, not 'P6'"),
                  Pair("user", "is longer than 100 characters"),
                  Pair("note", "is longer than 25000 characters")));
  EXPECT_EQ(c.error().message, "'message' is missing (and 12 more problems)");
}

TEST(OpsgenieCreate, WrongTypes) {
  auto c = ParseOpsgenieCreate(R"({"message":5,"tags":"a,b","details":["x"],"priority":1})");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().errors,
              ElementsAre(Pair("message", "must be a string, not a number"),
                          Pair("tags", "must be an array of strings, not a string"),
                          Pair("details", "must be an object of strings, not an array"),
                          Pair("priority", "must be one of P1, P2, P3, P4, P5, not 1")));
  auto blank = ParseOpsgenieCreate(R"({"message":"  "})");
  ASSERT_FALSE(blank.has_value());
  EXPECT_EQ(blank.error().message, "'message' is empty");
}

TEST(OpsgenieAction, OptionalFieldsAndRequiredNote) {
  auto empty = ParseOpsgenieAction("", false);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->user, "");
  auto am = ParseOpsgenieAction(R"({"source":"http://alertmanager:9093"})", false);
  ASSERT_TRUE(am.has_value());
  EXPECT_EQ(am->source, "http://alertmanager:9093");
  auto note = ParseOpsgenieAction(R"({"note":"looking","user":"alice"})", true);
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->note, "looking");
  EXPECT_EQ(note->user, "alice");
  auto missing = ParseOpsgenieAction(R"({"user":"alice"})", true);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "'note' is missing");
  auto too_long = ParseOpsgenieAction(R"({"note":")" + std::string(25001, 'n') + R"("})", true);
  ASSERT_FALSE(too_long.has_value());
  EXPECT_THAT(too_long.error().errors,
              ElementsAre(Pair("note", "is longer than 25000 characters")));
  EXPECT_TRUE(ParseOpsgenieAction("nope", false).error().malformed);
}

TEST(OpsgenieUpdate, MessageDescriptionPriority) {
  auto m = ParseOpsgenieUpdate(R"({"message":"new text"})", "message");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->value, "new text");
  auto d = ParseOpsgenieUpdate(R"({"description":""})", "description");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->value, "");
  auto p = ParseOpsgenieUpdate(R"({"priority":"P2"})", "priority");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->value, "P2");
  EXPECT_EQ(ParseOpsgenieUpdate(R"({"priority":"high"})", "priority").error().message,
            "'priority' must be one of P1, P2, P3, P4, P5, not 'high'");
  EXPECT_EQ(ParseOpsgenieUpdate("{}", "message").error().message, "'message' is missing");
  EXPECT_EQ(ParseOpsgenieUpdate("{}", "description").error().message, "'description' is missing");
}

TEST(OpsgenieKey, GenieKeyAndBasicWithTheKeyAsPassword) {
  EXPECT_EQ(OpsgenieKeyFromAuthorization("GenieKey 8f6d2a6e-2c6b"), "8f6d2a6e-2c6b");
  EXPECT_EQ(OpsgenieKeyFromAuthorization("geniekey  abc "), "abc");
  // base64(":og-key-123") (Go's Basic auth with an empty user) and base64("any:og-key-123").
  EXPECT_EQ(OpsgenieKeyFromAuthorization("Basic Om9nLWtleS0xMjM="), "og-key-123");
  EXPECT_EQ(OpsgenieKeyFromAuthorization("basic YW55Om9nLWtleS0xMjM="), "og-key-123");
  EXPECT_EQ(OpsgenieKeyFromAuthorization("Basic YW55Om9nLWtleS0xMjM"), "og-key-123");
  EXPECT_EQ(OpsgenieKeyFromAuthorization(""), std::nullopt);
  EXPECT_EQ(OpsgenieKeyFromAuthorization("GenieKey"), std::nullopt);
  EXPECT_EQ(OpsgenieKeyFromAuthorization("Bearer abc"), std::nullopt);
  EXPECT_EQ(OpsgenieKeyFromAuthorization("Basic !!!"), std::nullopt);
  EXPECT_EQ(OpsgenieKeyFromAuthorization("Basic dXNlcjo="), std::nullopt);  // "user:"
}

TEST(OpsgenieQueryTest, StatusAndAcknowledgedTermsJoinedBySpacesOrAnd) {
  auto q = ParseOpsgenieQuery("status:open AND acknowledged=false");
  ASSERT_TRUE(q) << q.error().message();
  EXPECT_EQ(q->open, true);
  EXPECT_EQ(q->acknowledged, false);
  q = ParseOpsgenieQuery("  status=closed and  ");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->open, false);
  EXPECT_EQ(q->acknowledged, std::nullopt);
  EXPECT_EQ(ParseOpsgenieQuery("")->open, std::nullopt);
  auto bad = ParseOpsgenieQuery("status:open tag:disk");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("'tag:disk'"), std::string::npos);
  EXPECT_FALSE(ParseOpsgenieQuery("status:opened"));
  EXPECT_FALSE(ParseOpsgenieQuery("acknowledged"));
}

}  // namespace
}  // namespace houston::ingest
