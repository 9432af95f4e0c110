// AlertExpiry: resolves alerts whose time is up (AlertEvent::expires_at: a Prometheus alert's
// endsAt, or its integration's resolve timeout) when no newer event renewed them.
//
// It owns no state: deadlines live in the store (alerts.expires_at), so a restart continues
// where it stopped, and several servers on one PostgreSQL database may all run it (the store
// resolves each alert once). A thread sleeps until the earliest deadline (at most kMaxSleep, since
// a new event may have set an earlier one) and asks the store to resolve what is due, exactly as a
// resolve event would.
#pragma once

#include "core/clock.h"
#include "core/deadline_loop.h"
#include "store/store.h"

namespace houston::intake {

// Thread-safe.
class AlertExpiry {
 public:
  // How many alerts one store write resolves at most; more due ones are taken at once after.
  static constexpr int kBatch = 500;
  // Intake does not wake the loop when an event sets an earlier deadline: it looks again at
  // least this often, so an alert resolves at most this late (one indexed read each time).
  static constexpr std::chrono::milliseconds kMaxSleep{2000};

  AlertExpiry(store::AlertStore& store, Clock& clock)
      : store_(store),
        clock_(clock),
        loop_(
            "alert expiry", clock, [this] { return RunOnce(); }, std::chrono::milliseconds(10),
            kMaxSleep) {}
  ~AlertExpiry() { Stop(); }

  // Resolves the alerts due at `clock.Now()` and returns when the next one is due (nullopt: no
  // open alert has a deadline). Deterministic; tests call it with a FakeClock.
  Result<std::optional<TimePoint>> RunOnce();

  void Start() { loop_.Start(); }
  // Re-reads the next deadline now (call after events that may have set an earlier one).
  void Wake() { loop_.Wake(); }
  void Stop() { loop_.Stop(); }

 private:
  store::AlertStore& store_;
  Clock& clock_;
  DeadlineLoop loop_;
};

}  // namespace houston::intake
