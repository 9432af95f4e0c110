// The learning domain's time-driven work: postmortem drafts for incidents that resolve with a
// required SEV, and reminders that chase overdue postmortems and action items.
//
// A reminder is not a page: it goes to a person's contact methods (those of their notification
// rules, once each, without the rules' delays) and only within the working hours of the org's
// `action_items.working_hours`, in that person's own time zone. It goes through the outbox like
// every message (kinds `postmortem_reminder`, `action_item_reminder`), once per reminder number
// and recipient, so a crash or a second server never sends one twice.
//
// Chaser is a deterministic state machine like the escalation engine: RunOnce() does what is
// due at the clock's now in one store transaction and returns when the next reminder is due; a
// DeadlineLoop drives it. Tests call RunOnce() with a FakeClock.
#pragma once

#include <date/tz.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/clock.h"
#include "core/deadline_loop.h"
#include "core/status.h"
#include "store/store.h"

namespace houston::learning {

// The instant calendar day `day` ends in `zone` (its next midnight, or the first instant of the
// next day when a DST change skips midnight).
TimePoint EndOfDay(date::year_month_day day, const date::time_zone* zone);
// The first instant at or after `t` inside `hours` in `zone` (`t` itself when it is inside).
TimePoint NextWorkingMoment(const config::DailyWindow& hours, const date::time_zone* zone,
                            TimePoint t);
// A user's time zone (the org's default, UTC, when unset or unknown).
const date::time_zone* ZoneOf(const config::User* user);

using OrgProvider = std::function<std::shared_ptr<const config::Org>()>;

struct ChaserOptions {
  // Incidents resolved longer ago than this when the chaser first sees them get no automatic
  // draft (a new server on an old database does not draft, and chase, last year's incidents).
  std::chrono::hours draft_lookback{24 * 14};
  int batch = 200;
  std::string base_url;  // the base of links in reminders ("" = none)
};

// Thread-safe: RunOnce runs on the loop's thread; Wake from any thread.
class Chaser {
 public:
  Chaser(store::Store& store, Clock& clock, OrgProvider org, ChaserOptions options = {});
  ~Chaser() { Stop(); }

  // Drafts the postmortems now required and sends the reminders now due. Returns when the next
  // reminder is due (nullopt: none scheduled).
  Result<std::optional<TimePoint>> RunOnce();
  // Called after reminders were put in the outbox (to wake the notification dispatcher).
  void OnMessagesCreated(std::function<void()> fn) { on_messages_ = std::move(fn); }
  void set_base_url(std::string url) { options_.base_url = std::move(url); }

  void Start() { loop_.Start(); }
  // Something changed (an incident resolved, an item was added): look again now.
  void Wake() { loop_.Wake(); }
  void Stop() { loop_.Stop(); }

 private:
  class Pass;

  store::Store& store_;
  Clock& clock_;
  OrgProvider org_;
  ChaserOptions options_;
  std::function<void()> on_messages_;
  // The loop thread's own: resolved incidents before this were already looked at.
  std::optional<TimePoint> drafted_through_;
  DeadlineLoop loop_{"learning reminders", clock_, [this] { return RunOnce(); },
                     std::chrono::milliseconds(500), std::chrono::seconds(60)};
};

}  // namespace houston::learning
