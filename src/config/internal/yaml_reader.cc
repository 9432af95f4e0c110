#include "config/internal/yaml_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

namespace houston::config::internal {
namespace {

constexpr size_t kMaxReportedProblems = 200;

// yaml-cpp tags plain scalars "?" and quoted ones "!"; explicit tags (!!int) are kept as is.
bool IsQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

std::string Abbreviate(std::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() <= kMax) return std::string(s);
  return std::string(s.substr(0, kMax)) + "...";
}

}  // namespace

namespace {

// Records where each document starts and where its first node is.
class DocumentMarks : public YAML::EventHandler {
 public:
  struct Document {
    YAML::Mark start;
    std::optional<YAML::Mark> first_node;
  };
  std::vector<Document> documents;

  void OnDocumentStart(const YAML::Mark& mark) override { documents.push_back({mark, {}}); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (!documents.empty() && !documents.back().first_node) documents.back().first_node = mark;
  }
};

}  // namespace

StreamShape ScanDocuments(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentMarks marks;
  StreamShape shape;
  while (marks.documents.size() < 2 && parser.HandleNextDocument(marks)) {
  }
  if (marks.documents.size() == 2) {
    const DocumentMarks::Document& first = marks.documents[0];
    const DocumentMarks::Document& second = marks.documents[1];
    if (second.start.pos <= first.start.pos) {
      shape.stuck_at = second.start;
    } else {
      shape.second_document = second.first_node.value_or(second.start);
    }
  }
  return shape;
}

Position PositionOf(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return Position{mark.line + 1, mark.column + 1};
}

void Problems::Add(Position at, std::string_view path, std::string message) {
  std::string line;
  if (at.line > 0) {
    line = fmt::format("{}:{}:{}: ", filename_, at.line, at.column);
  } else {
    line = fmt::format("{}: ", filename_);
  }
  if (!path.empty()) {
    line += path;
    line += ": ";
  }
  line += message;
  // The line quotes user input; keep it printable on one line.
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  problems_.push_back(Problem{at, std::move(line)});
}

