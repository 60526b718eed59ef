-- set_kill_switch: engages or releases the kill switch and appends risk.alert
-- (action KILL_SWITCH_ENGAGED | KILL_SWITCH_RELEASED). Setting the current value writes
-- nothing. Releasing also resets the peak equity to the current equity, so the drawdown
-- guard starts afresh (SPEC §8: "until an ADMIN resets it").
-- REQ: enabled (bool), by (who), reason?
-- Reply: {"status":"changed"|"unchanged","enabled":bool,"event_id":ID|null}

local enabled = REQ.enabled == true
local current = redis.call('HGET', RISK, 'kill_switch') == '1'
if current == enabled then
  return reply({{'status', 'unchanged'}, {'enabled', enabled}, {'event_id', NULL}})
end
ensure_account()
roll_day()
local by = tostring(opt(REQ.by) or 'system')
local why = opt(REQ.reason)
redis.call('HSET', RISK, 'kill_switch', enabled and '1' or '0', 'kill_switch_by', by,
  'kill_switch_at', NOW, 'kill_switch_reason', why and tostring(why) or '')
if not enabled then redis.call('HSET', RISK, 'peak_equity', dec(equity_units())) end
local message = enabled and ('kill switch engaged by ' .. by) or ('kill switch released by ' .. by)
if why then message = message .. ': ' .. tostring(why) end
local event_id = emit('risk', 'risk.alert', {
  {'action', enabled and 'KILL_SWITCH_ENGAGED' or 'KILL_SWITCH_RELEASED'},
  {'kill_switch', enabled}, {'by', by},
  {'reasons', {{code = 'KILL_SWITCH', message = message, value = enabled and 1 or 0, limit = 0}}}})
return reply({{'status', 'changed'}, {'enabled', enabled}, {'event_id', event_id}})
