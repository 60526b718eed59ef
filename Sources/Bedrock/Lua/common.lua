-- Bedrock ledger: shared prelude. ScriptRunner prepends this file to every ledger script, so
-- each script runs as ONE atomic EVALSHA (the ledger change and its stream event together).
--
-- Every script takes no KEYS and the same ARGV:
--   ARGV[1] key prefix (e.g. "bedrock:")      ARGV[2] approximate stream MAXLEN
--   ARGV[3] now, RFC 3339 UTC                  ARGV[4] now, epoch milliseconds
--   ARGV[5] the request, a JSON object         ARGV[6] initial account balance (decimal text)
-- Keys are derived from the prefix inside the scripts (see docs/REDIS_LAYOUT.md), so the
-- ledger needs one Redis (or a prefix with a hash tag, e.g. "{bedrock}:", on a cluster).
--
-- Money: amounts are stored as decimal text with at most 8 decimals and computed as integer
-- units of 1e-8 (exact in a Lua double below 2^53 units, about 90 million quote units).
-- Every script returns a JSON object: {"status": ..., ...}.

local P = ARGV[1]
local MAXLEN = ARGV[2]
local NOW = ARGV[3]
local NOW_MS = tonumber(ARGV[4])
local REQ = cjson.decode(ARGV[5])
local INITIAL = ARGV[6]
local UNIT = 100000000
local NULL = {raw = 'null'}

-- decimal text or number -> integer units, rounded half away from zero
local function units(x)
  local n = tonumber(x) or 0
  if n >= 0 then return math.floor(n * UNIT + 0.5) end
  return -math.floor(-n * UNIT + 0.5)
end

-- integer units -> decimal text without trailing zeros ("-12.5", "100000")
local function dec(u)
  local neg = u < 0
  if neg then u = -u end
  local whole = math.floor(u / UNIT)
  local frac = u - whole * UNIT
  local s = string.format('%.0f', whole)
  if frac > 0 then
    s = s .. '.' .. (string.gsub(string.format('%08.0f', frac), '0+$', ''))
  end
  if neg and u > 0 then s = '-' .. s end
  return s
end

-- a request value: nil for absent or JSON null
local function opt(v)
  if v == nil or v == cjson.null then return nil end
  return v
end

-- JSON text of an ordered list of {key, value}; value: string, boolean, NULL, {raw = number
-- text}, or any other table (encoded by cjson).
local function json_object(fields)
  local parts = {}
  for _, kv in ipairs(fields) do
    local k, v = kv[1], kv[2]
    local t
    if v == nil or v == NULL then t = 'null'
    elseif type(v) == 'table' and v.raw then t = v.raw
    elseif type(v) == 'boolean' then t = v and 'true' or 'false'
    elseif type(v) == 'number' then t = string.format('%.17g', v)
    else t = cjson.encode(v) end
    parts[#parts + 1] = cjson.encode(k) .. ':' .. t
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- Fields of a stored hash as {key, value} pairs, by a schema of {name, kind}; kind 'num' and
-- 'int' are written as JSON numbers, 'json' as the stored JSON text, 'bool' as true/false, anything else as a string; absent
-- fields are null.
local function record_fields(key, schema)
  local names = {}
  for i, f in ipairs(schema) do names[i] = f[1] end
  local vals = redis.call('HMGET', key, unpack(names))
  local out = {}
  for i, f in ipairs(schema) do
    local v = vals[i]
    if not v then v = NULL
    elseif f[2] == 'num' or f[2] == 'int' or f[2] == 'json' then v = {raw = v}
    elseif f[2] == 'bool' then v = (v == '1')
    end
    out[#out + 1] = {f[1], v}
  end
  return out
end

-- XADD one SPEC §7 event to <prefix>stream:<topic>; returns the entry id.
local function emit(topic, event_type, fields)
  local all = {{'event_type', event_type}, {'schema_version', '2.0'}, {'timestamp', NOW}}
  for _, kv in ipairs(fields) do all[#all + 1] = kv end
  return redis.call('XADD', P .. 'stream:' .. topic, 'MAXLEN', '~', MAXLEN, '*', 'event', json_object(all))
end

-- The account hash, created with the initial balance on first use.
local ACCOUNT = P .. 'account'
local function ensure_account()
  if redis.call('EXISTS', ACCOUNT) == 0 then
    local init = dec(units(INITIAL))
    redis.call('HSET', ACCOUNT, 'initial_balance', init, 'balance', init, 'frozen', '0',
      'unrealized', '0', 'realized_pnl', '0', 'commission', '0', 'updated_at', NOW)
  end
end

local function account_units(field)
  return units(redis.call('HGET', ACCOUNT, field) or '0')
end

local function equity_units()
  return account_units('balance') + account_units('unrealized')
end

-- Before a change: a new UTC day records the equity it starts with (daily loss limit).
local RISK = P .. 'risk'
local function roll_day()
  local day = string.sub(NOW, 1, 10)
  if redis.call('HGET', RISK, 'day') ~= day then
    redis.call('HSET', RISK, 'day', day, 'day_start_equity', dec(equity_units()))
  end
end

-- After a change: the highest equity seen (drawdown kill switch).
local function track_peak()
  local eq = equity_units()
  local peak = redis.call('HGET', RISK, 'peak_equity')
  if not peak or eq > units(peak) then redis.call('HSET', RISK, 'peak_equity', dec(eq)) end
end

local function reply(fields) return json_object(fields) end

local POSITION_EVENT_SCHEMA = {
  {'position_id', 'int'}, {'market', 'str'}, {'side', 'str'}, {'position_size', 'num'},
  {'entry_price', 'num'}, {'current_price', 'num'}, {'unrealized_pnl', 'num'},
  {'stop_loss_price', 'num'}, {'trailing_stop_price', 'num'}, {'profit_target_price', 'num'},
  {'position_weight_used', 'num'}, {'status', 'str'}, {'signal_id', 'int'}, {'opened_by', 'str'},
}

-- portfolio.updated for the position stored at `key`.
local function emit_position_update(key, action)
  local f = record_fields(key, {
    {'id', 'int'}, {'market', 'str'}, {'side', 'str'}, {'size', 'num'}, {'entry_price', 'num'},
    {'current_price', 'num'}, {'unrealized_pnl', 'num'}, {'stop_loss_price', 'num'},
    {'trailing_stop_price', 'num'}, {'profit_target_price', 'num'},
    {'position_weight_used', 'num'}, {'status', 'str'}, {'signal_id', 'int'}, {'opened_by', 'str'}})
  local fields = {}
  for i, kv in ipairs(f) do fields[i] = {POSITION_EVENT_SCHEMA[i][1], kv[2]} end
  table.insert(fields, 3, {'action', action})
  return emit('portfolio', 'portfolio.updated', fields)
end

-- ---- script body follows ----
