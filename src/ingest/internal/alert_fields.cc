#include "ingest/internal/alert_fields.h"

#include <fmt/format.h>

#include <cstdint>

#include "core/random.h"
#include "core/time_util.h"
#include "ingest/ingest.h"

namespace houston::ingest::internal {

std::optional<LabelMap> StringMap(const simdjson::dom::element& v, size_t index,
                                  std::string_view field, Problems& problems) {
  simdjson::dom::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) {
    problems.Add(fmt::format("alerts[{}].{} must be an object of strings", index, field));
    return std::nullopt;
  }
  LabelMap out;
  for (simdjson::dom::key_value_pair kv : obj) {
    std::string_view s;
    if (kv.value.get_string().get(s) != simdjson::SUCCESS) {
      problems.Add(fmt::format("alerts[{}].{} must be an object of strings ('{}' is {})", index,
                               field, kv.key, TypeName(kv.value)));
      return std::nullopt;
    }
    out.insert_or_assign(kv.key, s);
  }
  return out;
}

std::string_view Lookup(const LabelMap& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? std::string_view() : it->second;
}

// (The name is formatted only on error: this runs for every member of every alert.)
std::optional<std::string_view> AlertString(const std::optional<simdjson::dom::element>& v,
                                            size_t index, std::string_view field,
                                            Problems& problems) {
  if (!v.has_value()) return std::nullopt;
  std::string_view s;
  if (v->get_string().get(s) != simdjson::SUCCESS) {
    problems.Add(fmt::format("alerts[{}].{} must be a string", index, field));
    return std::nullopt;
  }
  return s;
}

std::optional<TimePoint> AlertTime(std::optional<std::string_view> s, size_t index,
                                   std::string_view field, Problems& problems) {
  if (!s.has_value() || s->empty() || *s == kZeroTime) return std::nullopt;
  Result<TimePoint> t = ParseRfc3339(*s);
  if (!t.has_value()) {
    problems.Add(fmt::format("alerts[{}].{} is invalid: {}", index, field, t.error().message()));
    return std::nullopt;
  }
  static const TimePoint kZero = *ParseRfc3339(kZeroTime);
  if (*t == kZero) return std::nullopt;  // the zero time written another way
  return *t;
}

std::string LabelHash(const LabelMap& labels) {
  std::string text;
  for (const auto& [k, v] : labels) {
    text += k;
    text += '=';
    text += v;
    text += '\n';
  }
  return Sha256Hex(text);
}

std::string LabelFingerprint(const LabelMap& labels) {
  constexpr uint64_t kOffset = 14695981039346656037ULL;
  constexpr uint64_t kPrime = 1099511628211ULL;
  constexpr unsigned char kSeparator = 0xff;  // never a byte of valid UTF-8
  uint64_t h = kOffset;
  auto add = [&h](unsigned char b) {
    h ^= b;
    h *= kPrime;
  };
  for (const auto& [name, value] : labels) {  // std::map: sorted by name, bytewise
    for (char c : name) add(static_cast<unsigned char>(c));
    add(kSeparator);
    for (char c : value) add(static_cast<unsigned char>(c));
    add(kSeparator);
  }
  return fmt::format("{:016x}", h);
}

void AppendLink(std::string& links, std::string_view href, std::string_view text) {
  links += links.size() > 1 ? "," : "";
  links += "{\"href\":";
  AppendJsonString(links, href);
  links += ",\"text\":";
  AppendJsonString(links, text);
  links += '}';
}

namespace {

// `alertname{k="v", ...}` from the labels, for alerts without a summary annotation.
std::string SummaryFromLabels(const LabelMap& labels, std::string_view sender) {
  std::string out(Lookup(labels, "alertname"));
  std::string rest;
  for (const auto& [k, v] : labels) {
    if (k == "alertname") continue;
    rest += rest.empty() ? "{" : ", ";
    rest += k;
    rest += "=\"";
    for (char c : v) {
      if (c == '"' || c == '\\') rest += '\\';
      if (c == '\n') {
        rest += "\\n";
      } else {
        rest += c;
      }
    }
    rest += '"';
  }
  if (!rest.empty()) out += rest + "}";
  if (out.empty()) out = fmt::format("{} alert", sender);
  return out;
}

}  // namespace

void MapLabels(const LabelMap& labels, const LabelMap& annotations, std::string_view sender,
               std::string_view default_source, core::AlertEvent& event) {
  std::string_view summary = Lookup(annotations, "summary");
  if (summary.empty()) summary = Lookup(annotations, "description");
  std::string built;
  if (summary.empty()) {
    built = SummaryFromLabels(labels, sender);
    summary = built;
  }
  // A machine sender cannot shorten its text on a 400, so long summaries are cut, not refused.
  event.summary = std::string(TruncateCodePoints(summary, core::kMaxSummaryLength));

  event.severity = AlertmanagerSeverity(Lookup(labels, "severity"));
  std::string_view source = Lookup(labels, "instance");
  if (source.empty()) source = Lookup(labels, "job");
  if (source.empty()) source = default_source;
  event.source = std::string(source);
  event.component = std::string(Lookup(labels, "job"));
  std::string_view grp = Lookup(labels, "namespace");
  if (grp.empty()) grp = Lookup(labels, "cluster");
  event.group = std::string(grp);
}

LabelMap ReadAnnotations(const std::optional<simdjson::dom::element>& v, size_t index,
                         Problems& problems) {
  if (!v.has_value()) return {};
  return StringMap(*v, index, "annotations", problems).value_or(LabelMap{});
}

AlertTimes ReadAlertTimes(const std::optional<simdjson::dom::element>& starts_at,
                          const std::optional<simdjson::dom::element>& ends_at, size_t index,
                          Problems& problems) {
  AlertTimes t;
  t.starts_at = AlertString(starts_at, index, "startsAt", problems);
  t.ends_at = AlertString(ends_at, index, "endsAt", problems);
  t.start = AlertTime(t.starts_at, index, "startsAt", problems);
  t.end = AlertTime(t.ends_at, index, "endsAt", problems);
  return t;
}

}  // namespace houston::ingest::internal
