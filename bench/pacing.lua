-- Shared by the paced wrk scripts (paced.lua, storm.lua): a fixed aggregate request rate.
--
-- wrk is closed-loop; this paces it. wrk asks delay() before each request on a connection; we
-- hand out send slots 1/RATE apart on one schedule shared by the thread's connections (wall
-- clock via LuaJIT's FFI) and delay each request until its slot. When houston falls behind, the
-- slot is already past and the request goes at once, so the offered rate catches up instead of
-- silently dropping (wrk still times each request from its actual send, so a stall shows up as
-- the queueing of the requests after it, not as the full omitted wait). wrk timers have 1 ms
-- resolution: a request may go out up to 1 ms before its slot. Use one wrk thread (-t1); with
-- -tN each thread paces RATE/N. The script calls pace_at(RATE) in its init().
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } houston_timespec;
  int clock_gettime(int clk_id, houston_timespec *tp);
]]
local ts = ffi.new("houston_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local interval_ms = 0.1
local next_slot = nil

function pace_at(rate)
  interval_ms = 1000 / rate
end

function delay()
  local now = now_ms()
  if next_slot == nil or next_slot < now then next_slot = now end
  local wait = next_slot - now
  next_slot = next_slot + interval_ms
  return math.floor(wait + 0.5)
end
