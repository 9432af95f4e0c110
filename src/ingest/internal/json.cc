#include "ingest/internal/json.h"

#include <fmt/format.h>

#include <memory>

#include "ingest/ingest.h"

namespace houston::ingest::internal {
namespace {

// A fresh parser is sized for typical events; it grows on demand (keeping the depth limit).
constexpr size_t kInitialCapacity = 16 * 1024;
// After a body larger than this, the thread's parser is dropped so that one big Alertmanager
// batch does not pin megabytes in every I/O thread.
constexpr size_t kRetainCapacity = 1024 * 1024;

struct ThreadParser {
  std::unique_ptr<simdjson::dom::parser> parser;
  bool in_use = false;
};

ThreadParser& GetThreadParser() {
  thread_local ThreadParser tp;
  return tp;
}

}  // namespace

ParsedJson::ParsedJson(std::string_view body) {
  ThreadParser& tp = GetThreadParser();
  HOUSTON_CHECK(!tp.in_use);  // one ParsedJson per thread at a time
  tp.in_use = true;
  if (tp.parser == nullptr) {
    auto parser = std::make_unique<simdjson::dom::parser>();
    error_ = parser->allocate(kInitialCapacity, kMaxJsonDepth);
    if (error_ != simdjson::SUCCESS) return;
    tp.parser = std::move(parser);
  }
  // realloc_if_needed: copies the body into the parser's padded buffer, reused across calls.
  error_ = tp.parser->parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(root_);
}

ParsedJson::~ParsedJson() {
  ThreadParser& tp = GetThreadParser();
  tp.in_use = false;
  if (tp.parser != nullptr && tp.parser->capacity() > kRetainCapacity) tp.parser.reset();
}

std::string JsonErrorReason(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return "not valid UTF-8";
    case simdjson::DEPTH_ERROR:
      return fmt::format("nested deeper than {} levels", kMaxJsonDepth);
    case simdjson::EMPTY:
      return "empty body";
    default:
      return simdjson::error_message(code);
  }
}

std::string BodyErrorMessage(simdjson::error_code code) {
  if (code == simdjson::UTF8_ERROR) return "body is not valid UTF-8";
  return "body is not valid JSON: " + JsonErrorReason(code);
}

std::string_view TypeName(const simdjson::dom::element& e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

Status Problems::ToStatus(std::string message) && {
  return InvalidArgument(std::move(message), std::move(list_));
}

Status Problems::ToStatusFirst() && {
  HOUSTON_CHECK(!list_.empty());
  std::string message = list_.size() == 1
                            ? list_.front()
                            : fmt::format("{} (and {} more problem{})", list_.front(),
                                          list_.size() - 1, list_.size() == 2 ? "" : "s");
  return InvalidArgument(std::move(message), std::move(list_));
}

std::optional<std::string_view> OptString(const std::optional<simdjson::dom::element>& v,
                                          std::string_view name, Problems& problems) {
  if (!v.has_value()) return std::nullopt;
  std::string_view s;
  if (v->get_string().get(s) != simdjson::SUCCESS) {
    problems.Add(fmt::format("{} must be a string", name));
    return std::nullopt;
  }
  return s;
}

std::optional<std::string_view> ReqString(const std::optional<simdjson::dom::element>& v,
                                          std::string_view name, Problems& problems) {
  if (!v.has_value()) {
    problems.Add(fmt::format("{} is missing", name));
    return std::nullopt;
  }
  std::optional<std::string_view> s = OptString(v, name, problems);
  if (s.has_value() && s->empty()) {
    problems.Add(fmt::format("{} is missing", name));
    return std::nullopt;
  }
  return s;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    // Count every byte that is not a UTF-8 continuation byte (10xxxxxx).
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string_view TruncateCodePoints(std::string_view s, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == max) return s.substr(0, i);
      ++n;
    }
  }
  return s;
}

std::string ToJson(const simdjson::dom::element& e) { return simdjson::minify(e); }

std::string DetailsJson(const std::optional<simdjson::dom::element>& e) {
  if (!e.has_value()) return "{}";
  if (e->is_object()) return ToJson(*e);
  return "{\"details\":" + ToJson(*e) + "}";
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace houston::ingest::internal
