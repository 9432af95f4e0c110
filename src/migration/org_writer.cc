// WriteOrgYaml: a config::Org as org.yaml text; FormatReport: an import report for people.
//
// The writer builds a small tree of nodes (mappings keep their key order) and renders it in
// block style, folding small leaf mappings and scalar lists into one-line flow style
// (`{id: alice-mail, type: email, address: ...}`, `[alice, bob]`) where the line fits in 100
// columns, as examples/org.yaml is written. Strings are written plain only when no YAML reader
// could take them for anything else; everything else is double-quoted with escapes, and
// multi-line text in block context becomes a literal block (`|`).

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/time_util.h"
#include "migration/migration.h"

namespace houston::migration {
namespace {

constexpr size_t kLineWidth = 100;
constexpr std::array<std::string_view, 7> kDayNames{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};

// ---- scalars --------------------------------------------------------------------------------

// Words some YAML reader (1.1 or 1.2) resolves to a boolean or null when plain.
bool IsSpecialWord(std::string_view s) {
  static constexpr std::array<std::string_view, 11> kWords{
      "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf"};
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kWords.begin(), kWords.end(), lower) != kWords.end();
}

// True if `s` can be written without quotes and reads back as the same string in both block
// and flow context. Deliberately narrow: a letter or '_' first (so nothing reads as a number,
// date, indicator or alias), then letters, digits, spaces and _ . @ / + -, no space at either
// end, and not a boolean/null word.
bool IsPlainSafe(std::string_view s) {
  if (s.empty() || s.back() == ' ') return false;
  unsigned char first = static_cast<unsigned char>(s[0]);
  if (!std::isalpha(first) && first != '_') return false;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return false;
    if (std::isalnum(c) != 0) continue;
    if (std::string_view("_.@/+- ").find(ch) == std::string_view::npos) return false;
  }
  return !IsSpecialWord(s);
}

// A YAML double-quoted scalar. UTF-8 bytes pass through; control characters are escaped.
std::string DoubleQuoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// A YAML single-quoted scalar: every character as is, `'` doubled. For printable one-line text
// with `"` or `\` in it, which reads better this way ('service="db"').
std::string SingleQuoted(std::string_view s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

std::string QuoteIfNeeded(std::string_view s) {
  if (IsPlainSafe(s)) return std::string(s);
  bool printable = std::all_of(s.begin(), s.end(), [](char ch) {
    unsigned char c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c != 0x7f;
  });
  if (printable && s.find_first_of("\"\\") != std::string_view::npos) return SingleQuoted(s);
  return DoubleQuoted(s);
}

// Whether `s` (multi-line text) can be a literal block scalar that reads back exactly: printable
// characters only (tabs inside lines are fine), no carriage returns, the first line not starting
// with a space (that would need an indentation indicator), and no trailing blank lines beyond
// one final newline (those would need `|+`).
bool LiteralBlockSafe(std::string_view s) {
  if (s.find('\n') == std::string_view::npos) return false;
  if (s.front() == ' ' || s.front() == '\n' || s.front() == '\t') return false;
  if (s.ends_with("\n\n")) return false;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && ch != '\n' && ch != '\t') || c == 0x7f) return false;
  }
  // A line made only of spaces next to the end would be folded into chomping; keep it simple.
  size_t last_break = s.rfind('\n', s.size() - 2);
  std::string_view last_line = s.substr(last_break == std::string_view::npos ? 0 : last_break + 1);
  if (last_line.find_first_not_of(" \t\n") == std::string_view::npos) return false;
  // Lines consisting only of spaces before content lines are taken as indentation and lost.
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(start, end - start);
    if (!line.empty() && line.find_first_not_of(' ') == std::string_view::npos) return false;
    start = end + 1;
  }
  return true;
}

// ---- the node tree --------------------------------------------------------------------------

struct Node;
using NodePtr = std::unique_ptr<Node>;

// A scalar already rendered for one line (plain or quoted), or multi-line text.
struct Scalar {
  std::string inline_text;  // how it is written on one line (in flow, or when not a block)
  std::string block_text;   // non-empty: the literal block content (ends with "\n" or not)
};

struct Node {
  enum class Type { kScalar, kSeq, kMap };
  Type type = Type::kScalar;
  Scalar scalar;
  std::vector<NodePtr> items;                            // kSeq
  std::vector<std::pair<std::string, NodePtr>> entries;  // kMap, keys already quoted

