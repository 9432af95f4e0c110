#include "paging/schedules.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "config/schedule_convert.h"

namespace houston::paging {

std::shared_ptr<const ScheduleBook> ScheduleBook::Build(
    const config::Org& org, const std::vector<store::ScheduleOverride>& api_overrides) {
  auto book = std::make_shared<ScheduleBook>();
  for (const auto& s : org.schedules) {
    core::ScheduleSpec spec = config::ToScheduleSpec(s);
    for (const auto& o : api_overrides) {
      if (o.schedule_id != s.id || o.state != core::OverrideState::kActive || o.user_id.empty())
        continue;
      spec.overrides.push_back(core::OverrideSpec{o.user_id, o.start, o.end});
    }
    auto compiled = core::CompiledSchedule::Create(std::move(spec));
    if (!compiled) {
      spdlog::error("schedule {} cannot be used: {}", s.id, compiled.error().ToString());
      continue;
    }
    book->schedules_.emplace(s.id, std::move(*compiled));
  }
  return book;
}

const core::CompiledSchedule* ScheduleBook::Find(const std::string& schedule_id) const {
  auto it = schedules_.find(schedule_id);
  return it == schedules_.end() ? nullptr : &it->second;
}

Result<std::vector<std::string>> ScheduleBook::OnCall(const std::string& schedule_id,
                                                      TimePoint t) const {
  const auto* s = Find(schedule_id);
  if (!s) return std::unexpected(NotFound(fmt::format("no schedule '{}'", schedule_id)));
  return core::OnCallAt(*s, t);
}

std::string_view ToString(ShiftSource s) {
  switch (s) {
    case ShiftSource::kLayer:
      return "layer";
    case ShiftSource::kOverride:
      return "override";
    case ShiftSource::kGap:
      return "gap";
  }
  return "gap";
}

namespace {

// A sorted list of [start, end) stretches and a cursor that answers "which one holds t" for
// non-decreasing t.
template <typename T>
class Cursor {
 public:
  explicit Cursor(const std::vector<T>& items) : items_(items) {}
  const T* At(TimePoint t) {
    while (i_ < items_.size() && items_[i_].end <= t) ++i_;
    return i_ < items_.size() && items_[i_].start <= t ? &items_[i_] : nullptr;
  }

 private:
  const std::vector<T>& items_;
  size_t i_ = 0;
};

struct Interval {
  TimePoint start{};
  TimePoint end{};
};

}  // namespace

std::vector<ExplainedShift> ExplainTimeline(const core::CompiledSchedule& schedule, TimePoint from,
                                            TimePoint to) {
  std::vector<ExplainedShift> out;
  if (from >= to) return out;
  const core::ScheduleSpec& spec = schedule.spec();
  const core::ScheduleTimeline final_timeline = core::Timeline(schedule, from, to);

  // Each layer on its own (no overrides, no other layers): where it has someone.
  std::vector<std::vector<core::Shift>> layers;
  for (const auto& layer : spec.layers) {
    core::ScheduleSpec one;
    one.id = spec.id;
    one.timezone = spec.timezone;
    one.zone = spec.zone;
    one.layers = {layer};
    auto compiled = core::CompiledSchedule::Create(std::move(one));
    // A layer of a valid schedule is a valid schedule.
    HOUSTON_CHECK(compiled.has_value());
    layers.push_back(core::Timeline(*compiled, from, to).shifts);
  }
  // The overrides' union, clipped to the range.
  std::vector<Interval> overrides;
  for (const auto& o : spec.overrides) {
    if (o.end > from && o.start < to) {
      overrides.push_back({std::max(o.start, from), std::min(o.end, to)});
    }
  }
  std::sort(overrides.begin(), overrides.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> covered;
  for (const auto& o : overrides) {
    if (!covered.empty() && o.start <= covered.back().end) {
      covered.back().end = std::max(covered.back().end, o.end);
    } else {
      covered.push_back(o);
    }
  }

  // Between two consecutive edges nothing changes.
  std::vector<TimePoint> edges{from, to};
  for (const auto& s : final_timeline.shifts) edges.insert(edges.end(), {s.start, s.end});
  for (const auto& g : final_timeline.gaps) edges.insert(edges.end(), {g.start, g.end});
  for (const auto& l : layers) {
    for (const auto& s : l) edges.insert(edges.end(), {s.start, s.end});
  }
  for (const auto& c : covered) edges.insert(edges.end(), {c.start, c.end});
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());

  Cursor<core::Shift> shifts(final_timeline.shifts);
  Cursor<Interval> override_cursor(covered);
  std::vector<Cursor<core::Shift>> layer_cursors;
  for (const auto& l : layers) layer_cursors.emplace_back(l);
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    const TimePoint start = edges[i];
    const TimePoint end = edges[i + 1];
    ExplainedShift piece{start, end, "", ShiftSource::kGap, ""};
    if (const core::Shift* s = shifts.At(start)) piece.user = s->user;
    const bool overridden = override_cursor.At(start) != nullptr;
    std::string layer;
    for (size_t k = layer_cursors.size(); k-- > 0;) {
      if (layer_cursors[k].At(start)) {
        layer = spec.layers[k].name;
        break;
      }
    }
    if (!piece.user.empty()) {
      if (overridden || layer.empty()) {
        piece.source = ShiftSource::kOverride;
      } else {
        piece.source = ShiftSource::kLayer;
        piece.layer = std::move(layer);
      }
    }
    if (!out.empty() && out.back().user == piece.user && out.back().source == piece.source &&
        out.back().layer == piece.layer) {
      out.back().end = end;
    } else {
      out.push_back(std::move(piece));
    }
  }
  return out;
}

