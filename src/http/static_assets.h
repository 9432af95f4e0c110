// Files served as they were built into the binary (the web UI): each kept gzip-compressed and as
// it is, answered with a content-hash ETag (If-None-Match gets 304) and the caching its URL
// allows. Knows no domain: the UI's routes decide which file a path answers with.
#pragma once

#include <span>
#include <string_view>

#include "http/http.h"

namespace houston::http {

struct StaticAsset {
  std::string_view name;          // "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view identity;      // the file
  std::string_view gzip;          // the file, gzip-compressed
  std::string_view etag;          // quoted: "\"3f2a...\""
};

enum class AssetCaching {
  kRevalidate,  // the URL's content changes between builds (HTML): ask every time (ETag)
  kImmutable,   // the URL names the build: keep it a year, never ask again
};

// The asset with this name, or nullptr.
const StaticAsset* FindAsset(std::span<const StaticAsset> assets, std::string_view name);

// The answer to `req` (GET or HEAD) with `asset`: 304 when If-None-Match names its ETag, gzip
// when Accept-Encoding allows it (Vary: Accept-Encoding), otherwise the file as it is.
Response ServeAsset(const Request& req, const StaticAsset& asset, AssetCaching caching);

}  // namespace houston::http
