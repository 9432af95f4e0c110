// The learning domain's SQL (store/learning_store.h): postmortems, action items and the
// reminders that chase them, one statement set for SQLite and PostgreSQL.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "core/json_util.h"
#include "core/time_util.h"
#include "store/sql/internal.h"
#include "store/sql/sql_store.h"

namespace houston::store::sql {

namespace json = boost::json;

namespace {

std::string SectionsJson(const std::vector<PostmortemSectionText>& sections) {
  json::array a;
  for (const auto& s : sections) {
    a.push_back(
        json::object{{"id", s.id}, {"title", s.title}, {"prompt", s.prompt}, {"text", s.text}});
  }
  return json::serialize(a);
}

std::vector<PostmortemSectionText> ParseSections(std::string_view text) {
  std::vector<PostmortemSectionText> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  auto str = [](const json::object& o, std::string_view k) {
    const json::value* f = o.if_contains(k);
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  for (const auto& e : v.as_array()) {
    if (!e.is_object()) continue;
    const auto& o = e.as_object();
    out.push_back({str(o, "id"), str(o, "title"), str(o, "prompt"), str(o, "text")});
  }
  return out;
}

constexpr std::string_view kPostmortemColumns =
    "p.incident_id, p.status, p.required, p.owner, p.sections_json, p.factors_json, "
    "p.computed_json, p.created_at, p.created_by, p.updated_at, p.due_at, p.published_at, "
    "p.published_by, p.version, p.reminders, p.next_reminder_at, i.service_id, i.sev, i.title, "
    "i.resolved_at";

Postmortem ReadPostmortem(const Stmt& s) {
  Postmortem p;
  p.incident_id = s.Int(0);
  p.status = ParsePostmortemStatus(s.Text(1)).value_or(PostmortemStatus::kDraft);
  p.required = s.Int(2) != 0;
  p.owner = s.Text(3);
  p.sections = ParseSections(s.Text(4));
  p.factors = ParseStringList(s.Text(5));
  p.computed_json = s.Text(6);
  p.created_at = FromMs(s.Int(7));
  p.created_by = s.Text(8);
  p.updated_at = FromMs(s.Int(9));
  p.due_at = OptTime(s, 10);
  p.published_at = OptTime(s, 11);
  p.published_by = s.Text(12);
  p.version = s.Int(13);
  p.reminders = static_cast<int>(s.Int(14));
  p.next_reminder_at = OptTime(s, 15);
  p.service_id = s.Text(16);
  p.sev = s.Text(17);
  p.title = s.Text(18);
  p.resolved_at = OptTime(s, 19);
  return p;
}

const std::string kPostmortemById = fmt::format(
    "SELECT {} FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE p.incident_id = ?",
    kPostmortemColumns);

Result<Postmortem> LoadPostmortem(Db& db, core::IncidentId id) {
  auto p = LoadById(db, kPostmortemById, id, "incident", ReadPostmortem);
  if (!p && p.error().code() == StatusCode::kNotFound) {
    return std::unexpected(NotFound(fmt::format("incident {} has no postmortem", id)));
  }
  return p;
}

constexpr std::string_view kActionItemColumns =
    "id, incident_id, service_id, title, owner, due, overdue_at, priority, status, ticket_url, "
    "created_at, created_by, updated_at, closed_at, closed_by, reminders, next_reminder_at";

ActionItem ReadActionItem(const Stmt& s) {
  ActionItem a;
  a.id = s.Int(0);
  a.incident_id = s.Int(1);
  a.service_id = s.Text(2);
  a.title = s.Text(3);
  a.owner = s.Text(4);
  a.due = s.Text(5);
  a.overdue_at = FromMs(s.Int(6));
  a.priority = s.Text(7);
  a.status = ParseActionItemStatus(s.Text(8)).value_or(ActionItemStatus::kOpen);
  a.ticket_url = s.Text(9);
  a.created_at = FromMs(s.Int(10));
  a.created_by = s.Text(11);
  a.updated_at = FromMs(s.Int(12));
  a.closed_at = OptTime(s, 13);
  a.closed_by = s.Text(14);
  a.reminders = static_cast<int>(s.Int(15));
  a.next_reminder_at = OptTime(s, 16);
  return a;
}

const std::string kActionItemById =
    fmt::format("SELECT {} FROM action_items WHERE id = ?", kActionItemColumns);

Result<ActionItem> LoadActionItem(Db& db, int64_t id) {
  return LoadById(db, kActionItemById, id, "action item", ReadActionItem);
}

std::string Who(const Actor& actor) { return actor.id.empty() ? actor.type : actor.id; }

// Writes the tags of postmortem `id` (both the rows that are counted and factors_json).
Status WriteFactors(Db& db, core::IncidentId id, const std::vector<std::string>& factors) {
  HOUSTON_ASSIGN_OR_RETURN(Stmt * del,
                           db.Prepare("DELETE FROM postmortem_factors WHERE incident_id = ?"));
  HOUSTON_RETURN_IF_ERROR(del->Bind(1, id).Run());
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * ins, db.Prepare("INSERT INTO postmortem_factors(incident_id, factor) VALUES (?, ?)"));
  for (const auto& f : factors) {
    ins->Reset();
    HOUSTON_RETURN_IF_ERROR(ins->Bind(1, id).Bind(2, f).Run());
  }
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * upd, db.Prepare("UPDATE postmortems SET factors_json = ? WHERE incident_id = ?"));
  return upd->Bind(1, StringListJson(factors)).Bind(2, id).Run();
}

// Inserts a postmortem unless the incident has one; true if it did.
Result<bool> InsertPostmortem(Db& db, const NewPostmortem& p, TimePoint now, const Actor& actor) {
  HOUSTON_ASSIGN_OR_RETURN(
      Stmt * s,
      db.Prepare("INSERT INTO postmortems(incident_id, status, required, owner, sections_json, "
                 "created_at, created_by, updated_at, due_at, next_reminder_at) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"));
  HOUSTON_RETURN_IF_ERROR(s->Bind(1, p.incident_id)
                              .Bind(2, ToString(PostmortemStatus::kDraft))
                              .Bind(3, p.required ? 1 : 0)
                              .Bind(4, p.owner)
                              .Bind(5, SectionsJson(p.sections))
                              .Bind(6, Ms(now))
                              .Bind(7, Who(actor))
                              .Bind(8, Ms(now))
                              .Bind(9, OptMs(p.due_at))
                              .Bind(10, OptMs(p.next_reminder_at))
                              .Run());
  if (db.Changes() == 0) return false;
  HOUSTON_RETURN_IF_ERROR(
      Audit(db, now, actor, ToString(AuditAction::kPostmortemCreated), "postmortem",
            std::to_string(p.incident_id),
            fmt::format(R"({{"required":{},"owner":{},"due_at":{}}})",
                        p.required ? "true" : "false", JsonQuote(p.owner),
                        p.due_at ? JsonQuote(FormatRfc3339(*p.due_at)) : std::string("null"))));
  return true;
}

Status CheckVersion(const Postmortem& p, std::optional<int64_t> expected) {
  if (expected && *expected != p.version) {
    return FailedPrecondition(fmt::format(
        "the postmortem of incident {} {} (it is at version {}, the edit was made on version {}): "
        "read it again and reapply the edit",
        p.incident_id, kIncidentChanged, p.version, *expected));
  }
  return OkStatus();
}

std::string EscapeLike(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Postmortems.

void SqlStore::CreatePostmortem(NewPostmortem p, Actor actor, Callback<Postmortem> done) {
  Submit<Postmortem>(
      [this, p = std::move(p), actor = std::move(actor)](Db& db) -> Result<Postmortem> {
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, p.incident_id));
        HOUSTON_ASSIGN_OR_RETURN(bool inserted,
                                 InsertPostmortem(db, p, options_.clock->Now(), actor));
        if (!inserted) {
          return std::unexpected(
              AlreadyExists(fmt::format("incident {} already has a postmortem", p.incident_id)));
        }
        return LoadPostmortem(db, p.incident_id);
      },
      std::move(done));
}

