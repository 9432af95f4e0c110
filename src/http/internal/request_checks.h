// Checks of a request's headers done before routing (RFC 9112): how the body is framed, the
// Host header, the form of the request target, and the bounded method label of the metrics.
#pragma once

#include <boost/beast/http.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/status.h"

namespace houston::http::internal {

namespace bhttp = boost::beast::http;

// Why a request is refused before routing: the HTTP status and the error to render. The
// connection is closed after the answer (its framing cannot be trusted).
struct Rejection {
  bhttp::status status;
  Status error;
};

// Transfer-Encoding must be exactly "chunked" (RFC 9112 section 6.3): a request whose codings
// do not end in chunked (its length cannot be known: the body would be read as the next
// request), one that also has Content-Length, an HTTP/1.0 one, or chunked applied twice is a
// 400; other codings before chunked (gzip, ...) are not supported: 501. Content-Length must be
// one field holding digits only: two fields (even equal) or a list ("5, 5") is a 400.
std::optional<Rejection> CheckFraming(const bhttp::request_header<>& header);

// An HTTP/1.1 request needs exactly one Host header, any request at most one, and its value
// must be a host[:port] (RFC 9112 section 3.2): 400 otherwise.
std::optional<Rejection> CheckHost(const bhttp::request_header<>& header);

struct Target {
  std::string_view path;   // never empty
  std::string_view query;  // without '?'
};
// Splits a request target in origin form ("/a?b") or absolute form ("http://host/a?b", RFC 9112
// section 3.2.2: routed by its path as well). Views into `target`, or a static "/".
Target SplitTarget(std::string_view target);

// The raw request head (request line and header lines, each ended by CRLF, without the empty
// line that ends the head; leading empty lines allowed) must not fold a header value over lines
// (obs-fold, RFC 9112 section 5.2: a line starting with SP or HTAB) nor end a line with a bare
// CR or LF: 400 otherwise, before the parser (which would unfold it) sees it, so that a proxy
// in front and houston cannot read a folded Transfer-Encoding differently.
std::optional<Rejection> CheckRawHead(std::string_view head);

// At most `max_fields` header fields: 431 otherwise.
std::optional<Rejection> CheckHeaderCount(const bhttp::request_header<>& header, size_t max_fields);

// The path of a request target (Target::path) must be in origin form ("/..."; "*" and other
// forms are 400) and have one spelling (400 otherwise): no "." or ".." segment (also written
// %2e), no percent-encoded control character (%00-%1F, %7F), no literal backslash, only
// well-formed %XX escapes, and every segment valid UTF-8 once decoded (no overlong forms,
// surrogates or stray bytes). Router splits the path at its literal slashes, then decodes each
// segment exactly once (%252e is the text "%2e", never "."; %2F is a '/' inside a segment's
// value, e.g. an Opsgenie alias, never a separator), so no route can be reached by a spelling
// that escapes its pattern, and an encoded spelling of a route is that route.
std::optional<Rejection> CheckPath(std::string_view path);

// The method as a metrics label: the methods of RFC 9110 by name, any other "other", so that
// clients cannot add series at will.
std::string_view MethodLabel(bhttp::verb method);

}  // namespace houston::http::internal
