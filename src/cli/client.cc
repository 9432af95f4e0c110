// Subcommands that talk to a running server over its REST API: alert, incident.
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <tuple>

#include "cli/commands.h"
#include "cli/internal.h"
#include "cli/rest_client.h"
#include "cli/table.h"

namespace houston::cli {
namespace {

namespace json = boost::json;

struct ListFlags {
  std::string status, service, since, sev;
  bool open = false;
  int limit = 50;
};

int ListAlerts(const ClientFlags& f, const ListFlags& l) {
  std::string raw;
  auto v = Fetch(f, "GET",
                 "/api/v1/alerts" + Query({{"status", l.status},
                                           {"service", l.service},
                                           {"since", l.since},
                                           {"limit", std::to_string(l.limit)}}),
                 &raw);
  return Answer(f, v, raw, [](const json::value& answer) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : answer.at("alerts").as_array()) {
      rows.push_back({Str(a, "id"), Str(a, "status"), Str(a, "severity"), Str(a, "service"),
                      Str(a, "event_count"), Str(a, "created_at"), Str(a, "summary")});
    }
    PrintTable({"ID", "STATUS", "SEVERITY", "SERVICE", "EVENTS", "CREATED", "SUMMARY"}, rows);
  });
}

int AlertAction(const ClientFlags& f, const std::string& id, bool ack) {
  std::string raw;
  auto v = Fetch(f, "POST",
                 fmt::format("/api/v1/alerts/{}/{}", id, ack ? "acknowledge" : "resolve"), &raw);
  return Answer(f, v, raw, [](const json::value& answer) {
    const auto& a = answer.at("alert");
    std::printf("alert %s is %s (incident %s)\n", Str(a, "id").c_str(), Str(a, "status").c_str(),
                Str(a, "incident_id").c_str());
  });
}

int ListIncidents(const ClientFlags& f, const ListFlags& l) {
  std::string raw;
  auto v = Fetch(f, "GET",
                 "/api/v1/incidents" + Query({{"status", l.status},
                                              {"service", l.service},
                                              {"since", l.since},
                                              {"sev", l.sev},
                                              {"open", l.open ? "true" : ""},
                                              {"limit", std::to_string(l.limit)}}),
                 &raw);
  return Answer(f, v, raw, [](const json::value& answer) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& i : answer.at("incidents").as_array()) {
      rows.push_back({Str(i, "id"), Str(i, "sev"), Str(i, "status"), Str(i, "severity"),
                      Str(i, "service"), Str(i, "commander"), Str(i, "alert_count"),
                      Str(i, "created_at"), Str(i, "title")});
    }
    PrintTable(
        {"ID", "SEV", "STATUS", "SEVERITY", "SERVICE", "COMMANDER", "ALERTS", "CREATED", "TITLE"},
        rows);
  });
}

// Prints the incident in an answer.
int PrintIncident(const ClientFlags& f, const Result<json::value>& v, const std::string& raw) {
  return Answer(f, v, raw, [](const json::value& answer) {
    const auto& i = answer.at("incident");
    std::string sev = Str(i, "sev");
    std::printf("incident %s is %s: %s%s\n", Str(i, "id").c_str(), Str(i, "status").c_str(),
                Str(i, "title").c_str(), sev == "-" ? "" : (" [" + sev + "]").c_str());
  });
}

int IncidentAction(const ClientFlags& f, const std::string& id, const std::string& action) {
  std::string raw;
  auto v = Fetch(f, "POST", fmt::format("/api/v1/incidents/{}/{}", id, action), &raw);
  return PrintIncident(f, v, raw);
}

struct DeclareFlags {
  std::string title, sev, summary, public_title, commander, impact_started;
  std::vector<std::string> services, tags, responders;
  bool no_page = false;
};