  // Whether this node may be written in flow style: a scalar on one line, or a collection of
  // such nodes nested at most three deep, where a list of mappings has one-entry mappings only
  // (`targets: [{user: bob}]`; a list of larger objects reads better one per line).
  bool FlowAble(int depth = 0) const {
    switch (type) {
      case Type::kScalar:
        return scalar.block_text.empty();
      case Type::kSeq:
        if (depth > 2) return false;
        return std::all_of(items.begin(), items.end(), [&](const NodePtr& n) {
          return (n->type != Type::kMap || n->entries.size() <= 1) && n->FlowAble(depth + 1);
        });
      case Type::kMap:
        if (depth > 2) return false;
        return std::all_of(entries.begin(), entries.end(),
                           [&](const auto& e) { return e.second->FlowAble(depth + 1); });
    }
    return false;
  }

  std::string Flow() const {
    switch (type) {
      case Type::kScalar:
        return scalar.inline_text;
      case Type::kSeq: {
        std::string out = "[";
        for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i]->Flow();
        return out + "]";
      }
      case Type::kMap: {
        std::string out = "{";
        for (size_t i = 0; i < entries.size(); ++i) {
          out += (i ? ", " : "") + entries[i].first + ": " + entries[i].second->Flow();
        }
        return out + "}";
      }
    }
    return "";
  }
};

NodePtr Str(std::string_view s) {
  auto n = std::make_unique<Node>();
  if (LiteralBlockSafe(s)) n->scalar.block_text = std::string(s);
  n->scalar.inline_text = QuoteIfNeeded(s);
  return n;
}

// A number, boolean or `~`: written as is.
NodePtr Raw(std::string text) {
  auto n = std::make_unique<Node>();
  n->scalar.inline_text = std::move(text);
  return n;
}
NodePtr Int(int64_t v) { return Raw(std::to_string(v)); }
NodePtr Bool(bool v) { return Raw(v ? "true" : "false"); }

NodePtr Double(double d) {
  // Shortest text that reads back as the same double; always with a digit before any exponent.
  std::string text = fmt::format("{}", d);
  return Raw(text);
}

NodePtr Seq() {
  auto n = std::make_unique<Node>();
  n->type = Node::Type::kSeq;
  return n;
}

NodePtr StrSeq(const std::vector<std::string>& values) {
  NodePtr seq = Seq();
  for (const std::string& v : values) seq->items.push_back(Str(v));
  return seq;
}

// A mapping under construction.
class Map {
 public:
  Map() : node_(std::make_unique<Node>()) { node_->type = Node::Type::kMap; }

  Map& Set(std::string_view key, NodePtr value) {
    node_->entries.emplace_back(QuoteIfNeeded(key), std::move(value));
    return *this;
  }
  Map& Set(std::string_view key, std::string_view value) { return Set(key, Str(value)); }
  // Text fields where empty means absent.
  Map& SetIfNotEmpty(std::string_view key, std::string_view value) {
    if (!value.empty()) Set(key, Str(value));
    return *this;
  }
  Map& SetIfNotEmpty(std::string_view key, const std::vector<std::string>& values) {
    if (!values.empty()) Set(key, StrSeq(values));
    return *this;
  }
  bool empty() const { return node_->entries.empty(); }
  NodePtr Release() { return std::move(node_); }

 private:
  NodePtr node_;
};

// ---- rendering ------------------------------------------------------------------------------

class Renderer {
 public:
  std::string Take() { return std::move(out_); }

  // The top-level mapping: one blank line between sections.
  void TopLevel(const Node& map) {
    for (size_t i = 0; i < map.entries.size(); ++i) {
      if (i > 0) out_ += "\n";
      MapEntry(map.entries[i].first, *map.entries[i].second, 0, /*allow_flow=*/false);
    }
  }

 private:
  static std::string Indent(size_t n) { return std::string(n, ' '); }

  // Whether `node` is written in flow style when it starts at column `column`.
  static bool UseFlow(const Node& node, size_t column) {
    if (node.type == Node::Type::kScalar) return true;
    bool empty = node.type == Node::Type::kSeq ? node.items.empty() : node.entries.empty();
    if (empty) return true;
    return node.FlowAble() && column + node.Flow().size() <= kLineWidth;
  }

