#include "config/schedule_convert.h"

#include <utility>

namespace houston::config {
namespace {

core::RotationType ToCore(RotationType type) {
  switch (type) {
    case RotationType::kHourly:
      return core::RotationType::kHourly;
    case RotationType::kDaily:
      return core::RotationType::kDaily;
    case RotationType::kWeekly:
      return core::RotationType::kWeekly;
  }
  return core::RotationType::kWeekly;
}

core::DailyWindowSpec ToCore(const DailyWindow& window) {
  core::DailyWindowSpec out;
  out.days = 0;
  for (date::weekday day : window.days) out.days |= core::DayBit(day);
  out.start_minute = window.start_minute;
  out.end_minute = window.end_minute;
  return out;
}

}  // namespace

core::ScheduleSpec ToScheduleSpec(const Schedule& schedule) {
  core::ScheduleSpec spec;
  spec.id = schedule.id;
  spec.name = schedule.name;
  spec.timezone = schedule.timezone;
  Result<const date::time_zone*> zone = core::LocateTimeZone(schedule.timezone);
  HOUSTON_CHECK(zone.has_value());
  spec.zone = *zone;
  for (const ScheduleLayer& layer : schedule.layers) {
    core::LayerSpec& out = spec.layers.emplace_back();
    out.name = layer.name;
    out.start_local = layer.start_local;
    out.rotation = {ToCore(layer.rotation.type), layer.rotation.length};
    out.users = layer.users;
    out.end_local = layer.end_local;
    for (const DailyWindow& window : layer.restrictions) out.restrictions.push_back(ToCore(window));
  }
  for (const ScheduleOverride& o : schedule.overrides) {
    spec.overrides.push_back({o.user, o.start, o.end});
  }
  return spec;
}

}  // namespace houston::config