void SqlStore::EditPostmortem(core::IncidentId id, PostmortemEdit edit, Actor actor,
                              Callback<Postmortem> done) {
  Submit<Postmortem>(
      [this, id, edit = std::move(edit), actor = std::move(actor)](Db& db) -> Result<Postmortem> {
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, id));
        HOUSTON_ASSIGN_OR_RETURN(Postmortem p, LoadPostmortem(db, id));
        if (p.status == PostmortemStatus::kPublished) {
          return std::unexpected(FailedPrecondition(fmt::format(
              "the postmortem of incident {} is published and read-only: reopen it to edit it",
              id)));
        }
        HOUSTON_RETURN_IF_ERROR(CheckVersion(p, edit.expected_version));
        json::array changed;
        for (const auto& [sid, text] : edit.sections) {
          auto it = std::find_if(p.sections.begin(), p.sections.end(),
                                 [&](const auto& s) { return s.id == sid; });
          if (it == p.sections.end()) {
            std::vector<std::string> ids;
            for (const auto& s : p.sections) ids.push_back(s.id);
            return std::unexpected(InvalidArgument(
                fmt::format("sections.{}: the postmortem has no such section (sections: {})", sid,
                            fmt::join(ids, ", "))));
          }
          if (it->text != text) {
            it->text = text;
            changed.push_back(json::string("sections." + sid));
          }
        }
        if (edit.owner && *edit.owner != p.owner) {
          p.owner = *edit.owner;
          changed.push_back("owner");
        }
        if (edit.status && *edit.status != p.status) {
          if (*edit.status == PostmortemStatus::kPublished) {
            return std::unexpected(
                InvalidArgument("status: publish with POST .../postmortem/publish"));
          }
          p.status = *edit.status;
          changed.push_back("status");
        }
        bool factors_changed = false;
        if (edit.factors) {
          std::vector<std::string> f = *edit.factors;
          std::sort(f.begin(), f.end());
          f.erase(std::unique(f.begin(), f.end()), f.end());
          if (f != p.factors) {
            p.factors = std::move(f);
            factors_changed = true;
            changed.push_back("factors");
          }
        }
        if (changed.empty()) return p;  // nothing to write: the same version
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s, db.Prepare("UPDATE postmortems SET status = ?, owner = ?, sections_json = ?, "
                                 "updated_at = ?, version = version + 1 WHERE incident_id = ?"));
        HOUSTON_RETURN_IF_ERROR(s->Bind(1, ToString(p.status))
                                    .Bind(2, p.owner)
                                    .Bind(3, SectionsJson(p.sections))
                                    .Bind(4, Ms(now))
                                    .Bind(5, id)
                                    .Run());
        if (factors_changed) HOUSTON_RETURN_IF_ERROR(WriteFactors(db, id, p.factors));
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, ToString(AuditAction::kPostmortemEdited),
                                      "postmortem", std::to_string(id),
                                      json::serialize(json::object{{"changed", changed},
                                                                   {"status", ToString(p.status)},
                                                                   {"version", p.version + 1}})));
        return LoadPostmortem(db, id);
      },
      std::move(done));
}

