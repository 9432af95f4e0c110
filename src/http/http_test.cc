#include <gtest/gtest.h>

#include "http/http.h"

namespace houston::http {
namespace {

TEST(Router, MatchesParamsAndDistinguishes404From405) {
  Router r;
  int hit = 0;
  r.Add(bhttp::verb::get, "/api/v1/alerts", [&](const HttpRequest&, Responder) { hit = 1; });
  r.Add(bhttp::verb::get, "/api/v1/alerts/{id}", [&](const HttpRequest&, Responder) { hit = 2; });
  r.Add(bhttp::verb::post, "/api/v1/alerts/{id}/acknowledge",
        [&](const HttpRequest&, Responder) { hit = 3; });
  auto m = r.Find(bhttp::verb::get, "/api/v1/alerts/42");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(*m.pattern, "/api/v1/alerts/{id}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].second, "42");
  EXPECT_NE(r.Find(bhttp::verb::get, "/api/v1/alerts/").handler, nullptr);  // trailing slash
  auto wrong_method = r.Find(bhttp::verb::delete_, "/api/v1/alerts/42");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  auto unknown = r.Find(bhttp::verb::get, "/nope");
  EXPECT_EQ(unknown.handler, nullptr);
  EXPECT_FALSE(unknown.path_known);
  EXPECT_NE(r.Find(bhttp::verb::head, "/api/v1/alerts").handler, nullptr);
}

TEST(HttpRequest, DecodesQueryParameters) {
  Request raw;
  HttpRequest req{
      raw, "/x", "status=triggered&service=check%20out&since=2026-01-01T00%3A00%3A00Z&e",
      {},  "",   ""};
  EXPECT_EQ(req.Query("status"), "triggered");
  EXPECT_EQ(req.Query("service"), "check out");
  EXPECT_EQ(req.Query("since"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(req.Query("e"), "");
  EXPECT_EQ(req.Query("missing"), std::nullopt);
}

TEST(ErrorResponse, MapsCodesAndRendersJson) {
  auto res = ErrorResponse(InvalidArgument("bad \"thing\"", {"a", "b"}));
  EXPECT_EQ(res.result(), bhttp::status::bad_request);
  EXPECT_EQ(
      res.body(),
      R"({"error":{"code":"invalid_argument","message":"bad \"thing\"","details":["a","b"]}})");
  EXPECT_EQ(ErrorResponse(Unauthenticated("x")).result(), bhttp::status::unauthorized);
  EXPECT_EQ(ErrorResponse(PermissionDenied("x")).result(), bhttp::status::forbidden);
  EXPECT_EQ(ErrorResponse(ResourceExhausted("x")).result(), bhttp::status::too_many_requests);
  EXPECT_EQ(ErrorResponse(Unavailable("x")).result(), bhttp::status::service_unavailable);
  EXPECT_EQ(ErrorResponse(NotFound("x")).result(), bhttp::status::not_found);
}

TEST(Metrics, RendersCountersAndHistograms) {
  Metrics m;
  m.Describe("req_total", "counter", "Requests.");
  m.Describe("lat_seconds", "histogram", "Latency.", {0.1, 1});
  m.Add("req_total", "code=\"200\"");
  m.Add("req_total", "code=\"200\"", 2);
  m.Observe("lat_seconds", "", 0.05);
  m.Observe("lat_seconds", "", 5);
  std::string out = m.Render();
  EXPECT_NE(out.find("# TYPE req_total counter\nreq_total{code=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_count 2\n"), std::string::npos);
}

TEST(Metrics, GaugesWithAndWithoutLabelsAreReadOutsideTheLock) {
  Metrics m;
  m.Describe("depth", "gauge", "Depth.");
  m.Describe("open", "gauge", "Open things.");
  m.SetGaugeSource("depth", [] { return 7.0; });
  // A source may use the registry itself (e.g. count while rendering) without deadlocking.
  m.SetGaugeSeriesSource("open", [&m] {
    m.Add("renders_total", "");
    return Metrics::GaugeSeries{{R"(status="triggered")", 2}, {R"(status="acknowledged")", 0}};
  });
  std::string out = m.Render();
  EXPECT_NE(out.find("# TYPE depth gauge\ndepth 7\n"), std::string::npos) << out;
  EXPECT_NE(out.find("open{status=\"triggered\"} 2\nopen{status=\"acknowledged\"} 0\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("renders_total 1\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace houston::http
