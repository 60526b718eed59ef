-- record_signal: stores a signal and appends signal.created, once per
-- strategy + market + interval + bar_time (a second call returns the existing signal id and
-- writes nothing). Also counts the arbiter's verdict.
-- REQ: strategy, market, interval, bar_time, signal_type, side, entry_price, stop_loss_price,
--      profit_target_price, risk_unit_r, suggested_position_weight, rule_engine_score,
--      ml_confidence_score, ml_model?, llm_sentiment, final_decision, explanation,
--      rejection_reason?, features? (JSON array text, MLFeatures order, null for a missing value),
--      params? (JSON object text: the strategy's parameters), config_version? (engine version)
--      (numbers as decimal text or JSON numbers; null or absent when unknown)
-- The feature vector is stored on the signal (field `features`) but left out of signal.created,
-- which stays small; signals.get answers it.
-- Reply: {"status":"created"|"existing","id":N,"event_id":ID|null}

local SIGNAL_SCHEMA = {
  {'id', 'int'}, {'market', 'str'}, {'interval', 'str'}, {'strategy', 'str'},
  {'signal_type', 'str'}, {'side', 'str'}, {'entry_price', 'num'}, {'stop_loss_price', 'num'},
  {'profit_target_price', 'num'}, {'risk_unit_r', 'num'}, {'suggested_position_weight', 'num'},
  {'rule_engine_score', 'num'}, {'ml_confidence_score', 'num'}, {'ml_model', 'str'}, {'llm_sentiment', 'str'},
  {'final_decision', 'str'}, {'explanation', 'str'}, {'bar_time', 'str'}, {'created_at', 'str'},
  {'params', 'json'}, {'config_version', 'int'},
}

for _, name in ipairs({'strategy', 'market', 'interval', 'bar_time', 'signal_type', 'side',
                       'entry_price', 'final_decision'}) do
  if not opt(REQ[name]) then return reply({{'status', 'invalid'}, {'error', 'missing ' .. name}}) end
end

local dedupe = REQ.strategy .. '|' .. REQ.market .. '|' .. REQ.interval .. '|' .. tostring(REQ.bar_time)
local existing = redis.call('HGET', P .. 'signals:dedupe', dedupe)
if existing then
  return reply({{'status', 'existing'}, {'id', {raw = existing}}, {'event_id', NULL}})
end

local id = redis.call('INCR', P .. 'seq:signal')
local key = P .. 'signal:' .. id
local args = {'id', tostring(id), 'created_at', NOW}
for _, f in ipairs(SIGNAL_SCHEMA) do
  local name = f[1]
  if name ~= 'id' and name ~= 'created_at' then
    local v = opt(REQ[name])
    if v ~= nil then
      if f[2] == 'num' then v = dec(units(v)) else v = tostring(v) end
      args[#args + 1] = name
      args[#args + 1] = v
    end
  end
end
local features = opt(REQ.features)
if features then
  args[#args + 1] = 'features'
  args[#args + 1] = tostring(features)
end
redis.call('HSET', key, unpack(args))
redis.call('HSET', P .. 'signals:dedupe', dedupe, id)
redis.call('ZADD', P .. 'signals:index', id, id)
redis.call('ZADD', P .. 'signals:market:' .. REQ.market, id, id)

if REQ.final_decision == 'APPROVED' then
  redis.call('HINCRBY', P .. 'arbiter', 'approved', 1)
else
  redis.call('HINCRBY', P .. 'arbiter', 'rejected', 1)
  local why = opt(REQ.rejection_reason) or 'BELOW_THRESHOLD'
  redis.call('HINCRBY', P .. 'arbiter:reasons', why, 1)
end

local event_id = emit('signals', 'signal.created', record_fields(key, SIGNAL_SCHEMA))
return reply({{'status', 'created'}, {'id', {raw = tostring(id)}}, {'event_id', event_id}})
