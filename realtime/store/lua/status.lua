-- status.lua stores a unit's status (redis.go: SetStatus).
--
-- KEYS: the unit hash, the stream. ARGV: channel, status, updated-at, the
-- status as JSON, the stream's trim (its oldest id to keep and its length,
-- separated by a space), who set it, when. Its
-- stream entry and message are those of a batch of one, flagged s.
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated', ARGV[3], 'status_by', ARGV[6], 'status_at', ARGV[7])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local minid, maxlen = string.match(ARGV[5], '^(%d+) (%d+)$')
local id = redis.call('XADD', KEYS[2], 'MINID', '~', minid, '*', 'k', 's', 'f', 's', 'd', ARGV[4])
redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', maxlen)
redis.call('PUBLISH', ARGV[1], prev .. ' ' .. id .. '\ns\n' .. ARGV[4])
return 1
