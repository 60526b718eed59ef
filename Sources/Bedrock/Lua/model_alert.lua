-- model_alert: appends risk.alert ML_MODEL_FAILED for a deployed model version that failed to
-- load or to score (the live engine raises it once per version per outage; signals go on with a
-- null ML score).
-- REQ: model ("name@version"), message
-- Reply: {"status":"recorded","event_id":ID}

local message = tostring(REQ.message)
redis.call('HSET', RISK, 'last_alert_at', NOW)
local event_id = emit('risk', 'risk.alert', {
  {'action', 'ML_MODEL_FAILED'}, {'model', tostring(REQ.model)}, {'message', message},
  {'reasons', {{code = 'ML_MODEL_FAILED', message = message, value = 0, limit = 0}}}})
return reply({{'status', 'recorded'}, {'event_id', event_id}})
