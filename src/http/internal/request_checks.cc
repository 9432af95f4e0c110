#include "http/internal/request_checks.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>
#include <cctype>
#include <iterator>
#include <string>
#include <vector>

#include "http/http.h"

namespace houston::http::internal {
namespace {

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Rejection BadRequest(std::string message) {
  return Rejection{bhttp::status::bad_request, InvalidArgument(std::move(message))};
}

// uri-host [":" port] (RFC 3986): reg-name, IPv4 or [IPv6] characters only.
bool ValidHost(std::string_view host) {
  for (unsigned char c : host) {
    if (std::isalnum(c)) continue;
    if (std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) ==
        std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<Rejection> CheckFraming(const bhttp::request_header<>& header) {
  if (size_t n = header.count(bhttp::field::content_length); n > 1) {
    return BadRequest("a request must have one Content-Length header, not several");
  } else if (n == 1) {
    auto v = header[bhttp::field::content_length];
    std::string_view value = TrimOws(std::string_view(v.data(), v.size()));
    if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
      return BadRequest("Content-Length must be one decimal number");
    }
  }
  auto [begin, end] = header.equal_range(bhttp::field::transfer_encoding);
  if (begin == end) return std::nullopt;
  if (header.version() < 11) {
    return BadRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  }
  if (header.count(bhttp::field::content_length) > 0) {
    return BadRequest("a request must not have both Transfer-Encoding and Content-Length");
  }
  std::vector<std::string_view> codings;
  for (auto it = begin; it != end; ++it) {
    std::string_view value(it->value().data(), it->value().size());
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string_view coding = TrimOws(value.substr(0, comma));
      if (!coding.empty()) codings.push_back(coding);
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  auto is_chunked = [](std::string_view c) { return EqualsIgnoringCase(c, "chunked"); };
  if (codings.empty() || !is_chunked(codings.back())) {
    return BadRequest(
        "the Transfer-Encoding of a request must end in chunked, or its length cannot be known");
  }
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    if (is_chunked(codings[i])) return BadRequest("chunked is applied more than once");
  }
  if (codings.size() > 1) {
    return Rejection{bhttp::status::not_implemented,
                     InvalidArgument(fmt::format("transfer coding '{}' is not supported; send the "
                                                 "body with Transfer-Encoding: chunked alone",
                                                 codings.front()))};
  }
  return std::nullopt;
}

std::optional<Rejection> CheckHost(const bhttp::request_header<>& header) {
  size_t n = header.count(bhttp::field::host);
  if (n > 1) return BadRequest("a request must have one Host header, not several");
  if (n == 0) {
    if (header.version() >= 11) return BadRequest("an HTTP/1.1 request needs a Host header");
    return std::nullopt;
  }
  auto value = header[bhttp::field::host];
  if (!ValidHost(std::string_view(value.data(), value.size()))) {
    return BadRequest("the Host header is not a host[:port]");
  }
  return std::nullopt;
}

Target SplitTarget(std::string_view target) {
  if (!target.starts_with('/')) {
    size_t sep = target.find("://");
    std::string_view scheme = target.substr(0, sep);
    if (sep != std::string_view::npos &&
        (EqualsIgnoringCase(scheme, "http") || EqualsIgnoringCase(scheme, "https"))) {
      std::string_view rest = target.substr(sep + 3);
      size_t path_start = rest.find_first_of("/?");
      target = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    }
  }
  Target t{target, {}};
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    t.path = target.substr(0, q);
    t.query = target.substr(q + 1);
  }
  if (t.path.empty()) t.path = "/";
  return t;
}

std::optional<Rejection> CheckRawHead(std::string_view head) {
  while (head.starts_with("\r\n")) head.remove_prefix(2);
  for (size_t i = 0; i < head.size(); ++i) {
    char c = head[i];
    if (c == '\n' && (i == 0 || head[i - 1] != '\r')) {
      return BadRequest("a line of the request head ends in a bare LF, not CRLF");
    }
    if (c == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) {
      return BadRequest("a line of the request head ends in a bare CR, not CRLF");
    }
    if (c == '\n' && i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
      return BadRequest(
          "a header value is folded over several lines (obs-fold); send it on one line");
    }
  }
  return std::nullopt;
}

std::optional<Rejection> CheckHeaderCount(const bhttp::request_header<>& header,
                                          size_t max_fields) {
  size_t n = static_cast<size_t>(std::distance(header.begin(), header.end()));
  if (n <= max_fields) return std::nullopt;
  return Rejection{bhttp::status::request_header_fields_too_large,
                   ResourceExhausted(fmt::format(
                       "the request has {} header fields; the limit is {}", n, max_fields))};
}

namespace {

// The length of the UTF-8 sequence at s[i] (1 for ASCII), or 0 if it is not well formed
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Rejection> CheckPath(std::string_view path) {
  if (!path.starts_with('/')) {
    return BadRequest("the request target must be a path starting with '/'");
  }
  std::string segment;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (segment == "." || segment == "..") {
        return BadRequest("the request path has a '.' or '..' segment; send it resolved");
      }
      for (size_t k = 0; k < segment.size();) {
        size_t n = Utf8Length(segment, k);
        if (n == 0) return BadRequest("the request path is not UTF-8 once percent-decoded");
        k += n;
      }
      segment.clear();
      continue;
    }
    char c = path[i];
    if (c == '\\') return BadRequest("the request path has a backslash");
    if (c != '%') {
      segment += c;
      continue;
    }
    int hi = i + 2 < path.size() ? Hex(path[i + 1]) : -1;
    int lo = hi >= 0 ? Hex(path[i + 2]) : -1;
    if (lo < 0) return BadRequest("the request path has a '%' not followed by two hex digits");
    auto decoded = static_cast<unsigned char>(hi * 16 + lo);
    if (decoded < 0x20 || decoded == 0x7f) {
      return BadRequest("the request path has a percent-encoded control character");
    }
    segment += static_cast<char>(decoded);
    i += 2;
  }
  return std::nullopt;
}

std::string_view MethodLabel(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::post:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
    case bhttp::verb::connect:
    case bhttp::verb::options:
    case bhttp::verb::trace:
    case bhttp::verb::patch: {
      auto s = bhttp::to_string(method);
      return std::string_view(s.data(), s.size());
    }
    default:
      return "other";
  }
}

}  // namespace houston::http::internal
