-- The one machine-readable line every script's done() prints for the runner (latency in
-- microseconds); ``extra`` is more JSON members, e.g. "\"statuses\":{...},".
return function(summary, latency, extra)
  local errors = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,%s"
      .. "\"errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d},"
      .. "\"latency_us\":{\"mean\":%.1f,\"stdev\":%.1f,\"max\":%d,"
      .. "\"p50\":%d,\"p90\":%d,\"p99\":%d,\"p999\":%d}}\n",
    summary.requests, summary.duration, summary.bytes, extra or "",
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
