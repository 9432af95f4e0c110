#include "core/escalation.h"

#include <gtest/gtest.h>

namespace houston::core {
namespace {

using std::chrono::minutes;

EscalationPolicySpec Policy(std::vector<int> delays, int repeat) {
  EscalationPolicySpec p;
  p.id = "ep";
  p.repeat = repeat;
  for (int d : delays) p.steps.push_back({minutes(d), {{EscalationTargetSpec::Type::kUser, "u"}}});
  return p;
}

TEST(Escalation, WalksStepsThenRepeatsThenStops) {
  auto p = Policy({0, 15}, 2);
  std::vector<EscalationCursor> seen;
  std::optional<EscalationCursor> c = EscalationCursor{};
  while (c) {
    seen.push_back(*c);
    c = NextCursor(p, *c);
  }
  ASSERT_EQ(seen.size(), 6u);  // 2 steps x (1 + 2 repeats)
  EXPECT_EQ(seen.back(), (EscalationCursor{1, 2}));
}

TEST(Escalation, NoHiddenCapOnRepeat) {
  auto p = Policy({1}, 1000);
  int fired = 0;
  for (std::optional<EscalationCursor> c = EscalationCursor{}; c; c = NextCursor(p, *c)) ++fired;
  EXPECT_EQ(fired, 1001);
}

TEST(Escalation, DelaysAndRepeatDelay) {
  auto p = Policy({0, 15}, 1);
  EXPECT_EQ(DelayBefore(p, {0, 0}), minutes(0));
  EXPECT_EQ(DelayBefore(p, {1, 0}), minutes(15));
  EXPECT_EQ(DelayBefore(p, {0, 1}), minutes(15));  // the last step's delay
  EXPECT_EQ(DelayBefore(Policy({0}, 3), {0, 1}), kDefaultRepeatDelay);
  EXPECT_EQ(DelayBefore(Policy({10}, 3), {0, 1}), minutes(10));
  EXPECT_EQ(DelayBefore(Policy({7, 0}, 3), {0, 1}), minutes(7));
}

}  // namespace
}  // namespace houston::core
