// Converts a parsed org.yaml schedule into the core schedule model (core/schedule.h), which
// knows nothing about org.yaml.
#pragma once

#include "config/config.h"
#include "core/schedule.h"

namespace houston::config {

// The core form of `schedule`, with its zone resolved. Precondition: `schedule` comes from a
// successful ParseOrg/LoadOrgFile in this process (its zone exists and every field is valid), so
// the result passes core::ValidateScheduleSpec. A zone that no longer resolves is a broken
// invariant (the tz database is loaded once per process) and crashes.
core::ScheduleSpec ToScheduleSpec(const Schedule& schedule);

}  // namespace houston::config
