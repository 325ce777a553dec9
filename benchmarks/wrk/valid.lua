-- Valid, authenticated pushes: one request after another over the example body of every
-- resource, each on its own path with its provider's identity token.
--
--   wrk -s valid.lua URL -- REQUESTS_FILE AUTHORIZATION
--
-- REQUESTS_FILE is written by benchmarks/run.py from fixtures/: one line per resource,
-- "<path after /push/identities/<token>/>\t<token>\t<valid body>\t<refused body>".
-- Every request is built once in init(); request() only hands the next one out.

local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
local requests = {}
local index = 0

function init(args)
  local headers = { ["Authorization"] = args[2], ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    local rest, token, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t")
    local path = "/push/identities/" .. token .. "/" .. rest
    requests[#requests + 1] = wrk.format("POST", path, headers, body)
  end
  assert(#requests > 0, "no request in " .. args[1])
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, _)
  report(summary, latency)
end
