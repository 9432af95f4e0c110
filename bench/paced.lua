-- wrk script: all-new-keys PagerDuty events to houston at a fixed aggregate rate (default 10,000/s).
--
--   wrk -t1 -c32 -d20s --latency -s bench/paced.lua http://127.0.0.1:PORT -- RUNID [RATE]
--
-- Paced by pacing.lua (one wrk thread: -t1).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "events_v2.lua")
dofile(dir .. "pacing.lua")

local events_init = init

function init(args)
  events_init({ "new", args[1], "100" })
  pace_at(tonumber(args[2] or "10000"))
end
