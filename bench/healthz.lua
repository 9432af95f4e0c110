-- wrk script: GET /healthz, houston's cheapest route (no body parsing, no store): the HTTP
-- framework's own ceiling on this machine. Counts 200s.
--
--   wrk -t1 -c32 -d15s --latency -s bench/healthz.lua http://127.0.0.1:PORT
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua")

wrk.path = "/healthz"

function response(status, headers, body)
  count_status(status, 200)
end
