-- risk_snapshot (read only): everything an estimate or the risk guard needs, in one round trip.
-- REQ: {} (ignored)
-- Reply: {"status":"ok","account":{field: text},"risk":{field: text},
--         "open":[{"id","market","size","current_price","unrealized_pnl"}]}

local function hash(key)
  local flat = redis.call('HGETALL', key)
  local out = {}
  for i = 1, #flat, 2 do out[flat[i]] = flat[i + 1] end
  return out
end

local open = {}
for _, id in ipairs(redis.call('ZREVRANGE', P .. 'positions:status:OPEN', 0, -1)) do
  local f = redis.call('HMGET', P .. 'position:' .. id, 'market', 'size', 'current_price', 'unrealized_pnl')
  if f[1] then
    open[#open + 1] = json_object({{'id', {raw = id}}, {'market', f[1]}, {'size', f[2]},
      {'current_price', f[3]}, {'unrealized_pnl', f[4]}})
  end
end
local account = hash(ACCOUNT)
local risk = hash(RISK)
return json_object({{'status', 'ok'},
  {'account', next(account) and account or {raw = '{}'}},
  {'risk', next(risk) and risk or {raw = '{}'}},
  {'open', {raw = '[' .. table.concat(open, ',') .. ']'}}})
