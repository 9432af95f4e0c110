// Generic JSON webhook: any JSON object, fields found through a configured mapping.

#include <fmt/format.h>

#include <charconv>
#include <string>
#include <utility>

#include "ingest/ingest.h"
#include "ingest/internal/json.h"

namespace houston::ingest {
namespace {

using internal::Problems;
using simdjson::dom::element;
using OptElement = std::optional<element>;

// Follows a dotted path from `root`; nullopt when the path is empty, leads nowhere or ends at
// JSON null. A segment of digits indexes an array.
OptElement Resolve(const element& root, std::string_view path) {
  if (path.empty()) return std::nullopt;
  element cur = root;
  while (true) {
    size_t dot = path.find('.');
    std::string_view segment = path.substr(0, dot);
    simdjson::dom::object obj;
    simdjson::dom::array arr;
    element next;
    if (cur.get_object().get(obj) == simdjson::SUCCESS) {
      if (obj.at_key(segment).get(next) != simdjson::SUCCESS) return std::nullopt;
    } else if (cur.get_array().get(arr) == simdjson::SUCCESS) {
      size_t index = 0;
      auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
      if (segment.empty() || ec != std::errc() || end != segment.data() + segment.size() ||
          arr.at(index).get(next) != simdjson::SUCCESS) {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
    cur = next;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  if (cur.is_null()) return std::nullopt;
  return cur;
}

// "'summary'" or "'summary' (mapped from 'alert.title')".
std::string FieldName(std::string_view field, std::string_view path) {
  if (path == field) return fmt::format("'{}'", field);
  return fmt::format("'{}' (mapped from '{}')", field, path);
}

// Looks `value` up in `table`, then as a literal word, then lower-cased.
template <typename T>
std::optional<T> MapValue(std::string_view value, const std::map<std::string, std::string>& table,
                          std::optional<T> (*parse)(std::string_view)) {
  auto it = table.find(std::string(value));
  if (it != table.end()) return parse(it->second);
  if (std::optional<T> v = parse(value)) return v;
  return parse(internal::AsciiLower(value));
}

}  // namespace

Status ValidateGenericMapping(const GenericMapping& m) {
  if (m.summary.empty()) return InvalidArgument("the generic mapping must map 'summary'");
  for (const auto& [from, to] : m.action_values) {
    if (!core::ParseEventAction(to)) {
      return InvalidArgument(fmt::format(
          "action_values maps '{}' to '{}', which is not one of trigger, acknowledge, resolve",
          from, to));
    }
  }
  for (const auto& [from, to] : m.severity_values) {
    if (!core::ParseSeverity(to)) {
      return InvalidArgument(fmt::format(
          "severity_values maps '{}' to '{}', which is not one of critical, error, warning, info",
          from, to));
    }
  }
  return OkStatus();
}

Result<core::AlertEvent> ParseGeneric(std::string_view body, std::string_view integration_key,
                                      const GenericMapping& m) {
  internal::ParsedJson json(body);
  if (!json.ok()) {
    return std::unexpected(InvalidArgument(internal::BodyErrorMessage(json.error())));
  }
  const element root = json.root();
  if (!root.is_object()) {
    return std::unexpected(InvalidArgument(
        fmt::format("body must be a JSON object, not {}", internal::TypeName(root))));
  }
  Problems problems;
  core::AlertEvent event;
  event.integration_key = std::string(integration_key);

  std::string summary_name = FieldName("summary", m.summary);
  if (std::optional<std::string_view> summary =
          internal::ReqString(Resolve(root, m.summary), summary_name, problems)) {
    if (internal::CodePoints(*summary) > core::kMaxSummaryLength) {
      problems.Add(
          fmt::format("{} is longer than {} characters", summary_name, core::kMaxSummaryLength));
    }
    event.summary = std::string(*summary);
  }

  std::string severity_name = FieldName("severity", m.severity);
  if (std::optional<std::string_view> severity =
          internal::OptString(Resolve(root, m.severity), severity_name, problems)) {
    if (std::optional<core::Severity> s =
            MapValue<core::Severity>(*severity, m.severity_values, &core::ParseSeverity)) {
      event.severity = *s;
    } else {
      problems.Add(fmt::format(
          "{} must be one of critical, error, warning, info or a key of severity_values "
          "(got '{}')",
          severity_name, internal::TruncateCodePoints(*severity, 64)));
    }
  }

  std::string action_name = FieldName("action", m.action);
  std::optional<core::EventAction> action = core::EventAction::kTrigger;
  if (std::optional<std::string_view> a =
          internal::OptString(Resolve(root, m.action), action_name, problems)) {
    action = MapValue<core::EventAction>(*a, m.action_values, &core::ParseEventAction);
    if (!action.has_value()) {
      problems.Add(fmt::format(
          "{} must be one of trigger, acknowledge, resolve or a key of action_values (got '{}')",
          action_name, internal::TruncateCodePoints(*a, 64)));
    }
  }
  if (action.has_value()) event.action = *action;

  std::string dedup_name = FieldName("dedup_key", m.dedup_key);
  bool dedup_bad = false;
  if (OptElement dedup = Resolve(root, m.dedup_key)) {
    std::string_view s;
    if (dedup->get_string().get(s) == simdjson::SUCCESS) {
      event.dedup_key = std::string(s);
    } else if (dedup->is_number()) {
      event.dedup_key = internal::ToJson(*dedup);
    } else {
      problems.Add(fmt::format("{} must be a string or a number", dedup_name));
      dedup_bad = true;
    }
    if (internal::CodePoints(event.dedup_key) > core::kMaxDedupKeyLength) {
      problems.Add(
          fmt::format("{} is longer than {} characters", dedup_name, core::kMaxDedupKeyLength));
    }
  }
  if (event.dedup_key.empty() && !dedup_bad && action.has_value() &&
      *action != core::EventAction::kTrigger) {
    problems.Add(fmt::format("{} is missing (it is required for {} events)", dedup_name,
                             core::ToString(*action)));
  }

  std::string source_name = FieldName("source", m.source);
  event.source =
      std::string(internal::OptString(Resolve(root, m.source), source_name, problems).value_or(""));
  if (event.source.empty()) event.source = "generic";

  OptElement details = Resolve(root, m.details);
  event.details_json = internal::DetailsJson(details.has_value() ? details : OptElement(root));
  event.links_json = "[]";
  event.images_json = "[]";

  if (!problems.empty()) return std::unexpected(std::move(problems).ToStatusFirst());
  return event;
}

}  // namespace houston::ingest
