#include "http/static_assets.h"

#include <boost/beast/core/string.hpp>

namespace houston::http {

namespace {

// True if a comma-separated header list (If-None-Match, Accept-Encoding) names `token`, ignoring
// parameters (";q=...") and weak-validator prefixes; "*" matches too when `star` is set.
bool ListHas(std::string_view list, std::string_view token, bool star) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    size_t semi = item.find(';');
    std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi + 1);
    item = item.substr(0, semi);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    bool match = EqualsIgnoringCase(item, token) || (star && item == "*");
    if (!match) continue;
    // "gzip;q=0" refuses it.
    std::string_view p = params;
    while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
    if (p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000") return false;
    return true;
  }
  return false;
}

}  // namespace

const StaticAsset* FindAsset(std::span<const StaticAsset> assets, std::string_view name) {
  for (const auto& a : assets) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Response ServeAsset(const Request& req, const StaticAsset& asset, AssetCaching caching) {
  Response r{bhttp::status::ok, req.version()};
  r.set(bhttp::field::etag, asset.etag);
  r.set(bhttp::field::vary, "Accept-Encoding");
  r.set(bhttp::field::cache_control,
        caching == AssetCaching::kImmutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.set("X-Content-Type-Options", "nosniff");
  if (ListHas(req[bhttp::field::if_none_match], asset.etag, true)) {
    r.result(bhttp::status::not_modified);
    return r;
  }
  r.set(bhttp::field::content_type, asset.content_type);
  if (ListHas(req[bhttp::field::accept_encoding], "gzip", false)) {
    r.set(bhttp::field::content_encoding, "gzip");
    r.body().assign(asset.gzip);
  } else {
    r.body().assign(asset.identity);
  }
  r.prepare_payload();
  return r;
}

}  // namespace houston::http
