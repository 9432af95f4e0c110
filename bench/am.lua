-- wrk script: Prometheus Alertmanager 0.25 POST /api/v2/alerts, one alert per request, the body
-- of research/perf-anchors.md §3.3 (instance varies so fingerprints differ; they repeat every
-- 100,000 requests). Alertmanager answers 200; the RESULT line counts 200s.
--
--   wrk -t1 -c32 -d20s --latency -s bench/am.lua http://127.0.0.1:9093
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format('[{"labels":{"alertname":"Bench","instance":"h%d","severity":"critical"},"annotations":{"summary":"bench %d"}}]', n % 100000, n)
  return wrk.format(nil, "/api/v2/alerts", nil, body)
end

function response(status, headers, body)
  count_status(status, 200)
end
