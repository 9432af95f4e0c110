-- wrk script: the list queries people and the web UI make, against a large database
-- (bench/size.sh): open incidents, one service's incidents, alerts, each a page of 50, from the
-- newest or from a random cursor deep in the table (pagination). Sends an API token.
--
--   wrk -t1 -c4 -d10s --latency -s bench/lists.lua http://127.0.0.1:PORT -- TOKEN [MAX_ID]
--
-- Counts 200s (see wrk_common.lua).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua")

local token, max_id = "", 100000
local n = 0

function init(args)
  token = args[1] or ""
  max_id = tonumber(args[2] or "100000")
  math.randomseed(12345)
end

local paths = {
  function() return "/api/v1/incidents?status=triggered&limit=50" end,
  function() return "/api/v1/incidents?service=svc-" .. math.random(0, 49) .. "&limit=50" end,
  function() return "/api/v1/incidents?limit=50&cursor=" .. math.random(2, max_id) end,
  function() return "/api/v1/alerts?limit=50" end,
  function() return "/api/v1/alerts?limit=50&cursor=" .. math.random(2, max_id * 10) end,
  function() return "/api/v1/alerts?status=resolved&limit=50" end,
}

function request()
  n = n + 1
  local path = paths[(n % #paths) + 1]()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  count_status(status, 200)
end
