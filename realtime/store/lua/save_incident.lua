-- save_incident.lua stores an incident (redis_incidents.go: SaveIncident).
--
-- KEYS: the incidents hash, the stream. ARGV: channel, incident id, the
-- version the caller read (0: a new incident), the incident as JSON with
-- its new version, the stream's trim (its oldest id to keep and its
-- length, separated by a space). It returns 1, or
-- -(stored version)-1 when the caller's version is not the stored one.
-- Its stream entry and message are those of a batch of one, flagged i.
local cur = redis.call('HGET', KEYS[1], ARGV[2])
local v = 0
if cur then v = tonumber(string.match(cur, '"version":(%d+)')) or 0 end
if v ~= tonumber(ARGV[3]) then return -v - 1 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local minid, maxlen = string.match(ARGV[5], '^(%d+) (%d+)$')
local id = redis.call('XADD', KEYS[2], 'MINID', '~', minid, '*', 'k', 'i', 'f', 'i', 'd', ARGV[4])
redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', maxlen)
redis.call('PUBLISH', ARGV[1], prev .. ' ' .. id .. '\ni\n' .. ARGV[4])
return 1
