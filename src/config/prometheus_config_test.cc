// org.yaml: a prometheus integration's routes, group_by, resolve_timeout_minutes and
// require_bearer.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace houston::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A valid org around one prometheus integration whose body is `integration` (YAML lines
// indented for the list item, after "- type: prometheus").
std::string Org(std::string_view integration) {
  return fmt::format(R"yaml(users:
  - {{id: alice, name: Alice, email: alice@example.com}}
escalation_policies:
  - id: ep
    steps: [{{delay_minutes: 0, targets: [{{user: alice}}]}}]
services:
  - id: platform
    escalation_policy: ep
    integrations:
      - type: prometheus
        key: prom-main
{}
  - {{id: billing, escalation_policy: ep}}
  - {{id: checkout, escalation_policy: ep}}
)yaml",
                     integration);
}

std::vector<std::string> ProblemsOf(const std::string& yaml) {
  Result<config::Org> org = ParseOrg(yaml, "org.yaml");
  if (org.has_value()) return {};
  return org.error().details();
}

const Integration& Prom(const config::Org& org) { return org.services.at(0).integrations.at(0); }

TEST(PrometheusConfigTest, DefaultsWhenNothingIsSet) {
  auto org = ParseOrg(Org(""), "org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().ToString();
  const Integration& in = Prom(*org);
  EXPECT_EQ(in.type, core::IntegrationType::kPrometheus);
  ASSERT_TRUE(in.prometheus.has_value());
  EXPECT_THAT(in.prometheus->routes, IsEmpty());
  EXPECT_THAT(in.prometheus->group_by, ElementsAre("alertname"));
  EXPECT_FALSE(in.prometheus->group_by_all);
  EXPECT_EQ(in.prometheus->resolve_timeout_minutes, 5);
  EXPECT_FALSE(in.prometheus->require_bearer);
}

TEST(PrometheusConfigTest, RoutesAndGrouping) {
  auto org = ParseOrg(Org(R"yaml(        routes:
          - {match: ['service="billing"'], service: billing}
          - {match: ['team =~ "pay.*"', 'severity!="info"', 'env!~ stag.*', 'x=a b'], service: checkout}
        group_by: [alertname, cluster]
        resolve_timeout_minutes: 0
        require_bearer: true)yaml"),
                      "org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().ToString() << "\n"
                               << ::testing::PrintToString(org.error().details());
  const PrometheusOptions& p = *Prom(*org).prometheus;
  ASSERT_EQ(p.routes.size(), 2u);
  EXPECT_EQ(p.routes[0].service, "billing");
  ASSERT_EQ(p.routes[0].match.size(), 1u);
  EXPECT_EQ(p.routes[0].match[0].label, "service");
  EXPECT_EQ(p.routes[0].match[0].op, MatchOp::kEqual);
  EXPECT_EQ(p.routes[0].match[0].value, "billing");
  const auto& m = p.routes[1].match;
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].label, "team");
  EXPECT_EQ(m[0].op, MatchOp::kRegexMatch);
  EXPECT_EQ(m[0].value, "pay.*");
  EXPECT_EQ(m[1].op, MatchOp::kNotEqual);
  EXPECT_EQ(m[1].value, "info");
  EXPECT_EQ(m[2].op, MatchOp::kRegexNoMatch);
  EXPECT_EQ(m[2].value, "stag.*");
  EXPECT_EQ(m[3].value, "a b");
  EXPECT_THAT(p.group_by, ElementsAre("alertname", "cluster"));
  EXPECT_EQ(p.resolve_timeout_minutes, 0);
  EXPECT_TRUE(p.require_bearer);
}

TEST(PrometheusConfigTest, GroupByEveryLabelOrNone) {
  auto all = ParseOrg(Org("        group_by: ['...']"), "org.yaml");
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  EXPECT_TRUE(Prom(*all).prometheus->group_by_all);
  EXPECT_THAT(Prom(*all).prometheus->group_by, IsEmpty());
  auto none = ParseOrg(Org("        group_by: []"), "org.yaml");
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_FALSE(Prom(*none).prometheus->group_by_all);
  EXPECT_THAT(Prom(*none).prometheus->group_by, IsEmpty());
}

