-- market_data_gap: appends risk.alert (action MARKET_DATA_GAP) for bars of a kline stream that
-- were trimmed before the live engine could read them (the engine then trades on a hole).
-- REQ: market, interval, after (last id read), next (first id read after the hole), missed?
-- Reply: {"status":"recorded","event_id":ID}

local market = tostring(opt(REQ.market) or '')
local interval = tostring(opt(REQ.interval) or '')
local after = tostring(opt(REQ.after) or '')
local nxt = tostring(opt(REQ.next) or '')
local missed = tonumber(opt(REQ.missed))
local message = 'bars of ' .. market .. ' ' .. interval .. ' after ' .. after .. ' and before ' .. nxt
  .. ' were trimmed before the engine read them'
if missed then message = message .. ' (' .. string.format('%d', missed) .. ' lost)' end
redis.call('HSET', RISK, 'last_alert_at', NOW)
local event_id = emit('risk', 'risk.alert', {
  {'action', 'MARKET_DATA_GAP'}, {'market', market}, {'interval', interval},
  {'after', after}, {'next', nxt}, {'missed', missed and {raw = string.format('%d', missed)} or NULL},
  {'reasons', {{code = 'MARKET_DATA_GAP', message = message, value = missed or 0, limit = 0}}}})
return reply({{'status', 'recorded'}, {'event_id', event_id}})
