#include "learning/reminders.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/incident.h"
#include "core/schedule.h"
#include "core/time_util.h"

namespace houston::learning {

namespace json = boost::json;

TimePoint EndOfDay(date::year_month_day day, const date::time_zone* zone) {
  date::local_days next = date::local_days(day) + date::days(1);
  auto sys = zone->to_sys(date::local_seconds(next), date::choose::earliest);
  return std::chrono::time_point_cast<TimePoint::duration>(sys);
}

TimePoint NextWorkingMoment(const config::DailyWindow& hours, const date::time_zone* zone,
                            TimePoint t) {
  if (hours.days.empty()) return t;
  auto local = zone->to_local(t);
  date::local_days today = date::floor<date::days>(local);
  // Windows may run past midnight: look from yesterday's on.
  for (int offset = -1; offset <= 8; ++offset) {
    date::local_days day = today + date::days(offset);
    date::weekday wd{day};
    if (std::find(hours.days.begin(), hours.days.end(), wd) == hours.days.end()) continue;
    date::local_seconds start = day + std::chrono::minutes(hours.start_minute);
    date::local_seconds end = day + std::chrono::minutes(hours.end_minute);
    if (hours.end_minute <= hours.start_minute) end += date::days(1);
    TimePoint s = std::chrono::time_point_cast<TimePoint::duration>(
        zone->to_sys(start, date::choose::earliest));
    TimePoint e = std::chrono::time_point_cast<TimePoint::duration>(
        zone->to_sys(end, date::choose::earliest));
    if (e <= t) continue;
    return std::max(s, t);
  }
  return t;  // unreachable with at least one day a week
}

const date::time_zone* ZoneOf(const config::User* user) {
  static const date::time_zone* kUtc = date::locate_zone("UTC");
  if (!user) return kUtc;
  auto zone = core::LocateTimeZone(user->timezone);
  return zone ? *zone : kUtc;
}

namespace {

std::string UserName(const config::Org& org, const std::string& id) {
  const config::User* u = config::FindUser(org, id);
  return u ? u->name : id;
}

std::string Days(std::chrono::seconds late) {
  auto days = std::chrono::duration_cast<std::chrono::hours>(late).count() / 24;
  if (days <= 0) return "today";
  return days == 1 ? "1 day ago" : fmt::format("{} days ago", days);
}

}  // namespace

// One RunOnce's decisions.
class Chaser::Pass {
 public:
  Pass(Chaser& c, const config::Org& org, TimePoint now)
      : c_(c),
        org_(org),
        now_(now),
        pm_policy_(config::PostmortemPolicyOf(org)),
        ai_policy_(config::ActionItemPolicyOf(org)) {}

  store::LearningWork work;

  void Draft(const core::Incident& inc) {
    store::NewPostmortem p;
    p.incident_id = inc.id;
    p.required = true;
    for (const auto& [role, user] : inc.roles) {
      if (role == "commander") p.owner = user;
    }
    for (const auto& s : pm_policy_.sections) p.sections.push_back({s.id, s.title, s.prompt, ""});
    TimePoint resolved = inc.resolved_at.value_or(now_);
    p.due_at = resolved + std::chrono::hours(24 * pm_policy_.due_days);
    p.next_reminder_at = p.due_at;
    work.drafts.push_back(std::move(p));
  }

  void RemindPostmortem(const store::Postmortem& p) {
    std::string lead = p.owner;
    if (lead.empty()) {
      auto inc = c_.store_.GetIncident(p.incident_id);
      if (inc) {
        for (const auto& [role, user] : inc->roles) {
          if (role == "commander") lead = user;
        }
      }
    }
    TimePoint due = p.due_at.value_or(now_);
    std::set<std::string> to;
    if (!lead.empty()) to.insert(lead);
    bool team = now_ >= due + std::chrono::hours(24 * pm_policy_.team_after_days);
    const config::Service* svc = config::FindService(org_, p.service_id);
    if ((team || to.empty()) && svc && !svc->team.empty()) {
      if (const config::Team* t = config::FindTeam(org_, svc->team)) {
        to.insert(t->members.begin(), t->members.end());
      }
    }
    int n = p.reminders + 1;
    std::string late = Days(std::chrono::duration_cast<std::chrono::seconds>(now_ - due));
    std::string about =
        fmt::format("#{}{} {}", p.incident_id, p.sev.empty() ? "" : " (" + p.sev + ")", p.title);
    for (const auto& user : to) {
      bool is_lead = user == lead;
      std::string subject = fmt::format("Postmortem overdue: incident {}", about);
      std::string text = fmt::format(
          "The postmortem of incident {} was due {} ({}) and is {}. {}Finish it and publish it: "
          "houston postmortem edit {} then houston postmortem publish {}.{}",
          about, FormatRfc3339(due), late, ToString(p.status),
          is_lead ? "You are its owner. "
                  : fmt::format("Its owner is {}; your team owns the service. ",
                                lead.empty() ? "nobody yet" : UserName(org_, lead)),
          p.incident_id, p.incident_id,
          Link(fmt::format("/api/v1/incidents/{}/postmortem.md", p.incident_id)));
      Message(p.incident_id, "postmortem_reminder",
              fmt::format("postmortem:{}:{}", p.incident_id, n), user,
              is_lead ? "postmortem:owner" : "postmortem:team",
              json::object{{"event", "postmortem.overdue"},
                           {"subject", subject},
                           {"text", text},
                           {"reminder", n}});
    }
    const config::User* lead_user = config::FindUser(org_, lead);
    work.reminded.push_back(
        {true, p.incident_id, p.reminders, n, Next(lead_user, pm_policy_.remind_every_days)});
  }

