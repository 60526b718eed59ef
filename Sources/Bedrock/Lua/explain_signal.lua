-- explain_signal: replaces a signal's stored explanation (the template) with the model's and
-- appends signal.explained on topic signals, in one step; once per signal (a second call
-- writes nothing). The template is kept in field explanation_template.
-- REQ: signal_id, explanation
-- Reply: {"status":"explained"|"existing"|"not_found","event_id":ID|null}

local id = tostring(REQ.signal_id)
local key = P .. 'signal:' .. id
local current = redis.call('HMGET', key, 'id', 'explanation_source', 'explanation')
if not current[1] then return reply({{'status', 'not_found'}, {'event_id', NULL}}) end
if current[2] == 'llm' then return reply({{'status', 'existing'}, {'event_id', NULL}}) end
local text = tostring(REQ.explanation)
redis.call('HSET', key, 'explanation', text, 'explanation_source', 'llm', 'explained_at', NOW,
  'explanation_template', current[3] or '')
local event_id = emit('signals', 'signal.explained', {{'signal_id', {raw = id}}, {'explanation', text}})
return reply({{'status', 'explained'}, {'event_id', event_id}})