int Declare(const ClientFlags& f, const DeclareFlags& d) {
  json::object body{{"title", d.title}, {"sev", d.sev}, {"services", json::value_from(d.services)}};
  if (!d.summary.empty()) body["summary"] = d.summary;
  if (!d.public_title.empty()) body["public_title"] = d.public_title;
  if (!d.commander.empty()) body["commander"] = d.commander;
  if (!d.impact_started.empty()) body["impact_started_at"] = d.impact_started;
  if (!d.tags.empty()) body["tags"] = json::value_from(d.tags);
  if (!d.responders.empty()) body["responders"] = json::value_from(d.responders);
  if (d.no_page) body["page"] = false;
  std::string raw;
  auto v = Fetch(f, "POST", "/api/v1/incidents", &raw, json::serialize(body));
  return PrintIncident(f, v, raw);
}

struct SetFlags {
  std::string sev, title, summary, public_title, impact_started, detected, mitigated, resolved;
  std::vector<std::string> services, add_tags, remove_tags;
};

int SetFields(const ClientFlags& f, const std::string& id, const SetFlags& s) {
  json::object body;
  auto put = [&body](const char* key, const std::string& v) {
    if (!v.empty()) body[key] = v;
  };
  put("sev", s.sev);
  put("title", s.title);
  put("summary", s.summary);
  put("public_title", s.public_title);
  put("impact_started_at", s.impact_started);
  put("detected_at", s.detected);
  put("mitigated_at", s.mitigated);
  put("resolved_at", s.resolved);
  if (!s.services.empty()) body["services"] = json::value_from(s.services);
  if (!s.add_tags.empty()) body["add_tags"] = json::value_from(s.add_tags);
  if (!s.remove_tags.empty()) body["remove_tags"] = json::value_from(s.remove_tags);
  std::string raw;
  auto v = Fetch(f, "PATCH", "/api/v1/incidents/" + id, &raw, json::serialize(body));
  return PrintIncident(f, v, raw);
}

int Assign(const ClientFlags& f, const std::string& id, const std::string& role,
           const std::string& user) {
  json::object body{{"role", role}};
  body["user"] = user.empty() ? json::value(nullptr) : json::value(user);
  std::string raw;
  auto v =
      Fetch(f, "POST", fmt::format("/api/v1/incidents/{}/roles", id), &raw, json::serialize(body));
  return Answer(f, v, raw, [&](const json::value&) {
    std::printf("incident %s: %s is %s\n", id.c_str(), role.c_str(),
                user.empty() ? "unassigned" : user.c_str());
  });
}

int Responders(const ClientFlags& f, const std::string& id, const std::vector<std::string>& add,
               const std::vector<std::string>& remove) {
  json::object body;
  if (!add.empty()) body["add_responders"] = json::value_from(add);
  if (!remove.empty()) body["remove_responders"] = json::value_from(remove);
  std::string raw;
  auto v = Fetch(f, "PATCH", "/api/v1/incidents/" + id, &raw, json::serialize(body));
  return Answer(f, v, raw, [&](const json::value& answer) {
    std::string names;
    for (const auto& r : answer.at("incident").at("responders").as_array()) {
      names += (names.empty() ? "" : ", ") + std::string(r.as_string());
    }
    std::printf("incident %s responders: %s\n", id.c_str(), names.empty() ? "none" : names.c_str());
  });
}

int Note(const ClientFlags& f, const std::string& id, const std::string& text, bool pin) {
  json::object body{{"text", text}};
  if (pin) body["pinned"] = true;
  std::string raw;
  auto v =
      Fetch(f, "POST", fmt::format("/api/v1/incidents/{}/notes", id), &raw, json::serialize(body));
  return Answer(f, v, raw, [&](const json::value& answer) {
    std::printf("note %s added to incident %s%s\n", Str(answer.at("entry"), "id").c_str(),
                id.c_str(), pin ? " (pinned)" : "");
  });
}

int Pin(const ClientFlags& f, const std::string& id, const std::string& entry, bool unpin) {
  std::string raw;
  auto v = Fetch(f, unpin ? "DELETE" : "POST",
                 fmt::format("/api/v1/incidents/{}/timeline/{}/pin", id, entry), &raw);
  return Answer(f, v, raw, [&](const json::value&) {
    std::printf("timeline entry %s %s\n", entry.c_str(), unpin ? "unpinned" : "pinned");
  });
}

