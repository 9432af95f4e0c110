// Helpers shared by the ingest parsers: parsing with a per-thread simdjson DOM parser, reading
// typed members while collecting problems, UTF-8 length rules and a tiny JSON writer.
//
// Only simdjson's error-code API is used here; nothing in this module throws.
#pragma once

#include "core/json_util.h"

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace houston::ingest::internal {

// Parses one body with this thread's reusable simdjson parser (max depth kMaxJsonDepth). The
// root element and everything reached from it stay valid while this object lives. At most one
// ParsedJson may be alive per thread (checked). Not copyable; thread-compatible.
class ParsedJson {
 public:
  explicit ParsedJson(std::string_view body);
  ~ParsedJson();
  ParsedJson(const ParsedJson&) = delete;
  ParsedJson& operator=(const ParsedJson&) = delete;

  bool ok() const { return error_ == simdjson::SUCCESS; }
  simdjson::error_code error() const { return error_; }
  // Precondition: ok().
  simdjson::dom::element root() const { return root_; }

 private:
  simdjson::error_code error_ = simdjson::SUCCESS;
  simdjson::dom::element root_;
};

// Why parsing failed, in words: "not valid UTF-8", "nested deeper than 64 levels", "empty
// body", else simdjson's own message.
std::string JsonErrorReason(simdjson::error_code code);
// "body is not valid UTF-8" or "body is not valid JSON: <reason>".
std::string BodyErrorMessage(simdjson::error_code code);

// "an object", "an array", "a string", "a number", "a boolean", "null".
std::string_view TypeName(const simdjson::dom::element& e);

// Collects every problem found in one input.
class Problems {
 public:
  void Add(std::string problem) { list_.push_back(std::move(problem)); }
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  const std::vector<std::string>& list() const { return list_; }
  // InvalidArgument(message, every problem).
  Status ToStatus(std::string message) &&;
  // InvalidArgument whose message is the only problem, or "<first> (and N more problems)".
  Status ToStatusFirst() &&;

 private:
  std::vector<std::string> list_;
};

// The members of one JSON object, sorted into slots by name. JSON null counts as absent. When
// a name occurs twice the last one wins (as in Go's encoding/json).
template <size_t N>
struct Members {
  std::array<std::optional<simdjson::dom::element>, N> slots;
  const std::optional<simdjson::dom::element>& operator[](size_t i) const { return slots[i]; }
};

// Sorts the members of `obj` into slots of `names`. Unknown names are returned (in order) so
// the caller can reject or ignore them.
template <size_t N>
Members<N> SortMembers(const simdjson::dom::object& obj,
                       const std::array<std::string_view, N>& names,
                       std::vector<std::string_view>* unknown) {
  Members<N> m;
  for (simdjson::dom::key_value_pair kv : obj) {
    size_t i = 0;
    while (i < N && names[i] != kv.key) ++i;
    if (i == N) {
      if (unknown != nullptr) unknown->push_back(kv.key);
      continue;
    }
    if (kv.value.is_null()) {
      m.slots[i].reset();
    } else {
      m.slots[i] = kv.value;
    }
  }
  return m;
}

// The value of an optional string member, or nullopt when it is absent. A non-string adds
// "<name> must be a string" and gives nullopt. `name` is used verbatim (callers quote it).
std::optional<std::string_view> OptString(const std::optional<simdjson::dom::element>& v,
                                          std::string_view name, Problems& problems);
// Like OptString, but an absent or empty member adds "<name> is missing".
std::optional<std::string_view> ReqString(const std::optional<simdjson::dom::element>& v,
                                          std::string_view name, Problems& problems);

// Number of Unicode code points in valid UTF-8 `s`.
size_t CodePoints(std::string_view s);
// The longest prefix of valid UTF-8 `s` with at most `max` code points.
std::string_view TruncateCodePoints(std::string_view s, size_t max);

// Quoting a JSON string: core's.
using ::houston::AppendJsonString;
// Compact JSON text of `e`.
std::string ToJson(const simdjson::dom::element& e);
// ToJson(e) if `e` is an object, else {"details": ToJson(e)}; "{}" when absent.
std::string DetailsJson(const std::optional<simdjson::dom::element>& e);

// Lower-cases ASCII letters.
std::string AsciiLower(std::string_view s);

}  // namespace houston::ingest::internal
