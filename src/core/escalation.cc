#include "core/escalation.h"

namespace houston::core {

std::chrono::minutes DelayBefore(const EscalationPolicySpec& policy, EscalationCursor c) {
  if (policy.steps.empty()) return kDefaultRepeatDelay;
  if (c.step > 0) return policy.steps[static_cast<size_t>(c.step)].delay;
  if (c.loop == 0) return policy.steps.front().delay;
  if (policy.steps.back().delay.count() > 0) return policy.steps.back().delay;
  if (policy.steps.front().delay.count() > 0) return policy.steps.front().delay;
  return kDefaultRepeatDelay;
}

std::optional<EscalationCursor> NextCursor(const EscalationPolicySpec& policy, EscalationCursor c) {
  if (c.step + 1 < static_cast<int>(policy.steps.size()))
    return EscalationCursor{c.step + 1, c.loop};
  if (c.loop < policy.repeat) return EscalationCursor{0, c.loop + 1};
  return std::nullopt;
}

}  // namespace houston::core
