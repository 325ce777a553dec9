-- Memory fill: valid pushes over every resource until LIMIT responses, then stop.
-- Three requests in four use a token never seen before (the sandbox registers each one on
-- first use and forgets the oldest past --max-auto-identities, 10,000 by default), so
-- 200,000 requests fill that bound and churn through it; the fourth uses the resource's
-- built-in identity, whose boards and playlists grow with every pinterest/board.json and
-- youtube/playlist.json push.
--
--   wrk -t1 -s memory.lua URL -- REQUESTS_FILE AUTHORIZATION LIMIT_PER_THREAD DONE_FILE
--
-- A thread that has its LIMIT stops and creates DONE_FILE: wrk itself runs to -d whatever its
-- threads do, so the runner watches for that file and ends wrk with SIGINT (wrk then prints
-- its summary over the time actually run).
-- REQUESTS_FILE: see soak.lua. Fresh tokens are 8-4-4-4-12 lowercase hex, unique per
-- thread and request; the runner starts a fresh server process for this scenario.

local report = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
local rests, tokens, bodies = {}, {}, {}
local headers
local sent, received, limit = 0, 0, 0
local prefix, done_file

function setup(thread)
  thread:set("thread_number", (thread_count or 0))
  thread_count = (thread_count or 0) + 1
end

function init(args)
  headers = { ["Authorization"] = args[2], ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    local rest, token, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t")
    rests[#rests + 1], tokens[#tokens + 1], bodies[#bodies + 1] = rest, token, body
  end
  assert(#rests > 0, "no request in " .. args[1])
  limit = tonumber(args[3])
  done_file = args[4]
  prefix = string.format("%08x", 0xbe0c0000 + (thread_number or 0))
end

function request()
  sent = sent + 1
  local i = sent % #rests + 1
  local token = tokens[i]
  if sent % 4 ~= 0 then
    token = string.format("%s-0000-4000-8000-%012x", prefix, sent)
  end
  local path = "/push/identities/" .. token .. "/" .. rests[i]
  return wrk.format("POST", path, headers, bodies[i])
end

function response(status, _, _)
  received = received + 1
  if received == limit then
    wrk.thread:stop()
    if done_file then
      local file = io.open(done_file .. "." .. (thread_number or 0), "w")
      if file then
        file:close()
      end
    end
  end
end

function done(summary, latency, _)
  report(summary, latency)
end