int Timeline(const ClientFlags& f, const std::string& id, bool pinned) {
  std::string raw;
  auto v =
      Fetch(f, "GET",
            fmt::format("/api/v1/incidents/{}/timeline{}", id, pinned ? "?pinned=true" : ""), &raw);
  return Answer(f, v, raw, [](const json::value& answer) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : answer.at("timeline").as_array()) {
      std::string details = Str(e, "details");
      if (e.at("action").as_string() == "incident.note") details = Str(e.at("details"), "text");
      rows.push_back({Str(e, "id"), Str(e, "at"), e.at("pinned").as_bool() ? "*" : "",
                      Str(e, "action"), Str(e, "actor") + " (" + Str(e, "via") + ")", details});
    }
    PrintTable({"ENTRY", "AT", "PIN", "WHAT", "WHO", "DETAILS"}, rows);
  });
}

int Suspects(const ClientFlags& f, const std::string& id) {
  std::string raw;
  auto v = Fetch(f, "GET", fmt::format("/api/v1/incidents/{}/suspects", id), &raw);
  return Answer(f, v, raw, [&](const json::value& answer) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : answer.at("suspects").as_array()) {
      const auto& c = s.at("change");
      const auto* score = s.as_object().if_contains("score");
      std::string score_text =
          score && score->is_number() ? PlainNumber(score->to_number<double>(), 2) : "-";
      rows.push_back({Str(c, "id"), score_text, Str(c, "service"), Str(c, "timestamp"),
                      Str(c, "summary"), Str(s, "reason")});
    }
    if (rows.empty()) {
      std::printf(
          "no changes on incident %s's services or their dependencies in the %s h "
          "before impact started (%s)\n",
          id.c_str(), Str(answer, "lookback_hours").c_str(),
          Str(answer, "impact_started_at").c_str());
    } else {
      PrintTable({"CHANGE", "SCORE", "SERVICE", "AT", "SUMMARY", "WHY"}, rows);
    }
  });
}

struct UpdateFlags {
  std::string phase, message, impact, customer_effect, eta, support, public_message;
  std::vector<std::string> audiences;
  int next_update = 0;
  bool dry_run = false;
};

int Update(const ClientFlags& f, const std::string& id, const UpdateFlags& u) {
  json::object body;
  auto put = [&body](const char* key, const std::string& v) {
    if (!v.empty()) body[key] = v;
  };
  put("phase", u.phase);
  put("message", u.message);
  put("impact", u.impact);
  put("customer_effect", u.customer_effect);
  put("eta", u.eta);
  put("support_guidance", u.support);
  put("public_message", u.public_message);
  if (!u.audiences.empty()) body["audiences"] = json::value_from(u.audiences);
  if (u.next_update > 0) body["next_update_minutes"] = u.next_update;
  if (u.dry_run) body["dry_run"] = true;
  std::string raw;
  auto v = Fetch(f, "POST", fmt::format("/api/v1/incidents/{}/updates", id), &raw,
                 json::serialize(body));
  return Answer(f, v, raw, [&](const json::value& answer) {
    const auto& up = answer.at("update");
    std::printf("%s update %s on incident %s (%s), as each audience reads it:\n",
                u.dry_run ? "preview of" : "published", Str(up, "id").c_str(), id.c_str(),
                Str(up, "phase").c_str());
    for (const auto& r : up.at("renderings").as_array()) {
      std::printf("\n== %s: %s\n%s\n", Str(r, "audience").c_str(), Str(r, "subject").c_str(),
                  Str(r, "text").c_str());
    }
  });
}

