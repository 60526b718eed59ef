-- model_deploy: applies a traffic change computed by ModelTraffic (Swift) and appends
-- model.deployed on topic models, only if <prefix>models:traffic still holds what the change
-- was computed from (else "conflict": the caller reads again and recomputes).
-- REQ: name, version, reference ("name@version"), granted (its new share),
--      expected: {ref: share} (the traffic read), entries: [{ref, name, version, share}] (the
--      new traffic), retired: [{ref, name, version}], traffic_json, retired_json, note?
-- Reply: {"status":"deployed"|"conflict"|"not_found","event_id":ID|null}

local key = P .. 'model:' .. tostring(REQ.name) .. ':' .. tostring(REQ.version)
if redis.call('EXISTS', key) == 0 then
  return reply({{'status', 'not_found'}, {'event_id', NULL}})
end
local TRAFFIC = P .. 'models:traffic'
local current = redis.call('HGETALL', TRAFFIC)
local seen = 0
for i = 1, #current, 2 do
  local want = REQ.expected[current[i]]
  if want == nil or tonumber(want) ~= tonumber(current[i + 1]) then
    return reply({{'status', 'conflict'}, {'event_id', NULL}})
  end
  seen = seen + 1
end
local expected = 0
for _ in pairs(REQ.expected) do expected = expected + 1 end
if seen ~= expected then return reply({{'status', 'conflict'}, {'event_id', NULL}}) end

redis.call('DEL', TRAFFIC)
for _, e in ipairs(REQ.entries) do
  redis.call('HSET', TRAFFIC, e.ref, tostring(e.share))
  redis.call('HSET', P .. 'model:' .. e.name .. ':' .. e.version, 'status', 'deployed',
    'traffic_percentage', tostring(e.share))
end
-- Only a version that had traffic is retired (a candidate never deployed stays a candidate).
for _, e in ipairs(REQ.retired) do
  if REQ.expected[e.ref] ~= nil then
    redis.call('HSET', P .. 'model:' .. e.name .. ':' .. e.version, 'status', 'retired',
      'traffic_percentage', '0')
  end
end
local status = redis.call('HGET', key, 'status')
local event_id = emit('models', 'model.deployed', {
  {'name', tostring(REQ.name)}, {'version', {raw = tostring(REQ.version)}}, {'model', tostring(REQ.reference)},
  {'status', status}, {'traffic_percentage', {raw = tostring(REQ.granted)}},
  {'traffic', {raw = REQ.traffic_json}}, {'retired', {raw = REQ.retired_json}},
  {'note', opt(REQ.note) and tostring(REQ.note) or NULL}})
return reply({{'status', 'deployed'}, {'event_id', event_id}})
