#include "paging/schedules.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

std::shared_ptr<const OrgRuntime> MakeOrgRuntime(
    std::shared_ptr<const config::Org> org,
    const std::vector<store::ScheduleOverride>& api_overrides) {
  auto rt = std::make_shared<OrgRuntime>();
  rt->org = std::move(org);
  rt->schedules = ScheduleBook::Build(*rt->org, api_overrides);
  return rt;
}

}  // namespace houston::paging