void SqlStore::PublishPostmortem(core::IncidentId id, std::string computed_json,
                                 std::optional<int64_t> expected_version, Actor actor,
                                 Callback<Postmortem> done) {
  Submit<Postmortem>(
      [this, id, computed_json = std::move(computed_json), expected_version,
       actor = std::move(actor)](Db& db) -> Result<Postmortem> {
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, id));
        HOUSTON_ASSIGN_OR_RETURN(Postmortem p, LoadPostmortem(db, id));
        if (p.status == PostmortemStatus::kPublished) {
          return std::unexpected(FailedPrecondition(
              fmt::format("the postmortem of incident {} is already published", id)));
        }
        HOUSTON_RETURN_IF_ERROR(CheckVersion(p, expected_version));
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s,
            db.Prepare("UPDATE postmortems SET status = ?, computed_json = ?, published_at = ?, "
                       "published_by = ?, updated_at = ?, next_reminder_at = NULL, "
                       "version = version + 1 WHERE incident_id = ?"));
        HOUSTON_RETURN_IF_ERROR(s->Bind(1, ToString(PostmortemStatus::kPublished))
                                    .Bind(2, computed_json)
                                    .Bind(3, Ms(now))
                                    .Bind(4, Who(actor))
                                    .Bind(5, Ms(now))
                                    .Bind(6, id)
                                    .Run());
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, ToString(AuditAction::kPostmortemPublished),
                                      "postmortem", std::to_string(id),
                                      fmt::format(R"({{"version":{}}})", p.version + 1)));
        return LoadPostmortem(db, id);
      },
      std::move(done));
}

