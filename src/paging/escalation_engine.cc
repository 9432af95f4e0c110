#include "paging/escalation_engine.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <regex>
#include <set>

#include "core/json_util.h"

namespace houston::paging {

using core::EscalationState;

using core::EscalationCursor;
using core::EscalationPolicySpec;

core::EscalationPolicySpec ToPolicySpec(const config::EscalationPolicy& p) {
  EscalationPolicySpec spec;
  spec.id = p.id;
  spec.repeat = p.repeat;
  for (const auto& s : p.steps) {
    core::EscalationStepSpec step;
    step.delay = std::chrono::minutes(s.delay_minutes);
    step.round_robin = s.round_robin;
    for (const auto& t : s.targets) {
      core::EscalationTargetSpec target;
      target.id = t.id;
      target.type = t.type == config::TargetType::kUser ? core::EscalationTargetSpec::Type::kUser
                    : t.type == config::TargetType::kSchedule
                        ? core::EscalationTargetSpec::Type::kSchedule
                        : core::EscalationTargetSpec::Type::kTeam;
      step.targets.push_back(std::move(target));
    }
    spec.steps.push_back(std::move(step));
  }
  if (p.ack_timeout_minutes) spec.ack_timeout = std::chrono::minutes(*p.ack_timeout_minutes);
  return spec;
}

namespace {

bool InDailyWindow(const config::DailyWindow& w, date::weekday day, int minute) {
  auto has = [&](date::weekday d) {
    for (auto x : w.days) {
      if (x == d) return true;
    }
    return false;
  };
  if (w.start_minute <= w.end_minute) {
    return has(day) && minute >= w.start_minute && minute < w.end_minute;
  }
  // Past midnight: from start on a listed day until end on the next day.
  return (has(day) && minute >= w.start_minute) ||
         (has(day - date::days(1)) && minute < w.end_minute);
}

bool Matches(const config::Silence& s, const core::Alert& a) {
  for (const auto& m : s.matchers) {
    std::string v = core::AlertField(a, m.field);
    bool ok = false;
    switch (m.op) {
      case config::MatchOp::kEqual:
        ok = v == m.value;
        break;
      case config::MatchOp::kNotEqual:
        ok = v != m.value;
        break;
      case config::MatchOp::kRegexMatch:
      case config::MatchOp::kRegexNoMatch: {
        bool hit = false;
        try {
          hit = std::regex_match(v, std::regex(m.value));
        } catch (const std::regex_error&) {
          hit = false;  // validated at load
        }
        ok = m.op == config::MatchOp::kRegexMatch ? hit : !hit;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool InMaintenance(const config::MaintenanceWindow& m, TimePoint now) {
  if (m.start && m.end) return *m.start <= now && now < *m.end;
  if (!m.recurring) return false;
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(m.recurring->timezone);
  } catch (const std::exception&) {
    return false;  // validated at load; unreachable in practice
  }
  auto local = zone->to_local(now);
  auto day = date::floor<date::days>(local);
  int minute =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  return InDailyWindow(m.recurring->window, date::weekday(day), minute);
}

std::vector<store::PageRequest> PagesForUser(const config::User& user, TimePoint at,
                                             const std::string& via) {
  std::vector<store::PageRequest> out;
  for (size_t r = 0; r < user.notification_rules.size(); ++r) {
    const auto& rule = user.notification_rules[r];
    for (const auto& cm : user.contact_methods) {
      if (cm.id != rule.contact_method) continue;
      store::PageRequest p;
      p.user_id = user.id;
      p.contact_method_id = cm.id;
      p.channel_type = std::string(config::ToString(cm.type));
      p.not_before = at + std::chrono::minutes(rule.delay_minutes);
      p.target = via;
      p.rule = static_cast<int>(r);
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::string SuppressionReason(const config::Org& org, const core::Incident& incident,
                              const std::vector<core::Alert>& alerts, TimePoint now) {
  for (const auto& m : org.maintenance_windows) {
    bool covers = false;
    for (const auto& s : m.services) covers = covers || s == incident.service_id;
    if (covers && InMaintenance(m, now)) return "maintenance window " + m.id;
  }
  if (alerts.empty()) return "";
  for (const auto& s : org.silences) {
    if (s.expires_at <= now) continue;
    bool all = true;
    for (const auto& a : alerts) all = all && Matches(s, a);
    if (all) return "silence " + s.id;
  }
  return "";
}

EscalationEngine::EscalationEngine(store::EscalationStore& escalations, store::AlertStore& alerts,
                                   Clock& clock, OrgProvider org, OnCallResolver on_call)
    : store_(escalations),
      alerts_(alerts),
      clock_(clock),
      org_(std::move(org)),
      on_call_(std::move(on_call)) {}

store::EscalationUpdate EscalationEngine::Fire(const config::Org& org,
                                               const store::EscalationRow& row,
                                               const EscalationPolicySpec& policy,
                                               EscalationCursor cursor, TimePoint fired_at,
                                               TimePoint now) {
  store::EscalationUpdate u;
  u.incident_id = row.incident_id;
  u.expected_version = row.version;
  u.step = cursor.step;
  u.loop = cursor.loop;
  u.fired_step = cursor.step;
  u.fired_loop = cursor.loop;
  auto alerts = alerts_.ListAlerts(
      {.status = core::AlertStatus::kTriggered, .incident_id = row.incident_id, .limit = 1000});
  std::string suppressed =
      SuppressionReason(org, row.incident, alerts ? *alerts : std::vector<core::Alert>{}, now);
  if (!suppressed.empty()) {
    u.state = EscalationState::kStopped;
    u.audit_action = "incident.paging_suppressed";
    u.audit_details_json = fmt::format("{{\"reason\":{}}}", JsonQuote(suppressed));
    return u;
  }
  const auto& step = policy.steps[static_cast<size_t>(cursor.step)];
  std::vector<const core::EscalationTargetSpec*> targets;
  if (step.round_robin && !step.targets.empty()) {
    // One target per firing, rotating across incidents and repeats.
    size_t i = static_cast<size_t>(row.incident_id + cursor.loop) % step.targets.size();
    targets.push_back(&step.targets[i]);
  } else {
    for (const auto& t : step.targets) targets.push_back(&t);
  }
  std::vector<std::pair<std::string, std::string>> users;  // (user, reached via)
  std::set<std::string> seen;
  auto add = [&](const std::string& user, const std::string& via) {
    if (seen.insert(user).second) users.emplace_back(user, via);
  };
  for (const auto* t : targets) {
    switch (t->type) {
      case core::EscalationTargetSpec::Type::kUser:
        add(t->id, "user:" + t->id);
        break;
      case core::EscalationTargetSpec::Type::kTeam:
        if (const auto* team = config::FindTeam(org, t->id)) {
          for (const auto& m : team->members) add(m, "team:" + t->id);
        }
        break;
      case core::EscalationTargetSpec::Type::kSchedule:
        if (on_call_) {
          for (const auto& m : on_call_(org, t->id, fired_at)) add(m, "schedule:" + t->id);
        }
        break;
    }
  }
  std::string reached = "[";
  for (const auto& [user_id, via] : users) {
    const config::User* user = config::FindUser(org, user_id);
    if (!user) continue;
    if (reached.size() > 1) reached += ',';
    reached += fmt::format("{{\"user\":{},\"via\":{}}}", JsonQuote(user_id), JsonQuote(via));
    for (auto& p : PagesForUser(*user, fired_at, via)) u.pages.push_back(std::move(p));
  }
  reached += ']';
  u.audit_action = "incident.escalated";
  u.audit_details_json = fmt::format("{{\"policy\":{},\"step\":{},\"loop\":{},\"reached\":{}{}}}",
                                     JsonQuote(policy.id), cursor.step, cursor.loop, reached,
                                     users.empty() ? ",\"warning\":\"nobody to page\"" : "");
  if (auto next = core::NextCursor(policy, cursor)) {
    u.state = EscalationState::kActive;
    u.step = next->step;
    u.loop = next->loop;
    u.due_at = fired_at + core::DelayBefore(policy, *next);
  } else {
    u.state = EscalationState::kExhausted;
  }
  return u;
}

store::EscalationUpdate EscalationEngine::Decide(const config::Org& org,
                                                 const store::EscalationRow& row, TimePoint now,
                                                 bool& pages, PolicySpecs& specs) {
  store::EscalationUpdate u;
  u.incident_id = row.incident_id;
  u.expected_version = row.version;
  u.step = row.step;
  u.loop = row.loop;
  const config::EscalationPolicy* cfg = config::FindEscalationPolicy(org, row.policy_id);
  if (!cfg) {
    u.state = EscalationState::kStopped;
    u.audit_action = "incident.paging_stopped";
    u.audit_details_json = fmt::format(
        "{{\"reason\":{}}}",
        JsonQuote(fmt::format("escalation policy '{}' no longer exists", row.policy_id)));
    return u;
  }
  auto spec = specs.find(cfg);
  if (spec == specs.end()) spec = specs.emplace(cfg, ToPolicySpec(*cfg)).first;
  const EscalationPolicySpec& policy = spec->second;
  using S = core::IncidentStatus;
  if (row.state == EscalationState::kNew || row.state == EscalationState::kActive) {
    if (row.incident.status != S::kTriggered) {
      u.state =
          row.incident.status == S::kResolved ? EscalationState::kDone : EscalationState::kStopped;
      return u;
    }
    EscalationCursor cursor{row.step, row.loop};
    TimePoint fire_at = row.due_at;
    if (row.state == EscalationState::kNew) {
      cursor = {};
      // From when the incident was opened, or from now if the wall clock has been stepped back
      // since (an incident opened "in the future" must not wait out the step for its page).
      fire_at = std::min(row.incident.created_at, now) + core::DelayBefore(policy, cursor);
      if (fire_at > now) {
        u.state = EscalationState::kActive;
        u.step = 0;
        u.loop = 0;
        u.due_at = fire_at;
        return u;
      }
    }
    if (cursor.step >= static_cast<int>(policy.steps.size())) cursor = {0, cursor.loop};
    auto fired = Fire(org, row, policy, cursor, fire_at, now);
    pages = pages || !fired.pages.empty();
    return fired;
  }
  if (row.state == EscalationState::kAcked) {
    if (policy.ack_timeout && row.incident.status == S::kAcknowledged &&
        row.incident.acknowledged_at) {
      u.state = EscalationState::kAckWait;
      u.due_at = *row.incident.acknowledged_at + *policy.ack_timeout;
    } else {
      u.state =
          row.incident.status == S::kResolved ? EscalationState::kDone : EscalationState::kStopped;
    }
    return u;
  }
  if (row.state == EscalationState::kAckWait) {
    if (row.incident.status == S::kAcknowledged) {
      // Acknowledged but forgotten: page again from the first step.
      u.state = EscalationState::kActive;
      u.step = 0;
      u.loop = 0;
      u.due_at = now;
      u.retrigger_incident = true;
      u.audit_action = "incident.ack_timeout";
      u.audit_details_json = fmt::format("{{\"ack_timeout_minutes\":{}}}",
                                         policy.ack_timeout ? policy.ack_timeout->count() : 0);
      return u;
    }
    u.state =
        row.incident.status == S::kResolved ? EscalationState::kDone : EscalationState::kStopped;
    return u;
  }
  u.state = row.state;  // a state with nothing to do: clear its due time
  return u;
}

Result<std::optional<TimePoint>> EscalationEngine::RunOnce() {
  TimePoint now = clock_.Now();
  bool pages = false;
  // Decisions can make more work due now (an ack timeout re-pages at once): bounded passes.
  for (int pass = 0; pass < 64; ++pass) {
    HOUSTON_ASSIGN_OR_RETURN(auto rows, store_.ListDueEscalations(now, 500));
    if (rows.empty()) break;
    auto org = org_();
    if (!org) break;
    std::vector<store::EscalationUpdate> updates;
    updates.reserve(rows.size());
    PolicySpecs specs;  // for this pass's org only
    for (const auto& row : rows) {
      updates.push_back(Decide(*org, row, now, pages, specs));
      updates.back().decided_at = now;
    }
    HOUSTON_ASSIGN_OR_RETURN(int applied, store::Wait<int>([&](auto cb) {
                               store_.UpdateEscalations(std::move(updates), cb);
                             }));
    if (applied == 0) break;
  }
  if (pages && on_pages_) on_pages_();
  return store_.NextEscalationDue();
}

}  // namespace houston::paging
