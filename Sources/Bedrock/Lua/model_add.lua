-- model_add: stores a new version of model REQ.name and appends model.trained on topic models.
-- The version number is <prefix>model:{name}:seq + 1; the version starts as a candidate with
-- no traffic.
-- REQ: name, model (XGBoost JSON text), parts: [[field, JSON text], ...] — the version's
--      description in answer order after name, version and created_at (source, dataset,
--      features, hyperparameters, metrics, strategy, params, trees)
-- Stored: <prefix>models (set of names); <prefix>model:{name}:{version} hash with meta (the
--      description as JSON, without status and traffic_percentage), model, status,
--      traffic_percentage, created_at
-- Reply: {"status":"created","version":N,"event_id":ID,"meta":<description JSON>}

local name = tostring(REQ.name)
local version = redis.call('INCR', P .. 'model:' .. name .. ':seq')
local key = P .. 'model:' .. name .. ':' .. version
local fields = {{'name', name}, {'version', {raw = tostring(version)}}, {'created_at', NOW}}
for _, part in ipairs(REQ.parts) do fields[#fields + 1] = {part[1], {raw = part[2]}} end
local meta = json_object(fields)
redis.call('HSET', key, 'meta', meta, 'model', tostring(REQ.model), 'status', 'candidate',
  'traffic_percentage', '0', 'created_at', NOW)
redis.call('SADD', P .. 'models', name)
fields[#fields + 1] = {'status', 'candidate'}
fields[#fields + 1] = {'traffic_percentage', {raw = '0'}}
local event_id = emit('models', 'model.trained', fields)
return reply({{'status', 'created'}, {'version', {raw = tostring(version)}}, {'event_id', event_id},
  {'meta', {raw = meta}}})
