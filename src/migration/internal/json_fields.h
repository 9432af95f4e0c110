// Lenient reads of the importers' JSON objects: a field that is absent or of another type reads
// as empty (nullptr, ""), because the source tools leave fields out freely; what must be there is
// checked by the mappers, which name the object in the report.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace houston::migration {

inline const boost::json::object* ObjAt(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

inline const boost::json::array* ArrAt(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

inline std::string Str(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace houston::migration
