// Reading yaml-cpp nodes with precise, collected problem reports.
//
// Internal to config/: the parser walks the document once, asking a MapReader for each mapping's
// fields; every type error, unknown key or bad value is added to a Problems list (with its
// position and path) instead of stopping, so that one run reports everything.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace houston::config::internal {

// 1-based line and column for humans; 0 means unknown.
struct Position {
  int line = 0;
  int column = 0;
};
Position PositionOf(const YAML::Mark& mark);

// The problems found in one file. Thread-compatible.
class Problems {
 public:
  explicit Problems(std::string filename) : filename_(std::move(filename)) {}

  // `path` is where in the document ("users[2].contact_methods[0].type"); may be empty.
  void Add(Position at, std::string_view path, std::string message);
  bool empty() const { return problems_.empty(); }
  size_t size() const { return problems_.size(); }
  // OkStatus() if there are none; otherwise InvalidArgument("<file> is invalid: N problem(s)")
  // with one detail line per problem, ordered by position.
  Status ToStatus() const;

 private:
  struct Problem {
    Position at;
    std::string line;
  };
  std::string filename_;
  std::vector<Problem> problems_;
};

// A node with its position and its path in the document.
struct Value {
  YAML::Node node;
  Position pos;
  std::string path;
};

// "a mapping", "a list", "the string \"abc\"", "nothing".
std::string Describe(const YAML::Node& node);

// What the documents of a YAML stream look like, read without building them.
struct StreamShape {
  // Where the second document's first node is, if there is a second document.
  std::optional<YAML::Mark> second_document;
  // Set when reading stops making progress at this mark: yaml-cpp 0.7 reads some malformed
  // streams (one that starts with ',', say) as endless empty documents at the same place, so its
  // LoadAll never returns and fills memory (found by fuzz/org_yaml_fuzz.cc).
  std::optional<YAML::Mark> stuck_at;
};
// Reads at most the first two documents of `text`. Throws YAML::Exception on a syntax error
// (the caller is the adapter). Use it before YAML::Load, never YAML::LoadAll.
StreamShape ScanDocuments(const std::string& text);

// Levenshtein distance (bytes).
size_t EditDistance(std::string_view a, std::string_view b);
// The closest of `candidates` within edit distance 2 of `word` (and at most half its length),
// or "".
std::string ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates);

// Scalar conversions. Each reports a problem (at v.pos, v.path) and returns nullopt on failure.
// Numbers and booleans must be unquoted; strings may be quoted or not.
std::optional<std::string> AsString(const Value& v, Problems& problems);
std::optional<int64_t> AsInt(const Value& v, int64_t min, int64_t max, Problems& problems);
std::optional<double> AsPositiveDouble(const Value& v, Problems& problems);
std::optional<bool> AsBool(const Value& v, Problems& problems);
// The elements of a list, with paths "<path>[i]". A null node is an empty list. Reports and
// returns nullopt if `v` is not a list.
std::optional<std::vector<Value>> AsList(const Value& v, Problems& problems);

// One entry of a mapping with free-form keys (headers, value maps).
struct KeyValue {
  std::string key;
  Position key_pos;
  Value value;  // path "<map path>.<key>"
};
// The entries of a mapping whose keys are data rather than field names. Reports non-string and
// duplicate keys (skipping them). A null node is an empty mapping. Reports and returns nullopt if
// `v` is not a mapping.
std::optional<std::vector<KeyValue>> AsEntries(const Value& v, Problems& problems);

// One YAML mapping: checks that the node is a mapping, reports unknown keys (with a "did you
// mean" suggestion) and duplicate keys, and reads fields by name. A key whose value is null
// (`key:` or `key: ~`) counts as absent. Thread-compatible.
class MapReader {
 public:
  MapReader(const Value& v, std::initializer_list<std::string_view> allowed_keys,
            Problems& problems);

  // False if the node is not a mapping (already reported); every getter then returns nullopt.
  bool ok() const { return ok_; }
  const Value& self() const { return self_; }
  const std::string& path() const { return self_.path; }
  std::string PathOf(std::string_view key) const;

  // The value of `key` if present and not null.
  std::optional<Value> Get(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  // Reports "missing required key" unless `key` is present and not null.
  bool Require(std::string_view key);
  // Where `key` was written (its value, or the key itself when the value is null), else the
  // mapping's own position.
  Position PositionOfKey(std::string_view key) const;

  // Typed getters: nullopt when absent (reported only if `required`) or invalid (reported).
  // String(): an empty string counts as absent.
  std::optional<std::string> String(std::string_view key, bool required = false);
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max, bool required = false);
  std::optional<double> PositiveDouble(std::string_view key);
  std::optional<bool> Bool(std::string_view key);
  // Absent: an empty list (reported if `required`). Not a list: reported, empty.
  std::vector<Value> List(std::string_view key, bool required = false);

 private:
  struct Entry {
    std::string key;
    Position key_pos;
    YAML::Node value;
  };
  const Entry* Find(std::string_view key) const;

  Value self_;
  Problems& problems_;
  bool ok_ = false;
  std::vector<Entry> entries_;
};

}  // namespace houston::config::internal
