#include "core/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <set>
#include <utility>

namespace houston::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using LocalMs = date::local_time<milliseconds>;

constexpr seconds kHour{3600};
constexpr seconds kDay{24 * 3600};

// Converts local times to instants (the ToUtc rule of schedule.h) and instants to local times
// for one zone, caching the zone's sys_info around the last instant it looked at.
//
// Fast path: when `u = local - offset` lies at least kMargin inside the cached info's range,
// `local` maps to `u` and to nothing else: another instant u' with the same local time would be
// outside the range, so more than kMargin (72h) away from `u`, which would need two offsets 72h
// apart; every offset in the tz database is within +-16h. Otherwise it asks the zone (and
// re-centres the cache there, so walking forward through a range stays on the fast path).
// Not thread-safe: one per call.
class ZoneCursor {
 public:
  ZoneCursor(const date::time_zone* zone, TimePoint t)
      : zone_(zone), info_(zone->get_info(date::floor<seconds>(t))) {}

  LocalMs ToLocal(TimePoint t) {
    if (t < info_.begin || t >= info_.end) info_ = zone_->get_info(date::floor<seconds>(t));
    return LocalMs{t.time_since_epoch() + info_.offset};
  }

  TimePoint ToUtc(date::local_seconds local) {
    date::sys_seconds u{local.time_since_epoch() - info_.offset};
    if (Deep(u)) return u;
    date::sys_seconds exact = zone_->to_sys(local, date::choose::earliest);
    // Re-centre near where the caller is working, for the next conversion.
    info_ = zone_->get_info(exact);
    return exact;
  }

 private:
  static constexpr seconds kMargin = 3 * kDay;

  bool Deep(date::sys_seconds u) const {
    return u - info_.begin >= kMargin && info_.end - u > kMargin;
  }

  const date::time_zone* zone_;
  date::sys_info info_;
};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

seconds Unit(RotationType type) {
  switch (type) {
    case RotationType::kHourly:
      return kHour;
    case RotationType::kDaily:
      return kDay;
    case RotationType::kWeekly:
      return 7 * kDay;
  }
  return kDay;
}

}  // namespace

std::string_view ToString(RotationType t) {
  switch (t) {
    case RotationType::kHourly:
      return "hourly";
    case RotationType::kDaily:
      return "daily";
    case RotationType::kWeekly:
      return "weekly";
  }
  return "weekly";
}

namespace {

// date/tz reads a zone's data lazily, on its first lookup, and throws if it cannot. Doing that
// first lookup here (the adapter) means later lookups cannot throw.
Status LoadZone(const date::time_zone* zone) {
  try {
    (void)zone->get_info(date::sys_seconds{});
    return OkStatus();
  } catch (const std::exception& e) {
    return InvalidArgument(
        fmt::format("cannot load time zone '{}' from the tz database: {}", zone->name(), e.what()));
  }
}

}  // namespace

Result<const date::time_zone*> LocateTimeZone(std::string_view name) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(name);
  } catch (const std::exception&) {
    zone = nullptr;
  }
  if (zone == nullptr) {
    return std::unexpected(InvalidArgument(fmt::format("unknown time zone '{}'", name)));
  }
  HOUSTON_RETURN_IF_ERROR(LoadZone(zone));
  return zone;
}

