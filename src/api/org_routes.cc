// GET /api/v1/org (admins): the org as applied. The document stored at the last apply
// (store::OrgSnapshot::source_yaml) is parsed again and answered as a whole and per object (each
// item of each top-level section, emitted back as YAML), with every secret masked: contact
// methods', subscribers' and webhooks' `secret`, the path of Slack webhook URLs (the URL is
// Slack's credential), any key naming a password, token or secret,
// every header value, and the password in a URL's user info.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>

#include "api/platform_routes.h"
#include "api/request.h"
#include "core/time_util.h"

namespace houston::api {

namespace {

namespace json = boost::json;
using http::HttpRequest;

constexpr std::string_view kMasked = "***";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Keys whose scalar value is a secret wherever they appear.
bool IsSecretKey(std::string_view key) {
  std::string k = Lower(key);
  static constexpr std::array<std::string_view, 8> kExact = {
      "secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "auth_token"};
  if (std::find(kExact.begin(), kExact.end(), k) != kExact.end()) return true;
  for (std::string_view suffix : {"_secret", "_password", "_token"}) {
    if (k.ends_with(suffix)) return true;
  }
  return false;
}

// `url` with the password of its user info masked ("https://user:***@host/"), or nullopt when it
// has none.
std::optional<std::string> MaskUrlPassword(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  size_t host_start = scheme + 3;
  size_t authority_end = url.find_first_of("/?#", host_start);
  std::string_view authority =
      url.substr(host_start, authority_end == std::string_view::npos ? std::string_view::npos
                                                                     : authority_end - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  size_t colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at || colon + 1 == at) return std::nullopt;
  std::string out(url.substr(0, host_start + colon + 1));
  out += kMasked;
  out += url.substr(host_start + at);
  return out;
}

// A Slack incoming-webhook URL is itself the credential (its path): "https://hooks.slack.com/***"
// keeps the host to tell it by; nullopt when there is no path to mask.
std::optional<std::string> MaskUrlPath(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  size_t path = url.find('/', scheme + 3);
  if (path == std::string_view::npos || path + 1 >= url.size()) return std::nullopt;
  return std::string(url.substr(0, path + 1)) + std::string(kMasked);
}

// What an object is called in its section: its id (or key, or name), else its position.
std::string ObjectId(const YAML::Node& item, size_t index) {
  if (item.IsMap()) {
    for (const char* key : {"id", "key", "name"}) {
      const YAML::Node v = item[key];
      if (v.IsDefined() && v.IsScalar() && !v.Scalar().empty()) return v.Scalar();
    }
  } else if (item.IsScalar() && !item.Scalar().empty()) {
    return item.Scalar();
  }
  return fmt::format("#{}", index + 1);
}

// One masked scalar: where it was in the source, and what it shows instead.
struct Masked {
  YAML::Mark mark;
  std::string original;
  std::string replacement;
};

// Masks the secrets below `node` in place (the tree is a parsed copy), recording each one and
// the path it was at.
class Masker {
 public:
  void Walk(YAML::Node node, const std::string& path) {
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
        std::string child = path.empty() ? key : path + "." + key;
        YAML::Node value = it->second;
        if (value.IsScalar() && !value.Scalar().empty() && IsSecretKey(key)) {
          Mask(value, child, std::string(kMasked));
        } else if (value.IsScalar() && Lower(key) == "url") {
          const YAML::Node& object = node;  // const: looking up "type" inserts nothing
          const YAML::Node type = object["type"];
          bool slack = type && type.IsScalar() && type.Scalar() == "slack";
          if (auto masked = slack ? MaskUrlPath(value.Scalar()) : MaskUrlPassword(value.Scalar())) {
            Mask(value, child, *masked);
          }
        } else if (value.IsMap() && Lower(key) == "headers") {
          for (auto h = value.begin(); h != value.end(); ++h) {
            YAML::Node header = h->second;
            if (header.IsScalar() && !header.Scalar().empty()) {
              Mask(header, child + "." + (h->first.IsScalar() ? h->first.Scalar() : "?"),
                   std::string(kMasked));
            }
          }
        } else {
          Walk(value, child);
        }
      }
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) {
        YAML::Node item = node[i];
        Walk(item, fmt::format("{}[{}]", path, ObjectId(item, i)));
      }
    }
  }

  const std::vector<Masked>& masked() const { return masked_; }
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  void Mask(YAML::Node value, const std::string& path, std::string replacement) {
    // An alias shows the same node again: it is masked (and recorded) once.
    if (value.Scalar() == replacement) return;
    masked_.push_back({value.Mark(), value.Scalar(), replacement});
    paths_.push_back(path);
    value = replacement;
  }

  std::vector<Masked> masked_;
  std::vector<std::string> paths_;
};

