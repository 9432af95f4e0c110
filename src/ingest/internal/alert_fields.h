// What the Alertmanager-shaped formats share: an alert is a label set and annotations (the
// Alertmanager webhook, Grafana's webhook, and the Alertmanager API v2 body that Prometheus
// posts). Reading those members with problems named by alert index, the label fingerprint, and
// the mapping of labels and annotations onto an AlertEvent.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/types.h"
#include "ingest/internal/json.h"

namespace houston::ingest::internal {

// A label set or annotations, sorted by name (views into the parsed body).
using LabelMap = std::map<std::string_view, std::string_view>;

// Alertmanager's (Go's) zero time.Time: an alert that has not ended.
inline constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";

// Checks that `v` is an object whose values are all strings and returns it. Adds
// "alerts[<index>].<field> must be an object of strings" otherwise.
std::optional<LabelMap> StringMap(const simdjson::dom::element& v, size_t index,
                                  std::string_view field, Problems& problems);

// m[key], or "" when absent.
std::string_view Lookup(const LabelMap& m, std::string_view key);

// alerts[index].field as a string, or nullopt when absent; names a non-string in `problems`.
std::optional<std::string_view> AlertString(const std::optional<simdjson::dom::element>& v,
                                            size_t index, std::string_view field,
                                            Problems& problems);

// An RFC 3339 time that may be unset (absent, empty or Go's zero time written any way).
std::optional<TimePoint> AlertTime(std::optional<std::string_view> s, size_t index,
                                   std::string_view field, Problems& problems);

// An alert's annotations: an object of strings, empty when absent or invalid (named in
// `problems`).
LabelMap ReadAnnotations(const std::optional<simdjson::dom::element>& v, size_t index,
                         Problems& problems);

// An alert's startsAt and endsAt as written (for messages) and as times (nullopt: unset).
struct AlertTimes {
  std::optional<std::string_view> starts_at;
  std::optional<std::string_view> ends_at;
  std::optional<TimePoint> start;
  std::optional<TimePoint> end;
};
AlertTimes ReadAlertTimes(const std::optional<simdjson::dom::element>& starts_at,
                          const std::optional<simdjson::dom::element>& ends_at, size_t index,
                          Problems& problems);

// Hex SHA-256 of the labels as sorted "name=value\n" lines.
std::string LabelHash(const LabelMap& labels);

// Alertmanager's fingerprint of a label set (prometheus/common model.LabelSet.Fingerprint): a
// 64-bit FNV-1a over the labels sorted by name, each name and value followed by the byte 0xff,
// as 16 lower-case hex digits. The same labels give the same value as the `fingerprint` of
// Alertmanager's webhook and API.
std::string LabelFingerprint(const LabelMap& labels);

// Appends {"href":..,"text":..} to a JSON array being built ("[" so far, or "[{...}").
void AppendLink(std::string& links, std::string_view href, std::string_view text);

// Fills what the labels and annotations say on `event`: summary (annotations.summary, else
// annotations.description, else `alertname{label="value", ...}`, else "<sender> alert"; cut to
// core::kMaxSummaryLength code points), severity (labels.severity, see AlertmanagerSeverity),
// source (labels.instance, else labels.job, else `default_source`), component (labels.job),
// group (labels.namespace, else labels.cluster).
void MapLabels(const LabelMap& labels, const LabelMap& annotations, std::string_view sender,
               std::string_view default_source, core::AlertEvent& event);

}  // namespace houston::ingest::internal