OnCallSpan OnCallAround(const core::CompiledSchedule& schedule, TimePoint at) {
  OnCallSpan span;
  // Looks a week ahead first; further (up to a year) only when the current stretch or the next
  // one does not end within the range, so a busy hourly rotation stays cheap.
  for (auto ahead : {std::chrono::days(8), std::chrono::days(64), std::chrono::days(366)}) {
    const TimePoint to = at + ahead;
    const core::ScheduleTimeline t = core::Timeline(schedule, at, to);
    // The stretches in time order: shifts and gaps tile [at, to).
    std::vector<Interval> tiles;
    std::vector<std::string> users;
    size_t si = 0;
    size_t gi = 0;
    while (si < t.shifts.size() || gi < t.gaps.size()) {
      if (gi == t.gaps.size() || (si < t.shifts.size() && t.shifts[si].start < t.gaps[gi].start)) {
        tiles.push_back({t.shifts[si].start, t.shifts[si].end});
        users.push_back(t.shifts[si].user);
        ++si;
      } else {
        tiles.push_back({t.gaps[gi].start, t.gaps[gi].end});
        users.emplace_back();
        ++gi;
      }
    }
    if (tiles.empty()) break;  // cannot happen: at < to
    auto list = [&](size_t i) {
      return users[i].empty() ? std::vector<std::string>{} : std::vector<std::string>{users[i]};
    };
    auto until = [&](size_t i) -> std::optional<TimePoint> {
      return tiles[i].end < to ? std::optional<TimePoint>(tiles[i].end) : std::nullopt;
    };
    span.users = list(0);
    span.until = until(0);
    span.next.reset();
    if (tiles.size() > 1) span.next = OnCallSpan::Next{list(1), tiles[1].start, until(1)};
    if (tiles.size() > 2) break;
  }
  // Where the current stretch comes from: the first piece of the explained timeline at `at`.
  auto pieces = ExplainTimeline(schedule, at, at + std::chrono::seconds(1));
  if (!pieces.empty()) {
    span.source = pieces.front().source;
    span.layer = pieces.front().layer;
  }
  return span;
}

std::vector<std::string> TargetUsers(
    const config::Org& org, const config::EscalationTarget& target,
    const std::function<std::vector<std::string>(const std::string&)>& on_call) {
  switch (target.type) {
    case config::TargetType::kUser:
      return {target.id};
    case config::TargetType::kTeam:
      if (const auto* team = config::FindTeam(org, target.id)) return team->members;
      return {};
    case config::TargetType::kSchedule:
      return on_call(target.id);
  }
  return {};
}

std::shared_ptr<const OrgRuntime> MakeOrgRuntime(
    std::shared_ptr<const config::Org> org,
    const std::vector<store::ScheduleOverride>& api_overrides) {
  auto rt = std::make_shared<OrgRuntime>();
  rt->org = std::move(org);
  rt->schedules = ScheduleBook::Build(*rt->org, api_overrides);
  return rt;
}

}  // namespace houston::paging
