// The Opsgenie importer: reads an Opsgenie account's configuration, from the files Opsgenie's own
// backup tool wrote (opsgenie-configuration-backup, `OpsGenieBackups/`) or live from Opsgenie's
// REST API v2, and maps it to a houston org plus a report of everything that could not be carried
// over exactly (docs/import-opsgenie.md lists the mapping).
//
// Two steps, each testable alone: a loader turns the source into OpsgenieData (the raw objects in
// Opsgenie's own JSON shapes, each with the file or URL it came from), and MapOpsgenie turns that
// into an ImportResult. Both directory and API mode feed the same MapOpsgenie, so one source
// imports the same way through either.
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "migration/http_get.h"
#include "migration/migration.h"

namespace houston::migration {

// One Opsgenie object and where it came from ("OpsGenieBackups/users/a@b.com-1.json" or
// "GET https://api.opsgenie.com/v2/escalations"), for messages.
struct OpsgenieObject {
  std::string origin;
  boost::json::object value;
};

struct OpsgenieUser {
  OpsgenieObject user;                                  // User, with `userContacts`
  std::vector<boost::json::object> notification_rules;  // full NotificationRule objects
};

struct OpsgenieTeam {
  OpsgenieObject team;                             // Team, with `members`
  std::vector<boost::json::object> routing_rules;  // TeamRoutingRule objects
};

struct OpsgenieSchedule {
  OpsgenieObject schedule;                // Schedule, with `rotations`
  std::vector<OpsgenieObject> overrides;  // ScheduleOverride objects
};

struct OpsgenieIntegration {
  OpsgenieObject integration;  // the full Integration (GET /v2/integrations/{id}: has `apiKey`)
  bool has_actions = false;    // integration actions (field mappings, filters) were exported
};

// Everything an import reads, in Opsgenie's JSON shapes.
struct OpsgenieData {
  std::vector<OpsgenieUser> users;
  std::vector<OpsgenieTeam> teams;
  std::vector<OpsgenieSchedule> schedules;
  std::vector<OpsgenieObject> escalations;
  std::vector<OpsgenieIntegration> integrations;
  std::vector<OpsgenieObject> heartbeats;
  // What the loader found but houston does not import (e.g. the backup's `policies/` folder).
  std::vector<ReportEntry> skipped;
};

// Reads a backup written by opsgenie-configuration-backup. `dir` is the `OpsGenieBackups` folder
// or the folder containing it. Layout (the tool writes one JSON file per object):
//   users/<username>-<id>.json        {"user": User, "notificationRuleList": [NotificationRule]}
//   teams/<name>-<id>.json            {"team": Team, "teamRoutingRules": [...], "teamRoles": [...]}
//   schedules/<name>-<id>.json        {"schedule": Schedule, "scheduleOverrideList": [...]}
//   escalations/<name>-<id>.json      Escalation
//   integrations/<id>.json            {"integration": Integration, "integrationActions": {...}}
// and, optionally (the tool's older layout, or files saved from the API in its shapes):
//   scheduleOverrides/<schedule name>/<any>.json   ScheduleOverride
//   heartbeats/<name>.json                         Heartbeat
//   notifications/<username>/<any>.json            NotificationRule (added to that user's)
// A bare object (User, Team, Schedule, Integration) is accepted in place of the wrapper. Other
// folders (forwardings, policies, maintenance, ...) are listed in `skipped`. Only users/ is
// required (git drops empty folders).
// Errors: NotFound naming the missing folder; InvalidArgument naming the file and what is wrong
// with it (unreadable, not JSON, not the expected shape).
Result<OpsgenieData> LoadOpsgenieBackup(const std::string& dir);

// GETs `url` and returns the body of a 2xx answer. Errors: Unauthenticated for 401/403 (a bad or
// under-privileged API key), Unavailable otherwise, each naming the URL and the status.
using OpsgenieGet = std::function<Result<std::string>(const std::string& url)>;

// An OpsgenieGet over HTTP(S) with `Authorization: GenieKey <api_key>` (migration/http_get.h:
// through the egress guard of `options`).
OpsgenieGet OpsgenieHttpGet(const std::string& api_key, const HttpGetOptions& options = {});

// Reads the same objects from the REST API at `base_url` (e.g. "https://api.opsgenie.com"):
// users (paged with limit/offset, following paging.next) with contacts and notification rules,
// teams with routing rules, schedules with rotations and overrides, escalations, integrations
// (each fetched in full for its apiKey) and heartbeats.
// Errors: those of `get`; InvalidArgument naming the URL when an answer is not the documented
// shape.
Result<OpsgenieData> LoadOpsgenieApi(const OpsgenieGet& get, const std::string& base_url);

// Maps the objects to a houston org (valid: config::ParseOrg(WriteOrgYaml(org)) succeeds) and the
// report. `new_key` makes integration keys where Opsgenie exposes none (heartbeats, API
// integrations saved without their key); null: random 32-character base62 keys.
// Errors: InvalidArgument listing, in details(), every object that references something absent
// from the source (a user, team or schedule with no file) or has an unreadable required field,
// each with its origin.
Result<ImportResult> MapOpsgenie(const OpsgenieData& data,
                                 const std::function<std::string()>& new_key = nullptr);

}  // namespace houston::migration
