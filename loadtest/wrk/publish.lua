-- wrk script: POST /v1/publish as an integrator's backend does: with an ADMIN API key
-- (`Authorization: ApiKey`, PUBLISH_API_KEY), or an ADMIN JWT (BEDROCK_TOKEN) when no key is set.
--
--   PUBLISH_API_KEY=<a key of api.keys with role ADMIN> \
--     wrk -t2 -c50 -d10s --latency -s loadtest/wrk/publish.lua http://127.0.0.1:8080
--
-- Every request appends one event to PUBLISH_TOPIC (default `opportunities`) with a small `data`
-- object; PUBLISH_KEYS=1 gives each request its own idempotency key (the Lua-script path) instead
-- of none (one XADD). At the end one line
-- `publish: requests=N non_2xx=N socket_errors=N p50_ms=.. p90_ms=.. p99_ms=.. p99.9_ms=.. max_ms=..`
-- is printed for scripts (wrk's own --latency table stops at p99).

local key = os.getenv("PUBLISH_API_KEY")
local token = os.getenv("BEDROCK_TOKEN")
local authorization
if key ~= nil and key ~= "" then
  authorization = "ApiKey " .. key
elseif token ~= nil and token ~= "" then
  authorization = "Bearer " .. token
else
  io.stderr:write("publish.lua: set PUBLISH_API_KEY to an ADMIN API key (or BEDROCK_TOKEN to an ADMIN JWT)\n")
  os.exit(2)
end

local topic = os.getenv("PUBLISH_TOPIC") or "opportunities"
local keyed = os.getenv("PUBLISH_KEYS") == "1"
local body = '{"topic":"' .. topic .. '","data":{"event_type":"bench","market":"BTCUSDT","score":71.5}}'

wrk.method = "POST"
wrk.path = "/v1/publish"
wrk.body = body
wrk.headers["Authorization"] = authorization
wrk.headers["Content-Type"] = "application/json"

local thread_id = 0
local counter = 0
function setup(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
end

-- Only with PUBLISH_KEYS=1: a per-request body (wrk calls no Lua per request otherwise).
if keyed then
  function request()
    counter = counter + 1
    local keyed_body = '{"topic":"' .. topic .. '","idempotency_key":"bench-' .. id .. '-' .. counter ..
      '","data":{"event_type":"bench","market":"BTCUSDT","score":71.5}}'
    return wrk.format(nil, nil, nil, keyed_body)
  end
end

-- Latencies from wrk are in microseconds.
local function ms(us) return string.format("%.3f", us / 1000) end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "publish: requests=%d non_2xx=%d socket_errors=%d p50_ms=%s p90_ms=%s p99_ms=%s p99.9_ms=%s max_ms=%s\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max)))
end
