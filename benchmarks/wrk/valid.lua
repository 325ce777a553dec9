-- Valid, authenticated pushes: one request after another over the example body of every
-- resource, each on its own path with its provider's identity token.
--
--   wrk -s valid.lua URL -- REQUESTS_FILE AUTHORIZATION
--
-- REQUESTS_FILE is written by benchmarks/run.py from fixtures/: one line per resource,
-- "<path after /push/identities/<token>/>\t<token>\t<valid body>\t<refused body>".
-- Every request is built once in init(); request() only hands the next one out.
-- refused.lua reuses this script with BODY_COLUMN = 4 (the refused body).

local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
local column = BODY_COLUMN or 3
local requests = {}
local index = 0

function init(args)
  local headers = { ["Authorization"] = args[2], ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    local fields = {}
    for field in line:gmatch("[^\t]+") do fields[#fields + 1] = field end
    local rest, token, body = fields[1], fields[2], fields[column]
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