int Show(const ClientFlags& f, const std::string& id) {
  std::string raw;
  auto v = Fetch(f, "GET", "/api/v1/incidents/" + id, &raw);
  return Answer(f, v, raw, [](const json::value& answer) {
    const auto& i = answer.at("incident");
    std::printf("#%s %s\n", Str(i, "id").c_str(), Str(i, "title").c_str());
    std::printf("  sev:        %s   status: %s   alerts: %s\n", Str(i, "sev").c_str(),
                Str(i, "status").c_str(), Str(i, "alert_count").c_str());
    std::printf("  services:   %s\n", Str(i, "services").c_str());
    std::printf("  roles:      %s\n", Str(i, "roles").c_str());
    std::printf("  responders: %s\n", Str(i, "responders").c_str());
    std::printf("  impact:     started %s, detected %s, mitigated %s, resolved %s\n",
                Str(i, "impact_started_at").c_str(), Str(i, "detected_at").c_str(),
                Str(i, "mitigated_at").c_str(), Str(i, "resolved_at").c_str());
    if (std::string summary = Str(i, "summary"); !summary.empty() && summary != "-") {
      std::printf("  summary:    %s\n", summary.c_str());
    }
    std::printf("  next status update due: %s\n", Str(i, "update_due_at").c_str());
    for (const auto& s : answer.at("suspects").as_array()) {
      std::printf("  suspect:    %s\n", std::string(s.as_string()).c_str());
    }
  });
}

int Merge(const ClientFlags& f, const std::string& id, int64_t into) {
  std::string raw;
  auto v = Fetch(f, "POST", fmt::format("/api/v1/incidents/{}/merge", id), &raw,
                 json::serialize(json::object{{"into", into}}));
  return PrintIncident(f, v, raw);
}

int Split(const ClientFlags& f, const std::string& id, const std::vector<int64_t>& alerts,
          const std::string& title, const std::string& sev) {
  json::object body{{"alerts", json::value_from(alerts)}};
  if (!title.empty()) body["title"] = title;
  if (!sev.empty()) body["sev"] = sev;
  std::string raw;
  auto v =
      Fetch(f, "POST", fmt::format("/api/v1/incidents/{}/split", id), &raw, json::serialize(body));
  return PrintIncident(f, v, raw);
}

int LinkChange(const ClientFlags& f, const std::string& id, int64_t change) {
  std::string raw;
  auto v = Fetch(f, "POST", fmt::format("/api/v1/incidents/{}/changes", id), &raw,
                 json::serialize(json::object{{"change_id", change}}));
  return Answer(f, v, raw, [&](const json::value& answer) {
    std::printf("change %lld linked to incident %s: %s\n", static_cast<long long>(change),
                id.c_str(), Str(answer.at("linked"), "summary").c_str());
  });
}

struct OnCallFlags {
  std::string schedule, at, until;
};

int OnCall(const ClientFlags& f, const OnCallFlags& o) {
  std::string raw;
  if (!o.until.empty()) {
    auto v = Fetch(f, "GET",
                   fmt::format("/api/v1/schedules/{}/shifts", o.schedule) +
                       Query({{"from", o.at}, {"to", o.until}}),
                   &raw);
    if (!v) {
      PrintError(v.error());
      return 1;
    }
    if (f.json) {
      std::printf("%s\n", raw.c_str());
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : v->at("shifts").as_array()) {
      rows.push_back({Str(s, "start"), Str(s, "end"), Str(s, "user")});
    }
    for (const auto& g : v->at("gaps").as_array()) {
      rows.push_back({Str(g, "start"), Str(g, "end"), "(nobody: GAP)"});
    }
    std::sort(rows.begin(), rows.end());
    PrintTable({"FROM", "UNTIL", "ON CALL"}, rows);
    if (!v->at("gaps").as_array().empty()) {
      std::fprintf(stderr, "warning: nobody is on call during %zu gap(s)\n",
                   v->at("gaps").as_array().size());
    }
    return 0;
  }
  auto v =
      Fetch(f, "GET",
            fmt::format("/api/v1/schedules/{}/oncall", o.schedule) + Query({{"at", o.at}}), &raw);
  if (!v) {
    PrintError(v.error());
    return 1;
  }
  if (f.json) {
    std::printf("%s\n", raw.c_str());
    return 0;
  }
  const auto& users = v->at("users").as_array();
  std::string names;
  for (const auto& u : users) names += (names.empty() ? "" : ", ") + std::string(u.as_string());
  std::printf("%s at %s: %s\n", o.schedule.c_str(), Str(*v, "at").c_str(),
              users.empty() ? "nobody is on call" : names.c_str());
  return 0;
}

