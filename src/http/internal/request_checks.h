// Checks of a request's headers done before routing (RFC 9112): how the body is framed, the
// Host header, the form of the request target, and the bounded method label of the metrics.
#pragma once

#include <boost/beast/http.hpp>

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
// 400; other codings before chunked (gzip, ...) are not supported: 501.
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

// The method as a metrics label: the methods of RFC 9110 by name, any other "other", so that
// clients cannot add series at will.
std::string_view MethodLabel(bhttp::verb method);

}  // namespace houston::http::internal
