-- wrk script: an alert storm (bench/storm.py drives it): PagerDuty Events API v2 events from
-- SOURCES sources spread over SERVICES services, at a fixed aggregate RATE (pacing.lua), each
-- source repeating its KEYS alerts (so most events are duplicates of an open alert) and resolving
-- one of them with probability RESOLVE_PERCENT (a later trigger of that key opens a new alert).
--
--   wrk -t1 -c64 -d60s --latency -s bench/storm.lua URL -- RUNID RATE SERVICES SOURCES KEYS RESOLVE_PERCENT
--
-- Service s's routing key is storm-key-<s> (bench/storm.py writes the org). Prints the common
-- RESULT line, then "STORM triggers=T resolves=R": what it sent of each (every request it built;
-- at most one per connection is still in flight when wrk stops).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua")
dofile(dir .. "pacing.lua")

local run_id, services, sources, keys, resolve_percent = "storm", 20, 2000, 5, 10
triggers, resolves = 0, 0  -- per-thread globals, read in done()

function init(args)
  run_id = args[1] or run_id
  pace_at(tonumber(args[2] or "3334"))
  services = tonumber(args[3] or "20")
  sources = tonumber(args[4] or "2000")
  keys = tonumber(args[5] or "5")
  resolve_percent = tonumber(args[6] or "10")
  math.randomseed(20261205)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  local source = math.random(0, sources - 1)
  local service = source % services
  local key = math.random(0, keys - 1)
  local dedup = run_id .. "-src" .. source .. "-k" .. key
  local body
  if math.random(1, 100) <= resolve_percent then
    resolves = resolves + 1
    body = '{"routing_key":"storm-key-' .. service .. '","event_action":"resolve","dedup_key":"' ..
      dedup .. '"}'
  else
    triggers = triggers + 1
    body = '{"routing_key":"storm-key-' .. service .. '","event_action":"trigger","dedup_key":"' ..
      dedup .. '","payload":{"summary":"checkout-' .. service .. ' error rate above 5% on host-' ..
      source .. '","source":"host-' .. source .. '.prod.example.com","severity":"critical",' ..
      '"component":"api","custom_details":{"key":' .. key .. '}}}'
  end
  return wrk.format(nil, "/v2/enqueue", nil, body)
end

function response(status, headers, body)
  count_status(status, 202)
end

local storm_threads = {}
local common_setup, common_done = setup, done
function setup(thread)
  common_setup(thread)
  table.insert(storm_threads, thread)
end
function done(summary, latency, requests)
  common_done(summary, latency, requests)
  local t, r = 0, 0
  for _, th in ipairs(storm_threads) do
    t = t + th:get("triggers")
    r = r + th:get("resolves")
  end
  io.write(string.format("STORM triggers=%d resolves=%d\n", t, r))
end
