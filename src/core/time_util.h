// RFC 3339 / ISO 8601 formatting and parsing of TimePoints.
#pragma once

#include <date/date.h>

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace houston {

// "2026-11-22T13:15:39.123Z" (always UTC, always milliseconds).
std::string FormatRfc3339(TimePoint t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|+HHMM|-HH:MM|-HHMM)", a space instead of
// 'T', and lower-case 't'/'z'. Fractions beyond milliseconds are truncated.
// Returns InvalidArgument naming what is wrong.
Result<TimePoint> ParseRfc3339(std::string_view s);

// A calendar date "YYYY-MM-DD" (years 2000-2200); InvalidArgument naming what is wrong.
Result<date::year_month_day> ParseCalendarDate(std::string_view s);

}  // namespace houston