void AddListFlags(CLI::App* cmd, ListFlags& l, bool incidents = false) {
  cmd->add_option("--status", l.status,
                  incidents ? "triggered, acknowledged, mitigated or resolved"
                            : "triggered, acknowledged or resolved");
  if (incidents) {
    cmd->add_option("--sev", l.sev, "only this severity (SEV2 or 2)");
    cmd->add_flag("--open", l.open, "only incidents that are not resolved");
  }
  cmd->add_option("--service", l.service, "only this service id");
  cmd->add_option("--since", l.since, "only those created at or after this RFC 3339 time");
  cmd->add_option("--limit", l.limit, "at most this many (1..1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
}

}  // namespace

// `houston incident ...`: run an incident from the command line.
void AddIncidentCommands(CLI::App& app, std::function<int()>* run) {
  auto* incident = app.add_subcommand(
      "incident",
      "Declare and run incidents: list, show, declare, ack, mitigate, resolve, reopen, set, "
      "assign, responders, note, pin, timeline, suspects, update, link-change, merge, split "
      "(via the API).");
  incident->require_subcommand(1);
  // Each subcommand gets its own flags; `id` is the incident id argument.
  auto sub = [&](const char* name, const char* help, bool with_id = true) {
    auto flags = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    auto* cmd = incident->add_subcommand(name, help);
    if (with_id) cmd->add_option("ID", *id, "incident id")->required();
    AddClientFlags(cmd, *flags);
    return std::tuple{cmd, flags, id};
  };
  {
    auto [cmd, cf, id] = sub("list", "List incidents, newest first.", false);
    auto lf = std::make_shared<ListFlags>();
    AddListFlags(cmd, *lf, true);
    cmd->callback([=] { *run = [=] { return ListIncidents(*cf, *lf); }; });
  }
  {
    auto [cmd, cf, id] = sub("show", "Show one incident: SEV, status, roles, impact window.");
    cmd->callback([=] { *run = [=] { return Show(*cf, *id); }; });
  }
  {
    auto [cmd, cf, id] = sub(
        "declare", "Declare an incident. Pages the service's escalation policy (unless --no-page).",
        false);
    auto d = std::make_shared<DeclareFlags>();
    cmd->add_option("--title", d->title, "what is wrong, in a few words")->required();
    cmd->add_option("--sev", d->sev, "severity: 1..5 or SEV1..SEV5 (or the org's own levels)")
        ->required();
    cmd->add_option("--service", d->services, "affected service id (repeat for several)")
        ->required();
    cmd->add_option("--summary", d->summary, "what is known so far (internal)");
    cmd->add_option("--public-title", d->public_title, "the title on the public status page");
    cmd->add_option("--commander", d->commander, "user id of the incident commander");
    cmd->add_option("--responder", d->responders, "user id to add as responder (repeatable)");
    cmd->add_option("--tag", d->tags, "tag (repeatable)");
    cmd->add_option("--impact-started", d->impact_started,
                    "RFC 3339 time customer impact started (default: now)");
    cmd->add_flag("--no-page", d->no_page, "do not page the service's escalation policy");
    cmd->callback([=] { *run = [=] { return Declare(*cf, *d); }; });
  }
  for (auto [name, help] : {std::pair{"ack", "Acknowledge an incident (stops paging)."},
                            std::pair{"mitigate", "Mark an incident mitigated (impact stopped)."},
                            std::pair{"resolve", "Resolve an incident."},
                            std::pair{"reopen", "Reopen a resolved incident (pages again)."}}) {
    auto [cmd, cf, id] = sub(name, help);
    std::string action = std::string(name) == "ack" ? "acknowledge" : name;
    cmd->callback([=] { *run = [=] { return IncidentAction(*cf, *id, action); }; });
  }
  {
    auto [cmd, cf, id] = sub("set", "Change an incident's fields and impact window.");
    auto s = std::make_shared<SetFlags>();
    cmd->add_option("--sev", s->sev, "severity (raise or lower)");
    cmd->add_option("--title", s->title, "title");
    cmd->add_option("--summary", s->summary, "what is known (internal)");
    cmd->add_option("--public-title", s->public_title, "title on the public status page");
    cmd->add_option("--service", s->services, "affected services (replaces the list)");
    cmd->add_option("--tag", s->add_tags, "add a tag (repeatable)");
    cmd->add_option("--untag", s->remove_tags, "remove a tag (repeatable)");
    cmd->add_option("--impact-started", s->impact_started, "RFC 3339: customer impact started");
    cmd->add_option("--detected", s->detected, "RFC 3339: the problem was detected");
    cmd->add_option("--mitigated", s->mitigated, "RFC 3339: impact was mitigated");
    cmd->add_option("--resolved", s->resolved, "RFC 3339: the incident was resolved");
    cmd->callback([=] { *run = [=] { return SetFields(*cf, *id, *s); }; });
  }
  {
    auto [cmd, cf, id] = sub("assign", "Assign a role (pages that person), or unassign it.");
    auto role = std::make_shared<std::string>();
    auto user = std::make_shared<std::string>();
    cmd->add_option("--role", *role, "commander, communications_lead, scribe or the org's own")
        ->required();
    cmd->add_option("--user", *user, "user id; leave out to unassign the role");
    cmd->callback([=] { *run = [=] { return Assign(*cf, *id, *role, *user); }; });
  }
  {
    auto [cmd, cf, id] = sub("responders", "Add (pages them) or remove responders.");
    auto add = std::make_shared<std::vector<std::string>>();
    auto remove = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--add", *add, "user id to add (repeatable)");
    cmd->add_option("--remove", *remove, "user id to remove (repeatable)");
    cmd->callback([=] { *run = [=] { return Responders(*cf, *id, *add, *remove); }; });
  }
  {
    auto [cmd, cf, id] = sub("note", "Add a note to the timeline (internal; never public).");
    auto text = std::make_shared<std::string>();
    auto pin = std::make_shared<bool>(false);
    cmd->add_option("TEXT", *text, "the note")->required();
    cmd->add_flag("--pin", *pin, "pin it as a key event");
    cmd->callback([=] { *run = [=] { return Note(*cf, *id, *text, *pin); }; });
  }
  {
    auto [cmd, cf, id] = sub("pin", "Pin a timeline entry as a key event (or --unpin).");
    auto entry = std::make_shared<std::string>();
    auto unpin = std::make_shared<bool>(false);
    cmd->add_option("ENTRY", *entry, "timeline entry id (see 'incident timeline')")->required();
    cmd->add_flag("--unpin", *unpin, "unpin it");
    cmd->callback([=] { *run = [=] { return Pin(*cf, *id, *entry, *unpin); }; });
  }
  {
    auto [cmd, cf, id] = sub("timeline", "Everything that happened, oldest first.");
    auto pinned = std::make_shared<bool>(false);
    cmd->add_flag("--pinned", *pinned, "only pinned key events");
    cmd->callback([=] { *run = [=] { return Timeline(*cf, *id, *pinned); }; });
  }
  {
    auto [cmd, cf, id] = sub("suspects", "Changes that may have caused it, most suspicious first.");
    cmd->callback([=] { *run = [=] { return Suspects(*cf, *id); }; });
  }
  {
    auto [cmd, cf, id] =
        sub("update", "Publish a status update, written once and rendered for every audience.");
    auto u = std::make_shared<UpdateFlags>();
    cmd->add_option("--phase", u->phase, "investigating, identified, monitoring or resolved");
    cmd->add_option("--message", u->message, "technical detail (engineering)");
    cmd->add_option("--impact", u->impact, "business impact (executives)");
    cmd->add_option("--customer-effect", u->customer_effect, "what customers notice");
    cmd->add_option("--eta", u->eta, "when it should be fixed, e.g. 'within 2 hours'");
    cmd->add_option("--support", u->support, "what support should tell customers");
    cmd->add_option("--public", u->public_message, "what the public status page says");
    cmd->add_option("--next-update", u->next_update, "minutes until the next update")
        ->check(CLI::Range(1, 1440));
    cmd->add_option("--audience", u->audiences, "only these audiences (repeatable)");
    cmd->add_flag("--dry-run", u->dry_run, "show what each audience would read; send nothing");
    cmd->callback([=] { *run = [=] { return Update(*cf, *id, *u); }; });
  }
  {
    auto [cmd, cf, id] = sub("link-change", "Link a change event as a cause of the incident.");
    auto change = std::make_shared<int64_t>(0);
    cmd->add_option("CHANGE", *change, "change id (see 'incident suspects')")->required();
    cmd->callback([=] { *run = [=] { return LinkChange(*cf, *id, *change); }; });
  }
  {
    auto [cmd, cf, id] = sub("merge", "Merge this incident into another (moves its alerts).");
    auto into = std::make_shared<int64_t>(0);
    cmd->add_option("--into", *into, "the incident to merge into")->required();
    cmd->callback([=] { *run = [=] { return Merge(*cf, *id, *into); }; });
  }
  {
    auto [cmd, cf, id] = sub("split", "Move some alerts of this incident into a new incident.");
    auto alerts = std::make_shared<std::vector<int64_t>>();
    auto title = std::make_shared<std::string>();
    auto sev = std::make_shared<std::string>();
    cmd->add_option("--alert", *alerts, "alert id to move (repeatable)")->required();
    cmd->add_option("--title", *title, "the new incident's title (default: the first alert's)");
    cmd->add_option("--sev", *sev, "the new incident's severity");
    cmd->callback([=] { *run = [=] { return Split(*cf, *id, *alerts, *title, *sev); }; });
  }
}

