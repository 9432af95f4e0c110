#include "learning/learning_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "core/time_util.h"
#include "incidents/suspects.h"
#include "learning/reminders.h"

namespace houston::learning {

namespace json = boost::json;

namespace {

Status Problems(std::vector<std::string> problems) {
  if (problems.empty()) return OkStatus();
  std::string message = problems.size() == 1 ? problems.front() : "invalid request";
  return InvalidArgument(std::move(message), std::move(problems));
}

}  // namespace

Result<std::string> LearningService::ComputeFacts(const config::Org& org, core::IncidentId id) {
  PostmortemFacts f;
  HOUSTON_ASSIGN_OR_RETURN(f.incident, store_.GetIncident(id));
  for (const auto& s : f.incident.services) {
    const config::Service* svc = config::FindService(org, s);
    f.service_names.push_back(svc ? svc->name : s);
  }
  HOUSTON_ASSIGN_OR_RETURN(auto timeline, store_.ListTimeline(id));
  f.times = ComputeResponseTimes(f.incident, timeline);
  f.people = Participants(f.incident, timeline, &org);
  for (const auto& e : timeline) {
    if (e.record.action != store::ToString(store::TimelineKind::kChangeLinked)) continue;
    boost::system::error_code ec;
    auto d = json::parse(e.record.details_json, ec);
    const json::value* cid =
        !ec && d.is_object() ? d.as_object().if_contains("change_id") : nullptr;
    if (!cid || !cid->is_int64()) continue;
    auto c = store_.GetChange(cid->as_int64());
    if (c && std::none_of(f.confirmed_changes.begin(), f.confirmed_changes.end(),
                          [&](const core::Change& x) { return x.id == c->id; })) {
      f.confirmed_changes.push_back(std::move(*c));
    }
  }
  if (timeline.size() > kMaxFactsTimeline) {
    f.timeline_omitted = timeline.size() - kMaxFactsTimeline;
    timeline.erase(timeline.begin(), timeline.begin() + static_cast<long>(f.timeline_omitted));
  }
  f.timeline = std::move(timeline);
  store::AlertFilter af;
  af.incident_id = id;
  af.limit = static_cast<int>(kMaxFactsAlerts);
  HOUSTON_ASSIGN_OR_RETURN(f.alerts, store_.ListAlerts(af));
  f.alert_count = std::max<int64_t>(f.incident.alert_count, static_cast<int64_t>(f.alerts.size()));
  auto suspects = incidents::FindSuspects(store_, org, f.incident, 5);
  if (suspects) f.suspects = std::move(*suspects);
  store::StatusUpdateFilter uf;
  uf.incident_id = id;
  uf.limit = 1000;
  HOUSTON_ASSIGN_OR_RETURN(f.updates, store_.ListStatusUpdates(uf));
  std::sort(f.updates.begin(), f.updates.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  store::ActionItemFilter ai;
  ai.incident = id;
  ai.limit = 1000;
  HOUSTON_ASSIGN_OR_RETURN(f.action_items, store_.ListActionItems(ai));
  std::sort(f.action_items.begin(), f.action_items.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return FactsJson(f);
}

Result<PostmortemView> LearningService::GetPostmortem(const config::Org& org, core::IncidentId id) {
  PostmortemView v;
  HOUSTON_ASSIGN_OR_RETURN(v.postmortem, store_.GetPostmortem(id));
  if (v.postmortem.status == store::PostmortemStatus::kPublished &&
      !v.postmortem.computed_json.empty()) {
    v.computed_json = v.postmortem.computed_json;
  } else {
    HOUSTON_ASSIGN_OR_RETURN(v.computed_json, ComputeFacts(org, id));
  }
  return v;
}

void LearningService::EditPostmortem(const config::Org& org, core::IncidentId id,
                                     store::PostmortemEdit edit, store::Actor actor,
                                     store::Callback<store::Postmortem> done) {
  config::PostmortemPolicy policy = config::PostmortemPolicyOf(org);
  std::vector<std::string> problems;
  if (edit.owner && !edit.owner->empty()) CheckOwner(org, *edit.owner, problems);
  if (edit.factors) {
    for (size_t i = 0; i < edit.factors->size(); ++i) {
      const std::string& f = (*edit.factors)[i];
      if (std::find(policy.contributing_factors.begin(), policy.contributing_factors.end(), f) ==
          policy.contributing_factors.end()) {
        problems.push_back(fmt::format("factors[{}]: '{}' is not in the org's vocabulary ({})", i,
                                       f, config::KnownIds(policy.contributing_factors)));
      }
    }
  }
  if (Status st = Problems(std::move(problems)); !st.ok()) return done(std::unexpected(st));
  auto existing = store_.GetPostmortem(id);
  if (existing) {
    return store_.EditPostmortem(id, std::move(edit), std::move(actor), std::move(done));
  }
  if (existing.error().code() != StatusCode::kNotFound) {
    return done(std::unexpected(existing.error()));
  }
  // The first edit starts it from the template (the draft of a required SEV comes from the
  // reminder loop; any other incident gets one when someone starts writing). For an incident
  // that does not exist, creating answers NotFound.
  store::NewPostmortem p;
  p.incident_id = id;
  for (const auto& s : policy.sections) p.sections.push_back({s.id, s.title, s.prompt, ""});
  auto& store = store_;
  store_.CreatePostmortem(std::move(p), actor,
                          [&store, id, edit = std::move(edit), actor,
                           done = std::move(done)](Result<store::Postmortem> created) mutable {
                            // Two first edits at once: the second finds the first's postmortem, and
                            // edits it.
                            if (!created && created.error().code() != StatusCode::kAlreadyExists) {
                              return done(std::unexpected(created.error()));
                            }
                            edit.expected_version.reset();
                            store.EditPostmortem(id, std::move(edit), std::move(actor),
                                                 std::move(done));
                          });
}

void LearningService::Publish(const config::Org& org, core::IncidentId id,
                              std::optional<int64_t> version, store::Actor actor,
                              store::Callback<store::Postmortem> done) {
  auto facts = ComputeFacts(org, id);
  if (!facts) return done(std::unexpected(facts.error()));
  store_.PublishPostmortem(id, std::move(*facts), version, std::move(actor), std::move(done));
}

void LearningService::Reopen(core::IncidentId id, store::Actor actor,
                             store::Callback<store::Postmortem> done) {
  store_.ReopenPostmortem(id, std::move(actor), std::move(done));
}

void LearningService::CheckOwner(const config::Org& org, const std::string& owner,
                                 std::vector<std::string>& problems) {
  if (config::FindUser(org, owner)) return;
  std::vector<std::string> ids;
  for (const auto& u : org.users) ids.push_back(u.id);
  problems.push_back(
      fmt::format("owner: unknown user '{}' (users: {})", owner, config::KnownIds(ids)));
}

void LearningService::CheckDue(const std::string& due, std::vector<std::string>& problems) {
  auto d = ParseCalendarDate(due);
  if (!d) problems.push_back("due: " + d.error().message());
}

void LearningService::CheckPriority(const std::string& priority,
                                    std::vector<std::string>& problems) {
  if (priority == "P1" || priority == "P2" || priority == "P3") return;
  problems.push_back(fmt::format("priority: '{}' is not one of P1, P2, P3", priority));
}

void LearningService::CheckTicketUrl(const std::string& url, std::vector<std::string>& problems) {
  if (url.empty() || url.starts_with("https://") || url.starts_with("http://")) return;
  problems.push_back(fmt::format("ticket_url: '{}' is not an http(s) URL", url));
}

std::pair<TimePoint, TimePoint> LearningService::OverdueAndFirstReminder(
    const config::Org& org, const std::string& owner, const std::string& due) const {
  const config::User* user = config::FindUser(org, owner);
  const date::time_zone* zone = ZoneOf(user);
  auto day = ParseCalendarDate(due);
  TimePoint overdue = day ? EndOfDay(*day, zone) : clock_.Now();
  config::ActionItemPolicy policy = config::ActionItemPolicyOf(org);
  return {overdue, NextWorkingMoment(policy.working_hours, zone, overdue)};
}

void LearningService::CreateActionItem(const config::Org& org, NewActionItem n, store::Actor actor,
                                       store::Callback<store::ActionItem> done) {
  std::vector<std::string> problems;
  if (n.title.find_first_not_of(" \t\r\n") == std::string::npos) {
    problems.push_back("title: must not be empty");
  } else if (n.title.size() > 500) {
    problems.push_back("title: longer than 500 bytes");
  }
  CheckOwner(org, n.owner, problems);
  CheckDue(n.due, problems);
  CheckPriority(n.priority, problems);
  CheckTicketUrl(n.ticket_url, problems);
  if (Status st = Problems(std::move(problems)); !st.ok()) return done(std::unexpected(st));
  store::ActionItem item;
  item.incident_id = n.incident_id;
  item.title = std::move(n.title);
  item.owner = std::move(n.owner);
  item.due = std::move(n.due);
  item.priority = std::move(n.priority);
  item.ticket_url = std::move(n.ticket_url);
  auto [overdue, first] = OverdueAndFirstReminder(org, item.owner, item.due);
  item.overdue_at = overdue;
  item.next_reminder_at = first;
  store_.CreateActionItem(std::move(item), std::move(actor), std::move(done));
}

void LearningService::UpdateActionItem(const config::Org& org, int64_t id,
                                       store::ActionItemPatch patch, store::Actor actor,
                                       store::Callback<store::ActionItem> done) {
  std::vector<std::string> problems;
  if (patch.owner) CheckOwner(org, *patch.owner, problems);
  if (patch.due) CheckDue(*patch.due, problems);
  if (patch.priority) CheckPriority(*patch.priority, problems);
  if (patch.ticket_url) CheckTicketUrl(*patch.ticket_url, problems);
  if (patch.title && patch.title->find_first_not_of(" \t\r\n") == std::string::npos) {
    problems.push_back("title: must not be empty");
  }
  if (!patch.status && !patch.owner && !patch.due && !patch.priority && !patch.ticket_url &&
      !patch.title) {
    problems.push_back("nothing to change: give status, owner, due, title, priority or ticket_url");
  }
  if (Status st = Problems(std::move(problems)); !st.ok()) return done(std::unexpected(st));
  if (patch.owner || patch.due || (patch.status && !store::IsClosed(*patch.status))) {
    auto current = store_.GetActionItem(id);
    if (!current) return done(std::unexpected(current.error()));
    std::string owner = patch.owner.value_or(current->owner);
    std::string due = patch.due.value_or(current->due);
    auto [overdue, first] = OverdueAndFirstReminder(org, owner, due);
    patch.overdue_at = overdue;
    // A later due date or a new owner starts the chase again; otherwise it goes on as it was.
    if (patch.owner || patch.due || store::IsClosed(current->status)) {
      patch.next_reminder_at = std::max(first, clock_.Now());
    }
  }
  store_.UpdateActionItem(id, std::move(patch), std::move(actor), std::move(done));
}

}  // namespace houston::learning