void SqlStore::ReopenPostmortem(core::IncidentId id, Actor actor, Callback<Postmortem> done) {
  Submit<Postmortem>(
      [this, id, actor = std::move(actor)](Db& db) -> Result<Postmortem> {
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, id));
        HOUSTON_ASSIGN_OR_RETURN(Postmortem p, LoadPostmortem(db, id));
        if (p.status != PostmortemStatus::kPublished) {
          return std::unexpected(FailedPrecondition(fmt::format(
              "the postmortem of incident {} is not published (it is {}): edit it as it is", id,
              ToString(p.status))));
        }
        TimePoint now = options_.clock->Now();
        // A required postmortem past its due date is chased again until it is republished.
        std::optional<TimePoint> next;
        if (p.required && p.due_at) next = std::max(*p.due_at, now);
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s,
            db.Prepare(
                "UPDATE postmortems SET status = ?, computed_json = '', published_at = NULL, "
                "published_by = '', updated_at = ?, next_reminder_at = ?, "
                "version = version + 1 WHERE incident_id = ?"));
        HOUSTON_RETURN_IF_ERROR(s->Bind(1, ToString(PostmortemStatus::kDraft))
                                    .Bind(2, Ms(now))
                                    .Bind(3, OptMs(next))
                                    .Bind(4, id)
                                    .Run());
        HOUSTON_RETURN_IF_ERROR(Audit(
            db, now, actor, ToString(AuditAction::kPostmortemReopened), "postmortem",
            std::to_string(id),
            fmt::format(R"({{"version":{},"published_at":{},"published_by":{}}})", p.version + 1,
                        p.published_at ? JsonQuote(FormatRfc3339(*p.published_at)) : "null",
                        JsonQuote(p.published_by))));
        return LoadPostmortem(db, id);
      },
      std::move(done));
}

Result<Postmortem> SqlStore::GetPostmortem(core::IncidentId id) {
  return WithReader([&](Db& db) -> Result<Postmortem> {
    HOUSTON_RETURN_IF_ERROR(LoadIncident(db, id));
    return LoadPostmortem(db, id);
  });
}

Result<std::vector<Postmortem>> SqlStore::ListPostmortems(const PostmortemFilter& f) {
  Where w;
  if (f.status) w.Add("p.status = ?", std::string(ToString(*f.status)));
  if (f.service) {
    w.Add("(i.service_id = ? OR i.services_json LIKE ? ESCAPE '\\')", *f.service);
    std::string pattern = "%\"" + EscapeLike(*f.service) + "\"%";
    w.binds.emplace_back(std::in_place_type<std::string>, std::move(pattern));
  }
  if (f.from) w.Add("i.resolved_at >= ?", Ms(*f.from));
  if (f.to) w.Add("i.resolved_at < ?", Ms(*f.to));
  if (f.before_id > 0) w.Add("p.incident_id < ?", f.before_id);
  std::string sql = fmt::format(
      "SELECT {} FROM postmortems p JOIN incidents i ON i.id = p.incident_id{} "
      "ORDER BY p.incident_id DESC LIMIT {}",
      kPostmortemColumns, w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<Postmortem>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<Postmortem>(*s, ReadPostmortem);
  });
}

// ---------------------------------------------------------------------------------------------
// Action items.

