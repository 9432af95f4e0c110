// Subcommands of the learning domain that talk to a running server: postmortem and action-item.
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/internal.h"
#include "cli/learning_edit.h"
#include "cli/rest_client.h"

namespace houston::cli {
namespace {

namespace json = boost::json;

int Fail(const Status& st) {
  PrintError(st);
  return 1;
}

// --- postmortem ------------------------------------------------------------------------------

int ShowPostmortem(const ClientFlags& f, const std::string& id) {
  if (f.json) {
    std::string raw;
    auto v = Fetch(f, "GET", "/api/v1/incidents/" + id + "/postmortem", &raw);
    return Answer(f, v, raw, [](const json::value&) {});
  }
  auto r = Call(f, "GET", "/api/v1/incidents/" + id + "/postmortem.md");
  if (!r) return Fail(r.error());
  if (r->code != 200) {
    // The JSON route says why, in the API's error shape.
    std::string raw;
    auto v = Fetch(f, "GET", "/api/v1/incidents/" + id + "/postmortem", &raw);
    if (!v) return Fail(v.error());
    return Fail(Internal(fmt::format("server answered HTTP {}", r->code)));
  }
  std::fputs(r->body.c_str(), stdout);
  return 0;
}

std::string PutBody(const PostmortemText& t, std::optional<int64_t> version) {
  json::object sections;
  for (const auto& [sid, text] : t.sections) sections[sid] = text;
  json::object o{{"sections", std::move(sections)}};
  if (t.factors) {
    json::array factors;
    for (const auto& x : *t.factors) factors.push_back(json::string(x));
    o["factors"] = std::move(factors);
  }
  if (t.owner) o["owner"] = t.owner->empty() ? json::value(nullptr) : json::value(*t.owner);
  if (t.status) o["status"] = *t.status;
  if (version) o["version"] = *version;
  return json::serialize(o);
}

int EditPostmortem(const ClientFlags& f, const std::string& id, const std::string& file) {
  std::string text;
  std::optional<int64_t> version;
  if (!file.empty()) {
    std::stringstream ss;
    if (file == "-") {
      ss << std::cin.rdbuf();
    } else {
      std::ifstream in(file);
      if (!in) return Fail(NotFound(fmt::format("cannot read '{}'", file)));
      ss << in.rdbuf();
    }
    text = ss.str();
  } else {
    // The postmortem as it is now (or its template), into $EDITOR.
    std::string raw;
    auto current = Fetch(f, "GET", "/api/v1/incidents/" + id + "/postmortem", &raw);
    PostmortemText now;
    if (current) {
      now = FromPostmortemJson(current->at("postmortem"));
      version = current->at("postmortem").at("version").as_int64();
    } else if (current.error().code() != StatusCode::kNotFound) {
      return Fail(current.error());
    }  // NotFound: the template; saving starts it (or says the incident does not exist)
    std::string path = (std::filesystem::temp_directory_path() /
                        fmt::format("houston-postmortem-{}-{}.md", id, ::getpid()))
                           .string();
    {
      std::ofstream out(path);
      out << FormatForEditing(now, id);
    }
    const char* editor = std::getenv("VISUAL");
    if (!editor || !*editor) editor = std::getenv("EDITOR");
    if (!editor || !*editor) editor = "vi";
    std::string cmd = fmt::format("{} '{}'", editor, path);
    int rc = std::system(cmd.c_str());
    std::stringstream ss;
    ss << std::ifstream(path).rdbuf();
    text = ss.str();
    if (rc != 0) {
      return Fail(FailedPrecondition(fmt::format(
          "the editor ({}) exited with status {}: nothing was saved; your text is in {}", editor,
          rc, path)));
    }
    std::filesystem::remove(path);
  }
  auto parsed = ParseEditedPostmortem(text);
  if (!parsed) return Fail(parsed.error());
  std::string raw;
  auto v =
      Fetch(f, "PUT", "/api/v1/incidents/" + id + "/postmortem", &raw, PutBody(*parsed, version));
  return Answer(f, v, raw, [](const json::value& a) {
    const auto& p = a.at("postmortem");
    std::printf("postmortem of incident %s saved (%s, version %s)\n", Str(p, "incident_id").c_str(),
                Str(p, "status").c_str(), Str(p, "version").c_str());
  });
}

int PostmortemAction(const ClientFlags& f, const std::string& id, const std::string& action) {
  std::string raw;
  auto v = Fetch(f, "POST", "/api/v1/incidents/" + id + "/postmortem/" + action, &raw);
  return Answer(f, v, raw, [](const json::value& a) {
    const auto& p = a.at("postmortem");
    std::printf("postmortem of incident %s is %s\n", Str(p, "incident_id").c_str(),
                Str(p, "status").c_str());
  });
}

struct PostmortemListFlags {
  std::string status, service, from, to;
  int limit = 50;
};

int ListPostmortems(const ClientFlags& f, const PostmortemListFlags& l) {
  std::string raw;
  auto v = Fetch(f, "GET",
                 "/api/v1/postmortems" + Query({{"status", l.status},
                                                {"service", l.service},
                                                {"from", l.from},
                                                {"to", l.to},
                                                {"limit", std::to_string(l.limit)}}),
                 &raw);
  return Answer(f, v, raw, [](const json::value& answer) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : answer.at("postmortems").as_array()) {
      std::string due = Str(p, "due_at");
      if (p.at("overdue").as_bool()) due += " (overdue)";
      rows.push_back({Str(p, "incident_id"), Str(p, "sev"), Str(p, "status"), Str(p, "owner"), due,
                      Str(p, "title")});
    }
    PrintTable({"INCIDENT", "SEV", "STATUS", "OWNER", "DUE", "TITLE"}, rows);
  });
}

