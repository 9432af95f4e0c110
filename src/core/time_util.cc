#include "core/time_util.h"

#include <date/date.h>
#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace houston {

std::string FormatRfc3339(TimePoint t) {
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd(day);
  date::hh_mm_ss<std::chrono::milliseconds> hms(t - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", int(ymd.year()),
                     unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

namespace {
bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}
}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return std::unexpected(InvalidArgument(
        fmt::format("invalid timestamp \"{}\": {} (want RFC 3339, e.g. 2026-01-05T09:00:00Z)",
                    s.substr(0, 64), why)));
  };
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d)) {
    return bad("date part");
  }
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return bad("missing 'T'");
  if (!Digits(s, 11, 2, h) || s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' ||
      !Digits(s, 17, 2, sec)) {
    return bad("time part");
  }
  date::year_month_day ymd{date::year(y), date::month(unsigned(mo)), date::day(unsigned(d))};
  if (!ymd.ok()) return bad("no such date");
  if (h > 23 || mi > 59 || sec > 60) return bad("time out of range");
  if (sec == 60) sec = 59;  // leap second: clamp
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    size_t start = pos;
    int scale = 100;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (scale > 0) {
        millis += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == start) return bad("empty fraction");
  }
  int offset_min = 0;
  if (pos >= s.size()) return bad("missing zone (Z or +HH:MM)");
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh)) return bad("zone offset");
    size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':') ++mpos;
    if (!Digits(s, mpos, 2, om)) return bad("zone offset");
    if (oh > 23 || om > 59) return bad("zone offset out of range");
    offset_min = sign * (oh * 60 + om);
    pos = mpos + 2;
  } else {
    return bad("zone");
  }
  if (pos != s.size()) return bad("trailing characters");
  auto tp = date::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
            std::chrono::seconds(sec) + std::chrono::milliseconds(millis) -
            std::chrono::minutes(offset_min);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(tp);
}

Result<date::year_month_day> ParseCalendarDate(std::string_view s) {
  auto bad = [&] {
    return std::unexpected(
        InvalidArgument(fmt::format("'{}' is not a date: write it as YYYY-MM-DD", s)));
  };
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return bad();
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&](std::string_view part, auto& out) {
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && p == part.data() + part.size();
  };
  if (!num(s.substr(0, 4), y) || !num(s.substr(5, 2), m) || !num(s.substr(8, 2), d)) return bad();
  date::year_month_day ymd{date::year(y), date::month(m), date::day(d)};
  if (!ymd.ok()) {
    return std::unexpected(InvalidArgument(fmt::format("'{}' is not a day of the calendar", s)));
  }
  if (y < 2000 || y > 2200) {
    return std::unexpected(InvalidArgument(fmt::format("'{}' is out of range (2000-2200)", s)));
  }
  return ymd;
}

}  // namespace houston
