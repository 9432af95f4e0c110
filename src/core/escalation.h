// Escalation policy stepping: which step fires next and after how long. Pure logic; the engine
// (engine/) persists the cursor and due times and decides what a firing step pages.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace houston::core {

struct EscalationTargetSpec {
  enum class Type { kUser, kSchedule, kTeam };
  Type type = Type::kUser;
  std::string id;
};

struct EscalationStepSpec {
  // Wait after the previous step fired (for the first step: after the incident opened).
  std::chrono::minutes delay{0};
  std::vector<EscalationTargetSpec> targets;
  bool round_robin = false;  // page one target per firing, rotating, instead of all of them
};

struct EscalationPolicySpec {
  std::string id;
  int repeat = 0;  // how many more times the whole policy runs when nobody acknowledges
  std::vector<EscalationStepSpec> steps;
  // Re-page an incident that stays acknowledged (but unresolved) this long.
  std::optional<std::chrono::minutes> ack_timeout;
};

// The next step to fire: steps[step] of run number `loop` (0-based).
struct EscalationCursor {
  int step = 0;
  int loop = 0;
  bool operator==(const EscalationCursor&) const = default;
};

// How long to wait before the step at `c` fires, counted from the previous firing (or from the
// incident's start for the very first step). The first step of a repeat waits as long as the
// last step did (the time the previous responders were given), or, if that is zero, the first
// step's delay, or kDefaultRepeatDelay when both are zero: a policy never re-pages in a loop.
std::chrono::minutes DelayBefore(const EscalationPolicySpec& policy, EscalationCursor c);
inline constexpr std::chrono::minutes kDefaultRepeatDelay{5};

// The cursor after `c`, or nullopt once the last step of the last repeat has fired.
std::optional<EscalationCursor> NextCursor(const EscalationPolicySpec& policy, EscalationCursor c);

}  // namespace houston::core
