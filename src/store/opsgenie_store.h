// OpsgenieStore: the store as the Opsgenie-compatible Alert API (intake/opsgenie_routes.cc) uses
// it. A request (create, close, acknowledge, unacknowledge, add note, update a field) is applied
// and its request status recorded in one transaction, so that the 202 a sender gets means both
// are durable; GET /v2/alerts/requests/{id} reads the status back. Store inherits it; the SQL
// store implements it once for SQLite and PostgreSQL (store/sql/opsgenie.cc).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "store/incident_store.h"

namespace houston::store {

struct Actor;

// What a request asked for. ToString gives Opsgenie's name of it in a request status ("Create",
// "Close", "Acknowledge", "UnAcknowledge", "AddNote", "UpdateMessage", "UpdateDescription",
// "UpdatePriority").
enum class OpsgenieAction {
  kCreate,
  kClose,
  kAcknowledge,
  kUnacknowledge,
  kAddNote,
  kUpdateMessage,
  kUpdateDescription,
  kUpdatePriority,
};
std::string_view ToString(OpsgenieAction a);
std::optional<OpsgenieAction> ParseOpsgenieAction(std::string_view s);

// How a request names its alert: houston's alert id (`id`; Opsgenie's `tiny` ids are the same
// number here), or the alias of an open alert of the same integration key.
enum class OpsgenieIdentifier { kId, kAlias };

// Request status records are kept this long after the request (then pruned, a few at a time, by
// later requests): Opsgenie's senders poll them for seconds to minutes.
inline constexpr std::chrono::hours kOpsgenieRequestRetention{24 * 7};

// One request on the Opsgenie Alert API, validated and routed by intake.
struct OpsgenieRequest {
  std::string request_id;       // a new UUID: the requestId the sender is given
  std::string integration_key;  // the opsgenie integration whose key authenticated it
  std::string service_id;       // that key's service: `id` identifiers only find its alerts
  OpsgenieAction action = OpsgenieAction::kCreate;
  core::AlertEvent event;  // kCreate: the alert event (routed; dedup_key = alias or "")
  // The other actions: the alert.
  std::string identifier;
  OpsgenieIdentifier identifier_type = OpsgenieIdentifier::kId;
  // Who and why, as the sender says (each may be ""): recorded on the incident's timeline.
  std::string user, source, note;
  // kUpdateMessage/kUpdateDescription: the new text; kUpdatePriority: "P1".."P5" with `severity`
  // its houston severity.
  std::string value;
  core::Severity severity = core::Severity::kError;
};

// What became of a request: GET /v2/alerts/requests/{id}.
struct OpsgenieRequestStatus {
  std::string request_id;
  std::string integration_key;
  OpsgenieAction action = OpsgenieAction::kCreate;
  TimePoint received_at{};
  TimePoint processed_at{};
  bool success = false;
  // "Created alert", "Alert deduplicated", "Closed alert", "Acknowledged alert",
  // "Unacknowledged alert", "Added note", "Updated message", ...; or why it failed: "Alert does
  // not exist", "Alert is already closed", "Alert is already acknowledged", "Alert is not
  // acknowledged".
  std::string status;
  core::AlertId alert_id = 0;  // 0: no alert
  std::string alias;           // the alert's alias (its dedup key), when there is an alert
  core::IncidentId incident_id = 0;
  bool incident_created = false;  // kCreate opened a new incident (the engine pages now)
};

// Alerts an Opsgenie key lists (GET /v2/alerts), newest first.
struct OpsgenieAlertQuery {
  std::string service_id;
  std::optional<bool> open;          // open = triggered or acknowledged; closed = resolved
  std::optional<bool> acknowledged;  // status acknowledged (true) / not (false)
  int offset = 0;
  int limit = 20;  // 1..100
};

// Thread-safe.
class OpsgenieStore {
 public:
  virtual ~OpsgenieStore() = default;

  // Applies `request` and records its status (with `received_at`), in one transaction, and
  // prunes a few status records older than kOpsgenieRequestRetention. A request whose alert
  // cannot be found or is in the wrong state is not an error, as on Opsgenie: it is recorded
  // with success false and the reason. A create works as an Events API trigger (one open alert
  // per alias: a repeat counts up the open alert). Unacknowledge moves the alert back to
  // triggered, and its incident too when no other alert of it is still acknowledged (its
  // escalation then starts again from the first step). A note (and the user, source and note of
  // the other actions) goes on the alert's incident timeline. Errors: the store's own
  // (ResourceExhausted, Unavailable), AlreadyExists if the request id was used before.
  virtual void ApplyOpsgenieRequest(OpsgenieRequest request, TimePoint received_at, Actor actor,
                                    Callback<OpsgenieRequestStatus> done) = 0;
  // NotFound if there is no such request (or it was pruned).
  virtual Result<OpsgenieRequestStatus> GetOpsgenieRequest(const std::string& request_id) = 0;
  // The open alert of `integration_key` whose dedup key is `alias`, if any.
  virtual Result<std::optional<core::Alert>> FindOpenAlertByAlias(
      const std::string& integration_key, const std::string& alias) = 0;
  virtual Result<std::vector<core::Alert>> ListOpsgenieAlerts(const OpsgenieAlertQuery& q) = 0;
};

}  // namespace houston::store
