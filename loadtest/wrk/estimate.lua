-- wrk script: GET /v1/positions/estimate by prices with a Bearer token (issue 7).
--
--   BEDROCK_TOKEN=$(bedrock token --sub bench --role VIEWER) \
--     wrk -t2 -c50 -d10s --latency -s loadtest/wrk/estimate.lua http://127.0.0.1:8080
--
-- ESTIMATE_QUERY overrides the query string. At the end one line
-- `estimate: requests=N non_2xx=N socket_errors=N p50_ms=.. p90_ms=.. p99_ms=.. p99.9_ms=.. max_ms=..`
-- is printed for scripts (wrk's own --latency table stops at p99).

local token = os.getenv("BEDROCK_TOKEN")
if token == nil or token == "" then
  io.stderr:write("estimate.lua: set BEDROCK_TOKEN to a VIEWER (or higher) JWT\n")
  os.exit(2)
end

local query = os.getenv("ESTIMATE_QUERY") or "market=BTCUSDT&entry_price=100&stop_loss_price=95"

wrk.method = "GET"
wrk.path = "/v1/positions/estimate?" .. query
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"

-- Latencies from wrk are in microseconds.
local function ms(us) return string.format("%.3f", us / 1000) end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "estimate: requests=%d non_2xx=%d socket_errors=%d p50_ms=%s p90_ms=%s p99_ms=%s p99.9_ms=%s max_ms=%s\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max)))
end