  void LiteralBlock(const std::string& text, size_t indent) {
    out_ += text.ends_with('\n') ? "|\n" : "|-\n";
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + start, end - start);
      if (!line.empty()) out_ += Indent(indent) + std::string(line);
      out_ += "\n";
      start = end + 1;
    }
  }

  // `key: value` at `indent`.
  // `allow_flow` false: a non-empty collection is written in block style (top-level sections).
  void MapEntry(const std::string& key, const Node& value, size_t indent, bool allow_flow = true) {
    out_ += Indent(indent) + key + ":";
    size_t column = indent + key.size() + 2;
    if (value.type == Node::Type::kScalar) {
      if (!value.scalar.block_text.empty()) {
        out_ += " ";
        LiteralBlock(value.scalar.block_text, indent + 2);
      } else {
        out_ += " " + value.scalar.inline_text + "\n";
      }
      return;
    }
    bool empty = value.type == Node::Type::kSeq ? value.items.empty() : value.entries.empty();
    if (empty || (allow_flow && UseFlow(value, column))) {
      out_ += " " + value.Flow() + "\n";
      return;
    }
    out_ += "\n";
    if (value.type == Node::Type::kMap) {
      BlockMap(value, indent + 2);
    } else {
      BlockSeq(value, indent + 2);
    }
  }

  void BlockMap(const Node& map, size_t indent) {
    for (const auto& [key, value] : map.entries) MapEntry(key, *value, indent);
  }

  // Items as "- ..." at `indent`.
  void BlockSeq(const Node& seq, size_t indent) {
    for (const NodePtr& item : seq.items) {
      out_ += Indent(indent) + "-";
      size_t column = indent + 2;
      if (item->type == Node::Type::kScalar) {
        if (!item->scalar.block_text.empty()) {
          out_ += " ";
          LiteralBlock(item->scalar.block_text, indent + 2);
        } else {
          out_ += " " + item->scalar.inline_text + "\n";
        }
      } else if (UseFlow(*item, column)) {
        out_ += " " + item->Flow() + "\n";
      } else if (item->type == Node::Type::kMap) {
        // The first entry shares the dash's line; the rest line up under it.
        out_ += " ";
        size_t mark = out_.size();
        BlockMap(*item, indent + 2);
        out_.erase(mark, indent + 2);
      } else {
        out_ += "\n";
        BlockSeq(*item, indent + 2);
      }
    }
  }

  std::string out_;
};

// ---- org sections ---------------------------------------------------------------------------

// RFC 3339 in UTC, without a fraction when it is zero ("2026-03-07T14:00:00Z").
std::string Timestamp(TimePoint t) {
  std::string s = FormatRfc3339(t);
  if (s.ends_with(".000Z")) s.replace(s.size() - 5, 5, "Z");
  return s;
}

NodePtr Days(const std::vector<date::weekday>& days) {
  NodePtr seq = Seq();
  for (date::weekday d : days)
    seq->items.push_back(Raw(std::string(kDayNames[d.iso_encoding() - 1])));
  return seq;
}

// days/start/end (restrictions, working hours, recurring windows).
Map Window(const config::DailyWindow& w) {
  Map m;
  m.Set("days", Days(w.days));
  m.Set("start", config::FormatClock(w.start_minute));
  m.Set("end", config::FormatClock(w.end_minute));
  return m;
}

NodePtr Headers(const std::map<std::string, std::string>& headers) {
  Map m;
  for (const auto& [name, value] : headers) m.Set(name, value);
  return m.Release();
}

NodePtr ContactMethodNode(const config::ContactMethod& c, std::string_view default_id) {
  Map m;
  if (c.id != default_id) m.Set("id", c.id);
  m.Set("type", Raw(std::string(config::ToString(c.type))));
  m.SetIfNotEmpty("url", c.url);
  m.SetIfNotEmpty("address", c.address);
  m.SetIfNotEmpty("secret", c.secret);
  m.SetIfNotEmpty("template", c.body_template);
  if (!c.headers.empty()) m.Set("headers", Headers(c.headers));
  return m.Release();
}

