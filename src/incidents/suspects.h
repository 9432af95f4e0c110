// Suspect changes of an incident: the change events on its services and on the services they
// depend on, in the hours before impact started, ranked (core::RankSuspectChanges).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/incident.h"
#include "store/store.h"

namespace houston::incidents {

// Reads the candidate changes from `store`; `limit` caps the answer. Thread-safe.
Result<std::vector<core::SuspectChange>> FindSuspects(store::AlertStore& store,
                                                      const config::Org& org,
                                                      const core::Incident& incident,
                                                      size_t limit = 10);

// One line for people: "checkout v42 (deploy-bot): 12 min before impact started, on checkout
// (affected)".
std::string SuspectLine(const core::SuspectChange& s);

}  // namespace houston::incidents
