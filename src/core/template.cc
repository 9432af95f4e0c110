#include "core/template.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <kainjow/mustache.hpp>

namespace houston::core {
namespace {

namespace mustache = kainjow::mustache;

mustache::data ToData(const TemplateValue& v) {
  if (const auto* s = std::get_if<std::string>(&v.value)) {
    // An empty value is false, so that {{#x}}...{{/x}} / {{^x}}...{{/x}} test for it.
    return s->empty() ? mustache::data(mustache::data::type::bool_false) : mustache::data(*s);
  }
  if (const auto* b = std::get_if<bool>(&v.value)) {
    return *b ? mustache::data(mustache::data::type::bool_true)
              : mustache::data(mustache::data::type::bool_false);
  }
  if (const auto* o = std::get_if<TemplateObject>(&v.value)) {
    mustache::data d{mustache::data::type::object};
    for (const auto& [name, value] : *o) d.set(name, ToData(value));
    return d;
  }
  mustache::data list{mustache::data::type::list};
  for (const auto& item : std::get<TemplateList>(v.value)) list.push_back(ToData(item));
  return list;
}

Status Invalid(const std::string& error, std::string_view text) {
  return InvalidArgument("invalid template: " + TemplateErrorWithLineColumn(error, text));
}

}  // namespace

std::string TemplateErrorWithLineColumn(const std::string& error, std::string_view text) {
  size_t at = error.rfind(" at ");
  if (at == std::string::npos) return error;
  size_t offset = 0;
  std::string_view digits = std::string_view(error).substr(at + 4);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return error;
  offset = std::min(offset, text.size());
  size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
  size_t line_start = text.rfind('\n', offset == 0 ? std::string_view::npos : offset - 1);
  size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return fmt::format("{} at line {}, column {}", error.substr(0, at), line, column);
}

Status ValidateTemplate(std::string_view text) {
  mustache::mustache tmpl{std::string(text)};
  if (!tmpl.is_valid()) return Invalid(tmpl.error_message(), text);
  return OkStatus();
}

Result<std::string> RenderTemplate(std::string_view text, const TemplateObject& data) {
  mustache::mustache tmpl{std::string(text)};
  if (!tmpl.is_valid()) return std::unexpected(Invalid(tmpl.error_message(), text));
  tmpl.set_custom_escape([](const std::string& s) { return s; });
  std::string out = tmpl.render(ToData(TemplateValue(data)));
  if (!tmpl.is_valid()) return std::unexpected(Invalid(tmpl.error_message(), text));
  return out;
}

}  // namespace houston::core
