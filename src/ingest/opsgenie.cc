// Opsgenie Alert API request bodies: create alert, the actions on an alert, field updates.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "ingest/ingest.h"
#include "ingest/internal/json.h"

namespace houston::ingest {
namespace {

using internal::CodePoints;
using internal::SortMembers;
using internal::ToJson;
using internal::TruncateCodePoints;
using simdjson::dom::element;
using OptElement = std::optional<element>;
using L = OpsgenieLimits;

// Collects the problems of one body, field by field.
class FieldProblems {
 public:
  void Add(std::string field, std::string problem) {
    errors_.emplace_back(std::move(field), std::move(problem));
  }
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  OpsgenieError ToError() && {
    OpsgenieError e;
    const auto& [field, problem] = errors_.front();
    e.message = fmt::format("'{}' {}", field, problem);
    if (errors_.size() > 1) e.message += fmt::format(" (and {} more problems)", errors_.size() - 1);
    e.errors = std::move(errors_);
    return e;
  }

 private:
  std::vector<std::pair<std::string, std::string>> errors_;
};

// The body as an object; an empty (or all-blank) body counts as {}.
OpsgenieResult<simdjson::dom::object> BodyObject(const internal::ParsedJson& json) {
  if (!json.ok()) {
    return std::unexpected(OpsgenieError{
        true, "Could not parse the request body: " + internal::BodyErrorMessage(json.error()), {}});
  }
  simdjson::dom::object obj;
  if (json.root().get_object().get(obj) != simdjson::SUCCESS) {
    return std::unexpected(
        OpsgenieError{true,
                      fmt::format("the request body must be a JSON object, not {}",
                                  internal::TypeName(json.root())),
                      {}});
  }
  return obj;
}

bool Blank(std::string_view body) {
  return body.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// A string member of at most `max` code points ("" when absent).
std::string Str(const OptElement& v, std::string_view field, size_t max, FieldProblems& p) {
  if (!v) return "";
  std::string_view s;
  if (v->get_string().get(s) != simdjson::SUCCESS) {
    p.Add(std::string(field), fmt::format("must be a string, not {}", internal::TypeName(*v)));
    return "";
  }
  if (CodePoints(s) > max) {
    p.Add(std::string(field), fmt::format("is longer than {} characters", max));
    return "";
  }
  return std::string(s);
}

// An array of strings, at most `max_items` of at most `max_len` code points each.
std::vector<std::string> StrList(const OptElement& v, std::string_view field, size_t max_items,
                                 size_t max_len, FieldProblems& p) {
  std::vector<std::string> out;
  if (!v) return out;
  simdjson::dom::array arr;
  if (v->get_array().get(arr) != simdjson::SUCCESS) {
    p.Add(std::string(field),
          fmt::format("must be an array of strings, not {}", internal::TypeName(*v)));
    return out;
  }
  if (arr.size() > max_items) {
    p.Add(std::string(field),
          fmt::format("has {} items; at most {} are allowed", arr.size(), max_items));
    return out;
  }
  size_t i = 0;
  for (element e : arr) {
    std::string item = fmt::format("{}[{}]", field, i++);
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) {
      p.Add(item, fmt::format("must be a string, not {}", internal::TypeName(e)));
    } else if (CodePoints(s) > max_len) {
      p.Add(item, fmt::format("is longer than {} characters", max_len));
    } else {
      out.emplace_back(s);
    }
  }
  return out;
}

// `details`: an object whose values are strings (numbers and booleans are kept as their text),
// keys and values together at most kDetails code points. Returns its JSON text.
std::string Details(const OptElement& v, FieldProblems& p) {
  if (!v) return "{}";
  simdjson::dom::object obj;
  if (v->get_object().get(obj) != simdjson::SUCCESS) {
    p.Add("details", fmt::format("must be an object of strings, not {}", internal::TypeName(*v)));
    return "{}";
  }
  std::string out = "{";
  size_t total = 0;
  bool first = true;
  for (simdjson::dom::key_value_pair kv : obj) {
    std::string value;
    std::string_view s;
    if (kv.value.get_string().get(s) == simdjson::SUCCESS) {
      value = std::string(s);
    } else if (kv.value.is_number() || kv.value.is_bool()) {
      value = ToJson(kv.value);
    } else if (kv.value.is_null()) {
      continue;
    } else {
      p.Add(fmt::format("details.{}", kv.key),
            fmt::format("must be a string, not {}", internal::TypeName(kv.value)));
      continue;
    }
    total += CodePoints(kv.key) + CodePoints(value);
    if (!first) out += ',';
    first = false;
    internal::AppendJsonString(out, kv.key);
    out += ':';
    internal::AppendJsonString(out, value);
  }
  if (total > L::kDetails) {
    p.Add("details", fmt::format("is longer than {} characters (keys and values together: {})",
                                 L::kDetails, total));
    return "{}";
  }
  return out + "}";
}

// `responders` / `visibleTo`: arrays of recipient objects, each with a known `type`.
std::string Recipients(const OptElement& v, std::string_view field, bool visible_to,
                       FieldProblems& p) {
  if (!v) return "[]";
  simdjson::dom::array arr;
  if (v->get_array().get(arr) != simdjson::SUCCESS) {
    p.Add(std::string(field),
          fmt::format("must be an array of recipient objects, not {}", internal::TypeName(*v)));
    return "[]";
  }
  if (arr.size() > L::kRecipients) {
    p.Add(std::string(field),
          fmt::format("has {} recipients; at most {} are allowed", arr.size(), L::kRecipients));
    return "[]";
  }
  static constexpr std::array<std::string_view, 7> kTypes{"team", "user", "escalation", "schedule",
                                                          "all",  "none", "group"};
  size_t i = 0;
  for (element e : arr) {
    std::string item = fmt::format("{}[{}]", field, i++);
    simdjson::dom::object r;
    if (e.get_object().get(r) != simdjson::SUCCESS) {
      p.Add(item, fmt::format("must be an object, not {}", internal::TypeName(e)));
      continue;
    }
    std::string_view type;
    if (r["type"].get_string().get(type) != simdjson::SUCCESS) {
      p.Add(item + ".type", "is missing (use team, user, escalation or schedule)");
      continue;
    }
    bool known = std::find(kTypes.begin(), kTypes.end(), type) != kTypes.end();
    if (visible_to) known = type == "team" || type == "user";
    if (!known) {
      p.Add(item + ".type",
            fmt::format("is '{}'; use {}", type,
                        visible_to ? "team or user" : "team, user, escalation or schedule"));
    }
  }
  return ToJson(*v);
}

// "P1".."P5" -> 1..5; 0 if not one of them.
int PriorityNumber(std::string_view s) {
  if (s.size() == 2 && s[0] == 'P' && s[1] >= '1' && s[1] <= '5') return s[1] - '0';
  return 0;
}

int Priority(const OptElement& v, std::string_view field, FieldProblems& p) {
  if (!v) return 0;
  std::string_view s;
  if (v->get_string().get(s) != simdjson::SUCCESS || PriorityNumber(s) == 0) {
    p.Add(std::string(field),
          fmt::format("must be one of P1, P2, P3, P4, P5, not {}",
                      v->is_string() ? "'" + std::string(s) + "'" : ToJson(*v)));
    return 0;
  }
  return PriorityNumber(s);
}

// A message: required and non-blank; longer than kMessage code points is truncated.
void Message(const OptElement& v, std::string& out, std::string& full, bool& truncated,
             FieldProblems& p) {
  if (!v) {
    p.Add("message", "is missing");
    return;
  }
  std::string_view s;
  if (v->get_string().get(s) != simdjson::SUCCESS) {
    p.Add("message", fmt::format("must be a string, not {}", internal::TypeName(*v)));
    return;
  }
  if (Blank(s)) {
    p.Add("message", "is empty");
    return;
  }
  std::string_view cut = TruncateCodePoints(s, L::kMessage);
  truncated = cut.size() < s.size();
  out = std::string(cut);
  if (truncated) full = std::string(s);
}

}  // namespace

OpsgenieResult<OpsgenieCreate> ParseOpsgenieCreate(std::string_view body) {
  internal::ParsedJson json(body);
  auto obj = BodyObject(json);
  if (!obj) return std::unexpected(std::move(obj.error()));
  static constexpr std::array<std::string_view, 13> kNames{
      "message", "alias",  "description", "responders", "visibleTo", "actions", "tags",
      "details", "entity", "source",      "priority",   "user",      "note"};
  auto m = SortMembers(*obj, kNames, nullptr);
  FieldProblems p;
  OpsgenieCreate c;
  Message(m[0], c.message, c.full_message, c.message_truncated, p);
  c.alias = Str(m[1], "alias", L::kAlias, p);
  c.description = Str(m[2], "description", L::kDescription, p);
  c.responders_json = Recipients(m[3], "responders", false, p);
  c.visible_to_json = Recipients(m[4], "visibleTo", true, p);
  c.actions = StrList(m[5], "actions", L::kActions, L::kAction, p);
  c.tags = StrList(m[6], "tags", L::kTags, L::kTag, p);
  c.details_json = Details(m[7], p);
  c.entity = Str(m[8], "entity", L::kEntity, p);
  c.source = Str(m[9], "source", L::kSource, p);
  if (int pr = Priority(m[10], "priority", p); pr != 0) {
    c.priority = pr;
    c.priority_given = true;
  }
  c.user = Str(m[11], "user", L::kUser, p);
  c.note = Str(m[12], "note", L::kNote, p);
  if (!p.empty()) return std::unexpected(std::move(p).ToError());
  return c;
}

namespace {

// user/source/note of an action body, from sorted members 0..2.
template <size_t N>
OpsgenieActionBody ActionFields(const internal::Members<N>& m, bool note_required,
                                FieldProblems& p) {
  OpsgenieActionBody a;
  a.user = Str(m[0], "user", L::kUser, p);
  a.source = Str(m[1], "source", L::kSource, p);
  const size_t before = p.size();
  a.note = Str(m[2], "note", L::kNote, p);
  if (note_required && p.size() == before && Blank(a.note)) {
    p.Add("note", m[2] ? "is empty" : "is missing");
  }
  return a;
}

}  // namespace

OpsgenieResult<OpsgenieActionBody> ParseOpsgenieAction(std::string_view body, bool note_required) {
  if (Blank(body)) body = "{}";
  internal::ParsedJson json(body);
  auto obj = BodyObject(json);
  if (!obj) return std::unexpected(std::move(obj.error()));
  static constexpr std::array<std::string_view, 3> kNames{"user", "source", "note"};
  auto m = SortMembers(*obj, kNames, nullptr);
  FieldProblems p;
  OpsgenieActionBody a = ActionFields(m, note_required, p);
  if (!p.empty()) return std::unexpected(std::move(p).ToError());
  return a;
}

OpsgenieResult<OpsgenieUpdateBody> ParseOpsgenieUpdate(std::string_view body,
                                                       std::string_view field) {
  if (Blank(body)) body = "{}";
  internal::ParsedJson json(body);
  auto obj = BodyObject(json);
  if (!obj) return std::unexpected(std::move(obj.error()));
  const std::array<std::string_view, 4> names{"user", "source", "note", field};
  auto m = SortMembers(*obj, names, nullptr);
  FieldProblems p;
  OpsgenieUpdateBody u;
  u.action = ActionFields(m, false, p);
  if (field == "message") {
    std::string full;
    bool truncated = false;
    Message(m[3], u.value, full, truncated, p);
  } else if (field == "description") {
    if (!m[3]) {
      p.Add("description", "is missing");
    } else {
      u.value = Str(m[3], "description", L::kDescription, p);
    }
  } else {
    if (!m[3]) {
      p.Add(std::string(field), "is missing");
    } else if (int pr = Priority(m[3], field, p); pr != 0) {
      u.value = fmt::format("P{}", pr);
    }
  }
  if (!p.empty()) return std::unexpected(std::move(p).ToError());
  return u;
}

core::AlertEvent OpsgenieAlertEvent(const OpsgenieCreate& c, std::string_view integration_key,
                                    const std::array<core::Severity, 5>& severities) {
  core::AlertEvent ev;
  ev.integration_key = std::string(integration_key);
  ev.action = core::EventAction::kTrigger;
  ev.dedup_key = c.alias;
  ev.summary = c.message;
  ev.source = c.source.empty() ? "opsgenie" : c.source;
  ev.severity = severities[static_cast<size_t>(c.priority - 1)];
  ev.component = c.entity;
  ev.client = "Opsgenie API";
  ev.links_json = "[]";
  ev.images_json = "[]";
  std::string d = "{\"message\":";
  internal::AppendJsonString(d, c.message_truncated ? c.full_message : c.message);
  auto str = [&d](std::string_view key, const std::string& v) {
    if (v.empty()) return;
    d += ",\"";
    d += key;
    d += "\":";
    internal::AppendJsonString(d, v);
  };
  auto list = [&d](std::string_view key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    d += ",\"";
    d += key;
    d += "\":[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) d += ',';
      internal::AppendJsonString(d, v[i]);
    }
    d += ']';
  };
  auto raw = [&d](std::string_view key, const std::string& json, std::string_view empty) {
    if (json == empty) return;
    d += ",\"";
    d += key;
    d += "\":";
    d += json;
  };
  str("alias", c.alias);
  str("description", c.description);
  d += fmt::format(",\"priority\":\"P{}\"", c.priority);
  list("tags", c.tags);
  raw("details", c.details_json, "{}");
  str("entity", c.entity);
  str("source", c.source);
  list("actions", c.actions);
  raw("responders", c.responders_json, "[]");
  raw("visibleTo", c.visible_to_json, "[]");
  str("user", c.user);
  str("note", c.note);
  d += '}';
  ev.details_json = std::move(d);
  return ev;
}

