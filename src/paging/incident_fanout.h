// IncidentFanout: acts, durably and once, on what happens to incidents.
//
// The store marks the timeline records that matter (new incidents and alerts, status changes,
// field and SEV changes, role assignments, new responders, published status updates) as
// pending in the same transaction as the change. RunOnce() reads them and, with the org:
//   - applies the org's incident rules to new alerts: declares a SEV on an untriaged incident
//     or raises it, never lowers it;
//   - pages a person assigned a role or added as a responder (through their notification rules);
//   - hands each status update to the subscribers of every audience it was rendered for;
//   - sends incident events to the org's outbound incident webhooks;
//   - keeps each open incident's next-status-update deadline (its SEV's cadence), and when one
//     passes, reminds the communications lead (else the commander) and sets the next reminder.
// Everything it decides is written back in one store transaction per batch, which also marks
// the records handled, so a crash repeats nothing and loses nothing. Messages go to the
// notification outbox; the NotificationDispatcher sends them. Like the escalation engine it
// never sleeps and does no network I/O: a driver thread (Start) waits for the next reminder or
// Wake(). Tests drive RunOnce() with a FakeClock.
#pragma once

#include <functional>

#include "config/config.h"
#include "core/clock.h"
#include "core/deadline_loop.h"
#include "paging/escalation_engine.h"
#include "store/store.h"

namespace houston::paging {

struct FanoutOptions {
  std::string base_url = "http://127.0.0.1:8080";  // for incident links in webhook payloads
  // Signs those links: pages people open without a token ("": links to the API instead).
  std::string link_key;
  int batch = 500;  // records per transaction
  // A reminder repeats every min(cadence, this) until an update is published.
  std::chrono::minutes max_reminder_interval{15};
};

// Thread-safe.
class IncidentFanout {
 public:
  IncidentFanout(store::Store& store, Clock& clock, OrgProvider org, FanoutOptions options = {});
  ~IncidentFanout() { Stop(); }

  // Handles every pending record and every reminder due now. Returns when the next reminder is
  // due, if any.
  Result<std::optional<TimePoint>> RunOnce();
  // Called after messages were put in the outbox (to wake the notification dispatcher).
  void OnMessagesCreated(std::function<void()> fn) { on_messages_ = std::move(fn); }
  // Sets the base of incident links. Call before Start().
  void set_base_url(std::string url) { options_.base_url = std::move(url); }

  void Start() { loop_.Start(); }
  void Wake() { loop_.Wake(); }
  void Stop() { loop_.Stop(); }

 private:
  class Pass;  // one batch's decisions and caches

  store::Store& store_;
  Clock& clock_;
  OrgProvider org_;
  FanoutOptions options_;
  std::function<void()> on_messages_;
  DeadlineLoop loop_{"incident fan-out", clock_, [this] { return RunOnce(); }};
};

}  // namespace houston::paging