// Where the scalar that starts at `pos` ends in `text` (one past its last character), or
// nullopt when that cannot be told for sure (a block or multi-line scalar).
std::optional<size_t> ScalarEnd(std::string_view text, size_t pos, std::string_view value) {
  if (pos >= text.size()) return std::nullopt;
  char c = text[pos];
  if (c == '"') {
    for (size_t i = pos + 1; i < text.size(); ++i) {
      if (text[i] == '\\') {
        ++i;
      } else if (text[i] == '"') {
        return i + 1;
      }
    }
    return std::nullopt;
  }
  if (c == '\'') {
    for (size_t i = pos + 1; i < text.size(); ++i) {
      if (text[i] != '\'') continue;
      if (i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
    return std::nullopt;
  }
  if (c == '|' || c == '>') return std::nullopt;
  if (text.substr(pos, value.size()) == value) return pos + value.size();
  return std::nullopt;
}

// A replacement as a YAML double-quoted scalar.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// `text` with every masked scalar replaced where it stands (comments and layout kept), or nullopt
// when one of them cannot be found exactly.
std::optional<std::string> MaskText(std::string_view text, std::vector<Masked> masked) {
  std::sort(masked.begin(), masked.end(),
            [](const Masked& a, const Masked& b) { return a.mark.pos > b.mark.pos; });
  std::string out(text);
  size_t limit = std::string::npos;  // replacements run back to front and must not overlap
  for (const Masked& m : masked) {
    if (m.mark.pos < 0) return std::nullopt;
    size_t pos = static_cast<size_t>(m.mark.pos);
    auto end = ScalarEnd(text, pos, m.original);
    if (!end || (limit != std::string::npos && *end > limit)) return std::nullopt;
    out.replace(pos, *end - pos, Quoted(m.replacement));
    limit = pos;
  }
  return out;
}

Result<std::string> Emit(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  if (!out.good()) return std::unexpected(Internal("emitting YAML failed: " + out.GetLastError()));
  return std::string(out.c_str());
}

// The stored document, masked, as a whole and per object.
struct OrgDocument {
  json::array sections;
  json::array masked;
  std::string yaml;
  bool reformatted = false;  // the whole document was emitted again (comments dropped)
};

Result<OrgDocument> DescribeOrg(const std::string& source_yaml) {
  OrgDocument doc;
  if (source_yaml.empty()) return doc;
  try {
    YAML::Node root = YAML::Load(source_yaml);
    Masker masker;
    masker.Walk(root, "");
    for (const std::string& p : masker.paths()) doc.masked.emplace_back(p);
    if (auto text = MaskText(source_yaml, masker.masked())) {
      doc.yaml = std::move(*text);
    } else {
      HOUSTON_ASSIGN_OR_RETURN(doc.yaml, Emit(root));
      doc.reformatted = true;
    }
    if (!root.IsMap()) return doc;
    for (auto it = root.begin(); it != root.end(); ++it) {
      std::string name = it->first.IsScalar() ? it->first.Scalar() : "?";
      const YAML::Node value = it->second;
      json::array objects;
      if (value.IsSequence()) {
        for (size_t i = 0; i < value.size(); ++i) {
          HOUSTON_ASSIGN_OR_RETURN(std::string text, Emit(value[i]));
          objects.push_back(json::object{{"id", ObjectId(value[i], i)}, {"yaml", text}});
        }
      } else {
        HOUSTON_ASSIGN_OR_RETURN(std::string text, Emit(value));
        objects.push_back(json::object{{"id", name}, {"yaml", text}});
      }
      doc.sections.push_back(json::object{{"name", name}, {"objects", std::move(objects)}});
    }
  } catch (const YAML::Exception& e) {
    return std::unexpected(
        Internal(fmt::format("the stored org document cannot be read: {}", e.what())));
  }
  return doc;
}

}  // namespace

void PlatformRoutes::GetOrg(const HttpRequest&, const auth::Principal*, Respond respond) {
  auto snap = store_.LoadOrg();
  if (!snap) return respond(StoreError(snap.error()));
  auto doc = DescribeOrg(snap->source_yaml);
  if (!doc) return respond(http::ErrorResponse(doc.error()));
  // Who last changed it: applying a document that changes nothing records no audit entry.
  auto changes = store_.ListAudit({.resource_type = "org", .limit = 1});
  if (!changes) return respond(StoreError(changes.error()));
  json::value last_change = nullptr;
  if (!changes->empty()) {
    const store::AuditRecord& r = changes->front();
    boost::system::error_code ec;
    json::value details = json::parse(r.details_json.empty() ? "{}" : r.details_json, ec);
    if (ec) details = json::object();
    last_change = json::object{
        {"at", FormatRfc3339(r.at)},
        {"actor", json::object{{"type", r.actor.type}, {"id", r.actor.id}}},
        {"method", r.actor.method},
        {"source_name", r.resource_id},
        {"details", std::move(details)},
    };
  }
  json::object o{
      {"applied", snap->applied_at.has_value()},
      {"source_name", snap->source_name},
      {"applied_at", snap->applied_at ? json::value(FormatRfc3339(*snap->applied_at)) : nullptr},
      {"last_change", std::move(last_change)},
      {"sections", std::move(doc->sections)},
      {"masked", std::move(doc->masked)},
      {"yaml", std::move(doc->yaml)},
      {"yaml_reformatted", doc->reformatted},
  };
  http::Response r = http::JsonResponse(bhttp::status::ok, json::serialize(o));
  r.set(bhttp::field::cache_control, "no-store");
  respond(std::move(r));
}

}  // namespace houston::api