// The rules ParseOrg fills in when a user has none: every method at once.
bool DefaultRules(const config::User& u) {
  if (u.notification_rules.size() != u.contact_methods.size()) return false;
  for (size_t i = 0; i < u.contact_methods.size(); ++i) {
    const config::NotificationRule& r = u.notification_rules[i];
    if (r.contact_method != u.contact_methods[i].id || r.delay_minutes != 0) return false;
  }
  return true;
}

NodePtr UserNode(const config::User& u) {
  Map m;
  m.Set("id", u.id);
  if (u.name != u.id) m.SetIfNotEmpty("name", u.name);
  m.SetIfNotEmpty("email", u.email);
  if (u.timezone != "UTC") m.SetIfNotEmpty("timezone", u.timezone);
  if (u.role != core::Role::kResponder) m.Set("role", Raw(std::string(core::ToString(u.role))));
  if (!u.contact_methods.empty()) {
    NodePtr methods = Seq();
    for (const config::ContactMethod& c : u.contact_methods) {
      methods->items.push_back(ContactMethodNode(c, ""));
    }
    m.Set("contact_methods", std::move(methods));
  }
  if (!u.notification_rules.empty() && !DefaultRules(u)) {
    NodePtr rules = Seq();
    for (const config::NotificationRule& r : u.notification_rules) {
      Map rule;
      rule.Set("contact_method", r.contact_method);
      rule.Set("delay_minutes", Int(r.delay_minutes));
      rules->items.push_back(rule.Release());
    }
    m.Set("notification_rules", std::move(rules));
  }
  return m.Release();
}

NodePtr TeamNode(const config::Team& t) {
  Map m;
  m.Set("id", t.id);
  if (t.name != t.id) m.SetIfNotEmpty("name", t.name);
  m.SetIfNotEmpty("members", t.members);
  return m.Release();
}

NodePtr LayerNode(const config::ScheduleLayer& l, size_t index) {
  Map m;
  if (l.name != fmt::format("layer-{}", index + 1)) m.SetIfNotEmpty("name", l.name);
  m.Set("start", config::FormatLocalDateTime(l.start_local));
  if (l.end_local) m.Set("end", config::FormatLocalDateTime(*l.end_local));
  Map rotation;
  rotation.Set("type", Raw(std::string(config::ToString(l.rotation.type))));
  rotation.Set("length", Int(l.rotation.length));
  m.Set("rotation", rotation.Release());
  NodePtr users = Seq();
  for (const std::string& u : l.users) users->items.push_back(u.empty() ? Raw("~") : Str(u));
  m.Set("users", std::move(users));
  if (!l.restrictions.empty()) {
    NodePtr restrictions = Seq();
    for (const config::DailyWindow& w : l.restrictions) {
      restrictions->items.push_back(Window(w).Release());
    }
    m.Set("restrictions", std::move(restrictions));
  }
  return m.Release();
}

NodePtr ScheduleNode(const config::Schedule& s) {
  Map m;
  m.Set("id", s.id);
  if (s.name != s.id) m.SetIfNotEmpty("name", s.name);
  if (s.timezone != "UTC") m.SetIfNotEmpty("timezone", s.timezone);
  NodePtr layers = Seq();
  for (size_t i = 0; i < s.layers.size(); ++i) layers->items.push_back(LayerNode(s.layers[i], i));
  m.Set("layers", std::move(layers));
  if (!s.overrides.empty()) {
    NodePtr overrides = Seq();
    for (const config::ScheduleOverride& o : s.overrides) {
      Map om;
      om.Set("user", o.user);
      om.Set("start", Timestamp(o.start));
      om.Set("end", Timestamp(o.end));
      overrides->items.push_back(om.Release());
    }
    m.Set("overrides", std::move(overrides));
  }
  return m.Release();
}

NodePtr PolicyNode(const config::EscalationPolicy& p) {
  Map m;
  m.Set("id", p.id);
  if (p.name != p.id) m.SetIfNotEmpty("name", p.name);
  if (p.repeat != 0) m.Set("repeat", Int(p.repeat));
  if (p.ack_timeout_minutes) m.Set("ack_timeout_minutes", Int(*p.ack_timeout_minutes));
  NodePtr steps = Seq();
  for (const config::EscalationStep& s : p.steps) {
    Map sm;
    sm.Set("delay_minutes", Int(s.delay_minutes));
    NodePtr targets = Seq();
    for (const config::EscalationTarget& t : s.targets) {
      Map tm;
      tm.Set(config::ToString(t.type), t.id);
      targets->items.push_back(tm.Release());
    }
    sm.Set("targets", std::move(targets));
    if (s.round_robin) sm.Set("round_robin", Bool(true));
    steps->items.push_back(sm.Release());
  }
  m.Set("steps", std::move(steps));
  return m.Release();
}