namespace {

// Standard base64 (padding optional); nullopt if `s` is not base64.
std::optional<std::string> DecodeBase64(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<OpsgenieQuery> ParseOpsgenieQuery(std::string_view q) {
  OpsgenieQuery out;
  size_t i = 0;
  while (i < q.size()) {
    size_t j = q.find(' ', i);
    if (j == std::string_view::npos) j = q.size();
    std::string_view term = q.substr(i, j - i);
    i = j + 1;
    if (term.empty() || term == "AND" || term == "and") continue;
    size_t sep = term.find_first_of(":=");
    std::string_view field = term.substr(0, sep == std::string_view::npos ? term.size() : sep);
    std::string_view value = sep == std::string_view::npos ? "" : term.substr(sep + 1);
    if (field == "status" && (value == "open" || value == "closed")) {
      out.open = value == "open";
    } else if (field == "acknowledged" && (value == "true" || value == "false")) {
      out.acknowledged = value == "true";
    } else {
      return std::unexpected(InvalidArgument(fmt::format(
          "query term '{}' is not supported: houston understands status:open, status:closed, "
          "acknowledged:true and acknowledged:false, joined by spaces or AND",
          term)));
    }
  }
  return out;
}

std::optional<std::string> OpsgenieKeyFromAuthorization(std::string_view authorization) {
  authorization = Trim(authorization);
  size_t space = authorization.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string scheme = internal::AsciiLower(authorization.substr(0, space));
  std::string_view rest = Trim(authorization.substr(space + 1));
  if (rest.empty()) return std::nullopt;
  if (scheme == "geniekey") return std::string(rest);
  if (scheme != "basic") return std::nullopt;
  auto decoded = DecodeBase64(rest);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  std::string key = colon == std::string::npos ? *decoded : decoded->substr(colon + 1);
  if (key.empty()) return std::nullopt;
  return key;
}

}  // namespace houston::ingest
