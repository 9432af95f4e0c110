-- wrk script: POST /api/v2/alerts, one alert per request, the body of research/perf-anchors.md
-- §3.3 (instance varies so fingerprints differ; they repeat every 100,000 requests). Both
-- Prometheus Alertmanager 0.25 and houston's Prometheus endpoint answer 200; the RESULT line
-- counts 200s. Arguments (after --), both optional:
--   PATH    where to post [/api/v2/alerts]; houston: /integrations/prometheus/{key}/api/v2/alerts
--   PREFIX  put before each instance label, so that a run after a warm-up sends only new alerts
--
--   wrk -t1 -c32 -d20s --latency -s bench/am.lua http://127.0.0.1:9093
--   wrk -t1 -c32 -d20s --latency -s bench/am.lua http://127.0.0.1:8080 -- \
--     /integrations/prometheus/prom-bench/api/v2/alerts run1
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local path, prefix = "/api/v2/alerts", ""
local n = 0

function init(args)
  path = args[1] or path
  prefix = args[2] or prefix
end

request = function()
  n = n + 1
  local body = string.format('[{"labels":{"alertname":"Bench","instance":"%sh%d","severity":"critical"},"annotations":{"summary":"bench %d"}}]', prefix, n % 100000, n)
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
  count_status(status, 200)
end
