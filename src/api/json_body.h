// Strict readers of JSON request bodies for every domain's handlers: each problem is collected
// with the field's name, fields nobody asked for are reported as unknown, and Finish() turns the
// lot into one InvalidArgument (HTTP 400 naming every field). OrgCheck checks ids in a body
// against the current org, naming the field and the choices.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "core/types.h"

namespace houston::api {

inline constexpr size_t kMaxBodyText = 20000;

// Reads a JSON object body strictly. Not thread-safe (one request's reader).
class JsonBody {
 public:
  // InvalidArgument when `text` is not a JSON object (an empty body is an empty object when
  // `allow_empty`).
  static Result<JsonBody> Parse(std::string_view text, bool allow_empty = false);

  // Whether `key` is present (and marks it as known).
  bool Has(std::string_view key);
  // The value of `key`, or nullptr (and marks it as known).
  const boost::json::value* Get(std::string_view key);
  bool IsNull(std::string_view key);
  void Problem(std::string p);
  bool has_problems() const { return !problems_.empty(); }

  // Each reader returns nullopt when the field is absent or null, and records a problem when it
  // has the wrong type or is out of bounds.
  std::optional<std::string> String(std::string_view key, bool required = false,
                                    size_t max_len = kMaxBodyText, bool allow_empty = true);
  // A string, or a number written as one (for "sev": 2).
  std::optional<std::string> StringOrNumber(std::string_view key);
  std::optional<std::vector<std::string>> StringList(std::string_view key, size_t max_items,
                                                     size_t max_len = 200);
  std::optional<bool> Bool(std::string_view key);
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max);
  // An RFC 3339 time; `null` clears (outer optional set, inner empty).
  std::optional<std::optional<TimePoint>> TimeOrNull(std::string_view key);
  const boost::json::object* Object(std::string_view key);

  // InvalidArgument listing every problem (and unknown fields), or OK.
  Status Finish();

 private:
  boost::json::object obj_;
  std::set<std::string, std::less<>> seen_;
  std::vector<std::string> problems_;
};

using config::KnownIds;

// Checks ids against the org (when there is one), recording a problem on `body` that names the
// field and the choices. Not thread-safe.
class OrgCheck {
 public:
  OrgCheck(const config::Org* org, JsonBody& body) : org_(org), body_(body) {}

  bool User(const std::string& id, std::string_view field);
  bool Team(const std::string& id, std::string_view field);
  bool Service(const std::string& id, std::string_view field);
  bool Role(const std::string& id, std::string_view field);
  // The SEV level `input` names ("2", "sev2", "SEV2"), or nullopt with a problem recorded.
  std::optional<std::string> Sev(const std::string& input, std::string_view field);
  std::vector<std::string> Levels() const;

 private:
  const config::Org* org_;
  JsonBody& body_;
};

}  // namespace houston::api
