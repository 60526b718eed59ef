-- append_klines: appends kline.closed events to one klines stream, exactly once and in order
-- (SPEC §10). The one way bars enter a klines stream from an exchange (KlineAppender): the live
-- ingest and `bedrock backfill --redis`. Standalone: run without the ledger's prelude.
--
-- KEYS[1]  the stream, <prefix>stream:klines:{MARKET}:{INTERVAL}
-- ARGV[1]  approximate MAXLEN (market_data.retain_bars)
-- ARGV[2k], ARGV[2k+1]  a bar's open time (epoch ms) and its event JSON, oldest first
--
-- The stream's last bar is the open_time of its newest readable kline.closed event (RFC 3339, as
-- KlineEvent writes it, or epoch ms); entries that are not such events are passed over. A bar
-- whose open time is not after it is skipped, so a batch sent twice, or by two writers, appends
-- each bar once. Called with no bars, it only reads the last bar.
-- Reply: {appended, last open time (ms) or nil}; an error when the newest entries hold no
-- readable event (where the stream stands is then unknown).

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- YYYY-MM-DDTHH:MM:SS[.fff]Z or with an offset +HH:MM / -HH:MM -> epoch ms, else nil
local function rfc3339_ms(s)
  local y, mo, d, h, mi, sec, rest = string.match(s, '^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(.*)$')
  if not y then return nil end
  local ms = 0
  local frac = string.match(rest, '^%.(%d+)')
  if frac then
    ms = tonumber(string.sub(frac .. '00', 1, 3))
    rest = string.sub(rest, #frac + 2)
  end
  local offset = 0
  if rest ~= 'Z' then
    local sign, oh, om = string.match(rest, '^([+-])(%d%d):(%d%d)$')
    if not sign then return nil end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60000
    if sign == '-' then offset = -offset end
  end
  local days = days_from_civil(tonumber(y), tonumber(mo), tonumber(d))
  return ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60000 + tonumber(sec) * 1000 + ms - offset
end

-- the open time of a stream entry's kline.closed event, else nil
local function open_time(entry)
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'event' then
      local ok, ev = pcall(cjson.decode, fields[i + 1])
      if ok and type(ev) == 'table' and ev.event_type == 'kline.closed' then
        local t = ev.open_time
        if type(t) == 'number' then return t end
        if type(t) == 'string' then return rfc3339_ms(t) end
      end
    end
  end
  return nil
end

local function last_bar(key)
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #newest == 0 then return nil, true end
  local t = open_time(newest[1])
  if t then return t, true end
  for _, entry in ipairs(redis.call('XREVRANGE', key, '+', '-', 'COUNT', 100)) do
    t = open_time(entry)
    if t then return t, true end
  end
  return nil, false
end

local last, known = last_bar(KEYS[1])
if not known then
  return redis.error_reply('the newest entries of ' .. KEYS[1] ..
    ' are not kline.closed events with an open_time: where the stream stands is unknown')
end
local appended = 0
for i = 2, #ARGV - 1, 2 do
  local t = tonumber(ARGV[i])
  if last == nil or t > last then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i + 1])
    last = t
    appended = appended + 1
  end
end
return {appended, last or false}
