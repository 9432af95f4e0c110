// Small JSON text helpers for code that emits JSON without a DOM (hot paths, the store).
#pragma once

#include <string>
#include <string_view>

namespace houston {

// Appends `s` to `out` as a quoted JSON string. `s` must be valid UTF-8 (control characters
// and quotes are escaped; non-ASCII passes through).
void AppendJsonString(std::string& out, std::string_view s);
// `s` as a quoted JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace houston
