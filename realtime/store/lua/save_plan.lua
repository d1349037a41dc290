-- save_plan.lua replaces the active plan (redis_plan.go: SavePlan).
--
-- KEYS: the plan. ARGV: the version the caller read (negative: any),
-- saved-at, the plan as JSON. It returns the new version, or
-- -(current version)-1 when the caller's is not current.
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = tonumber(string.match(cur, '^{"version":(%d+)')) or 0 end
local want = tonumber(ARGV[1])
if want >= 0 and want ~= v then return -v - 1 end
v = v + 1
redis.call('SET', KEYS[1], '{"version":' .. string.format('%d', v) .. ',"saved_at":"' .. ARGV[2] .. '","plan":' .. ARGV[3] .. '}')
return v
