-- publish_event: one publish with an idempotency key (POST /v1/publish, events.publish), run as
-- it is (no ledger prelude). The check of the key, the append and the record of the key are one
-- atomic step, so two gateways racing with the same key append once.
-- KEYS[1] <prefix>idempotency:<key>      KEYS[2] the topic's stream
-- ARGV[1] approximate MAXLEN             ARGV[2] the event (JSON text)
-- ARGV[3] digest of (topic, data)        ARGV[4] seconds the key is kept
-- Reply: {"appended"|"duplicate"|"conflict", stream id (the first one for a known key)}
-- The record is the string "<digest> <stream id>".

local stored = redis.call('GET', KEYS[1])
if stored then
  local space = string.find(stored, ' ', 1, true)
  local digest = string.sub(stored, 1, space - 1)
  local id = string.sub(stored, space + 1)
  if digest == ARGV[3] then return {'duplicate', id} end
  return {'conflict', id}
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[2])
redis.call('SET', KEYS[1], ARGV[3] .. ' ' .. id, 'EX', ARGV[4])
return {'appended', id}