  void RemindActionItem(const store::ActionItem& a) {
    std::set<std::string> to{a.owner};
    bool team = now_ >= a.overdue_at + std::chrono::hours(24 * ai_policy_.team_grace_days);
    if (team) {
      for (const auto& t : org_.teams) {
        if (std::find(t.members.begin(), t.members.end(), a.owner) == t.members.end()) continue;
        to.insert(t.members.begin(), t.members.end());
      }
    }
    int n = a.reminders + 1;
    for (const auto& user : to) {
      bool is_owner = user == a.owner;
      std::string subject = fmt::format("Action item overdue: #{} {}", a.id, a.title);
      std::string text = fmt::format(
          "Action item #{} from incident #{} is overdue: {} ({}, due {}, {}). {}When it is done: "
          "houston action-item done {}.{}",
          a.id, a.incident_id, a.title, a.priority, a.due, ToString(a.status),
          is_owner ? "You own it. "
                   : fmt::format("{} owns it and it is still open. ", UserName(org_, a.owner)),
          a.id, a.ticket_url.empty() ? "" : " Ticket: " + a.ticket_url);
      Message(a.incident_id, "action_item_reminder", fmt::format("action_item:{}:{}", a.id, n),
              user, is_owner ? "action_item:owner" : "action_item:team",
              json::object{{"event", "action_item.overdue"},
                           {"subject", subject},
                           {"text", text},
                           {"action_item_id", a.id},
                           {"reminder", n}});
    }
    work.reminded.push_back({false, a.id, a.reminders, n,
                             Next(config::FindUser(org_, a.owner), ai_policy_.remind_every_days)});
  }

 private:
  std::string Link(const std::string& path) const {
    if (c_.options_.base_url.empty()) return "";
    std::string base = c_.options_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return " " + base + path;
  }

  // The next reminder: `every_days` on, within the lead's working hours.
  std::optional<TimePoint> Next(const config::User* lead, int every_days) const {
    return NextWorkingMoment(ai_policy_.working_hours, ZoneOf(lead),
                             now_ + std::chrono::hours(24 * std::max(every_days, 1)));
  }

  void Message(core::IncidentId incident, const std::string& kind, const std::string& ref,
               const std::string& user_id, const std::string& target, json::object payload) {
    const config::User* user = config::FindUser(org_, user_id);
    if (!user) return;
    TimePoint at = NextWorkingMoment(ai_policy_.working_hours, ZoneOf(user), now_);
    std::set<std::string> methods;
    int rule = 0;
    for (const auto& r : user->notification_rules) {
      ++rule;
      if (!methods.insert(r.contact_method).second) continue;
      const config::ContactMethod* cm = nullptr;
      for (const auto& c : user->contact_methods) {
        if (c.id == r.contact_method) cm = &c;
      }
      if (!cm) continue;
      store::OutboxMessage m;
      m.incident_id = incident;
      m.kind = kind;
      m.ref = ref;
      m.user_id = user->id;
      m.contact_method_id = cm->id;
      m.channel_type = std::string(config::ToString(cm->type));
      m.target = target;
      m.rule = rule - 1;
      m.not_before = at;
      m.payload_json = json::serialize(payload);
      work.messages.push_back(std::move(m));
    }
  }

  Chaser& c_;
  const config::Org& org_;
  const TimePoint now_;
  const config::PostmortemPolicy pm_policy_;
  const config::ActionItemPolicy ai_policy_;
};

Chaser::Chaser(store::Store& store, Clock& clock, OrgProvider org, ChaserOptions options)
    : store_(store), clock_(clock), org_(std::move(org)), options_(std::move(options)) {}

Result<std::optional<TimePoint>> Chaser::RunOnce() {
  TimePoint now = clock_.Now();
  auto org = org_();
  if (!org) return store_.NextLearningReminder();
  bool created = false;
  // Bounded passes: each takes a batch of drafts and reminders and applies it in one write.
  const std::vector<std::string> required = config::PostmortemPolicyOf(*org).required_severities;
  for (int pass = 0; pass < 64; ++pass) {
    Pass p(*this, *org, now);
    TimePoint since = drafted_through_.value_or(now - options_.draft_lookback);
    HOUSTON_ASSIGN_OR_RETURN(
        auto needing, store_.ListIncidentsNeedingPostmortem(required, since, options_.batch));
    HOUSTON_ASSIGN_OR_RETURN(auto pms, store_.ListDuePostmortemReminders(now, options_.batch));
    HOUSTON_ASSIGN_OR_RETURN(auto items, store_.ListDueActionItemReminders(now, options_.batch));
    for (const auto& inc : needing) p.Draft(inc);
    for (const auto& pm : pms) p.RemindPostmortem(pm);
    for (const auto& a : items) p.RemindActionItem(a);
    if (p.work.drafts.empty() && p.work.reminded.empty()) break;
    created = created || !p.work.messages.empty();
    HOUSTON_RETURN_IF_ERROR(
        store::Wait<int>([&](auto cb) { store_.ApplyLearningWork(std::move(p.work), cb); }));
    if (static_cast<int>(needing.size()) < options_.batch &&
        static_cast<int>(pms.size()) < options_.batch &&
        static_cast<int>(items.size()) < options_.batch) {
      break;
    }
  }
  // Incidents resolve with their own clock reading, committed a moment later (and on several
  // servers, in any order): look back a while on every pass, drafting is idempotent.
  drafted_through_ = now - std::chrono::minutes(10);
  if (created && on_messages_) on_messages_();
  return store_.NextLearningReminder();
}

}  // namespace houston::learning
