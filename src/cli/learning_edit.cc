#include "cli/learning_edit.h"

#include <fmt/format.h>

namespace houston::cli {

namespace json = boost::json;

namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string Get(const json::value& v, std::string_view k) {
  const json::value* m = v.is_object() ? v.as_object().if_contains(k) : nullptr;
  return m && m->is_string() ? std::string(m->as_string()) : std::string();
}

bool IsComment(std::string_view line) {
  return line == "#" || line.starts_with("# ") || line.starts_with("#\t");
}

}  // namespace

PostmortemText FromPostmortemJson(const json::value& p) {
  PostmortemText t;
  t.owner = Get(p, "owner");
  t.status = Get(p, "status");
  t.factors.emplace();
  if (const json::value* f = p.as_object().if_contains("factors"); f && f->is_array()) {
    for (const auto& x : f->as_array()) {
      if (x.is_string()) t.factors->emplace_back(x.as_string());
    }
  }
  if (const json::value* s = p.as_object().if_contains("sections"); s && s->is_array()) {
    for (const auto& x : s->as_array()) {
      t.template_sections.push_back(
          {Get(x, "id"), Get(x, "title"), Get(x, "prompt"), Get(x, "text")});
    }
  }
  return t;
}

std::string FormatForEditing(const PostmortemText& t, std::string_view incident_id) {
  std::string out = fmt::format(
      "# The postmortem of incident {}: its human part. Lines that start with '# ' are\n"
      "# comments and are dropped. Save and quit to send it; a blameless postmortem is about\n"
      "# systems and conditions, not people.\n"
      "# status: draft or in_review (publish with: houston postmortem publish {}).\n"
      "# factors: contributing-factor tags from the org's vocabulary, comma-separated.\n",
      incident_id, incident_id);
  out += fmt::format("owner: {}\n", t.owner.value_or(""));
  std::string status = t.status.value_or("draft");
  out += fmt::format("status: {}\n", status.empty() || status == "published" ? "draft" : status);
  std::string factors;
  for (const auto& f : t.factors.value_or(std::vector<std::string>{}))
    factors += (factors.empty() ? "" : ", ") + f;
  out += fmt::format("factors: {}\n", factors);
  for (const auto& s : t.template_sections) {
    out += fmt::format("\n## {}: {}\n", s.id, s.title);
    if (s.text.empty() && !s.prompt.empty()) out += fmt::format("# {}\n", s.prompt);
    if (!s.text.empty()) out += s.text + (s.text.back() == '\n' ? "" : "\n");
  }
  if (t.template_sections.empty()) {
    out +=
        "\n# This incident has no postmortem yet: saving starts one from the org's template.\n"
        "# Write sections as '## <section id>: <title>' followed by their text.\n";
  }
  return out;
}

Result<PostmortemText> ParseEditedPostmortem(std::string_view text) {
  PostmortemText t;
  std::vector<std::string> problems;
  std::optional<size_t> section;  // index into t.sections
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  auto finish = [&] {
    if (!section) return;
    std::string& body = t.sections[*section].second;
    while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
    size_t b = body.find_first_not_of('\n');
    body = b == std::string::npos ? "" : body.substr(b);
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (IsComment(line)) continue;
    if (line.starts_with("## ")) {
      finish();
      std::string header = Trim(line.substr(3));
      std::string id = Trim(header.substr(0, header.find(':')));
      if (id.empty() || id.find(' ') != std::string::npos) {
        problems.push_back(fmt::format(
            "line {}: a section header is '## <section id>: <title>', not '{}'", i + 1, line));
        section.reset();
        continue;
      }
      t.sections.emplace_back(id, "");
      section = t.sections.size() - 1;
      continue;
    }
    if (section) {
      t.sections[*section].second += std::string(line) + "\n";
      continue;
    }
    std::string trimmed = Trim(line);
    if (trimmed.empty()) continue;
    size_t colon = trimmed.find(':');
    std::string key = colon == std::string::npos ? trimmed : Trim(trimmed.substr(0, colon));
    std::string value = colon == std::string::npos ? "" : Trim(trimmed.substr(colon + 1));
    if (key == "owner") {
      t.owner = value;
    } else if (key == "status") {
      t.status = value;
    } else if (key == "factors") {
      t.factors.emplace();
      size_t p = 0;
      while (p <= value.size()) {
        size_t comma = value.find(',', p);
        if (comma == std::string::npos) comma = value.size();
        std::string f = Trim(std::string_view(value).substr(p, comma - p));
        if (!f.empty()) t.factors->push_back(f);
        p = comma + 1;
      }
    } else {
      problems.push_back(fmt::format(
          "line {}: unknown field '{}' (before the first section: owner, status, factors)", i + 1,
          key));
    }
  }
  finish();
  if (!problems.empty()) {
    std::string message = problems.size() == 1 ? problems.front() : "the edited text is invalid";
    return std::unexpected(InvalidArgument(std::move(message), std::move(problems)));
  }
  return t;
}

}  // namespace houston::cli
