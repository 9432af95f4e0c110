// Properties of every alert event a parser accepts, whatever the body: the JSON it keeps for
// later (stored, then served by the API and the UI) is well-formed and of the documented kind.
#pragma once

#include <boost/json/parse.hpp>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "fuzz/fuzz_util.h"

namespace houston::fuzz {

// Whether `text` is JSON whose top level is an object (`object`) or an array.
inline bool JsonOfKind(std::string_view text, bool object) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  return !ec && (object ? v.is_object() : v.is_array());
}

inline void CheckEvent(const core::AlertEvent& e) {
  Check(JsonOfKind(e.details_json, true), "details_json is not a JSON object");
  Check(JsonOfKind(e.links_json, false), "links_json is not a JSON array");
  Check(JsonOfKind(e.images_json, false), "images_json is not a JSON array");
}

// A parsed Alertmanager-shaped batch: a refusal says why; each alert has a dedup key, passes
// CheckEvent and keeps the integration key it arrived on.
inline void CheckBatch(const Result<std::vector<core::AlertEvent>>& parsed,
                       std::string_view integration_key) {
  if (!parsed) {
    Check(!parsed.error().message().empty(), "an error without a message");
    return;
  }
  for (const core::AlertEvent& e : *parsed) {
    Check(!e.dedup_key.empty(), "an alert without a dedup key");
    CheckEvent(e);
    Check(e.integration_key == integration_key, "the integration key is not kept");
  }
}

}  // namespace houston::fuzz
