-- open_position: opens a paper position and appends portfolio.updated (POSITION_OPENED), once
-- per signal id (a second call returns the existing position). Refuses, writing nothing, when
-- the kill switch is on, the market already has an open position, or the available balance
-- does not cover cost + commission. On success the entry commission is paid from the balance
-- and the cost (size x entry price) is frozen.
-- REQ: signal_id (or null), market, side (BUY|SELL), size, entry_price, stop_loss_price?,
--      profit_target_price?, trailing_distance?, position_weight_used?, commission_rate,
--      max_open_positions? (refuses MAX_OPEN_POSITIONS when that many are open, atomically,
--      so gateways sharing one Redis cannot overshoot it together), opened_by? (who opened it:
--      "engine" when absent, else the caller's token subject for a manual entry), priced_bar_ms?
--      (open time of the bar whose close priced a manual entry: written as the position's mark in
--      <prefix>engine:position_marks, so the engine's exits only check later bars)
-- Reply: {"status":"opened"|"existing","id":N,"event_id":ID|null}
--     or {"status":"refused","reason":CODE,"message":TEXT}

local sid = opt(REQ.signal_id)
if sid then
  local existing = redis.call('HGET', P .. 'positions:by_signal', tostring(sid))
  if existing then
    return reply({{'status', 'existing'}, {'id', {raw = existing}}, {'event_id', NULL}})
  end
end

local market, side = REQ.market, REQ.side
if not opt(market) or (side ~= 'BUY' and side ~= 'SELL') then
  return reply({{'status', 'invalid'}, {'error', 'market and side (BUY or SELL) are required'}})
end

ensure_account()
roll_day()

local function refuse(code, message)
  return reply({{'status', 'refused'}, {'reason', code}, {'message', message}})
end

if redis.call('HGET', RISK, 'kill_switch') == '1' then
  return refuse('KILL_SWITCH', 'the kill switch is engaged')
end
local max_open = tonumber(opt(REQ.max_open_positions))
if max_open and redis.call('ZCARD', P .. 'positions:status:OPEN') >= max_open then
  return refuse('MAX_OPEN_POSITIONS', 'the limit of ' .. tostring(max_open) .. ' open positions is reached')
end
if redis.call('ZCARD', P .. 'positions:market:' .. market .. ':status:OPEN') > 0 then
  return refuse('MARKET_ALREADY_OPEN', 'a position in ' .. market .. ' is already open')
end

local size = dec(units(REQ.size))
local entry = dec(units(REQ.entry_price))
local rate = tonumber(REQ.commission_rate) or 0
local cost = units(tonumber(size) * tonumber(entry))
local commission = units(tonumber(size) * tonumber(entry) * rate)
if cost <= 0 then return refuse('ZERO_SIZE', 'size x entry price must be positive') end
local available = account_units('balance') - account_units('frozen')
if cost + commission > available then
  return refuse('INSUFFICIENT_BALANCE', 'cost ' .. dec(cost) .. ' + commission ' .. dec(commission)
    .. ' exceeds the available balance ' .. dec(available))
end

local id = redis.call('INCR', P .. 'seq:position')
local key = P .. 'position:' .. id
local args = {'id', tostring(id), 'market', market, 'side', side, 'status', 'OPEN', 'size', size,
  'entry_price', entry, 'current_price', entry, 'unrealized_pnl', '0', 'cost', dec(cost),
  'entry_commission', dec(commission), 'commission', dec(commission), 'trailing_armed', '0',
  'opened_at', NOW, 'opened_at_ms', tostring(NOW_MS), 'updated_at', NOW,
  'opened_by', tostring(opt(REQ.opened_by) or 'engine')}
if sid then args[#args + 1] = 'signal_id'; args[#args + 1] = tostring(sid) end
for _, name in ipairs({'stop_loss_price', 'profit_target_price', 'trailing_distance', 'position_weight_used'}) do
  local v = opt(REQ[name])
  if v ~= nil then args[#args + 1] = name; args[#args + 1] = dec(units(v)) end
end
if opt(REQ.stop_loss_price) then
  args[#args + 1] = 'initial_stop_price'; args[#args + 1] = dec(units(REQ.stop_loss_price))
end
redis.call('HSET', key, unpack(args))
if sid then redis.call('HSET', P .. 'positions:by_signal', tostring(sid), id) end
local priced_bar = tonumber(opt(REQ.priced_bar_ms))
if priced_bar then
  redis.call('HSET', P .. 'engine:position_marks', tostring(id), string.format('%.0f', priced_bar))
end
for _, index in ipairs({'positions:index', 'positions:status:OPEN', 'positions:market:' .. market,
                        'positions:market:' .. market .. ':status:OPEN'}) do
  redis.call('ZADD', P .. index, id, id)
end

redis.call('HSET', ACCOUNT,
  'balance', dec(account_units('balance') - commission),
  'frozen', dec(account_units('frozen') + cost),
  'commission', dec(account_units('commission') + commission),
  'updated_at', NOW)
track_peak()

local event_id = emit_position_update(key, 'POSITION_OPENED')
return reply({{'status', 'opened'}, {'id', {raw = tostring(id)}}, {'event_id', event_id}})