NodePtr MappingNode(const config::GenericMapping& g) {
  const config::GenericMapping defaults;
  Map m;
  const std::array<std::tuple<std::string_view, const std::string*, const std::string*>, 6> paths{{
      {"summary", &g.summary, &defaults.summary},
      {"severity", &g.severity, &defaults.severity},
      {"dedup_key", &g.dedup_key, &defaults.dedup_key},
      {"action", &g.action, &defaults.action},
      {"source", &g.source, &defaults.source},
      {"details", &g.details, &defaults.details},
  }};
  for (const auto& [key, value, fallback] : paths) {
    if (*value != *fallback) m.SetIfNotEmpty(key, *value);
  }
  if (!g.action_values.empty()) {
    Map values;
    for (const auto& [from, action] : g.action_values) {
      values.Set(from, Raw(std::string(core::ToString(action))));
    }
    m.Set("action_values", values.Release());
  }
  if (!g.severity_values.empty()) {
    Map values;
    for (const auto& [from, severity] : g.severity_values) {
      values.Set(from, Raw(std::string(core::ToString(severity))));
    }
    m.Set("severity_values", values.Release());
  }
  return m.Release();
}

// `label="value"`: a matcher as Alertmanager writes it (the value quoted, with \\, \" and \n).
std::string MatcherText(const config::LabelMatcher& m) {
  std::string text = m.label + std::string(config::ToString(m.op)) + "\"";
  for (char c : m.value) {
    if (c == '"' || c == '\\') text += '\\';
    text += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return text + "\"";
}

// A prometheus integration's routes, group_by, resolve_timeout_minutes and require_bearer,
// each only when it is not the default.
void PrometheusOptionsInto(const config::PrometheusOptions& p, Map& m) {
  const config::PrometheusOptions defaults;
  if (!p.routes.empty()) {
    NodePtr routes = Seq();
    for (const config::PrometheusRoute& r : p.routes) {
      Map rm;
      NodePtr match = Seq();
      for (const config::LabelMatcher& lm : r.match) match->items.push_back(Str(MatcherText(lm)));
      rm.Set("match", std::move(match));
      rm.Set("service", r.service);
      routes->items.push_back(rm.Release());
    }
    m.Set("routes", std::move(routes));
  }
  if (p.group_by_all) {
    NodePtr all = Seq();
    all->items.push_back(Str("..."));
    m.Set("group_by", std::move(all));
  } else if (p.group_by != defaults.group_by) {
    m.Set("group_by", StrSeq(p.group_by));
  }
  if (p.resolve_timeout_minutes != defaults.resolve_timeout_minutes) {
    m.Set("resolve_timeout_minutes", Int(p.resolve_timeout_minutes));
  }
  if (p.require_bearer != defaults.require_bearer) m.Set("require_bearer", Bool(p.require_bearer));
}

NodePtr IntegrationNode(const config::Integration& in) {
  Map m;
  std::string type(core::ToString(in.type));
  m.Set("type", Raw(type));
  m.Set("key", in.key);
  if (in.name != type) m.SetIfNotEmpty("name", in.name);
  if (in.rate_limit_per_second) m.Set("rate_limit_per_second", Double(*in.rate_limit_per_second));
  if (in.interval_minutes) m.Set("interval_minutes", Int(*in.interval_minutes));
  if (in.grace_minutes) m.Set("grace_minutes", Int(*in.grace_minutes));
  if (in.mapping) {
    // Left out when every path is the default and there are no value maps.
    NodePtr mapping = MappingNode(*in.mapping);
    if (!mapping->entries.empty()) m.Set("mapping", std::move(mapping));
  }
  if (in.prometheus) PrometheusOptionsInto(*in.prometheus, m);
  if (in.priorities) {
    Map priorities;
    for (size_t i = 0; i < in.priorities->size(); ++i) {
      if ((*in.priorities)[i] == config::kDefaultOpsgeniePriorities[i]) continue;
      priorities.Set(fmt::format("P{}", i + 1),
                     Raw(std::string(core::ToString((*in.priorities)[i]))));
    }
    if (!priorities.empty()) m.Set("priorities", priorities.Release());
  }
  return m.Release();
}

NodePtr ServiceNode(const config::Service& s) {
  Map m;
  m.Set("id", s.id);
  if (s.name != s.id) m.SetIfNotEmpty("name", s.name);
  m.SetIfNotEmpty("description", s.description);
  m.SetIfNotEmpty("team", s.team);
  if (s.tier) m.Set("tier", Int(*s.tier));
  m.SetIfNotEmpty("runbook_url", s.runbook_url);
  m.Set("escalation_policy", s.escalation_policy);
  m.SetIfNotEmpty("depends_on", s.depends_on);
  if (!s.integrations.empty()) {
    NodePtr integrations = Seq();
    for (const config::Integration& in : s.integrations) {
      integrations->items.push_back(IntegrationNode(in));
    }
    m.Set("integrations", std::move(integrations));
  }
  if (s.grouping) {
    Map g;
    g.Set("window_minutes", Int(s.grouping->window_minutes));
    g.SetIfNotEmpty("by", s.grouping->by);
    m.Set("grouping", g.Release());
  }
  return m.Release();
}

NodePtr MaintenanceWindowNode(const config::MaintenanceWindow& w) {
  Map m;
  m.Set("id", w.id);
  m.Set("services", StrSeq(w.services));
  if (w.start) m.Set("start", Timestamp(*w.start));
  if (w.end) m.Set("end", Timestamp(*w.end));
  if (w.recurring) {
    Map r = Window(w.recurring->window);
    if (w.recurring->timezone != "UTC") r.SetIfNotEmpty("timezone", w.recurring->timezone);
    m.Set("recurring", r.Release());
  }
  m.SetIfNotEmpty("description", w.description);
  return m.Release();
}

NodePtr SilenceNode(const config::Silence& s) {
  Map m;
  m.Set("id", s.id);
  NodePtr matchers = Seq();
  for (const config::Matcher& mt : s.matchers) {
    Map mm;
    mm.Set("field", mt.field);
    if (mt.op != config::MatchOp::kEqual) mm.Set("op", config::ToString(mt.op));
    mm.Set("value", mt.value);  // required, may be ""
    matchers->items.push_back(mm.Release());
  }
  m.Set("matchers", std::move(matchers));
  m.Set("expires_at", Timestamp(s.expires_at));
  m.SetIfNotEmpty("comment", s.comment);
  m.SetIfNotEmpty("created_by", s.created_by);
  return m.Release();
}

NodePtr StatusPageNode(const config::StatusPage& p) {
  Map m;
  if (p.title != "Status") m.SetIfNotEmpty("title", p.title);
  if (!p.components.empty()) {
    NodePtr components = Seq();
    for (const config::StatusComponent& c : p.components) {
      Map cm;
      cm.Set("id", c.id);
      if (c.name != c.id) cm.SetIfNotEmpty("name", c.name);
      cm.SetIfNotEmpty("description", c.description);
      cm.SetIfNotEmpty("services", c.services);
      components->items.push_back(cm.Release());
    }
    m.Set("components", std::move(components));
  }
  return m.Release();
}

NodePtr SeverityNode(const config::SeverityLevel& s) {
  Map m;
  m.Set("id", s.id);
  m.SetIfNotEmpty("description", s.description);
  if (s.update_every_minutes) m.Set("update_every_minutes", Int(*s.update_every_minutes));
  if (s.component_state) {
    m.Set("component_state", Raw(std::string(core::ToString(*s.component_state))));
  }
  return m.Release();
}

NodePtr SettingsNode(const config::Settings& s) {
  const config::Settings defaults;
  Map m;
  m.SetIfNotEmpty("base_url", s.base_url);
  if (s.suspect_lookback_hours != defaults.suspect_lookback_hours) {
    m.Set("suspect_lookback_hours", Int(s.suspect_lookback_hours));
  }
  return m.Release();
}

NodePtr IncidentRoleNode(const config::IncidentRole& r) {
  Map m;
  m.Set("id", r.id);
  if (r.name != r.id) m.SetIfNotEmpty("name", r.name);
  m.SetIfNotEmpty("description", r.description);
  return m.Release();
}

NodePtr IncidentRuleNode(const config::IncidentRule& r) {
  Map m;
  m.Set("id", r.id);
  m.SetIfNotEmpty("services", r.services);
  if (r.max_service_tier) m.Set("max_service_tier", Int(*r.max_service_tier));
  if (r.alert_severity)
    m.Set("alert_severity", Raw(std::string(core::ToString(*r.alert_severity))));
  if (r.alert_count) m.Set("alert_count", Int(*r.alert_count));
  if (r.window_minutes) m.Set("window_minutes", Int(*r.window_minutes));
  m.Set("severity", r.severity);
  return m.Release();
}

NodePtr AudienceNode(const config::Audience& a) {
  Map m;
  m.Set("id", a.id);
  if (a.name != a.id) m.SetIfNotEmpty("name", a.name);
  m.SetIfNotEmpty("min_severity", a.min_severity);
  m.SetIfNotEmpty("subject", a.subject_template);
  m.SetIfNotEmpty("template", a.body_template);
  if (!a.subscribers.empty()) {
    NodePtr subscribers = Seq();
    for (size_t i = 0; i < a.subscribers.size(); ++i) {
      const config::ContactMethod& c = a.subscribers[i];
      std::string default_id = fmt::format("{}-{}", config::ToString(c.type), i + 1);
      subscribers->items.push_back(ContactMethodNode(c, default_id));
    }
    m.Set("subscribers", std::move(subscribers));
  }
  return m.Release();
}

NodePtr WebhookNode(const config::OutboundWebhook& w) {
  Map m;
  m.Set("id", w.id);
  m.Set("url", w.url);
  m.SetIfNotEmpty("secret", w.secret);
  if (!w.headers.empty()) m.Set("headers", Headers(w.headers));
  m.SetIfNotEmpty("events", w.events);
  m.SetIfNotEmpty("services", w.services);
  return m.Release();
}

NodePtr PostmortemsNode(const config::PostmortemPolicy& p, const config::Org& org) {
  const config::PostmortemPolicy defaults = config::DefaultPostmortemPolicy(config::SevLevels(org));
  Map m;
  if (p.required_severities != defaults.required_severities) {
    m.Set("required_severities", StrSeq(p.required_severities));
  }
  if (p.due_days != defaults.due_days) m.Set("due_days", Int(p.due_days));
  if (p.remind_every_days != defaults.remind_every_days) {
    m.Set("remind_every_days", Int(p.remind_every_days));
  }
  if (p.team_after_days != defaults.team_after_days) {
    m.Set("team_after_days", Int(p.team_after_days));
  }
  bool same_sections =
      p.sections.size() == defaults.sections.size() &&
      std::equal(p.sections.begin(), p.sections.end(), defaults.sections.begin(),
                 [](const auto& a, const auto& b) {
                   return a.id == b.id && a.title == b.title && a.prompt == b.prompt;
                 });
  if (!same_sections) {
    NodePtr sections = Seq();
    for (const config::PostmortemSection& s : p.sections) {
      Map sm;
      sm.Set("id", s.id);
      sm.Set("title", s.title);
      sm.SetIfNotEmpty("prompt", s.prompt);
      sections->items.push_back(sm.Release());
    }
    m.Set("sections", std::move(sections));
  }
  if (p.contributing_factors != defaults.contributing_factors) {
    m.Set("contributing_factors", StrSeq(p.contributing_factors));
  }
  return m.Release();
}

NodePtr ActionItemsNode(const config::ActionItemPolicy& p) {
  const config::ActionItemPolicy defaults;
  Map m;
  if (p.remind_every_days != defaults.remind_every_days) {
    m.Set("remind_every_days", Int(p.remind_every_days));
  }
  if (p.team_grace_days != defaults.team_grace_days) {
    m.Set("team_grace_days", Int(p.team_grace_days));
  }
  const config::DailyWindow& w = p.working_hours;
  const config::DailyWindow& d = defaults.working_hours;
  if (w.days != d.days || w.start_minute != d.start_minute || w.end_minute != d.end_minute) {
    m.Set("working_hours", Window(w).Release());
  }
  return m.Release();
}

template <typename T, typename F>
void Section(Map& top, std::string_view key, const std::vector<T>& items, F node) {
  if (items.empty()) return;
  NodePtr seq = Seq();
  for (const T& item : items) seq->items.push_back(node(item));
  top.Set(key, std::move(seq));
}

}  // namespace

