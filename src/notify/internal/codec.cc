#include "notify/internal/codec.h"

#include "core/json_util.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace houston::notify::internal {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string ToBase64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> FromBase64(std::string_view text, int variant) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

bool IsUtf8Continuation(unsigned char c) { return (c & 0xc0) == 0x80; }

// Where to cut `s` so that at most `max` bytes remain without splitting a character.
size_t Utf8Cut(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t cut = max;
  while (cut > 0 && IsUtf8Continuation(static_cast<unsigned char>(s[cut]))) --cut;
  return cut;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  return ToBase64(bytes, sodium_base64_VARIANT_ORIGINAL);
}
std::optional<std::string> Base64Decode(std::string_view text) {
  return FromBase64(text, sodium_base64_VARIANT_ORIGINAL);
}
std::string Base64UrlEncode(std::string_view bytes) {
  return ToBase64(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return FromBase64(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::string QuotedPrintable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t col = 0;
  auto emit = [&](std::string_view piece) {
    // Soft line break so that no line exceeds 76 characters (75 + the "=").
    if (col + piece.size() > 75) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t eol = text.find('\n', i);
    std::string_view line = text.substr(i, eol == std::string_view::npos ? eol : eol - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (size_t j = 0; j < line.size(); ++j) {
      auto c = static_cast<unsigned char>(line[j]);
      bool last = j + 1 == line.size();
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      // A leading '.' could be read as SMTP end-of-data by a careless relay.
      if (c == '.' && col == 0) literal = false;
      if (literal) {
        char ch[1] = {static_cast<char>(c)};
        emit({ch, 1});
      } else {
        char enc[3] = {'=', kHexUpper[c >> 4], kHexUpper[c & 0xf]};
        emit({enc, 3});
      }
    }
    if (eol == std::string_view::npos) break;
    out += "\r\n";
    col = 0;
    i = eol + 1;
  }
  return out;
}

std::string EncodeHeaderWords(std::string_view value, size_t prefix_len) {
  bool plain = true;
  for (unsigned char c : value) {
    if (c < 0x20 || c >= 0x7f) plain = false;
  }
  if (plain) return std::string(value);
  // A line is `prefix` + "=?UTF-8?B?" + base64 + "?=" (12 characters of framing) <= 76, and
  // each encoded-word <= 75; continuation lines start with one space.
  std::string out;
  size_t used = prefix_len;
  while (!value.empty()) {
    size_t room = used + 12 < 76 ? 76 - 12 - used : 0;
    size_t max_bytes = std::min<size_t>(room / 4 * 3, 45);
    size_t n = Utf8Cut(value, max_bytes);
    if (n == 0) {  // no room for even one character: take one anyway, whole
      n = 1;
      while (n < value.size() && IsUtf8Continuation(static_cast<unsigned char>(value[n]))) ++n;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(value.substr(0, n)) + "?=";
    value.remove_prefix(n);
    used = 1;
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string SlackEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string JsonStringContent(std::string_view s) {
  std::string quoted = JsonQuote(s);
  return quoted.substr(1, quoted.size() - 2);
}

std::string FormEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 0xf];
    }
  }
  return out;
}

std::string Utf8Truncate(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  constexpr std::string_view kEllipsis = "\xe2\x80\xa6";
  size_t keep = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  std::string out(s.substr(0, Utf8Cut(s, keep)));
  out += kEllipsis;
  return out;
}

std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

bool IsHttpUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest.front() == '/') return false;
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace houston::notify::internal
