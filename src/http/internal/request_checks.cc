#include "http/internal/request_checks.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>
#include <cctype>
#include <string>
#include <vector>

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
  auto is_chunked = [](std::string_view c) { return boost::beast::iequals(c, "chunked"); };
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
        (boost::beast::iequals(scheme, "http") || boost::beast::iequals(scheme, "https"))) {
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
