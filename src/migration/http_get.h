// A plain HTTPS GET for the importers' API mode (libcurl). Not for the server: it blocks.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace houston::migration {

struct HttpAnswer {
  long status = 0;
  std::string body;
};

// GETs `url` with the extra request `headers` ("Name: value"), following no redirects, with a
// 30 s timeout. A 429 answer is retried up to 5 times, waiting Retry-After seconds (1..30) in
// between. Returns Unavailable naming the URL when the request cannot be made (connection,
// TLS, timeout); any HTTP status is returned as an answer for the caller to judge.
// Thread-compatible (each call uses its own handle).
Result<HttpAnswer> HttpGet(const std::string& url, const std::vector<std::string>& headers);

}  // namespace houston::migration
