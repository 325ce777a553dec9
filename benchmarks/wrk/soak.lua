-- Soak: valid, refused and faulted pushes mixed, until LIMIT responses, counting statuses.
--
--   wrk -t1 -s soak.lua URL -- REQUESTS_FILE AUTHORIZATION LIMIT_PER_THREAD DONE_FILE
--
-- Of every 20 requests: 12 valid, 5 refused (the detailed 400), 3 faulted by the
-- X-Sandbox-Fault header with a fault that answers 4xx, an empty or a malformed 200, or drops
-- the connection. No injected fault answers 5xx, so any 5xx is a defect of the sandbox.
-- REQUESTS_FILE: "<path after /push/identities/<token>/>\t<token>\t<valid body>\t<refused body>"
-- per push resource, written by benchmarks/run.py (write_requests_file).

local here = debug.getinfo(1, "S").source:match("^@(.*/)")
local report = dofile(here .. "report.lua")
local statuses = dofile(here .. "statuses.lua")
local valid, refused, faulted = {}, {}, {}
local sent, received, limit = 0, 0, 0
local next_of = { valid = 0, refused = 0, faulted = 0 }
local done_file
local FAULTS = {
  "rate_limited", "provider_refused", "duplicate_post", "media_too_large", "empty",
  "malformed_response", "connection_reset", "delay; delay_ms=2",
}

function setup(thread)
  thread:set("thread_number", (thread_count or 0))
  thread_count = (thread_count or 0) + 1
  threads = threads or {}
  threads[#threads + 1] = thread
end

function init(args)
  local headers = { ["Authorization"] = args[2], ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    local rest, token, good, bad = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)$")
    local path = "/push/identities/" .. token .. "/" .. rest
    valid[#valid + 1] = wrk.format("POST", path, headers, good)
    refused[#refused + 1] = wrk.format("POST", path, headers, bad)
    for _, fault in ipairs(FAULTS) do
      local with_fault = { ["X-Sandbox-Fault"] = fault }
      for name, value in pairs(headers) do with_fault[name] = value end
      faulted[#faulted + 1] = wrk.format("POST", path, with_fault, good)
    end
  end
  limit = tonumber(args[3])
  done_file = args[4]
end

local function next_one(kind, list)
  next_of[kind] = next_of[kind] % #list + 1
  return list[next_of[kind]]
end

function request()
  sent = sent + 1
  local slot = sent % 20
  if slot < 12 then
    return next_one("valid", valid)
  elseif slot < 17 then
    return next_one("refused", refused)
  end
  return next_one("faulted", faulted)
end

function response(status, _, _)
  statuses.count(status)
  received = received + 1
  if received == limit then
    wrk.thread:stop()
    local file = io.open(done_file .. "." .. (thread_number or 0), "w")
    if file then file:close() end
  end
end

function done(summary, latency, _)
  report(summary, latency, statuses.member(threads))
end
