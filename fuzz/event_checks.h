// Properties of every alert event a parser accepts, whatever the body: the JSON it keeps for
// later (stored, then served by the API and the UI) is well-formed and of the documented kind.
#pragma once

#include <boost/json/parse.hpp>
#include <string_view>

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

}  // namespace houston::fuzz