std::string WriteOrgYaml(const config::Org& org) {
  // docs/config.md's order.
  Map top;
  if (org.settings) top.Set("settings", SettingsNode(*org.settings));
  Section(top, "severities", org.severities, SeverityNode);
  Section(top, "users", org.users, UserNode);
  Section(top, "teams", org.teams, TeamNode);
  Section(top, "schedules", org.schedules, ScheduleNode);
  Section(top, "escalation_policies", org.escalation_policies, PolicyNode);
  Section(top, "services", org.services, ServiceNode);
  Section(top, "maintenance_windows", org.maintenance_windows, MaintenanceWindowNode);
  Section(top, "silences", org.silences, SilenceNode);
  if (org.status_page) top.Set("status_page", StatusPageNode(*org.status_page));
  Section(top, "incident_roles", org.incident_roles, IncidentRoleNode);
  Section(top, "incident_rules", org.incident_rules, IncidentRuleNode);
  Section(top, "audiences", org.audiences, AudienceNode);
  Section(top, "webhooks", org.webhooks, WebhookNode);
  if (org.postmortems) top.Set("postmortems", PostmortemsNode(*org.postmortems, org));
  if (org.action_items) top.Set("action_items", ActionItemsNode(*org.action_items));
  if (top.empty()) return "{}\n";
  NodePtr root = top.Release();
  Renderer renderer;
  renderer.TopLevel(*root);
  return renderer.Take();
}

