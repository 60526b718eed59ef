-- engine_configure: stores a new version of the live engine configuration and appends
-- engine.config_changed on topic risk, only when the stored version is still the one the change
-- was made from (compare and set: two administrators changing it at once cannot lose a change;
-- the loser answers "conflict" and the caller retries on the fresh version).
-- Keys: <prefix>engine:config (string, the current configuration JSON) and
-- <prefix>engine:config:versions (hash, version -> configuration JSON; every version is kept).
-- REQ: base_version (the version the change was made from; 0 = the file configuration),
--      config (the new configuration as JSON text, its "version" = base_version + 1)
-- Reply: {"status":"stored","version":N,"event_id":ID} or {"status":"conflict","version":N}

local KEY = P .. 'engine:config'
local current = redis.call('GET', KEY)
local version = 0
if current then version = tonumber(cjson.decode(current).version) or 0 end
local base = tonumber(REQ.base_version) or -1
if version ~= base then
  return reply({{'status', 'conflict'}, {'version', {raw = tostring(version)}}})
end
local next_version = base + 1
redis.call('SET', KEY, REQ.config)
redis.call('HSET', KEY .. ':versions', tostring(next_version), REQ.config)
local event_id = emit('risk', 'engine.config_changed', {{'config', {raw = REQ.config}}})
return reply({{'status', 'stored'}, {'version', {raw = tostring(next_version)}}, {'event_id', event_id}})
