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

local here = debug.getinfo(1, "S").source:match("^@(.*/)")
local report = dofile(here .. "report.lua")
local statuses = dofile(here .. "statuses.lua")
local requests = {}
local index = 0

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

function response(status, _, _)
  statuses.count(status)
end

function done(summary, latency, _)
  report(summary, latency, statuses.member(threads))
end
