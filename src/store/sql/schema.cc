#include "store/sql/schema.h"

#include <string_view>

namespace houston::store::sql {

namespace {

// The one schema source: every version once, in SQLite's SQL with a few markers that
// RenderSchemaSql() turns into each dialect's spelling:
//   {{id}}   an id column: INTEGER PRIMARY KEY (SQLite's rowid) / a BIGINT identity (PostgreSQL);
//   {{int}}  a 64-bit integer (times are milliseconds since the epoch): INTEGER / BIGINT;
//   {{a|b}}  `a` on SQLite, `b` on PostgreSQL (a function the dialects spell differently).
// Never edit a released version: append a new one.
struct Source {
  int version;
  const char* name;
  const char* sql;
};

const Source kSchema[] = {
    {1, "initial schema", R"sql(
CREATE TABLE incidents (
  id {{id}},
  service_id TEXT NOT NULL,
  title TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL,
  integration_key TEXT NOT NULL,
  group_key TEXT NOT NULL DEFAULT '',
  alert_count {{int}} NOT NULL DEFAULT 0,
  created_at {{int}} NOT NULL,
  acknowledged_at {{int}},
  resolved_at {{int}}
);
CREATE INDEX incidents_status ON incidents(status, id);
CREATE INDEX incidents_service ON incidents(service_id, id);
CREATE UNIQUE INDEX incidents_open_group ON incidents(integration_key, group_key)
  WHERE status <> 'resolved' AND group_key <> '';

CREATE TABLE alerts (
  id {{id}},
  integration_key TEXT NOT NULL,
  service_id TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  group_key TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  summary TEXT NOT NULL,
  source TEXT NOT NULL,
  severity TEXT NOT NULL,
  component TEXT NOT NULL DEFAULT '',
  grp TEXT NOT NULL DEFAULT '',
  class TEXT NOT NULL DEFAULT '',
  details_json TEXT NOT NULL DEFAULT '{}',
  links_json TEXT NOT NULL DEFAULT '[]',
  images_json TEXT NOT NULL DEFAULT '[]',
  client TEXT NOT NULL DEFAULT '',
  client_url TEXT NOT NULL DEFAULT '',
  event_count {{int}} NOT NULL DEFAULT 1,
  created_at {{int}} NOT NULL,
  last_event_at {{int}} NOT NULL,
  event_timestamp {{int}},
  acknowledged_at {{int}},
  resolved_at {{int}},
  incident_id {{int}} NOT NULL REFERENCES incidents(id)
);
-- At most one open alert per (integration, dedup key): the dedup invariant.
CREATE UNIQUE INDEX alerts_open_key ON alerts(integration_key, dedup_key)
  WHERE status <> 'resolved';
CREATE INDEX alerts_status ON alerts(status, id);
CREATE INDEX alerts_service ON alerts(service_id, id);
CREATE INDEX alerts_incident ON alerts(incident_id);

CREATE TABLE changes (
  id {{id}},
  integration_key TEXT NOT NULL,
  service_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  timestamp {{int}} NOT NULL,
  received_at {{int}} NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}',
  links_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX changes_service ON changes(service_id, timestamp);

CREATE TABLE org_objects (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  updated_at {{int}} NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE TABLE org_source (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  name TEXT NOT NULL,
  yaml TEXT NOT NULL,
  applied_at {{int}} NOT NULL
);

CREATE TABLE heartbeats (
  integration_key TEXT PRIMARY KEY,
  service_id TEXT NOT NULL,
  interval_ms {{int}} NOT NULL,
  last_beat_at {{int}} NOT NULL,
  missed {{int}} NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
  id {{id}},
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at {{int}} NOT NULL,
  revoked_at {{int}}
);

CREATE TABLE audit_log (
  id {{id}},
  at {{int}} NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  method TEXT NOT NULL,
  action TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_resource ON audit_log(resource_type, resource_id, id);
)sql"},
    {2, "escalations and notification outbox", R"sql(
ALTER TABLE incidents ADD COLUMN escalation_policy TEXT NOT NULL DEFAULT '';
CREATE TABLE escalations (
  incident_id {{int}} PRIMARY KEY REFERENCES incidents(id),
  policy_id TEXT NOT NULL,
  state TEXT NOT NULL,
  step {{int}} NOT NULL DEFAULT 0,
  loop {{int}} NOT NULL DEFAULT 0,
  round {{int}} NOT NULL DEFAULT 0,
  due_at {{int}},
  version {{int}} NOT NULL DEFAULT 0
);
CREATE INDEX escalations_due ON escalations(due_at) WHERE due_at IS NOT NULL;

CREATE TABLE notifications (
  id {{id}},
  incident_id {{int}} NOT NULL REFERENCES incidents(id),
  round {{int}} NOT NULL DEFAULT 0,
  loop {{int}} NOT NULL,
  step {{int}} NOT NULL,
  user_id TEXT NOT NULL,
  contact_method_id TEXT NOT NULL,
  channel_type TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  rule {{int}} NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  attempts {{int}} NOT NULL DEFAULT 0,
  batch_id {{int}},
  created_at {{int}} NOT NULL,
  not_before {{int}} NOT NULL,
  attempted_at {{int}},
  sent_at {{int}},
  last_error TEXT NOT NULL DEFAULT ''
);
-- A page is created at most once per (incident, round, loop, step, user, contact method, rule).
CREATE UNIQUE INDEX notifications_once
  ON notifications(incident_id, round, loop, step, user_id, contact_method_id, rule);
CREATE INDEX notifications_batch ON notifications(batch_id);
CREATE INDEX notifications_pending ON notifications(not_before) WHERE state = 'pending';
CREATE INDEX notifications_recent ON notifications(user_id, contact_method_id, attempted_at);
CREATE INDEX notifications_incident ON notifications(incident_id);
ALTER TABLE heartbeats ADD COLUMN escalation_policy TEXT NOT NULL DEFAULT '';
)sql"},
    {3, "schedule overrides, swaps and cover requests", R"sql(
CREATE TABLE schedule_overrides (
  id {{id}},
  schedule_id TEXT NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  start_at {{int}} NOT NULL,
  end_at {{int}} NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_by TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '',
  created_at {{int}} NOT NULL
);
CREATE INDEX schedule_overrides_schedule ON schedule_overrides(schedule_id, end_at);
)sql"},
    {4, "running incidents: SEVs, roles, impact window, status updates, fan-out", R"sql(
ALTER TABLE incidents ADD COLUMN sev TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN public_title TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN services_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE incidents ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE incidents ADD COLUMN roles_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE incidents ADD COLUMN responders_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE incidents ADD COLUMN impact_started_at {{int}};
ALTER TABLE incidents ADD COLUMN detected_at {{int}};
ALTER TABLE incidents ADD COLUMN mitigated_at {{int}};
ALTER TABLE incidents ADD COLUMN declared_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN grouping_key TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN last_alert_at {{int}};
ALTER TABLE incidents ADD COLUMN update_due_at {{int}};
ALTER TABLE incidents ADD COLUMN last_update_at {{int}};
ALTER TABLE incidents ADD COLUMN merged_into {{int}} NOT NULL DEFAULT 0;
UPDATE incidents SET services_json = {{json_array(service_id)|json_build_array(service_id)::text}}, impact_started_at = created_at,
  detected_at = created_at, last_alert_at = created_at;
-- Time-window grouping: the newest open incident of a service with a content key.
CREATE INDEX incidents_grouping ON incidents(service_id, grouping_key, last_alert_at)
  WHERE status <> 'resolved';
CREATE INDEX incidents_update_due ON incidents(update_due_at) WHERE update_due_at IS NOT NULL;
-- Declared (SEV) incidents: the status page reads only these.
CREATE INDEX incidents_declared ON incidents(id) WHERE sev <> '';

-- Every record about an incident (its own and its alerts') carries incident_id: the timeline.
-- fanout: NULL nothing to do, 0 the incident fan-out has yet to act on it, 1 done.
ALTER TABLE audit_log ADD COLUMN incident_id {{int}};
ALTER TABLE audit_log ADD COLUMN fanout {{int}};
UPDATE audit_log SET incident_id = CAST(resource_id AS {{int}}) WHERE resource_type = 'incident';
UPDATE audit_log SET incident_id = (SELECT incident_id FROM alerts
  WHERE alerts.id = CAST(audit_log.resource_id AS {{int}})) WHERE resource_type = 'alert';
CREATE INDEX audit_incident ON audit_log(incident_id, id) WHERE incident_id IS NOT NULL;
CREATE INDEX audit_fanout ON audit_log(id) WHERE fanout = 0;

-- The outbox carries more than pages: role pages, reminders, status updates, incident webhooks.
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'page';
ALTER TABLE notifications ADD COLUMN ref TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN payload_json TEXT NOT NULL DEFAULT '{}';
DROP INDEX notifications_once;
CREATE UNIQUE INDEX notifications_once ON notifications(incident_id, kind, ref, round, loop, step,
  user_id, contact_method_id, rule);
-- Ordered destinations (incident webhooks, status updates): the oldest unfinished message.
CREATE INDEX notifications_unfinished ON notifications(user_id, contact_method_id, id)
  WHERE state IN ('pending', 'sending');
-- Claims whose lease may have run out.
CREATE INDEX notifications_sending ON notifications(attempted_at) WHERE state = 'sending';

CREATE TABLE status_updates (
  id {{id}},
  incident_id {{int}} NOT NULL REFERENCES incidents(id),
  at {{int}} NOT NULL,
  author TEXT NOT NULL,
  via TEXT NOT NULL,
  phase TEXT NOT NULL,
  fields_json TEXT NOT NULL DEFAULT '{}',
  renderings_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX status_updates_incident ON status_updates(incident_id, id);
CREATE INDEX status_updates_at ON status_updates(at);

-- Secrets every server of one database shares (e.g. the key that signs links in notifications).
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at {{int}} NOT NULL
);

CREATE TABLE timeline_pins (
  incident_id {{int}} NOT NULL REFERENCES incidents(id),
  entry_id {{int}} NOT NULL REFERENCES audit_log(id),
  pinned_by TEXT NOT NULL,
  pinned_at {{int}} NOT NULL,
  PRIMARY KEY (incident_id, entry_id)
);
)sql"},
    {5, "incident episodes: signed links name the episode they were sent for", R"sql(
-- 0 until an incident is first reopened, then one more per reopen (resolved -> triggered).
ALTER TABLE incidents ADD COLUMN episode {{int}} NOT NULL DEFAULT 0;
)sql"},
    {6, "sign-in: users' password hashes and sessions", R"sql(
-- An Argon2id hash (libsodium crypto_pwhash_str) per user that may sign in.
CREATE TABLE user_passwords (
  user_id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  updated_at {{int}} NOT NULL
);

-- Signed-in sessions. `hash` is SHA-256 of the secret session id (the cookie); the id itself is
-- never stored.
CREATE TABLE sessions (
  id {{id}},
  hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  client TEXT NOT NULL DEFAULT '',
  created_at {{int}} NOT NULL,
  last_seen_at {{int}} NOT NULL,
  idle_expires_at {{int}} NOT NULL,
  expires_at {{int}} NOT NULL,
  revoked_at {{int}}
);
CREATE INDEX sessions_user ON sessions(user_id);
)sql"},
    {7, "live feed: what changed, in commit order", R"sql(
-- One row per change a screen shows (store/feed.h), written in the transaction of the change.
-- seq grows in commit order and is never reused (SQLite: AUTOINCREMENT, even after the newest row
-- is deleted; PostgreSQL: the writers hold an advisory lock from their first feed row to
-- COMMIT); old rows are pruned.
CREATE TABLE live_feed (
  seq {{INTEGER PRIMARY KEY AUTOINCREMENT|BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY}},
  type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  at {{int}} NOT NULL
);
CREATE INDEX live_feed_at ON live_feed(at);
)sql"},
    {8, "learning: postmortems and action items", R"sql(
-- At most one postmortem per incident. The human part (sections, factors, owner) is written by
-- people and never overwritten; the computed part is built from stored data on every read until
-- it is published, then frozen in computed_json. status: draft | in_review | published.
CREATE TABLE postmortems (
  incident_id {{int}} PRIMARY KEY REFERENCES incidents(id),
  status TEXT NOT NULL,
  required {{int}} NOT NULL DEFAULT 0,
  owner TEXT NOT NULL DEFAULT '',
  sections_json TEXT NOT NULL DEFAULT '[]',
  factors_json TEXT NOT NULL DEFAULT '[]',
  computed_json TEXT NOT NULL DEFAULT '',
  created_at {{int}} NOT NULL,
  created_by TEXT NOT NULL DEFAULT '',
  updated_at {{int}} NOT NULL,
  due_at {{int}},
  published_at {{int}},
  published_by TEXT NOT NULL DEFAULT '',
  version {{int}} NOT NULL DEFAULT 0,
  reminders {{int}} NOT NULL DEFAULT 0,
  next_reminder_at {{int}}
);
CREATE INDEX postmortems_status ON postmortems(status, incident_id);
CREATE INDEX postmortems_reminder ON postmortems(next_reminder_at)
  WHERE next_reminder_at IS NOT NULL;
-- Contributing factors, one row per (postmortem, tag), counted across incidents (factors_json
-- holds the same tags for reading a postmortem).
CREATE TABLE postmortem_factors (
  incident_id {{int}} NOT NULL REFERENCES postmortems(incident_id),
  factor TEXT NOT NULL,
  PRIMARY KEY (incident_id, factor)
);
CREATE INDEX postmortem_factors_factor ON postmortem_factors(factor, incident_id);
-- Resolved, declared incidents by when they were resolved: where postmortem drafts come from.
CREATE INDEX incidents_resolved ON incidents(resolved_at) WHERE sev <> '' AND resolved_at IS NOT NULL;

-- Follow-ups of incidents. `due` is a calendar date (YYYY-MM-DD) in the owner's time zone, and
-- overdue_at the instant that day ends there (set whenever owner or due change); status:
-- open | in_progress | done | wont_do. service_id is the incident's primary service.
CREATE TABLE action_items (
  id {{id}},
  incident_id {{int}} NOT NULL REFERENCES incidents(id),
  service_id TEXT NOT NULL,
  title TEXT NOT NULL,
  owner TEXT NOT NULL,
  due TEXT NOT NULL,
  overdue_at {{int}} NOT NULL,
  priority TEXT NOT NULL,
  status TEXT NOT NULL,
  ticket_url TEXT NOT NULL DEFAULT '',
  created_at {{int}} NOT NULL,
  created_by TEXT NOT NULL DEFAULT '',
  updated_at {{int}} NOT NULL,
  closed_at {{int}},
  closed_by TEXT NOT NULL DEFAULT '',
  reminders {{int}} NOT NULL DEFAULT 0,
  next_reminder_at {{int}}
);
CREATE INDEX action_items_incident ON action_items(incident_id, id);
CREATE INDEX action_items_owner ON action_items(owner, status, id);
CREATE INDEX action_items_open_due ON action_items(overdue_at, id)
  WHERE status IN ('open', 'in_progress');
CREATE INDEX action_items_reminder ON action_items(next_reminder_at)
  WHERE next_reminder_at IS NOT NULL;
)sql"},
    {9, "analytics: incidents by detection time, acknowledgements by time", R"sql(
-- Analytics ranges (store/sql/analytics.cc): incidents by when they were detected, merged ones
-- left out; acknowledgements by when (for incidents handled and time to acknowledge per person).
-- Alerts and notifications get no index: their ranges are bounded by id (ids grow with time),
-- so intake pays nothing for analytics.
CREATE INDEX incidents_detected ON incidents({{COALESCE(detected_at, created_at)|(COALESCE(detected_at, created_at))}})
  WHERE merged_into = 0;
CREATE INDEX audit_acks ON audit_log(at) WHERE action = 'incident.acknowledged';
)sql"},
    {10, "incidents keep their first acknowledgement", R"sql(
-- acknowledged_at is cleared when an incident is reopened or re-triggered (an ack timeout) and
-- set again by the next acknowledgement. The first one, kept here when it is cleared, is what
-- time to acknowledge measures: COALESCE(first_acknowledged_at, acknowledged_at).
ALTER TABLE incidents ADD COLUMN first_acknowledged_at {{int}};
)sql"},
    {11, "analytics: one row per page", R"sql(
-- One row per page: an (incident, round, loop, step, user), whatever the number of contact
-- methods and rules its notifications went out through, at the created_at of its first one.
-- Written with the page's notifications, in their transaction (InsertPage in
-- store/sql/internal.cc); on-call load and the responder record read it (store/sql/analytics.cc)
-- instead of grouping the notifications: per person in time order through pages_user_at, and a
-- person's first page for an incident through the primary key.
CREATE TABLE pages (
  incident_id {{int}} NOT NULL REFERENCES incidents(id),
  round {{int}} NOT NULL,
  loop {{int}} NOT NULL,
  step {{int}} NOT NULL,
  user_id TEXT NOT NULL,
  at {{int}} NOT NULL,
  PRIMARY KEY (incident_id, round, loop, step, user_id)
);
CREATE INDEX pages_user_at ON pages(user_id, at);
INSERT INTO pages(incident_id, round, loop, step, user_id, at)
  SELECT incident_id, round, loop, step, user_id, MIN(created_at) FROM notifications
  WHERE kind = 'page' GROUP BY incident_id, round, loop, step, user_id;
)sql"},
    {12, "analytics: incident statistics from the index alone", R"sql(
-- incidents_detected (version 9), now covering: the incident statistics (and the slowest
-- incidents but for their titles) read every column they need from the index, not from the
-- table. SQLite keeps the columns as trailing keys (merged_into too: SQLite reads even the partial
-- index's WHERE column from the index), PostgreSQL as INCLUDE columns (an index-only scan there
-- also needs the visibility map, which autovacuum keeps up to date). The columns change with an
-- incident's state, not with its alerts: alert_count is left out, so that an alert grouped into
-- an open incident does not rewrite this index's entry on SQLite.
DROP INDEX incidents_detected;
CREATE INDEX incidents_detected ON incidents({{COALESCE(detected_at, created_at), |(COALESCE(detected_at, created_at))) INCLUDE (}}service_id, sev, first_acknowledged_at, acknowledged_at, mitigated_at, resolved_at, detected_at, created_at, merged_into)
  WHERE merged_into = 0;
)sql"},
    {13, "analytics: alert noise roll-ups", R"sql(
-- Alert noise over a long range (store/sql/noise.cc) reads these instead of every alert. A
-- background pass (learning::NoiseRollUp) folds the alerts into them in id order, a few minutes
-- behind intake, so intake pays nothing; a query adds the alerts not folded yet from the alerts
-- table itself. Days are UTC days (created_at / 86400000).
CREATE TABLE noise_state (
  id {{int}} NOT NULL PRIMARY KEY,
  rolled_through {{int}} NOT NULL  -- every alert with an id up to this one is folded in
);
INSERT INTO noise_state(id, rolled_through) VALUES (1, 0);
-- Alerts created per day and integration key, and those of them resolved without ever being
-- acknowledged (once they are resolved: noise_pending holds the ones still open when folded).
CREATE TABLE noise_days (
  day {{int}} NOT NULL,
  integration_key TEXT NOT NULL,
  alerts {{int}} NOT NULL,
  never_acknowledged {{int}} NOT NULL,
  PRIMARY KEY (day, integration_key)
);
CREATE TABLE noise_source_days (
  day {{int}} NOT NULL,
  source TEXT NOT NULL,
  alerts {{int}} NOT NULL,
  PRIMARY KEY (day, source)
);
CREATE TABLE noise_pending (
  alert_id {{int}} NOT NULL PRIMARY KEY,
  day {{int}} NOT NULL
);
-- One row per alert created within a day of the resolution of the previous alert of its
-- (integration key, dedup key): what a flap is, for any window up to a day.
CREATE TABLE noise_flaps (
  alert_id {{int}} NOT NULL PRIMARY KEY,
  created_at {{int}} NOT NULL,
  integration_key TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  gap {{int}} NOT NULL  -- milliseconds from that resolution to this alert
);
CREATE INDEX noise_flaps_created ON noise_flaps(created_at);
-- The last folded alert of each key: where the next one looks for its previous resolution. A
-- key whose last alert resolved two days before the newest folded alert can flap no more (the
-- longest window is a day): the fold prunes it, through noise_keys_last, so a sender with a new
-- dedup key per event does not grow this table like the alerts.
CREATE TABLE noise_keys (
  integration_key TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  last_alert_id {{int}} NOT NULL,
  PRIMARY KEY (integration_key, dedup_key)
);
CREATE INDEX noise_keys_last ON noise_keys(last_alert_id);
)sql"},
    {14, "opsgenie: request status records", R"sql(
-- One row per request answered 202 on the Opsgenie-compatible API (intake/opsgenie_routes.cc),
-- written in the same transaction as what the request did: GET /v2/alerts/requests/{id} reads
-- it. Pruned by received_at once older than the retention (OpsgenieStore).
CREATE TABLE opsgenie_requests (
  request_id TEXT NOT NULL PRIMARY KEY,
  integration_key TEXT NOT NULL,
  action TEXT NOT NULL,
  received_at {{int}} NOT NULL,
  processed_at {{int}} NOT NULL,
  success {{int}} NOT NULL,
  status TEXT NOT NULL,
  alert_id {{int}} NOT NULL DEFAULT 0,
  alias TEXT NOT NULL DEFAULT ''
);
CREATE INDEX opsgenie_requests_received ON opsgenie_requests(received_at);
)sql"},
    {15, "alerts that resolve by time (Prometheus endsAt)", R"sql(
-- When an open alert resolves by itself unless a newer event renews it (intake/alert_expiry):
-- a Prometheus alert's endsAt, or its integration's resolve timeout. NULL: never by time. Every
-- trigger of the alert sets it; the index holds only the open alerts that have one.
ALTER TABLE alerts ADD COLUMN expires_at {{int}};
CREATE INDEX alerts_expiring ON alerts(expires_at) WHERE expires_at IS NOT NULL AND
  status <> 'resolved';
)sql"},
    {16, "signed links that acted (single use)", R"sql(
-- A signed acknowledge/resolve link acts once (store::IncidentStore::TransitionIncidentInEpisode):
-- the digest of each link that changed an incident (notify::ActionClaim::link_id, never the link).
CREATE TABLE used_action_links (
  link_id TEXT PRIMARY KEY,
  incident_id {{int}} NOT NULL,
  used_at {{int}} NOT NULL
);
)sql"},
    {17, "integration keys sealed in the event tables", R"sql(
-- The secrets key the integration keys of the event tables (alerts, incidents, changes,
-- heartbeats, opsgenie_requests, noise_days, noise_flaps, noise_keys) are sealed under
-- (store/sql/event_keys.h): '' while they are stored in clear. SecureSecretsAtRest seals them
-- once and sets it; `houston secrets rotate` re-seals them and moves it.
CREATE TABLE event_key_state (
  singleton {{int}} NOT NULL PRIMARY KEY CHECK (singleton = 1),
  sealed_with TEXT NOT NULL
);
INSERT INTO event_key_state(singleton, sealed_with) VALUES (1, '');
)sql"},
    {18, "pages: one index fewer, and the throttle read from its index", R"sql(
-- notifications_once leads with incident_id, so it serves every lookup by incident as well; the
-- separate index on incident_id only cost each new notification one more index entry.
DROP INDEX notifications_incident;
-- The throttle (a claim counts the batches sent to a contact method in the last minute) reads
-- batch_id from the index instead of from each row. A claim sets attempted_at and batch_id
-- together, so the wider entry costs a claim nothing more to move.
DROP INDEX notifications_recent;
CREATE INDEX notifications_recent ON notifications(user_id, contact_method_id, attempted_at{{, batch_id)|) INCLUDE (batch_id)}};
)sql"},
    {19, "live feed: no index on its time", R"sql(
-- Entries are written in commit order with the time of their change, so the oldest by time are
-- the oldest by seq: a prune finds where they end by walking the primary key from its start
-- (feed.cc). The index cost every change two more index entries, one written and one deleted.
DROP INDEX live_feed_at;
)sql"},
};

}  // namespace

std::string RenderSchemaSql(std::string_view source, Dialect dialect) {
  const bool pg = dialect == Dialect::kPostgres;
  std::string out;
  out.reserve(source.size() + source.size() / 4);
  size_t i = 0;
  while (i < source.size()) {
    size_t open = source.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(source.substr(i));
      break;
    }
    out.append(source.substr(i, open - i));
    size_t close = source.find("}}", open + 2);
    HOUSTON_CHECK(close != std::string_view::npos);  // a marker left open in kSchema
    std::string_view marker = source.substr(open + 2, close - open - 2);
    if (marker == "id") {
      out += pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY";
    } else if (marker == "int") {
      out += pg ? "BIGINT" : "INTEGER";
    } else {
      size_t bar = marker.find('|');
      HOUSTON_CHECK(bar != std::string_view::npos);  // an unknown marker in kSchema
      out += pg ? marker.substr(bar + 1) : marker.substr(0, bar);
    }
    i = close + 2;
  }
  return out;
}

const std::vector<Migration>& Migrations(Dialect dialect) {
  static const auto render = [](Dialect d) {
    std::vector<Migration> all;
    for (const Source& s : kSchema) {
      all.push_back(Migration{s.version, s.name, RenderSchemaSql(s.sql, d)});
    }
    return all;
  };
  static const std::vector<Migration> kSqlite = render(Dialect::kSqlite);
  static const std::vector<Migration> kPostgres = render(Dialect::kPostgres);
  return dialect == Dialect::kPostgres ? kPostgres : kSqlite;
}

}  // namespace houston::store::sql
