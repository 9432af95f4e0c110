#include "store/sqlite/migrations.h"

namespace houston::store::sqlite {

const std::vector<sql::Migration>& Migrations() {
  static const std::vector<sql::Migration> kMigrations = {
      {1, "initial schema", R"sql(
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  service_id TEXT NOT NULL,
  title TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL,
  integration_key TEXT NOT NULL,
  group_key TEXT NOT NULL DEFAULT '',
  alert_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  acknowledged_at INTEGER,
  resolved_at INTEGER
);
CREATE INDEX incidents_status ON incidents(status, id);
CREATE INDEX incidents_service ON incidents(service_id, id);
CREATE UNIQUE INDEX incidents_open_group ON incidents(integration_key, group_key)
  WHERE status <> 'resolved' AND group_key <> '';

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
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
  event_count INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  last_event_at INTEGER NOT NULL,
  event_timestamp INTEGER,
  acknowledged_at INTEGER,
  resolved_at INTEGER,
  incident_id INTEGER NOT NULL REFERENCES incidents(id)
);
-- At most one open alert per (integration, dedup key): the dedup invariant.
CREATE UNIQUE INDEX alerts_open_key ON alerts(integration_key, dedup_key)
  WHERE status <> 'resolved';
CREATE INDEX alerts_status ON alerts(status, id);
CREATE INDEX alerts_service ON alerts(service_id, id);
CREATE INDEX alerts_incident ON alerts(incident_id);

CREATE TABLE changes (
  id INTEGER PRIMARY KEY,
  integration_key TEXT NOT NULL,
  service_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  timestamp INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}',
  links_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX changes_service ON changes(service_id, timestamp);

CREATE TABLE org_objects (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE TABLE org_source (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  name TEXT NOT NULL,
  yaml TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);

CREATE TABLE heartbeats (
  integration_key TEXT PRIMARY KEY,
  service_id TEXT NOT NULL,
  interval_ms INTEGER NOT NULL,
  last_beat_at INTEGER NOT NULL,
  missed INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
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
  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
  policy_id TEXT NOT NULL,
  state TEXT NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  loop INTEGER NOT NULL DEFAULT 0,
  round INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX escalations_due ON escalations(due_at) WHERE due_at IS NOT NULL;

CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  round INTEGER NOT NULL DEFAULT 0,
  loop INTEGER NOT NULL,
  step INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  contact_method_id TEXT NOT NULL,
  channel_type TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  rule INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  batch_id INTEGER,
  created_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  attempted_at INTEGER,
  sent_at INTEGER,
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
  id INTEGER PRIMARY KEY,
  schedule_id TEXT NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_by TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
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
ALTER TABLE incidents ADD COLUMN impact_started_at INTEGER;
ALTER TABLE incidents ADD COLUMN detected_at INTEGER;
ALTER TABLE incidents ADD COLUMN mitigated_at INTEGER;
ALTER TABLE incidents ADD COLUMN declared_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN grouping_key TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN last_alert_at INTEGER;
ALTER TABLE incidents ADD COLUMN update_due_at INTEGER;
ALTER TABLE incidents ADD COLUMN last_update_at INTEGER;
ALTER TABLE incidents ADD COLUMN merged_into INTEGER NOT NULL DEFAULT 0;
UPDATE incidents SET services_json = json_array(service_id), impact_started_at = created_at,
  detected_at = created_at, last_alert_at = created_at;
-- Time-window grouping: the newest open incident of a service with a content key.
CREATE INDEX incidents_grouping ON incidents(service_id, grouping_key, last_alert_at)
  WHERE status <> 'resolved';
CREATE INDEX incidents_update_due ON incidents(update_due_at) WHERE update_due_at IS NOT NULL;
-- Declared (SEV) incidents: the status page reads only these.
CREATE INDEX incidents_declared ON incidents(id) WHERE sev <> '';

-- Every record about an incident (its own and its alerts') carries incident_id: the timeline.
-- fanout: NULL nothing to do, 0 the incident fan-out has yet to act on it, 1 done.
ALTER TABLE audit_log ADD COLUMN incident_id INTEGER;
ALTER TABLE audit_log ADD COLUMN fanout INTEGER;
UPDATE audit_log SET incident_id = CAST(resource_id AS INTEGER) WHERE resource_type = 'incident';
UPDATE audit_log SET incident_id = (SELECT incident_id FROM alerts
  WHERE alerts.id = CAST(audit_log.resource_id AS INTEGER)) WHERE resource_type = 'alert';
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
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  at INTEGER NOT NULL,
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
  created_at INTEGER NOT NULL
);

CREATE TABLE timeline_pins (
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  entry_id INTEGER NOT NULL REFERENCES audit_log(id),
  pinned_by TEXT NOT NULL,
  pinned_at INTEGER NOT NULL,
  PRIMARY KEY (incident_id, entry_id)
);
)sql"},
      {5, "incident episodes: signed links name the episode they were sent for", R"sql(
-- 0 until an incident is first reopened, then one more per reopen (resolved -> triggered).
ALTER TABLE incidents ADD COLUMN episode INTEGER NOT NULL DEFAULT 0;
)sql"},
      {7, "live feed: what changed, in commit order", R"sql(
-- One row per change a screen shows (store/feed.h), written in the transaction of the change.
-- seq grows in commit order (AUTOINCREMENT: never reused, even after the newest row is deleted); old rows are pruned.
CREATE TABLE live_feed (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX live_feed_at ON live_feed(at);
)sql"},
  };
  return kMigrations;
}

}  // namespace houston::store::sqlite
