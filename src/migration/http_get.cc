#include "migration/http_get.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace houston::migration {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

Result<HttpAnswer> HttpGet(const std::string& url, const std::vector<std::string>& headers) {
  constexpr int kAttempts = 6;
  for (int attempt = 1;; ++attempt) {
    CURL* curl = curl_easy_init();
    if (!curl) return std::unexpected(Internal("curl_easy_init failed"));
    HttpAnswer answer;
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
    curl_off_t retry_after = 0;
    curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      return std::unexpected(
          Unavailable(fmt::format("GET {} failed: {}", url, curl_easy_strerror(rc))));
    }
    if (answer.status != 429 || attempt == kAttempts) return answer;
    // Rate limited: the APIs say when to come back; wait that long (bounded) and retry.
    auto wait = std::clamp<curl_off_t>(retry_after, 1, 30);
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
}

}  // namespace houston::migration
