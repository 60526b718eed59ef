-- market_data_alert: appends risk.alert for a configured market's feed (SPEC §10):
-- MARKET_DATA_GAP (bars the exchange's history does not have), STALE_MARKET_DATA (no closed bar
-- for stale_after_intervals intervals past due) or EXCHANGE_BANNED (HTTP 418).
-- REQ: action, market?, interval?, exchange, message, value, limit, details: {name: string|number}
-- Reply: {"status":"recorded","event_id":ID}

local action = tostring(REQ.action)
local fields = {{'action', action}, {'market', opt(REQ.market) and tostring(REQ.market) or NULL},
  {'interval', opt(REQ.interval) and tostring(REQ.interval) or NULL}, {'exchange', tostring(REQ.exchange)}}
local details = opt(REQ.details) or {}
local names = {}
for name in pairs(details) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  local v = details[name]
  if type(v) == 'number' then v = {raw = string.format('%.17g', v)} elseif v == cjson.null then v = NULL end
  fields[#fields + 1] = {name, v}
end
fields[#fields + 1] = {'reasons', {{code = action, message = tostring(REQ.message),
  value = tonumber(REQ.value) or 0, limit = tonumber(REQ.limit) or 0}}}
redis.call('HSET', RISK, 'last_alert_at', NOW)
local event_id = emit('risk', 'risk.alert', fields)
return reply({{'status', 'recorded'}, {'event_id', event_id}})
