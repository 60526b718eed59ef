-- risk_alert: records a refused entry: counts each reason code and appends risk.alert
-- (action ENTRY_REFUSED). With a signal_id it happens once per signal (a second call writes
-- nothing).
-- REQ: market, signal_id?, reasons: [{"code","message","value","limit"}]
-- Reply: {"status":"recorded"|"existing","event_id":ID|null}

local sid = opt(REQ.signal_id)
if sid and redis.call('SADD', P .. 'risk:alerted', tostring(sid)) == 0 then
  return reply({{'status', 'existing'}, {'event_id', NULL}})
end
local reasons = opt(REQ.reasons) or {}
for _, r in ipairs(reasons) do
  redis.call('HINCRBY', P .. 'risk:refusals', tostring(r.code), 1)
end
redis.call('HSET', RISK, 'last_alert_at', NOW)
local event_id = emit('risk', 'risk.alert', {
  {'action', 'ENTRY_REFUSED'}, {'market', tostring(opt(REQ.market) or '')},
  {'signal_id', sid and {raw = tostring(sid)} or NULL}, {'reasons', #reasons > 0 and reasons or {raw = '[]'}}})
return reply({{'status', 'recorded'}, {'event_id', event_id}})