Status Problems::ToStatus() const {
  if (problems_.empty()) return OkStatus();
  std::vector<Problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
    return std::pair(a.at.line, a.at.column) < std::pair(b.at.line, b.at.column);
  });
  std::vector<std::string> details;
  for (size_t i = 0; i < sorted.size() && i < kMaxReportedProblems; ++i) {
    details.push_back(std::move(sorted[i].line));
  }
  if (sorted.size() > kMaxReportedProblems) {
    details.push_back(
        fmt::format("... and {} more problem(s)", sorted.size() - kMaxReportedProblems));
  }
  return InvalidArgument(fmt::format("{} is invalid: {} problem(s)", filename_, sorted.size()),
                         std::move(details));
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      if (IsQuoted(node)) return fmt::format("the quoted string \"{}\"", Abbreviate(node.Scalar()));
      return fmt::format("'{}'", Abbreviate(node.Scalar()));
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates) {
  constexpr size_t kMaxDistance = 2;
  std::string best;
  size_t best_distance = kMaxDistance + 1;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(word, c);
    // Short words are within distance 2 of almost anything; require half of them to match.
    if (d * 2 > word.size()) continue;
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

std::optional<std::string> AsString(const Value& v, Problems& problems) {
  if (!v.node.IsScalar()) {
    problems.Add(v.pos, v.path, fmt::format("expected a string, got {}", Describe(v.node)));
    return std::nullopt;
  }
  return v.node.Scalar();
}

std::optional<int64_t> AsInt(const Value& v, int64_t min, int64_t max, Problems& problems) {
  auto range = [&] {
    if (max == std::numeric_limits<int32_t>::max()) return fmt::format("at least {}", min);
    return fmt::format("between {} and {}", min, max);
  };
  if (!v.node.IsScalar()) {
    problems.Add(v.pos, v.path,
                 fmt::format("expected a whole number {}, got {}", range(), Describe(v.node)));
    return std::nullopt;
  }
  const std::string& s = v.node.Scalar();
  if (IsQuoted(v.node)) {
    problems.Add(v.pos, v.path,
                 fmt::format("expected a number, got {} (remove the quotes)", Describe(v.node)));
    return std::nullopt;
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) {
    problems.Add(v.pos, v.path, fmt::format("number {} is too large", Abbreviate(s)));
    return std::nullopt;
  }
  if (ec != std::errc() || end != s.data() + s.size()) {
    problems.Add(v.pos, v.path,
                 fmt::format("expected a whole number {}, got {}", range(), Describe(v.node)));
    return std::nullopt;
  }
  if (value < min || value > max) {
    problems.Add(v.pos, v.path, fmt::format("must be {}, got {}", range(), value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> AsPositiveDouble(const Value& v, Problems& problems) {
  if (!v.node.IsScalar()) {
    problems.Add(v.pos, v.path,
                 fmt::format("expected a number greater than 0, got {}", Describe(v.node)));
    return std::nullopt;
  }
  if (IsQuoted(v.node)) {
    problems.Add(v.pos, v.path,
                 fmt::format("expected a number, got {} (remove the quotes)", Describe(v.node)));
    return std::nullopt;
  }
  const std::string& s = v.node.Scalar();
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
    problems.Add(v.pos, v.path,
                 fmt::format("expected a number greater than 0, got {}", Describe(v.node)));
    return std::nullopt;
  }
  if (value <= 0) {
    problems.Add(v.pos, v.path, fmt::format("must be greater than 0, got {}", s));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> AsBool(const Value& v, Problems& problems) {
  if (v.node.IsScalar() && !IsQuoted(v.node)) {
    const std::string& s = v.node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  problems.Add(v.pos, v.path, fmt::format("expected true or false, got {}", Describe(v.node)));
  return std::nullopt;
}

std::optional<std::vector<Value>> AsList(const Value& v, Problems& problems) {
  if (v.node.IsNull()) return std::vector<Value>{};
  if (!v.node.IsSequence()) {
    problems.Add(v.pos, v.path, fmt::format("expected a list, got {}", Describe(v.node)));
    return std::nullopt;
  }
  std::vector<Value> out;
  size_t i = 0;
  for (const YAML::Node& element : v.node) {
    Position pos = element.IsNull() ? v.pos : PositionOf(element.Mark());
    out.push_back(Value{element, pos, fmt::format("{}[{}]", v.path, i)});
    ++i;
  }
  return out;
}

std::optional<std::vector<KeyValue>> AsEntries(const Value& v, Problems& problems) {
  if (v.node.IsNull()) return std::vector<KeyValue>{};
  if (!v.node.IsMap()) {
    problems.Add(v.pos, v.path, fmt::format("expected a mapping, got {}", Describe(v.node)));
    return std::nullopt;
  }
  std::vector<KeyValue> out;
  // yaml-cpp iterators yield their pairs by value: copy the nodes (cheap handles) rather than
  // binding references into a temporary.
  for (const auto& kv : v.node) {
    const YAML::Node key = kv.first;
    Position key_pos = PositionOf(key.Mark());
    if (!key.IsScalar()) {
      problems.Add(key_pos, v.path, fmt::format("keys must be strings, got {}", Describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    auto first =
        std::find_if(out.begin(), out.end(), [&](const KeyValue& kv) { return kv.key == name; });
    std::string path = fmt::format("{}.{}", v.path, name);
    if (first != out.end()) {
      problems.Add(key_pos, path,
                   fmt::format("duplicate key '{}' (first at line {}); keep only one",
                               Abbreviate(name), first->key_pos.line));
      continue;
    }
    const YAML::Node value = kv.second;
    Position pos = value.IsNull() ? key_pos : PositionOf(value.Mark());
    out.push_back(KeyValue{name, key_pos, Value{value, pos, std::move(path)}});
  }
  return out;
}

MapReader::MapReader(const Value& v, std::initializer_list<std::string_view> allowed_keys,
                     Problems& problems)
    : self_(v), problems_(problems) {
  if (!v.node.IsMap()) {
    problems_.Add(v.pos, v.path, fmt::format("expected a mapping, got {}", Describe(v.node)));
    return;
  }
  ok_ = true;
  std::vector<std::string_view> allowed(allowed_keys);
  // yaml-cpp iterators yield their pairs by value: copy the nodes (cheap handles) rather than
  // binding references into a temporary.
  for (const auto& kv : v.node) {
    const YAML::Node key = kv.first;
    Position key_pos = PositionOf(key.Mark());
    if (!key.IsScalar()) {
      problems_.Add(key_pos, v.path,
                    fmt::format("keys must be plain words, got {}", Describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    if (name == "<<") {
      problems_.Add(key_pos, PathOf(name),
                    "YAML merge keys (<<) are not supported; write the keys out");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string suggestion = ClosestMatch(name, allowed);
      std::string hint;
      if (!suggestion.empty()) {
        hint = fmt::format("did you mean '{}'?", suggestion);
      } else {
        hint = fmt::format("allowed: {}", fmt::join(allowed, ", "));
      }
      problems_.Add(key_pos, PathOf(name),
                    fmt::format("unknown key '{}' ({})", Abbreviate(name), hint));
      continue;
    }
    if (const Entry* first = Find(name)) {
      problems_.Add(key_pos, PathOf(name),
                    fmt::format("duplicate key '{}' (first at line {}); keep only one", name,
                                first->key_pos.line));
      continue;
    }
    entries_.push_back(Entry{name, key_pos, kv.second});
  }
}

std::string MapReader::PathOf(std::string_view key) const {
  if (self_.path.empty()) return std::string(key);
  return fmt::format("{}.{}", self_.path, key);
}

const MapReader::Entry* MapReader::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::optional<Value> MapReader::Get(std::string_view key) const {
  const Entry* e = Find(key);
  if (e == nullptr || e->value.IsNull()) return std::nullopt;
  return Value{e->value, PositionOf(e->value.Mark()), PathOf(key)};
}

Position MapReader::PositionOfKey(std::string_view key) const {
  const Entry* e = Find(key);
  if (e == nullptr) return self_.pos;
  if (e->value.IsNull()) return e->key_pos;
  return PositionOf(e->value.Mark());
}

bool MapReader::Require(std::string_view key) {
  if (!ok_) return false;
  const Entry* e = Find(key);
  if (e == nullptr) {
    problems_.Add(self_.pos, self_.path, fmt::format("missing required key '{}'", key));
    return false;
  }
  if (e->value.IsNull()) {
    problems_.Add(e->key_pos, PathOf(key), "is empty; give it a value");
    return false;
  }
  return true;
}

std::optional<std::string> MapReader::String(std::string_view key, bool required) {
  if (required && !Require(key)) return std::nullopt;
  std::optional<Value> v = Get(key);
  if (!v) return std::nullopt;
  std::optional<std::string> s = AsString(*v, problems_);
  if (s && s->empty()) {
    if (required) problems_.Add(v->pos, v->path, "must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> MapReader::Int(std::string_view key, int64_t min, int64_t max,
                                      bool required) {
  if (required && !Require(key)) return std::nullopt;
  std::optional<Value> v = Get(key);
  if (!v) return std::nullopt;
  return AsInt(*v, min, max, problems_);
}

std::optional<double> MapReader::PositiveDouble(std::string_view key) {
  std::optional<Value> v = Get(key);
  if (!v) return std::nullopt;
  return AsPositiveDouble(*v, problems_);
}

std::optional<bool> MapReader::Bool(std::string_view key) {
  std::optional<Value> v = Get(key);
  if (!v) return std::nullopt;
  return AsBool(*v, problems_);
}

std::vector<Value> MapReader::List(std::string_view key, bool required) {
  if (required && !Require(key)) return {};
  std::optional<Value> v = Get(key);
  if (!v) return {};
  return AsList(*v, problems_).value_or(std::vector<Value>{});
}

}  // namespace houston::config::internal
