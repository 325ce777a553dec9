-- Refused requests: the same paths, tokens and valid site keys as valid.lua, but each body
-- breaks its schema (an unknown key in the node and, where the resource has one, a URL that is
-- not a URL), so the sandbox runs its detailed-error path and answers 400 naming each key.
--
--   wrk -s refused.lua URL -- REQUESTS_FILE AUTHORIZATION
--
-- REQUESTS_FILE: see valid.lua; this script sends the fourth column.

local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
local requests = {}
local index = 0

function init(args)
  local headers = { ["Authorization"] = args[2], ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    local rest, token, body = line:match("^([^\t]+)\t([^\t]+)\t[^\t]+\t([^\t]+)$")
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
