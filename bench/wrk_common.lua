-- Shared by the houston wrk scripts: status counting and a one-line machine-readable summary.
-- wrk runs one Lua state per thread; done() reads every thread's counters through setup().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread globals (read in done() with thread:get).
ok_count = 0      -- responses with the expected status (202 for houston, 200 for Alertmanager)
other_count = 0   -- any other status
status_seen = ""  -- the non-expected statuses, e.g. "503:12 "
local other_by_status = {}

function count_status(status, expected)
  if status == expected then
    ok_count = ok_count + 1
  else
    other_count = other_count + 1
    other_by_status[status] = (other_by_status[status] or 0) + 1
    local parts = {}
    for s, n in pairs(other_by_status) do table.insert(parts, s .. ":" .. n) end
    status_seen = table.concat(parts, ",")
  end
end

function done(summary, latency, requests)
  local ok, other, seen = 0, 0, ""
  for _, t in ipairs(threads) do
    ok = ok + t:get("ok_count")
    other = other + t:get("other_count")
    local s = t:get("status_seen")
    if s ~= "" then seen = seen .. s .. " " end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f ok=%d other=%d other_statuses=%s " ..
    "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d\n",
    summary.requests, secs, summary.requests / secs, ok, other, seen == "" and "-" or seen,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status))
end
