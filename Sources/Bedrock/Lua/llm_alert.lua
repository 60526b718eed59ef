-- llm_alert: appends risk.alert LLM_UNAVAILABLE: the model stopped answering usably (the gateway
-- raises it once per outage, on the failure that starts it; signals go on with NEUTRAL
-- sentiment and template explanations).
-- REQ: task, outcome, message
-- Reply: {"status":"recorded","event_id":ID}

local message = tostring(REQ.message)
redis.call('HSET', RISK, 'last_alert_at', NOW)
local event_id = emit('risk', 'risk.alert', {
  {'action', 'LLM_UNAVAILABLE'}, {'task', tostring(REQ.task)}, {'outcome', tostring(REQ.outcome)},
  {'message', message},
  {'reasons', {{code = 'LLM_UNAVAILABLE', message = message, value = 0, limit = 0}}}})
return reply({{'status', 'recorded'}, {'event_id', event_id}})
