// A plain HTTPS GET for the importers' API mode (libcurl). Not for the server: it blocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "notify/notify.h"

namespace houston::migration {

struct HttpAnswer {
  long status = 0;
  std::string body;
};

struct HttpGetOptions {
  // Which addresses may be reached: every connection passes notify's egress guard, so private,
  // loopback and link-local addresses (in any spelling, or behind a DNS name) are refused unless
  // allowlisted (`houston import ... --allow-egress CIDR`).
  notify::EgressPolicy egress;
  size_t max_response_bytes = size_t{64} * 1024 * 1024;  // a larger answer is an error
  std::chrono::seconds timeout{30};                      // the whole request, connect included
};

// GETs `url` with the extra request `headers` ("Name: value"), following no redirects, through
// the egress guard, within `options.timeout`. A 429 answer is retried up to 5 times, waiting
// Retry-After seconds (1..30) in between. Returns Unavailable naming the URL when the request
// cannot be made (connection, TLS, timeout); PermissionDenied naming the refused addresses and
// the --allow-egress flag when the guard refused every address; ResourceExhausted when the
// answer is larger than options.max_response_bytes. Any HTTP status is returned as an answer for
// the caller to judge. Thread-compatible (each call uses its own handle).
Result<HttpAnswer> HttpGet(const std::string& url, const std::vector<std::string>& headers,
                           const HttpGetOptions& options = {});

}  // namespace houston::migration