// --- action items ----------------------------------------------------------------------------

void PrintItem(const json::value& a) {
  const auto& i = a.at("action_item");
  std::printf("action item %s (%s, %s): %s, owner %s, due %s%s\n", Str(i, "id").c_str(),
              Str(i, "priority").c_str(), Str(i, "status").c_str(), Str(i, "title").c_str(),
              Str(i, "owner").c_str(), Str(i, "due").c_str(),
              i.at("overdue").as_bool() ? " (overdue)" : "");
}

struct ItemFlags {
  int64_t incident = 0;
  std::string title, owner, due, priority, ticket, status;
};

int AddItem(const ClientFlags& f, const ItemFlags& i) {
  json::object o{{"incident", i.incident}, {"title", i.title}, {"owner", i.owner}, {"due", i.due}};
  if (!i.priority.empty()) o["priority"] = i.priority;
  if (!i.ticket.empty()) o["ticket_url"] = i.ticket;
  std::string raw;
  auto v = Fetch(f, "POST", "/api/v1/action-items", &raw, json::serialize(o));
  return Answer(f, v, raw, PrintItem);
}

int UpdateItem(const ClientFlags& f, const std::string& id, const ItemFlags& i) {
  json::object o;
  if (!i.status.empty()) o["status"] = i.status;
  if (!i.title.empty()) o["title"] = i.title;
  if (!i.owner.empty()) o["owner"] = i.owner;
  if (!i.due.empty()) o["due"] = i.due;
  if (!i.priority.empty()) o["priority"] = i.priority;
  if (!i.ticket.empty()) o["ticket_url"] = i.ticket;
  std::string raw;
  auto v = Fetch(f, "PATCH", "/api/v1/action-items/" + id, &raw, json::serialize(o));
  return Answer(f, v, raw, PrintItem);
}

struct ItemListFlags {
  std::string owner, status, incident, service;
  bool overdue = false;
  int limit = 50;
};

int ListItems(const ClientFlags& f, const ItemListFlags& l) {
  std::string raw;
  auto v = Fetch(f, "GET",
                 "/api/v1/action-items" + Query({{"owner", l.owner},
                                                 {"status", l.status},
                                                 {"incident", l.incident},
                                                 {"service", l.service},
                                                 {"overdue", l.overdue ? "true" : ""},
                                                 {"limit", std::to_string(l.limit)}}),
                 &raw);
  return Answer(f, v, raw, [](const json::value& answer) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& i : answer.at("action_items").as_array()) {
      std::string due = Str(i, "due");
      if (i.at("overdue").as_bool()) due += " (overdue)";
      rows.push_back({Str(i, "id"), Str(i, "incident_id"), Str(i, "priority"), Str(i, "status"),
                      Str(i, "owner"), due, Str(i, "title")});
    }
    PrintTable({"ID", "INCIDENT", "PRIO", "STATUS", "OWNER", "DUE", "TITLE"}, rows);
  });
}

}  // namespace