// ---- the report -----------------------------------------------------------------------------

std::string FormatReport(const ImportResult& result) {
  struct Group {
    ReportEntry::Kind kind;
    std::string_view title;
  };
  constexpr std::array<Group, 3> kGroups{{
      {ReportEntry::Kind::kDropped, "Not imported"},
      {ReportEntry::Kind::kChanged, "Imported with a different meaning"},
      {ReportEntry::Kind::kManualStep, "Manual steps"},
  }};
  std::string out;
  std::array<int, 3> per_kind{};
  for (const Group& g : kGroups) {
    std::vector<const ReportEntry*> entries;
    for (const ReportEntry& e : result.report) {
      if (e.kind == g.kind) entries.push_back(&e);
    }
    per_kind[static_cast<size_t>(g.kind)] = static_cast<int>(entries.size());
    if (entries.empty()) continue;
    out += fmt::format("{} ({}):\n", g.title, entries.size());
    for (const ReportEntry* e : entries) {
      out += "  " + e->object;
      if (!e->field.empty()) out += ": " + e->field;
      out += ": " + e->reason + "\n";
    }
    out += "\n";
  }
  if (result.report.empty()) out += "Everything was carried over exactly.\n\n";
  std::vector<std::string> counts;
  for (const auto& [kind, n] : result.counts) counts.push_back(fmt::format("{} {}", n, kind));
  out += fmt::format("Imported: {}.\n",
                     counts.empty() ? "nothing" : fmt::format("{}", fmt::join(counts, ", ")));
  out += fmt::format("Report: {} not imported, {} changed, {} manual step(s).\n", per_kind[0],
                     per_kind[1], per_kind[2]);
  return out;
}

std::string_view ToString(ReportEntry::Kind kind) {
  switch (kind) {
    case ReportEntry::Kind::kDropped:
      return "dropped";
    case ReportEntry::Kind::kChanged:
      return "changed";
    case ReportEntry::Kind::kManualStep:
      return "manual_step";
  }
  return "dropped";
}

std::string FormatReportJson(const ImportResult& result) {
  namespace json = boost::json;
  json::array entries;
  for (const ReportEntry& e : result.report) {
    json::object o;
    o["kind"] = ToString(e.kind);
    o["object"] = e.object;
    o["field"] = e.field;
    o["reason"] = e.reason;
    entries.emplace_back(std::move(o));
  }
  json::object counts;
  for (const auto& [kind, n] : result.counts) counts[kind] = n;
  json::object root;
  root["entries"] = std::move(entries);
  root["counts"] = std::move(counts);
  return json::serialize(root) + "\n";
}

}  // namespace houston::migration
