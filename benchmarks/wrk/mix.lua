-- A load mix: one request after another over the rotation benchmarks/run.py writes, counting
-- the answers by status for the runner to check against the mix.
--
--   wrk -s mix.lua URL -- MIX_FILE AUTHORIZATION
--
-- MIX_FILE: one request per line, "METHOD\tPATH\tSTATUS\tBODY" (BODY empty for none; STATUS
-- is what the sandbox must answer, read by the runner, not here). run.py writes valid.tsv
-- (every push three times, the calls around the push among them) and refused.tsv (the same
-- with each body broken, and calls the sandbox refuses); see benchmarks/README.md.
-- Every request is built once in init(); request() only hands the next one out.

local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
local requests = {}
local index = 0
local STATUSES = { 200, 207, 400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504 }
local counter = {}
for _, status in ipairs(STATUSES) do counter[status] = "count_" .. status end

function setup(thread)
  threads = threads or {}
  threads[#threads + 1] = thread
end

function init(args)
  local headers = { ["Authorization"] = args[2], ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    local method, path, _, body = line:match("^(%u+)\t([^\t]+)\t(%d+)\t(.*)$")
    assert(method, "not a request line: " .. line)
    if body == "" then body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  assert(#requests > 0, "no request in " .. args[1])
end

function request()
  index = index % #requests + 1
  return requests[index]
end

-- Counts live in number globals: thread:get() copies numbers, not tables.
function response(status, _, _)
  local name = counter[status] or "count_other"
  _G[name] = (_G[name] or 0) + 1
end

function done(summary, latency, _)
  local parts = {}
  for _, name in ipairs(STATUSES) do
    local count = 0
    for _, thread in ipairs(threads) do count = count + (thread:get("count_" .. name) or 0) end
    if count > 0 then parts[#parts + 1] = string.format("\"%d\":%d", name, count) end
  end
  local other = 0
  for _, thread in ipairs(threads) do other = other + (thread:get("count_other") or 0) end
  if other > 0 then parts[#parts + 1] = string.format("\"other\":%d", other) end
  report(summary, latency, string.format("\"statuses\":{%s},", table.concat(parts, ",")))
end