void SqlStore::CreateActionItem(ActionItem item, Actor actor, Callback<ActionItem> done) {
  Submit<ActionItem>(
      [this, item = std::move(item), actor = std::move(actor)](Db& db) -> Result<ActionItem> {
        HOUSTON_ASSIGN_OR_RETURN(core::Incident inc, LockIncident(db, item.incident_id));
        TimePoint now = options_.clock->Now();
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s,
            db.Prepare("INSERT INTO action_items(incident_id, service_id, title, owner, due, "
                       "overdue_at, priority, status, ticket_url, created_at, created_by, "
                       "updated_at, next_reminder_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                       "RETURNING id"));
        s->Bind(1, item.incident_id)
            .Bind(2, inc.service_id)
            .Bind(3, item.title)
            .Bind(4, item.owner)
            .Bind(5, item.due)
            .Bind(6, Ms(item.overdue_at))
            .Bind(7, item.priority)
            .Bind(8, ToString(item.status))
            .Bind(9, item.ticket_url)
            .Bind(10, Ms(now))
            .Bind(11, Who(actor))
            .Bind(12, Ms(now))
            .Bind(13, OptMs(item.next_reminder_at));
        HOUSTON_ASSIGN_OR_RETURN(int64_t id, InsertedId(*s));
        HOUSTON_RETURN_IF_ERROR(Audit(db, now, actor, ToString(AuditAction::kActionItemCreated),
                                      "action_item", std::to_string(id),
                                      json::serialize(json::object{{"action_item_id", id},
                                                                   {"title", item.title},
                                                                   {"owner", item.owner},
                                                                   {"due", item.due},
                                                                   {"priority", item.priority}}),
                                      item.incident_id));
        return LoadActionItem(db, id);
      },
      std::move(done));
}

void SqlStore::UpdateActionItem(int64_t id, ActionItemPatch patch, Actor actor,
                                Callback<ActionItem> done) {
  Submit<ActionItem>(
      [this, id, patch = std::move(patch), actor = std::move(actor)](Db& db) -> Result<ActionItem> {
        HOUSTON_ASSIGN_OR_RETURN(ActionItem before, LoadActionItem(db, id));
        HOUSTON_RETURN_IF_ERROR(LockIncident(db, before.incident_id));
        // Read again under the incident's lock: the row as it is now.
        HOUSTON_ASSIGN_OR_RETURN(ActionItem a, LoadActionItem(db, id));
        TimePoint now = options_.clock->Now();
        json::object changes;
        auto change = [&](std::string_view field, const std::string& old_value,
                          const std::string& new_value) {
          if (old_value != new_value)
            changes[field] = json::array{json::string(old_value), json::string(new_value)};
        };
        if (patch.status) {
          change("status", std::string(ToString(a.status)), std::string(ToString(*patch.status)));
          bool was_closed = IsClosed(a.status);
          a.status = *patch.status;
          if (IsClosed(a.status) && !was_closed) {
            a.closed_at = now;
            a.closed_by = Who(actor);
          } else if (!IsClosed(a.status)) {
            a.closed_at.reset();
            a.closed_by.clear();
          }
        }
        if (patch.owner) change("owner", a.owner, *patch.owner), a.owner = *patch.owner;
        if (patch.due) change("due", a.due, *patch.due), a.due = *patch.due;
        if (patch.title) change("title", a.title, *patch.title), a.title = *patch.title;
        if (patch.priority) {
          change("priority", a.priority, *patch.priority);
          a.priority = *patch.priority;
        }
        if (patch.ticket_url) {
          change("ticket_url", a.ticket_url, *patch.ticket_url);
          a.ticket_url = *patch.ticket_url;
        }
        if (patch.overdue_at) a.overdue_at = *patch.overdue_at;
        if (patch.next_reminder_at) a.next_reminder_at = *patch.next_reminder_at;
        if (IsClosed(a.status)) a.next_reminder_at.reset();
        if (changes.empty()) return a;
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * s,
            db.Prepare("UPDATE action_items SET title = ?, owner = ?, due = ?, overdue_at = ?, "
                       "priority = ?, status = ?, ticket_url = ?, updated_at = ?, closed_at = ?, "
                       "closed_by = ?, next_reminder_at = ? WHERE id = ?"));
        HOUSTON_RETURN_IF_ERROR(s->Bind(1, a.title)
                                    .Bind(2, a.owner)
                                    .Bind(3, a.due)
                                    .Bind(4, Ms(a.overdue_at))
                                    .Bind(5, a.priority)
                                    .Bind(6, ToString(a.status))
                                    .Bind(7, a.ticket_url)
                                    .Bind(8, Ms(now))
                                    .Bind(9, OptMs(a.closed_at))
                                    .Bind(10, a.closed_by)
                                    .Bind(11, OptMs(a.next_reminder_at))
                                    .Bind(12, id)
                                    .Run());
        HOUSTON_RETURN_IF_ERROR(
            Audit(db, now, actor, ToString(AuditAction::kActionItemUpdated), "action_item",
                  std::to_string(id),
                  json::serialize(json::object{
                      {"action_item_id", id}, {"title", a.title}, {"changes", changes}}),
                  a.incident_id));
        return LoadActionItem(db, id);
      },
      std::move(done));
}

