-- news_publish: appends news.published on topic news (POST /v1/news, news.publish). The gateway
-- checks the request first (NewsItem); the script only writes, so the stream holds every
-- headline acknowledged.
-- REQ: title, source, published_at, market?, body?, url?
-- Reply: {"status":"published","event_id":ID}

local fields = {}
local market = opt(REQ.market)
fields[#fields + 1] = {'market', market and tostring(market) or NULL}
fields[#fields + 1] = {'title', tostring(REQ.title)}
local body = opt(REQ.body)
if body then fields[#fields + 1] = {'body', tostring(body)} end
fields[#fields + 1] = {'source', tostring(REQ.source)}
local url = opt(REQ.url)
if url then fields[#fields + 1] = {'url', tostring(url)} end
fields[#fields + 1] = {'published_at', tostring(REQ.published_at)}
local event_id = emit('news', 'news.published', fields)
return reply({{'status', 'published'}, {'event_id', event_id}})
