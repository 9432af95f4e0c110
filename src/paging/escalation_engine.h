// EscalationEngine: turns due escalations into pages, durably and exactly once per step.
//
// A deterministic state machine over the store's escalation rows: RunOnce() reads every
// escalation due at clock.Now(), decides (fire the step, wait, stop, re-page after an ack
// timeout) using the org, and writes the decisions back in one transaction, each conditional on
// the row's version. It never sleeps and does no network I/O; a thin driver thread (Start)
// sleeps until the next due time or until Wake(). Tests drive RunOnce() with a FakeClock, so a
// week of escalations runs in milliseconds.
#pragma once

#include <functional>
#include <memory>
#include <unordered_map>

#include "config/config.h"
#include "core/clock.h"
#include "core/deadline_loop.h"
#include "core/escalation.h"
#include "store/store.h"

namespace houston::paging {

using OrgProvider = std::function<std::shared_ptr<const config::Org>()>;
// Who is on call for a schedule at an instant (user ids).
using OnCallResolver =
    std::function<std::vector<std::string>(const config::Org&, const std::string&, TimePoint)>;

core::EscalationPolicySpec ToPolicySpec(const config::EscalationPolicy& p);

// One page per notification rule of `user` (each at its delay after `at`), reached via `via`
// (e.g. "schedule:primary", "role:commander").
std::vector<store::PageRequest> PagesForUser(const config::User& user, TimePoint at,
                                             const std::string& via);

// Whether the maintenance window covers `now` (a fixed window, or a recurring one in its zone).
bool InMaintenance(const config::MaintenanceWindow& m, TimePoint now);

// Why paging is suppressed for `incident` at `now` (a maintenance window or silence), or "".
std::string SuppressionReason(const config::Org& org, const core::Incident& incident,
                              const std::vector<core::Alert>& alerts, TimePoint now);

// Thread-safe.
class EscalationEngine {
 public:
  // `escalations`: the escalation rows it decides on; `alerts`: to read an incident's alerts
  // (maintenance windows and silences match on them).
  EscalationEngine(store::EscalationStore& escalations, store::AlertStore& alerts, Clock& clock,
                   OrgProvider org, OnCallResolver on_call);
  EscalationEngine(store::Store& store, Clock& clock, OrgProvider org, OnCallResolver on_call)
      : EscalationEngine(store, store, clock, std::move(org), std::move(on_call)) {}
  ~EscalationEngine() { Stop(); }

  // Processes everything due now. Returns the next due time, if any.
  Result<std::optional<TimePoint>> RunOnce();
  // Called after pages were created (to wake the notification dispatcher).
  void OnPagesCreated(std::function<void()> fn) { on_pages_ = std::move(fn); }

  void Start() { loop_.Start(); }
  void Wake() { loop_.Wake(); }
  void Stop() { loop_.Stop(); }

 private:
  // The policies' specs, built once per pass of RunOnce rather than once per escalation (a
  // policy with a large rotation copies every target).
  using PolicySpecs =
      std::unordered_map<const config::EscalationPolicy*, core::EscalationPolicySpec>;
  store::EscalationUpdate Decide(const config::Org& org, const store::EscalationRow& row,
                                 TimePoint now, bool& pages, PolicySpecs& specs);
  store::EscalationUpdate Fire(const config::Org& org, const store::EscalationRow& row,
                               const core::EscalationPolicySpec& policy,
                               core::EscalationCursor cursor, TimePoint fired_at, TimePoint now);

  store::EscalationStore& store_;
  store::AlertStore& alerts_;
  Clock& clock_;
  OrgProvider org_;
  OnCallResolver on_call_;
  std::function<void()> on_pages_;
  DeadlineLoop loop_{"escalation engine", clock_, [this] { return RunOnce(); }};
};

}  // namespace houston::paging
