-- llm_alert: appends risk.alert LLM_UNAVAILABLE: the model stopped answering usably (each gateway
-- asks once per outage, on the failure that starts it; signals go on with NEUTRAL sentiment and
-- template explanations). Gateways on one Redis share the outage: P llm:outage marks it (for at
-- most 6 h), so the second gateway to notice it writes nothing; the first success anywhere ends
-- it (REQ.recovered).
-- REQ: task, outcome, message; or recovered = true
-- Reply: {"status":"recorded"|"existing"|"cleared","event_id":ID|null}

local OUTAGE = P .. 'llm:outage'
if opt(REQ.recovered) then
  redis.call('DEL', OUTAGE)
  return reply({{'status', 'cleared'}, {'event_id', NULL}})
end
if not redis.call('SET', OUTAGE, NOW, 'NX', 'PX', 21600000) then
  return reply({{'status', 'existing'}, {'event_id', NULL}})
end
local message = tostring(REQ.message)
redis.call('HSET', RISK, 'last_alert_at', NOW)
local event_id = emit('risk', 'risk.alert', {
  {'action', 'LLM_UNAVAILABLE'}, {'task', tostring(REQ.task)}, {'outcome', tostring(REQ.outcome)},
  {'message', message},
  {'reasons', {{code = 'LLM_UNAVAILABLE', message = message, value = 0, limit = 0}}}})
return reply({{'status', 'recorded'}, {'event_id', event_id}})