Result<ActionItem> SqlStore::GetActionItem(int64_t id) {
  return WithReader([&](Db& db) { return LoadActionItem(db, id); });
}

Result<std::vector<ActionItem>> SqlStore::ListActionItems(const ActionItemFilter& f) {
  Where w;
  if (f.owner) w.Add("owner = ?", *f.owner);
  if (f.status) w.Add("status = ?", std::string(ToString(*f.status)));
  if (f.overdue_at) {
    w.Add("status IN ('open', 'in_progress') AND overdue_at <= ?", Ms(*f.overdue_at));
  }
  if (f.incident) w.Add("incident_id = ?", *f.incident);
  if (f.service) w.Add("service_id = ?", *f.service);
  if (f.before_id > 0) w.Add("id < ?", f.before_id);
  std::string sql = fmt::format("SELECT {} FROM action_items{} ORDER BY id DESC LIMIT {}",
                                kActionItemColumns, w.sql, ClampLimit(f.limit));
  return WithReader([&](Db& db) -> Result<std::vector<ActionItem>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    w.BindAll(*s);
    return ReadAll<ActionItem>(*s, ReadActionItem);
  });
}

// ---------------------------------------------------------------------------------------------
// The reminder loop.

Result<std::vector<core::Incident>> SqlStore::ListIncidentsNeedingPostmortem(
    const std::vector<std::string>& sevs, TimePoint since, int limit) {
  if (sevs.empty()) return std::vector<core::Incident>{};
  std::string marks;
  for (size_t i = 0; i < sevs.size(); ++i) marks += i ? ",?" : "?";
  std::string sql = fmt::format(
      "SELECT {} FROM incidents i WHERE i.sev <> '' AND i.resolved_at IS NOT NULL AND "
      "i.resolved_at >= ? AND i.status = 'resolved' AND i.merged_into = 0 AND i.sev IN ({}) AND "
      "NOT EXISTS (SELECT 1 FROM postmortems p WHERE p.incident_id = i.id) "
      "ORDER BY i.resolved_at, i.id LIMIT {}",
      IncidentColumns("i."), marks, ClampLimit(limit));
  return WithReader([&](Db& db) -> Result<std::vector<core::Incident>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    s->Bind(1, Ms(since));
    for (size_t i = 0; i < sevs.size(); ++i) s->Bind(static_cast<int>(i) + 2, sevs[i]);
    return ReadAll<core::Incident>(*s, [&](const Stmt& row) { return ReadIncident(db, row); });
  });
}

Result<std::vector<Postmortem>> SqlStore::ListDuePostmortemReminders(TimePoint now, int limit) {
  std::string sql = fmt::format(
      "SELECT {} FROM postmortems p JOIN incidents i ON i.id = p.incident_id "
      "WHERE p.next_reminder_at IS NOT NULL AND p.next_reminder_at <= ? "
      "ORDER BY p.next_reminder_at, p.incident_id LIMIT {}",
      kPostmortemColumns, ClampLimit(limit));
  return WithReader([&](Db& db) -> Result<std::vector<Postmortem>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    s->Bind(1, Ms(now));
    return ReadAll<Postmortem>(*s, ReadPostmortem);
  });
}

