#include "migration/http_get.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

namespace houston::migration {
namespace {

struct Body {
  std::string text;
  size_t max = 0;
  bool truncated = false;
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<Body*>(out);
  size_t len = size * n;
  if (body->text.size() + len > body->max) {
    body->truncated = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  body->text.append(data, len);
  return len;
}

}  // namespace

Result<HttpAnswer> HttpGet(const std::string& url, const std::vector<std::string>& headers,
                           const HttpGetOptions& options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  constexpr int kAttempts = 6;
  for (int attempt = 1;; ++attempt) {
    CURL* curl = curl_easy_init();
    if (!curl) return std::unexpected(Internal("curl_easy_init failed"));
    Body body;
    body.max = options.max_response_bytes;
    HttpAnswer answer;
    notify::CurlEgressGuard guard(options.egress);
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    long timeout_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout).count());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    CURLcode rc = guard.Install(curl) ? curl_easy_perform(curl) : CURLE_FAILED_INIT;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
    curl_off_t retry_after = 0;
    curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    if (guard.RefusedAll()) {
      return std::unexpected(PermissionDenied(fmt::format(
          "GET {}: {}", url, notify::RefusedDetail(guard.refused(), "run the import"))));
    }
    if (body.truncated) {
      return std::unexpected(ResourceExhausted(
          fmt::format("GET {}: the answer is larger than {} bytes", url, body.max)));
    }
    if (rc != CURLE_OK) {
      return std::unexpected(
          Unavailable(fmt::format("GET {} failed: {}", url, curl_easy_strerror(rc))));
    }
    answer.body = std::move(body.text);
    if (answer.status != 429 || attempt == kAttempts) return answer;
    // Rate limited: the APIs say when to come back; wait that long (bounded) and retry.
    auto wait = std::clamp<curl_off_t>(retry_after, 1, 30);
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
}

}  // namespace houston::migration