TEST(PrometheusConfigTest, QuotedValuesTakeEscapes) {
  auto org = ParseOrg(Org(R"yaml(        routes:
          - {match: ['a="x\"y\\z\n"'], service: billing})yaml"),
                      "org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().ToString();
  EXPECT_EQ(Prom(*org).prometheus->routes[0].match[0].value, "x\"y\\z\n");
}

TEST(PrometheusConfigTest, ProblemsArePositionedAndNamed) {
  EXPECT_THAT(
      ProblemsOf(Org(R"yaml(        routes:
          - {match: ['service="billing"'], service: nope}
          - {match: ['team=~"pay(.*"'], service: billing}
          - {match: ['team'], service: billing}
          - {match: ['9lives="x"', 'a="unterminated', 'b="x" y', 'c=x"y', 'd="\q"'], service: billing}
          - {match: [], service: billing}
          - {service: billing}
          - {match: ['a="b"']}
        group_by: [alertname, alertname, 'bad-name', '...']
        resolve_timeout_minutes: -1
        require_bearer: maybe)yaml")),
      ElementsAre(
          "org.yaml:13:53: services[0].integrations[0].routes[0].service: unknown service 'nope' "
          "(defined: billing, checkout, platform)",
          HasSubstr("org.yaml:14:22: services[0].integrations[0].routes[1].match[0]: invalid "
                    "matcher 'team=~\"pay(.*\"': invalid regular expression 'pay(.*': "),
          "org.yaml:15:22: services[0].integrations[0].routes[2].match[0]: invalid matcher "
          "'team': expected one of =, !=, =~, !~ after 'team'",
          "org.yaml:16:22: services[0].integrations[0].routes[3].match[0]: invalid matcher "
          "'9lives=\"x\"': must start with a label name ([a-zA-Z_][a-zA-Z0-9_]*), e.g. "
          "service=\"billing\"",
          "org.yaml:16:36: services[0].integrations[0].routes[3].match[1]: invalid matcher "
          "'a=\"unterminated': the quoted value has no closing '\"'",
          "org.yaml:16:55: services[0].integrations[0].routes[3].match[2]: invalid matcher "
          "'b=\"x\" y': unexpected 'y' after the quoted value",
          "org.yaml:16:66: services[0].integrations[0].routes[3].match[3]: invalid matcher "
          "'c=x\"y': a value with '\"' must be quoted as a whole: name=\"value\"",
          "org.yaml:16:75: services[0].integrations[0].routes[3].match[4]: invalid matcher "
          "'d=\"\\q\"': unknown escape '\\q' in the quoted value (use \\\\, \\\" or \\n)",
          "org.yaml:17:21: services[0].integrations[0].routes[4].match: must list at least one "
          "matcher, e.g. 'service=\"billing\"'",
          "org.yaml:18:13: services[0].integrations[0].routes[5]: missing required key 'match'",
          "org.yaml:19:13: services[0].integrations[0].routes[6]: missing required key 'service'",
          "org.yaml:20:19: services[0].integrations[0].group_by: '...' already groups by every "
          "label; list it alone",
          "org.yaml:20:31: services[0].integrations[0].group_by[1]: 'alertname' is listed twice",
          "org.yaml:20:42: services[0].integrations[0].group_by[2]: invalid label name "
          "'bad-name' (use [a-zA-Z_][a-zA-Z0-9_]*, or '...' alone for every label)",
          "org.yaml:21:34: services[0].integrations[0].resolve_timeout_minutes: must be between "
          "0 and 525600, got -1",
          "org.yaml:22:25: services[0].integrations[0].require_bearer: expected true or false, "
          "got 'maybe'"));
}

TEST(PrometheusConfigTest, OnlyPrometheusIntegrationsTakeTheseFields) {
  std::string yaml = Org("");
  yaml.replace(yaml.find("type: prometheus"), 16, "type: alertmanager");
  yaml.replace(yaml.find("        key: prom-main\n"), 23,
               "        key: prom-main\n        routes: []\n        group_by: [a]\n");
  EXPECT_THAT(ProblemsOf(yaml),
              ElementsAre(HasSubstr("routes: only prometheus integrations take routes; remove it"),
                          HasSubstr("only prometheus integrations take group_by; remove it")));
}

TEST(PrometheusConfigTest, FlattenIsCanonicalSoApplyDiffsIt) {
  auto a = ParseOrg(Org(R"yaml(        routes:
          - {match: ['service = billing', 'x=~"a\"b"'], service: billing})yaml"),
                    "org.yaml");
  auto b = ParseOrg(Org(R"yaml(        routes:
          - {match: ['service="billing"', 'x =~ "a\"b"'], service: billing})yaml"),
                    "org.yaml");
  auto c = ParseOrg(Org(R"yaml(        routes:
          - {match: ['service="billing"', 'x =~ "a\"b"'], service: checkout})yaml"),
                    "org.yaml");
  ASSERT_TRUE(a && b && c);
  auto spec = [](const config::Org& org) {
    for (const OrgObject& o : Flatten(org)) {
      if (o.kind == "integration" && o.id == "prom-main") return o.spec_json;
    }
    return std::string();
  };
  EXPECT_EQ(spec(*a), spec(*b));
  EXPECT_NE(spec(*a), spec(*c));
  EXPECT_THAT(spec(*a), HasSubstr(R"("routes":[{"match":["service=\"billing\"","x=~\"a\\\"b\""],)"
                                  R"("service":"billing"}],"group_by":["alertname"],)"
                                  R"("resolve_timeout_minutes":5,"require_bearer":false)"));
}

}  // namespace
}  // namespace houston::config
