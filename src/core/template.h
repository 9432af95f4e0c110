// Message templates: mustache (kainjow) behind a small value type of our own, so that callers
// build template data without depending on the template library.
//
// An empty text value counts as false in sections ({{#eta}}...{{/eta}} shows only when there is
// an ETA; {{^eta}}...{{/eta}} only when there is none).
// Templates render without HTML escaping: the text goes into Slack, email, webhooks and the
// status page, and each of those escapes for its own medium. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace houston::core {

// A value in template data: text, a flag (for {{#section}}), an object or a list.
struct TemplateValue {
  using Object = std::vector<std::pair<std::string, TemplateValue>>;
  using List = std::vector<TemplateValue>;
  std::variant<std::string, bool, Object, List> value;

  TemplateValue() : value(std::string()) {}
  TemplateValue(std::string s) : value(std::move(s)) {}    // NOLINT: implicit on purpose
  TemplateValue(const char* s) : value(std::string(s)) {}  // NOLINT
  TemplateValue(bool b) : value(b) {}                      // NOLINT
  TemplateValue(Object o) : value(std::move(o)) {}         // NOLINT
  TemplateValue(List l) : value(std::move(l)) {}           // NOLINT
};
using TemplateObject = TemplateValue::Object;
using TemplateList = TemplateValue::List;

// OK, or InvalidArgument "invalid template: <what> at line L, column C" (1-based, in `text`).
Status ValidateTemplate(std::string_view text);

// Renders `text` with `data` (unknown variables render empty). Errors as ValidateTemplate.
Result<std::string> RenderTemplate(std::string_view text, const TemplateObject& data);

// kainjow reports "<what> at <byte offset>"; this rewrites the offset as "line L, column C" of
// `text`. Other messages are returned unchanged.
std::string TemplateErrorWithLineColumn(const std::string& error, std::string_view text);

}  // namespace houston::core
