#include "core/types.h"

#include <gtest/gtest.h>

namespace houston::core {
namespace {

TEST(Types, SeverityRoundTrip) {
  for (auto s : {Severity::kCritical, Severity::kError, Severity::kWarning, Severity::kInfo}) {
    EXPECT_EQ(ParseSeverity(ToString(s)), s);
  }
  EXPECT_FALSE(ParseSeverity("CRITICAL"));  // PagerDuty's enum is lower-case only
  EXPECT_FALSE(ParseSeverity("high"));
}

TEST(Types, ActionsAndIntegrationTypes) {
  EXPECT_EQ(ParseEventAction("acknowledge"), EventAction::kAcknowledge);
  EXPECT_FALSE(ParseEventAction("ack"));
  EXPECT_EQ(ParseIntegrationType("alertmanager"), IntegrationType::kAlertmanager);
  EXPECT_EQ(ToString(IntegrationType::kEventsV2), "events_v2");
}

}  // namespace
}  // namespace houston::core