Status ValidateScheduleSpec(const ScheduleSpec& spec) {
  std::vector<std::string> problems;
  if (spec.zone == nullptr) {
    problems.push_back(fmt::format("zone: '{}' is not resolved", spec.timezone));
  }
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& layer = spec.layers[i];
    if (std::all_of(layer.users.begin(), layer.users.end(),
                    [](const std::string& u) { return u.empty(); })) {
      problems.push_back(fmt::format("layers[{}].users: nobody in the rotation", i));
    }
    if (layer.end_local && *layer.end_local <= layer.start_local) {
      problems.push_back(fmt::format("layers[{}].end: not after its start", i));
    }
    if (layer.rotation.length < 1) {
      problems.push_back(
          fmt::format("layers[{}].rotation.length: {} (must be >= 1)", i, layer.rotation.length));
    }
    for (size_t w = 0; w < layer.restrictions.size(); ++w) {
      const DailyWindowSpec& window = layer.restrictions[w];
      std::string path = fmt::format("layers[{}].restrictions[{}]", i, w);
      if (window.days == 0 || (window.days & ~kAllDays) != 0) {
        problems.push_back(fmt::format("{}.days: invalid day mask {:#x}", path, window.days));
      }
      if (window.start_minute < 0 || window.start_minute >= 24 * 60) {
        problems.push_back(
            fmt::format("{}.start_minute: {} (must be in [0, 1440))", path, window.start_minute));
      }
      if (window.end_minute <= 0 || window.end_minute > 24 * 60) {
        problems.push_back(
            fmt::format("{}.end_minute: {} (must be in (0, 1440])", path, window.end_minute));
      }
      if (window.start_minute == window.end_minute) {
        problems.push_back(fmt::format("{}: start and end are equal", path));
      }
    }
  }
  for (size_t i = 0; i < spec.overrides.size(); ++i) {
    const OverrideSpec& o = spec.overrides[i];
    if (o.user.empty()) problems.push_back(fmt::format("overrides[{}].user: empty", i));
    if (o.end <= o.start) {
      problems.push_back(fmt::format("overrides[{}]: end is not after start", i));
    }
  }
  if (problems.empty()) return OkStatus();
  return InvalidArgument(
      fmt::format("schedule '{}' is invalid: {} problem(s)", spec.id, problems.size()),
      std::move(problems));
}

Result<CompiledSchedule> CompiledSchedule::Create(ScheduleSpec spec) {
  if (spec.zone == nullptr) {
    HOUSTON_ASSIGN_OR_RETURN(spec.zone, LocateTimeZone(spec.timezone));
  } else {
    HOUSTON_RETURN_IF_ERROR(LoadZone(spec.zone));
  }
  HOUSTON_RETURN_IF_ERROR(ValidateScheduleSpec(spec));

  CompiledSchedule out;
  for (const LayerSpec& layer : spec.layers) {
    Layer compiled;
    compiled.period = Unit(layer.rotation.type) * layer.rotation.length;
    compiled.first_handoff = spec.zone->to_sys(layer.start_local, date::choose::earliest);
    if (layer.end_local) {
      compiled.end = spec.zone->to_sys(*layer.end_local, date::choose::earliest);
    }
    for (const DailyWindowSpec& w : layer.restrictions) {
      Window window;
      window.days = w.days;
      window.start = std::chrono::minutes(w.start_minute);
      window.end = std::chrono::minutes(w.end_minute);
      if (w.end_minute <= w.start_minute) window.end += kDay;
      compiled.windows.push_back(window);
    }
    out.layers_.push_back(std::move(compiled));
  }

  // Flatten the overrides: sweep their edges in time order keeping the set of active overrides;
  // the highest index (listed last) wins.
  struct Edge {
    TimePoint at;
    bool is_start;
    int32_t index;
  };
  std::vector<Edge> edges;
  edges.reserve(spec.overrides.size() * 2);
  for (size_t i = 0; i < spec.overrides.size(); ++i) {
    auto index = static_cast<int32_t>(i);
    edges.push_back({spec.overrides[i].start, true, index});
    edges.push_back({spec.overrides[i].end, false, index});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.at < b.at; });
  std::set<int32_t> active;
  for (size_t i = 0; i < edges.size();) {
    TimePoint at = edges[i].at;
    for (; i < edges.size() && edges[i].at == at; ++i) {
      if (edges[i].is_start) {
        active.insert(edges[i].index);
      } else {
        active.erase(edges[i].index);
      }
    }
    int32_t winner = active.empty() ? -1 : *active.rbegin();
    int32_t previous = out.override_winner_.empty() ? -1 : out.override_winner_.back();
    if (winner != previous) {
      out.override_starts_.push_back(at);
      out.override_winner_.push_back(winner);
    }
  }
  out.spec_ = std::move(spec);
  return out;
}

