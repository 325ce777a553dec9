-- Valid, authenticated pushes: one request after another over the example body of every
-- resource, each on its own path with its provider's identity token.
--
--   wrk -s valid.lua URL -- REQUESTS_FILE AUTHORIZATION
--
-- REQUESTS_FILE is written by benchmarks/run.py from fixtures/: one line per resource,
-- "<path after /push/identities/<token>/>\t<token>\t<valid body>\t<refused body>".
-- Every request is built once in init(); request() only hands the next one out.

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

-- One machine-readable line for the runner; latency in microseconds.
function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,"
      .. "\"errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d},"
      .. "\"latency_us\":{\"mean\":%.1f,\"stdev\":%.1f,\"max\":%d,"
      .. "\"p50\":%d,\"p90\":%d,\"p99\":%d,\"p999\":%d}}\n",
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
