-- mark_position: marks an OPEN position to a new price and ratchets its trailing stop (a stop
-- only ever tightens: up for BUY, down for SELL), then appends portfolio.updated
-- (POSITION_UPDATED). Nothing changes and no event is written when the position is not open
-- or the price and stops are unchanged.
-- REQ: position_id, price, trailing_stop_price?, trailing_armed? (bool)
-- Reply: {"status":"updated"|"unchanged"|"not_open"|"not_found","id":N,"event_id":ID|null}

local id = tostring(REQ.position_id)
local key = P .. 'position:' .. id
local pos = redis.call('HMGET', key, 'status', 'side', 'size', 'entry_price', 'current_price',
  'unrealized_pnl', 'trailing_stop_price', 'trailing_armed')
if not pos[1] then return reply({{'status', 'not_found'}, {'id', {raw = id}}, {'event_id', NULL}}) end
if pos[1] ~= 'OPEN' then return reply({{'status', 'not_open'}, {'id', {raw = id}}, {'event_id', NULL}}) end

ensure_account()
roll_day()

local sign = pos[2] == 'SELL' and -1 or 1
local price = dec(units(REQ.price))
local unrealized = units(sign * (tonumber(price) - tonumber(pos[4])) * tonumber(pos[3]))
local trail = pos[7]
local proposed = opt(REQ.trailing_stop_price)
if proposed then
  local p = dec(units(proposed))
  if not trail or (sign > 0 and units(p) > units(trail)) or (sign < 0 and units(p) < units(trail)) then
    trail = p
  end
end
local armed = pos[8]
if opt(REQ.trailing_armed) ~= nil then armed = REQ.trailing_armed and '1' or '0' end

if price == pos[5] and trail == pos[7] and armed == pos[8] then
  return reply({{'status', 'unchanged'}, {'id', {raw = id}}, {'event_id', NULL}})
end

local args = {'current_price', price, 'unrealized_pnl', dec(unrealized), 'trailing_armed', armed,
  'updated_at', NOW}
if trail then args[#args + 1] = 'trailing_stop_price'; args[#args + 1] = trail end
redis.call('HSET', key, unpack(args))
redis.call('HSET', ACCOUNT,
  'unrealized', dec(account_units('unrealized') + unrealized - units(pos[6])),
  'updated_at', NOW)
track_peak()

local event_id = emit_position_update(key, 'POSITION_UPDATED')
return reply({{'status', 'updated'}, {'id', {raw = id}}, {'event_id', event_id}})