const std::string* CompiledSchedule::WhoAt(TimePoint t) const {
  auto seg = std::upper_bound(override_starts_.begin(), override_starts_.end(), t);
  if (seg != override_starts_.begin()) {
    int32_t winner = override_winner_[static_cast<size_t>(seg - override_starts_.begin() - 1)];
    if (winner >= 0) return &spec_.overrides[static_cast<size_t>(winner)].user;
  }
  if (layers_.empty()) return nullptr;

  ZoneCursor zone(spec_.zone, t);
  const LocalMs local = zone.ToLocal(t);
  const date::local_days today = date::floor<date::days>(local);
  for (size_t i = layers_.size(); i-- > 0;) {
    const Layer& layer = layers_[i];
    const LayerSpec& layer_spec = spec_.layers[i];
    if (t < layer.first_handoff || (layer.end && t >= *layer.end)) continue;

    if (!layer.windows.empty()) {
      // The occurrence containing t starts on the local day before, of or (in an overlap
      // around midnight) after t's local day; day+2 covers overlaps longer than a day.
      bool covered = false;
      for (const Window& w : layer.windows) {
        for (int d = -1; d <= 2 && !covered; ++d) {
          const date::local_days day = today + date::days(d);
          if ((w.days & DayBit(date::weekday(day))) == 0) continue;
          if (zone.ToUtc(day + w.start) > t) continue;
          covered = t < zone.ToUtc(day + w.end);
        }
        if (covered) break;
      }
      if (!covered) continue;
    }

    // The last handoff at or before t: guess from local time, then fix up the few steps a DST
    // change can shift it (handoff instants never decrease with k, and handoff 0 <= t).
    auto handoff = [&](int64_t k) { return zone.ToUtc(layer_spec.start_local + k * layer.period); };
    const milliseconds since_start = local - date::local_time<milliseconds>(layer_spec.start_local);
    const int64_t period_ms = std::chrono::duration_cast<milliseconds>(layer.period).count();
    int64_t k = FloorDiv(since_start.count(), period_ms);
    while (handoff(k + 1) <= t) ++k;
    while (handoff(k) > t) --k;
    HOUSTON_CHECK(k >= 0);
    const std::string& user =
        layer_spec.users[static_cast<size_t>(k % static_cast<int64_t>(layer_spec.users.size()))];
    if (user.empty()) continue;  // an empty turn: an earlier layer shows through
    return &user;
  }
  return nullptr;
}

std::vector<std::string> OnCallAt(const CompiledSchedule& schedule, TimePoint t) {
  const std::string* who = schedule.WhoAt(t);
  if (who == nullptr) return {};
  return {*who};
}

ScheduleTimeline Timeline(const CompiledSchedule& schedule, TimePoint from, TimePoint to) {
  ScheduleTimeline out;
  if (from >= to) return out;
  const ScheduleSpec& spec = schedule.spec_;

  // Every instant in (from, to) where the answer may change; between two consecutive ones the
  // answer is constant, so one WhoAt per piece is exact.
  std::vector<TimePoint> edges{from, to};
  auto add = [&](TimePoint t) {
    if (t > from && t < to) edges.push_back(t);
  };
  for (TimePoint t : schedule.override_starts_) add(t);

  ZoneCursor zone(spec.zone, from);
  const date::local_days first_day = date::floor<date::days>(zone.ToLocal(from));
  const date::local_days last_day = date::floor<date::days>(zone.ToLocal(to));
  for (size_t i = 0; i < schedule.layers_.size(); ++i) {
    const CompiledSchedule::Layer& layer = schedule.layers_[i];
    const LayerSpec& layer_spec = spec.layers[i];
    add(layer.first_handoff);
    if (layer.end) add(*layer.end);
    auto handoff = [&](int64_t k) { return zone.ToUtc(layer_spec.start_local + k * layer.period); };
    // First handoff index at or after `from`, guessed from local time and fixed up.
    int64_t k = 0;
    if (from > layer.first_handoff) {
      const milliseconds since_start =
          zone.ToLocal(from) - date::local_time<milliseconds>(layer_spec.start_local);
      k = std::max<int64_t>(
          0, FloorDiv(since_start.count(),
                      std::chrono::duration_cast<milliseconds>(layer.period).count()));
      while (k > 0 && handoff(k - 1) >= from) --k;
      while (handoff(k) < from) ++k;
    }
    for (TimePoint h = handoff(k); h < to; h = handoff(++k)) add(h);

    for (const CompiledSchedule::Window& w : layer.windows) {
      for (date::local_days day = first_day - date::days(2); day <= last_day + date::days(2);
           day += date::days(1)) {
        if ((w.days & DayBit(date::weekday(day))) == 0) continue;
        add(zone.ToUtc(day + w.start));
        add(zone.ToUtc(day + w.end));
      }
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());

  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    const TimePoint start = edges[i];
    const TimePoint end = edges[i + 1];
    const std::string* who = schedule.WhoAt(start);
    if (who == nullptr) {
      if (!out.gaps.empty() && out.gaps.back().end == start) {
        out.gaps.back().end = end;
      } else {
        out.gaps.push_back({start, end});
      }
    } else if (!out.shifts.empty() && out.shifts.back().end == start &&
               out.shifts.back().user == *who) {
      out.shifts.back().end = end;
    } else {
      out.shifts.push_back({start, end, *who});
    }
  }
  return out;
}