void AddClientCommands(CLI::App& app, std::function<int()>* run) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  {
    auto* alert =
        app.add_subcommand("alert", "List, acknowledge and resolve alerts (via the API).");
    alert->require_subcommand(1);
    auto cf = std::make_shared<ClientFlags>();
    auto lf = std::make_shared<ListFlags>();
    auto* list = alert->add_subcommand("list", "List alerts, newest first.");
    AddClientFlags(list, *cf);
    AddListFlags(list, *lf);
    list->callback([=] { *run = [=] { return ListAlerts(*cf, *lf); }; });
    for (bool ack : {true, false}) {
      auto flags = std::make_shared<ClientFlags>();
      auto id = std::make_shared<std::string>();
      auto* cmd = alert->add_subcommand(ack ? "ack" : "resolve",
                                        ack ? "Acknowledge an alert." : "Resolve an alert.");
      cmd->add_option("ID", *id, "alert id")->required();
      AddClientFlags(cmd, *flags);
      cmd->callback([=] { *run = [=] { return AlertAction(*flags, *id, ack); }; });
    }
  }
  AddIncidentCommands(app, run);
  {
    auto cf = std::make_shared<ClientFlags>();
    auto of = std::make_shared<OnCallFlags>();
    auto* cmd = app.add_subcommand(
        "oncall", "Who is on call for a schedule now (or --at), or the shifts until --until.");
    cmd->add_option("--schedule", of->schedule, "schedule id")->required();
    cmd->add_option("--at", of->at, "RFC 3339 instant (default: now); with --until, the start");
    cmd->add_option("--until", of->until, "RFC 3339 instant: list the shifts and gaps up to it");
    AddClientFlags(cmd, *cf);
    cmd->callback([=] { *run = [=] { return OnCall(*cf, *of); }; });
  }
}

}  // namespace houston::cli
