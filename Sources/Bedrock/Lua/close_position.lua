-- close_position: closes an OPEN position at exit_price, records the trade and appends
-- position.closed. Only an OPEN position closes: a second call answers "already_closed" and
-- writes nothing.
-- Accounting (integer units of 1e-8): gross = (exit - entry) x size (x -1 for SELL);
-- exit commission = size x exit x rate; realized_pnl = gross - entry commission - exit
-- commission; the balance gains gross - exit commission (the entry commission was paid at
-- open), the cost is unfrozen, so balance = initial + sum(gross) - sum(commission) always.
-- A position opened from a signal scored by a model (the signal's ml_model, "name@version")
-- records the outcome for that version's live performance: <prefix>model:{name}:{version}:perf
-- (count, wins) and ...:outcomes ("score|win", newest first, capped at 10000).
-- REQ: position_id, exit_price, exit_reason, commission_rate, closed_by? (who closed it: "engine"
--      when absent, else the caller's token subject for a manual close)
-- Reply: {"status":"closed"|"already_closed"|"not_found","id":N,"trade_id":N|null,"event_id":ID|null}

local id = tostring(REQ.position_id)
local key = P .. 'position:' .. id
local pos = redis.call('HMGET', key, 'status', 'side', 'size', 'entry_price', 'cost',
  'entry_commission', 'unrealized_pnl', 'market', 'signal_id', 'opened_at', 'opened_at_ms')
if not pos[1] then
  return reply({{'status', 'not_found'}, {'id', {raw = id}}, {'trade_id', NULL}, {'event_id', NULL}})
end
if pos[1] ~= 'OPEN' then
  return reply({{'status', 'already_closed'}, {'id', {raw = id}}, {'trade_id', NULL}, {'event_id', NULL}})
end

ensure_account()
roll_day()

local sign = pos[2] == 'SELL' and -1 or 1
local size, entry = tonumber(pos[3]), tonumber(pos[4])
local exit_price = dec(units(REQ.exit_price))
local rate = tonumber(REQ.commission_rate) or 0
local gross = units(sign * (tonumber(exit_price) - entry) * size)
local exit_commission = units(size * tonumber(exit_price) * rate)
local entry_commission = units(pos[6])
local cost = units(pos[5])
local net = gross - entry_commission - exit_commission
local roi = cost > 0 and units(net / cost * 100) or 0
local duration_s = math.max(0, math.floor((NOW_MS - (tonumber(pos[11]) or NOW_MS)) / 1000))
local reason = tostring(opt(REQ.exit_reason) or 'MANUAL')
local market = pos[8]
local closed_by = tostring(opt(REQ.closed_by) or 'engine')

redis.call('HSET', key, 'status', 'CLOSED', 'exit_price', exit_price, 'current_price', exit_price,
  'exit_reason', reason, 'exit_commission', dec(exit_commission),
  'commission', dec(entry_commission + exit_commission), 'realized_pnl', dec(net),
  'roi', dec(roi), 'unrealized_pnl', '0', 'closed_at', NOW, 'closed_at_ms', tostring(NOW_MS),
  'duration_s', tostring(duration_s), 'closed_by', closed_by, 'updated_at', NOW)
redis.call('ZREM', P .. 'positions:status:OPEN', id)
redis.call('ZREM', P .. 'positions:market:' .. market .. ':status:OPEN', id)
redis.call('ZADD', P .. 'positions:status:CLOSED', id, id)
redis.call('ZADD', P .. 'positions:market:' .. market .. ':status:CLOSED', id, id)
redis.call('HDEL', P .. 'engine:position_marks', id)  -- the engine's mark of an open position

redis.call('HSET', ACCOUNT,
  'balance', dec(account_units('balance') + gross - exit_commission),
  'frozen', dec(account_units('frozen') - cost),
  'unrealized', dec(account_units('unrealized') - units(pos[7])),
  'realized_pnl', dec(account_units('realized_pnl') + gross),
  'commission', dec(account_units('commission') + exit_commission),
  'updated_at', NOW)

local trade_id = redis.call('INCR', P .. 'seq:trade')
local tkey = P .. 'trade:' .. trade_id
local targs = {'id', tostring(trade_id), 'position_id', id, 'market', market, 'side', pos[2],
  'size', pos[3], 'entry_price', pos[4], 'exit_price', exit_price, 'pnl', dec(net),
  'gross_pnl', dec(gross), 'commission', dec(entry_commission + exit_commission),
  'exit_reason', reason, 'entry_time', pos[10], 'exit_time', NOW, 'duration_s', tostring(duration_s)}
if pos[9] then targs[#targs + 1] = 'signal_id'; targs[#targs + 1] = pos[9] end
redis.call('HSET', tkey, unpack(targs))
redis.call('HSET', key, 'trade_id', tostring(trade_id))
redis.call('ZADD', P .. 'trades:index', trade_id, trade_id)
redis.call('ZADD', P .. 'trades:market:' .. market, trade_id, trade_id)

local stats = P .. 'stats'
redis.call('HINCRBY', stats, 'trades', 1)
if net > 0 then redis.call('HINCRBY', stats, 'wins', 1) end
redis.call('HSET', stats, 'net_pnl', dec(units(redis.call('HGET', stats, 'net_pnl') or '0') + net))
redis.call('HINCRBY', stats, 'duration_s', duration_s)
track_peak()

if pos[9] then
  local scored = redis.call('HMGET', P .. 'signal:' .. pos[9], 'ml_model', 'ml_confidence_score')
  local at = scored[1] and string.find(scored[1], '@', 1, true)
  if at and scored[2] then
    local mkey = P .. 'model:' .. string.sub(scored[1], 1, at - 1) .. ':' .. string.sub(scored[1], at + 1)
    local win = net > 0 and 1 or 0
    redis.call('HINCRBY', mkey .. ':perf', 'count', 1)
    redis.call('HINCRBY', mkey .. ':perf', 'wins', win)
    redis.call('LPUSH', mkey .. ':outcomes', scored[2] .. '|' .. win)
    redis.call('LTRIM', mkey .. ':outcomes', 0, 9999)
  end
end

local event_id = emit('portfolio', 'position.closed', {
  {'position_id', {raw = id}}, {'market', market}, {'side', pos[2]}, {'position_size', {raw = pos[3]}},
  {'entry_price', {raw = pos[4]}}, {'exit_price', {raw = exit_price}}, {'exit_reason', reason},
  {'realized_pnl', {raw = dec(net)}}, {'roi', {raw = dec(roi)}},
  {'commission', {raw = dec(entry_commission + exit_commission)}}, {'trade_id', {raw = tostring(trade_id)}},
  {'closed_by', closed_by}})
return reply({{'status', 'closed'}, {'id', {raw = id}}, {'trade_id', {raw = tostring(trade_id)}},
  {'event_id', event_id}})