// ---- iCalendar --------------------------------------------------------------------------------

namespace {

// RFC 5545 3.3.11 TEXT: backslash, semicolon and comma are escaped, a line break becomes "\n".
// Other control characters are not allowed in TEXT and are dropped.
std::string EscapeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '\\':
      case ';':
      case ',':
        out += '\\';
        out += c;
        break;
      case '\r':
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) break;
        out += c;
    }
  }
  return out;
}

// Appends one content line, folded so that no line exceeds 75 octets (RFC 5545 3.1):
// continuation lines start with a space, and a UTF-8 sequence is never split.
void AppendLine(std::string& out, std::string_view line) {
  constexpr size_t kMaxOctets = 75;
  size_t budget = kMaxOctets;
  while (line.size() > budget) {
    size_t cut = budget;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) cut = budget;  // not UTF-8; never loop forever
    out.append(line.substr(0, cut));
    out += "\r\n ";
    line.remove_prefix(cut);
    budget = kMaxOctets - 1;  // the leading space counts
  }
  out.append(line);
  out += "\r\n";
}

// "20260308T070000Z".
std::string FormatUtcBasic(date::sys_seconds t) {
  const date::sys_days day = date::floor<date::days>(t);
  const date::year_month_day ymd(day);
  const date::hh_mm_ss<seconds> hms(t - day);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

}  // namespace

std::string ToICalendar(const ScheduleSpec& spec, std::span<const Shift> shifts,
                        std::string_view user_filter, TimePoint now) {
  const std::string_view name = spec.name.empty() ? std::string_view(spec.id) : spec.name;
  std::string out;
  AppendLine(out, "BEGIN:VCALENDAR");
  AppendLine(out, "VERSION:2.0");
  AppendLine(out, "PRODID:-//houston//on-call schedule//EN");
  AppendLine(out, "CALSCALE:GREGORIAN");
  AppendLine(out, "METHOD:PUBLISH");
  std::string calendar_name = fmt::format("On call: {}", name);
  if (!user_filter.empty()) calendar_name += fmt::format(" ({})", user_filter);
  AppendLine(out, "X-WR-CALNAME:" + EscapeText(calendar_name));
  const std::string stamp = FormatUtcBasic(date::floor<seconds>(now));
  for (const Shift& shift : shifts) {
    if (!user_filter.empty() && shift.user != user_filter) continue;
    const date::sys_seconds start = date::floor<seconds>(shift.start);
    const date::sys_seconds end = date::floor<seconds>(shift.end);
    if (end <= start) continue;
    const std::string start_text = FormatUtcBasic(start);
    AppendLine(out, "BEGIN:VEVENT");
    AppendLine(
        out, "UID:" + EscapeText(fmt::format("{}-{}-{}@houston", spec.id, start_text, shift.user)));
    AppendLine(out, "DTSTAMP:" + stamp);
    AppendLine(out, "DTSTART:" + start_text);
    AppendLine(out, "DTEND:" + FormatUtcBasic(end));
    AppendLine(out, "SUMMARY:" + EscapeText(fmt::format("On call: {} ({})", name, shift.user)));
    AppendLine(out, "END:VEVENT");
  }
  AppendLine(out, "END:VCALENDAR");
  return out;
}

}  // namespace houston::core
