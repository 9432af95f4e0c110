-- wrk script: PagerDuty Events API v2 triggers to houston's POST /v2/enqueue (~500 byte bodies).
--
--   wrk -t1 -c32 -d20s --latency -s bench/events_v2.lua http://127.0.0.1:PORT -- new  RUNID
--   wrk -t1 -c32 -d20s --latency -s bench/events_v2.lua http://127.0.0.1:PORT -- hot  RUNID [100]
--
-- new: every request carries a dedup_key never used before (RUNID-<counter>), so each one opens
--      an alert and an incident. RUNID must differ between runs against the same database.
-- hot: dedup_keys cycle over 100 (or the given number of) hot keys: after the first round every
--      request folds into an open alert (event_count + 1).
-- badkey: like new, but with a routing key no integration has: houston parses the event and
--      answers 400 without touching the store (HTTP + parsing cost only).
-- Prints a RESULT line (see wrk_common.lua) counting 202s and other statuses.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua")

local routing_key = "0123456789abcdef0123456789abcdef"
local mode, prefix, hot_keys, expected = "new", "run", 100, 202
local n = 0

-- The body of bench/ingest_bench.cc's kTrigger with a variable dedup_key.
local head
local tail = '","payload":{"summary":"Disk /var on db-7.prod is 97% full (threshold 90%)",' ..
  '"source":"db-7.prod.example.com","severity":"critical",' ..
  '"timestamp":"2026-01-05T09:00:00.123+0000","component":"postgres",' ..
  '"group":"prod-db","class":"disk","custom_details":{"mount":"/var",' ..
  '"used_bytes":521838559232,"used_pct":97.0}},"client":"node-checker",' ..
  '"links":[{"href":"https://wiki.example.com/runbooks/disk-full","text":"Runbook"}]}'

function init(args)
  mode = args[1] or "new"
  prefix = args[2] or tostring(os.time())
  hot_keys = tonumber(args[3] or "100")
  if mode ~= "new" and mode ~= "hot" and mode ~= "badkey" then
    error("mode must be new, hot or badkey, not " .. mode)
  end
  if mode == "badkey" then
    routing_key, expected = "ffffffffffffffffffffffffffffffff", 400
  end
  head = '{"routing_key":"' .. routing_key .. '","event_action":"trigger","dedup_key":"'
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function next_body()
  n = n + 1
  local key
  if mode ~= "hot" then
    key = prefix .. "-" .. n
  else
    key = prefix .. "-hot-" .. (n % hot_keys)
  end
  return head .. key .. tail
end

function request()
  return wrk.format(nil, "/v2/enqueue", nil, next_body())
end

function response(status, headers, body)
  count_status(status, expected)
end
