-- engine_configure: stores a new version of the live engine configuration and appends
-- engine.config_changed on topic risk, only when nothing changed since the caller read it: the
-- current version is still base_version and the versions hash still holds `known` entries
-- (compare and set: two changes at once cannot overwrite each other; the loser answers
-- "conflict" and the caller re-reads). Version numbers are never reused: a new version is
-- max(base_version, known) + 1, written with HSETNX.
-- Keys: <prefix>engine:config (string, the current configuration JSON) and
-- <prefix>engine:config:versions (hash, version -> configuration JSON; every version is kept).
-- REQ: base_version, known (HLEN of the versions hash when read), version (the new number),
--      config (the new configuration as JSON text, its "version" = version)
-- Reply: {"status":"stored","version":N,"event_id":ID} or {"status":"conflict"}

local KEY = P .. 'engine:config'
local current = redis.call('GET', KEY)
local version = 0
if current then
  local ok, decoded = pcall(cjson.decode, current)
  version = ok and tonumber(decoded.version) or -1
end
if version ~= tonumber(REQ.base_version) or redis.call('HLEN', KEY .. ':versions') ~= tonumber(REQ.known) then
  return reply({{'status', 'conflict'}})
end
local next_version = tostring(REQ.version)
if redis.call('HSETNX', KEY .. ':versions', next_version, REQ.config) == 0 then
  return reply({{'status', 'conflict'}})
end
redis.call('SET', KEY, REQ.config)
local event_id = emit('risk', 'engine.config_changed', {{'config', {raw = REQ.config}}})
return reply({{'status', 'stored'}, {'version', {raw = next_version}}, {'event_id', event_id}})
