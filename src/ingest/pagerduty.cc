// PagerDuty Events API v2 alert events and change events.

#include <fmt/format.h>

#include <array>
#include <string>
#include <utility>

#include "core/time_util.h"
#include "ingest/ingest.h"
#include "ingest/internal/json.h"

namespace houston::ingest {
namespace {

using internal::Members;
using internal::OptString;
using internal::Problems;
using internal::ReqString;
using simdjson::dom::element;
using OptElement = std::optional<element>;

constexpr std::string_view kInvalid = "Event object is invalid";
constexpr std::string_view kUnrecognized = "Event object format is unrecognized";

// PagerDuty's documented limit on the size of one event.
Status CheckEventSize(std::string_view body) {
  if (body.size() <= core::kMaxEventBodyBytes) return OkStatus();
  return InvalidArgument(std::string(kInvalid), {fmt::format("the event is larger than {} bytes",
                                                             core::kMaxEventBodyBytes)});
}

// Checks that the parsed body is an object; on failure, the PagerDuty-style error.
Result<simdjson::dom::object> EventObject(const internal::ParsedJson& json) {
  if (!json.ok()) {
    return std::unexpected(
        InvalidArgument(std::string(kUnrecognized),
                        {"JSON parse error: " + internal::JsonErrorReason(json.error())}));
  }
  simdjson::dom::object obj;
  if (json.root().get_object().get(obj) != simdjson::SUCCESS) {
    return std::unexpected(InvalidArgument(
        std::string(kUnrecognized),
        {fmt::format("the event must be a JSON object, not {}", internal::TypeName(json.root()))}));
  }
  return obj;
}

// What an Events API v1 field is called in v2, for a helpful "unknown field" message.
std::string_view V2NameOfV1Field(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kV1{{
      {"service_key", "routing_key"},
      {"event_type", "event_action"},
      {"incident_key", "dedup_key"},
      {"description", "payload.summary"},
      {"details", "payload.custom_details"},
      {"contexts", "links and images"},
  }};
  for (const auto& [v1, v2] : kV1) {
    if (v1 == key) return v2;
  }
  return {};
}

void RejectUnknown(const std::vector<std::string_view>& unknown, std::string_view prefix,
                   Problems& problems) {
  for (std::string_view key : unknown) {
    std::string_view v2 = prefix.empty() ? V2NameOfV1Field(key) : std::string_view();
    if (v2.empty()) {
      problems.Add(fmt::format("unknown field '{}{}'", prefix, key));
    } else {
      problems.Add(fmt::format(
          "unknown field '{}': that is an Events API v1 field, Events API v2 uses '{}'", key, v2));
    }
  }
}

// Checks `links` or `images` (an array of objects with a required `required` string member
// and optional `optional` string members); returns its JSON text, "[]" when absent.
std::string CheckLinkArray(const OptElement& v, std::string_view name, std::string_view required,
                           const std::array<std::string_view, 2>& optional, Problems& problems) {
  if (!v.has_value()) return "[]";
  simdjson::dom::array arr;
  if (v->get_array().get(arr) != simdjson::SUCCESS) {
    problems.Add(fmt::format("'{}' must be an array", name));
    return "[]";
  }
  size_t i = 0;
  for (element item : arr) {
    simdjson::dom::object obj;
    if (item.get_object().get(obj) != simdjson::SUCCESS) {
      problems.Add(fmt::format("'{}[{}]' must be an object", name, i));
    } else {
      std::array<std::string_view, 3> names{required, optional[0], optional[1]};
      Members<3> m = internal::SortMembers(obj, names, nullptr);
      for (size_t k = 0; k < 3; ++k) {
        if (names[k].empty()) continue;
        // Names are formatted only for problems: this runs for every link of every event.
        std::string_view s;
        if (!m[k].has_value()) {
          if (k == 0) problems.Add(fmt::format("'{}[{}].{}' is missing", name, i, names[k]));
        } else if (m[k]->get_string().get(s) != simdjson::SUCCESS) {
          problems.Add(fmt::format("'{}[{}].{}' must be a string", name, i, names[k]));
        } else if (k == 0 && s.empty()) {
          problems.Add(fmt::format("'{}[{}].{}' is missing", name, i, names[k]));
        }
      }
    }
    ++i;
  }
  return internal::ToJson(*v);
}

std::string CheckLinks(const OptElement& v, Problems& problems) {
  return CheckLinkArray(v, "links", "href", {"text", ""}, problems);
}
std::string CheckImages(const OptElement& v, Problems& problems) {
  return CheckLinkArray(v, "images", "src", {"href", "alt"}, problems);
}

// A required summary: 1..kMaxSummaryLength code points.
std::string CheckSummary(const OptElement& v, Problems& problems) {
  std::optional<std::string_view> s = ReqString(v, "'payload.summary'", problems);
  if (!s.has_value()) return {};
  if (internal::CodePoints(*s) > core::kMaxSummaryLength) {
    problems.Add(
        fmt::format("'payload.summary' is longer than {} characters", core::kMaxSummaryLength));
  }
  return std::string(*s);
}

std::optional<TimePoint> CheckTimestamp(const OptElement& v, Problems& problems) {
  std::optional<std::string_view> s = OptString(v, "'payload.timestamp'", problems);
  if (!s.has_value()) return std::nullopt;
  Result<TimePoint> t = ParseRfc3339(*s);
  if (!t.has_value()) {
    problems.Add(fmt::format("'payload.timestamp' is not a valid ISO 8601 timestamp: {}",
                             t.error().message()));
    return std::nullopt;
  }
  return *t;
}

std::string OptStringValue(const OptElement& v, std::string_view name, Problems& problems) {
  return std::string(OptString(v, name, problems).value_or(""));
}

// Validates a trigger's payload into `event`.
void CheckAlertPayload(const element& payload, core::AlertEvent& event, Problems& problems) {
  simdjson::dom::object obj;
  if (payload.get_object().get(obj) != simdjson::SUCCESS) {
    problems.Add("'payload' must be an object");
    return;
  }
  enum { kSummary, kSource, kSeverity, kTimestamp, kComponent, kGroup, kClass, kCustomDetails };
  static constexpr std::array<std::string_view, 8> kNames{"summary",   "source",        "severity",
                                                          "timestamp", "component",     "group",
                                                          "class",     "custom_details"};
  std::vector<std::string_view> unknown;
  Members<8> m = internal::SortMembers(obj, kNames, &unknown);
  event.summary = CheckSummary(m[kSummary], problems);
  event.source = std::string(ReqString(m[kSource], "'payload.source'", problems).value_or(""));
  if (!m[kSeverity].has_value()) {
    problems.Add("'payload.severity' is missing");
  } else if (std::optional<std::string_view> sev =
                 OptString(m[kSeverity], "'payload.severity'", problems)) {
    if (std::optional<core::Severity> parsed = core::ParseSeverity(*sev)) {
      event.severity = *parsed;
    } else {
      problems.Add("'payload.severity' must be one of critical, error, warning, info");
    }
  }
  event.timestamp = CheckTimestamp(m[kTimestamp], problems);
  event.component = OptStringValue(m[kComponent], "'payload.component'", problems);
  event.group = OptStringValue(m[kGroup], "'payload.group'", problems);
  event.klass = OptStringValue(m[kClass], "'payload.class'", problems);
  event.details_json = internal::DetailsJson(m[kCustomDetails]);
  RejectUnknown(unknown, "payload.", problems);
}

}  // namespace

Result<core::AlertEvent> ParseEventsV2(std::string_view body) {
  HOUSTON_RETURN_IF_ERROR(CheckEventSize(body));
  internal::ParsedJson json(body);
  HOUSTON_ASSIGN_OR_RETURN(simdjson::dom::object obj, EventObject(json));

  enum { kRoutingKey, kEventAction, kDedupKey, kPayload, kClient, kClientUrl, kImages, kLinks };
  static constexpr std::array<std::string_view, 8> kNames{
      "routing_key", "event_action", "dedup_key", "payload",
      "client",      "client_url",   "images",    "links"};
  std::vector<std::string_view> unknown;
  Members<8> m = internal::SortMembers(obj, kNames, &unknown);
  Problems problems;
  core::AlertEvent event;

  event.integration_key =
      std::string(ReqString(m[kRoutingKey], "'routing_key'", problems).value_or(""));

  std::optional<core::EventAction> action;
  if (!m[kEventAction].has_value()) {
    problems.Add("'event_action' is missing");
  } else if (std::optional<std::string_view> a =
                 OptString(m[kEventAction], "'event_action'", problems)) {
    action = core::ParseEventAction(*a);
    if (!action.has_value()) {
      problems.Add("'event_action' must be one of trigger, acknowledge, resolve");
    }
  }
  if (action.has_value()) event.action = *action;

  // An empty dedup_key is the same as none: on a trigger the store generates one.
  std::string_view dedup = OptString(m[kDedupKey], "'dedup_key'", problems).value_or("");
  if (internal::CodePoints(dedup) > core::kMaxDedupKeyLength) {
    problems.Add(fmt::format("'dedup_key' is longer than {} characters", core::kMaxDedupKeyLength));
  }
  event.dedup_key = std::string(dedup);
  if (action.has_value() && *action != core::EventAction::kTrigger && dedup.empty() &&
      !(m[kDedupKey].has_value() && !m[kDedupKey]->is_string())) {
    problems.Add(fmt::format("'dedup_key' is missing (it is required for {} events)",
                             core::ToString(*action)));
  }

  // The payload matters only for triggers. When event_action is unusable we still check a
  // payload that is there, so that the sender learns about all of its problems at once.
  bool check_payload =
      action == core::EventAction::kTrigger || (!action.has_value() && m[kPayload].has_value());
  if (check_payload) {
    if (m[kPayload].has_value()) {
      CheckAlertPayload(*m[kPayload], event, problems);
    } else {
      problems.Add("'payload' is missing");
    }
  }
  if (event.details_json.empty()) event.details_json = "{}";

  event.client = OptStringValue(m[kClient], "'client'", problems);
  event.client_url = OptStringValue(m[kClientUrl], "'client_url'", problems);
  event.images_json = CheckImages(m[kImages], problems);
  event.links_json = CheckLinks(m[kLinks], problems);
  RejectUnknown(unknown, "", problems);

  if (!problems.empty())
    return std::unexpected(std::move(problems).ToStatus(std::string(kInvalid)));
  return event;
}

Result<core::ChangeEvent> ParseChangeEvent(std::string_view body) {
  HOUSTON_RETURN_IF_ERROR(CheckEventSize(body));
  internal::ParsedJson json(body);
  HOUSTON_ASSIGN_OR_RETURN(simdjson::dom::object obj, EventObject(json));

  enum { kRoutingKey, kPayload, kLinks, kImages };
  static constexpr std::array<std::string_view, 4> kNames{"routing_key", "payload", "links",
                                                          "images"};
  std::vector<std::string_view> unknown;
  Members<4> m = internal::SortMembers(obj, kNames, &unknown);
  Problems problems;
  core::ChangeEvent event;

  event.integration_key =
      std::string(ReqString(m[kRoutingKey], "'routing_key'", problems).value_or(""));
  event.details_json = "{}";
  simdjson::dom::object payload;
  if (!m[kPayload].has_value()) {
    problems.Add("'payload' is missing");
  } else if (m[kPayload]->get_object().get(payload) != simdjson::SUCCESS) {
    problems.Add("'payload' must be an object");
  } else {
    enum { kSummary, kSource, kTimestamp, kCustomDetails };
    static constexpr std::array<std::string_view, 4> kPayloadNames{"summary", "source", "timestamp",
                                                                   "custom_details"};
    std::vector<std::string_view> unknown_in_payload;
    Members<4> p = internal::SortMembers(payload, kPayloadNames, &unknown_in_payload);
    event.summary = CheckSummary(p[kSummary], problems);
    event.source = OptStringValue(p[kSource], "'payload.source'", problems);
    event.timestamp = CheckTimestamp(p[kTimestamp], problems);
    event.details_json = internal::DetailsJson(p[kCustomDetails]);
    RejectUnknown(unknown_in_payload, "payload.", problems);
  }
  event.links_json = CheckLinks(m[kLinks], problems);
  CheckImages(m[kImages], problems);  // accepted for compatibility, not kept
  RejectUnknown(unknown, "", problems);

  if (!problems.empty())
    return std::unexpected(std::move(problems).ToStatus(std::string(kInvalid)));
  return event;
}

}  // namespace houston::ingest
