-- engine_alert: appends risk.alert ENGINE_CONFIG_UNREADABLE once per stored configuration text a
-- gateway's engine cannot read (it then runs paused: exits and marks only). The guard key holds
-- the digest of the last text alerted about, so every gateway that meets the same text alerts once.
-- REQ: digest (of the stored text), version (as read leniently, or null), message
-- Reply: {"status":"recorded","event_id":ID} or {"status":"known"}

local guard = P .. 'engine:config:alerted'
if redis.call('GET', guard) == tostring(REQ.digest) then
  return reply({{'status', 'known'}})
end
redis.call('SET', guard, tostring(REQ.digest))
local message = tostring(REQ.message)
redis.call('HSET', RISK, 'last_alert_at', NOW)
local event_id = emit('risk', 'risk.alert', {
  {'action', 'ENGINE_CONFIG_UNREADABLE'}, {'version', opt(REQ.version) and {raw = tostring(REQ.version)} or NULL},
  {'message', message},
  {'reasons', {{code = 'ENGINE_CONFIG_UNREADABLE', message = message, value = 0, limit = 0}}}})
return reply({{'status', 'recorded'}, {'event_id', event_id}})
