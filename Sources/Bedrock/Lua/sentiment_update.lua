-- sentiment_update: shares a market's sentiment answer with every gateway on this Redis: appends
-- sentiment.updated on topic news (each gateway's news reader adopts it, so one model call
-- serves them all) and ends this gateway's ask (its lock llm:asking:{market}, if still its own).
-- REQ: market, llm_sentiment, reason, as_of (RFC 3339), price?, owner
-- Reply: {"status":"shared","event_id":ID}

local market = tostring(REQ.market)
local lock = P .. 'llm:asking:' .. market
if redis.call('GET', lock) == tostring(REQ.owner) then redis.call('DEL', lock) end
local price = opt(REQ.price)
local event_id = emit('news', 'sentiment.updated', {
  {'market', market}, {'llm_sentiment', tostring(REQ.llm_sentiment)}, {'reason', tostring(REQ.reason)},
  {'price', price and {raw = dec(units(price))} or NULL}, {'as_of', tostring(REQ.as_of)}})
return reply({{'status', 'shared'}, {'event_id', event_id}})