void AddLearningCommands(CLI::App& app, std::function<int()>* run) {
  // houston postmortem ...
  auto* pm = app.add_subcommand("postmortem",
                                "Read, write and publish an incident's blameless postmortem");
  pm->require_subcommand(1);
  {
    auto* c = pm->add_subcommand(
        "show", "Print the postmortem as Markdown (computed part and human sections)");
    auto f = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    c->add_option("ID", *id, "incident id")->required();
    AddClientFlags(c, *f);
    c->callback([=] { *run = [=] { return ShowPostmortem(*f, *id); }; });
  }
  {
    auto* c = pm->add_subcommand(
        "edit",
        "Edit the human part in $VISUAL/$EDITOR (or from --file): sections, factors, owner, "
        "status. Starts the postmortem from the org's template if the incident has none");
    auto f = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    c->add_option("ID", *id, "incident id")->required();
    c->add_option("--file", *file,
                  "read the edited text from this file ('-' for stdin) instead of an editor; the "
                  "format is what the editor shows");
    AddClientFlags(c, *f);
    c->callback([=] { *run = [=] { return EditPostmortem(*f, *id, *file); }; });
  }
  for (const char* action : {"publish", "reopen"}) {
    auto* c = pm->add_subcommand(
        action,
        std::string(action) == "publish"
            ? "Publish: freeze the computed part; the postmortem is read-only until reopened"
            : "Reopen a published postmortem for edits (recorded in the audit log)");
    auto f = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    c->add_option("ID", *id, "incident id")->required();
    AddClientFlags(c, *f);
    std::string a = action;
    c->callback([=] { *run = [=] { return PostmortemAction(*f, *id, a); }; });
  }
  {
    auto* c = pm->add_subcommand("list", "List postmortems (newest incident first)");
    auto f = std::make_shared<ClientFlags>();
    auto l = std::make_shared<PostmortemListFlags>();
    c->add_option("--status", l->status, "draft, in_review or published");
    c->add_option("--service", l->service, "one of the incident's services");
    c->add_option("--from", l->from, "resolved at or after (RFC 3339 or YYYY-MM-DD)");
    c->add_option("--to", l->to, "resolved before (RFC 3339 or YYYY-MM-DD)");
    c->add_option("--limit", l->limit, "at most this many")->capture_default_str();
    AddClientFlags(c, *f);
    c->callback([=] { *run = [=] { return ListPostmortems(*f, *l); }; });
  }

  // houston action-item ...
  auto* ai = app.add_subcommand("action-item", "Follow-ups of incidents: add, list, update, done");
  ai->require_subcommand(1);
  {
    auto* c = ai->add_subcommand("add", "Add an action item to an incident");
    auto f = std::make_shared<ClientFlags>();
    auto i = std::make_shared<ItemFlags>();
    c->add_option("--incident", i->incident, "the incident it follows up")->required();
    c->add_option("--title", i->title, "what will be done")->required();
    c->add_option("--owner", i->owner, "user id of its owner")->required();
    c->add_option("--due", i->due, "due date, YYYY-MM-DD in the owner's time zone")->required();
    c->add_option("--priority", i->priority, "P1, P2 (default) or P3");
    c->add_option("--ticket", i->ticket, "URL of the ticket tracking it");
    AddClientFlags(c, *f);
    c->callback([=] { *run = [=] { return AddItem(*f, *i); }; });
  }
  {
    auto* c = ai->add_subcommand("list", "List action items (newest first)");
    auto f = std::make_shared<ClientFlags>();
    auto l = std::make_shared<ItemListFlags>();
    c->add_option("--owner", l->owner, "owned by this user");
    c->add_option("--status", l->status, "open, in_progress, done or wont_do");
    c->add_flag("--overdue", l->overdue, "only open items past their due date");
    c->add_option("--incident", l->incident, "of this incident");
    c->add_option("--service", l->service, "of incidents of this service");
    c->add_option("--limit", l->limit, "at most this many")->capture_default_str();
    AddClientFlags(c, *f);
    c->callback([=] { *run = [=] { return ListItems(*f, *l); }; });
  }
  {
    auto* c = ai->add_subcommand("update", "Change an action item's status, owner, due date, ...");
    auto f = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    auto i = std::make_shared<ItemFlags>();
    c->add_option("ID", *id, "action item id")->required();
    c->add_option("--status", i->status, "open, in_progress, done or wont_do");
    c->add_option("--owner", i->owner, "user id of the new owner");
    c->add_option("--due", i->due, "new due date, YYYY-MM-DD");
    c->add_option("--title", i->title, "new title");
    c->add_option("--priority", i->priority, "P1, P2 or P3");
    c->add_option("--ticket", i->ticket, "URL of the ticket tracking it");
    AddClientFlags(c, *f);
    c->callback([=] { *run = [=] { return UpdateItem(*f, *id, *i); }; });
  }
  {
    auto* c = ai->add_subcommand("done", "Mark an action item done (its reminders stop)");
    auto f = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    c->add_option("ID", *id, "action item id")->required();
    AddClientFlags(c, *f);
    c->callback([=] {
      *run = [=] {
        ItemFlags i;
        i.status = "done";
        return UpdateItem(*f, *id, i);
      };
    });
  }
}

}  // namespace houston::cli