Result<std::vector<ActionItem>> SqlStore::ListDueActionItemReminders(TimePoint now, int limit) {
  std::string sql = fmt::format(
      "SELECT {} FROM action_items WHERE next_reminder_at IS NOT NULL AND next_reminder_at <= ? "
      "ORDER BY next_reminder_at, id LIMIT {}",
      kActionItemColumns, ClampLimit(limit));
  return WithReader([&](Db& db) -> Result<std::vector<ActionItem>> {
    HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
    s->Bind(1, Ms(now));
    return ReadAll<ActionItem>(*s, ReadActionItem);
  });
}

Result<std::optional<TimePoint>> SqlStore::NextLearningReminder() {
  return WithReader([&](Db& db) -> Result<std::optional<TimePoint>> {
    std::optional<TimePoint> next;
    for (const char* sql : {"SELECT MIN(next_reminder_at) FROM postmortems",
                            "SELECT MIN(next_reminder_at) FROM action_items"}) {
      HOUSTON_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
      HOUSTON_ASSIGN_OR_RETURN(std::optional<TimePoint> t, ReadOptionalTime(*s));
      if (t && (!next || *t < *next)) next = t;
    }
    return next;
  });
}

void SqlStore::ApplyLearningWork(LearningWork work, Callback<int> done) {
  // One order on every server (no deadlock between two applying overlapping work).
  std::sort(work.drafts.begin(), work.drafts.end(),
            [](const auto& a, const auto& b) { return a.incident_id < b.incident_id; });
  std::stable_sort(work.messages.begin(), work.messages.end(),
                   [](const auto& a, const auto& b) { return a.incident_id < b.incident_id; });
  std::sort(work.reminded.begin(), work.reminded.end(), [](const auto& a, const auto& b) {
    return std::pair(a.postmortem, a.id) < std::pair(b.postmortem, b.id);
  });
  Submit<int>(
      [this, work = std::move(work)](Db& db) -> Result<int> {
        TimePoint now = options_.clock->Now();
        Actor system{"system", "learning", "system"};
        for (const auto& d : work.drafts) {
          HOUSTON_RETURN_IF_ERROR(LockIncident(db, d.incident_id));
          HOUSTON_RETURN_IF_ERROR(InsertPostmortem(db, d, now, system));
        }
        HOUSTON_RETURN_IF_ERROR(InsertOutboxMessages(db, now, work.messages));
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * pm,
            db.Prepare("UPDATE postmortems SET reminders = ?, next_reminder_at = ? "
                       "WHERE incident_id = ? AND reminders = ? AND status <> 'published'"));
        HOUSTON_ASSIGN_OR_RETURN(
            Stmt * ai,
            db.Prepare("UPDATE action_items SET reminders = ?, next_reminder_at = ? WHERE id = ? "
                       "AND reminders = ? AND status IN ('open', 'in_progress')"));
        int applied = 0;
        for (const auto& r : work.reminded) {
          Stmt* s = r.postmortem ? pm : ai;
          s->Reset();
          HOUSTON_RETURN_IF_ERROR(s->Bind(1, r.reminders)
                                      .Bind(2, OptMs(r.next_reminder_at))
                                      .Bind(3, r.id)
                                      .Bind(4, r.expected)
                                      .Run());
          if (db.Changes() == 0) continue;
          ++applied;
          if (r.reminders == r.expected) continue;  // only rescheduled
          HOUSTON_RETURN_IF_ERROR(
              Audit(db, now, system,
                    ToString(r.postmortem ? AuditAction::kPostmortemReminded
                                          : AuditAction::kActionItemReminded),
                    r.postmortem ? "postmortem" : "action_item", std::to_string(r.id),
                    fmt::format(R"({{"reminder":{},"next_reminder_at":{}}})", r.reminders,
                                r.next_reminder_at ? JsonQuote(FormatRfc3339(*r.next_reminder_at))
                                                   : "null")));
        }
        return applied;
      },
      std::move(done));
}

}  // namespace houston::store::sql
