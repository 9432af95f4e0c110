// The PagerDuty importer: reads a PagerDuty account's configuration through its REST API v2
// shapes, either from answers saved to files earlier or live from the API, and maps it to a
// houston org plus a report of everything that could not be carried over exactly
// (docs/migrate-from-pagerduty.md lists the mapping).
//
// Three pieces, each testable alone: a document source (a FetchJson, from a directory or from the
// API), LoadPagerDuty that reads every object it needs through that source, and MapPagerDuty that
// maps the objects to an ImportResult. Both modes feed the same loader and mapper, so one account
// imports the same way either way.
#pragma once

#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "migration/http_get.h"
#include "migration/migration.h"

namespace houston::migration {

// Documents are named by their REST path without the leading slash: "users", "teams",
// "schedules", "schedules/<ID>", "schedules/<ID>/overrides", "escalation_policies", "services".
// A list document's text is `{"<collection>": [...]}` holding every page.

// Reads documents saved from the API under `dir`: the answer of GET /<name> is the file
// `<dir>/<name>.json`. When a list answer says `"more": true`, its next page is
// `<name>.<n>.json` (n = 2, 3, ...), read until a page says more is false.
// Errors: NotFound naming the missing file; InvalidArgument naming the file and the JSON error.
FetchJson PagerDutyDirSource(const std::string& dir);

// Reads documents live: GET <api_url>/<name> with `Authorization: Token token=<api_key>` and
// `Accept: application/vnd.pagerduty+json;version=2`, lists paged with limit=100 and offset until
// `more` is false. Users are read with include[]=contact_methods and
// include[]=notification_rules, services with include[]=integrations, overrides from `now` to a
// year later. Errors: Unauthenticated for 401/403 (names the URL), NotFound for 404,
// Unavailable for other failures (names the URL and the status), InvalidArgument for an answer
// that is not JSON; those of HttpGet (PermissionDenied when the egress guard of `options`
// refused the address).
FetchJson PagerDutyApiSource(const std::string& api_url, const std::string& api_key, TimePoint now,
                             const HttpGetOptions& options = {});

// Every object an import reads, in PagerDuty's JSON shapes.
struct PagerDutyData {
  std::vector<boost::json::object> users;  // with contact_methods and notification_rules
  std::vector<boost::json::object> teams;
  std::vector<boost::json::object> schedules;  // full objects, with schedule_layers
  std::map<std::string, std::vector<boost::json::object>> overrides;  // by schedule id
  std::vector<boost::json::object> escalation_policies;
  std::vector<boost::json::object> services;  // with integrations
};

// Reads users, teams, schedules (and, for each, the full schedule when the list entry has no
// schedule_layers, and its overrides), escalation policies and services through `fetch`.
// Errors: those of `fetch`, and InvalidArgument naming the document when it is not the expected
// shape (e.g. no "users" list, or an object id with characters other than letters and digits).
Result<PagerDutyData> LoadPagerDuty(const FetchJson& fetch);

// Maps the objects to a houston org. `now` decides which layers and overrides have ended (they
// are left out and reported). The org is valid: config::ParseOrg(WriteOrgYaml(result.org))
// succeeds. Never fails: what cannot be mapped is reported.
ImportResult MapPagerDuty(const PagerDutyData& data, TimePoint now);

}  // namespace houston::migration
