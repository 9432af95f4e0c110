// Encodings the notify module needs: hex, base64 (standard and URL-safe), quoted-printable,
// escaping for HTML, Slack mrkdwn, JSON string contents and form values, UTF-8 truncation.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace houston::notify::internal {

std::string HexEncode(std::string_view bytes);                      // lower-case
std::string Base64Encode(std::string_view bytes);                   // standard alphabet, padded
std::optional<std::string> Base64Decode(std::string_view text);     // standard, padded
std::string Base64UrlEncode(std::string_view bytes);                // URL-safe alphabet, no padding
std::optional<std::string> Base64UrlDecode(std::string_view text);  // URL-safe, no padding

// Quoted-printable (RFC 2045) of UTF-8 text with '\n' (or "\r\n") line ends; output lines end in
// CRLF and are at most 76 characters. A '.' starting a line is encoded too.
std::string QuotedPrintable(std::string_view text);
// An RFC 2047 "encoded-word" form of a header value when it is not plain printable ASCII,
// folded so that no line exceeds 76 characters given that the first line already holds
// `prefix_len` characters (e.g. 9 for "Subject: "); the value unchanged otherwise.
std::string EncodeHeaderWords(std::string_view value, size_t prefix_len = 0);

std::string HtmlEscape(std::string_view s);         // & < > " '
std::string SlackEscape(std::string_view s);        // & < > (Slack mrkdwn and plain text)
std::string JsonStringContent(std::string_view s);  // JSON string escaping, without the quotes
std::string FormEncode(std::string_view s);         // application/x-www-form-urlencoded value

// At most `max_bytes` bytes of `s`, cut at a UTF-8 character boundary; "…" appended if cut.
std::string Utf8Truncate(std::string_view s, size_t max_bytes);
// `s` on one line: CR, LF and other control characters become spaces.
std::string OneLine(std::string_view s);
// True for an absolute http:// or https:// URL without spaces or control characters.
bool IsHttpUrl(std::string_view url);

}  // namespace houston::notify::internal
