-- append.lua stores a batch of fixes, in order, as one stream entry
-- (redis_append.go builds its call: appendCall).
--
-- KEYS: the stream, the GEO set, then the hash of each unit of the batch.
-- ARGV: channel, the stream's trim (trim: its oldest id to keep and its
-- length, separated by a space), updated-at,
-- the fixes' JSON one per line, the number of units, then per unit
-- (appendArgsPerUnit) the unit and the fields of its newest fix in the
-- batch (the first of them if several share its time): time (fixed width,
-- so that string order is time order), lon, lat, speed, heading, accuracy,
-- altitude, battery, source; then per fix (appendArgsPerFix) its unit's
-- number and its time.
--
-- A fix newer than its unit's stored one (or than the one before it in the
-- batch) becomes the latest; so does any fix of a device (source not
-- "demo") whose unit's stored fix is the demo motion's, whatever its time
-- (fix.Fix.Supersedes: a device takes a unit over from the simulation). Should any fix of a unit win, its newest one
-- wins last, so hash and GEO set are written once per unit, with those
-- fields. The stream entry (k=b) holds the flags (1 latest, 0 not, one per
-- fix) and the JSON lines; the message on the channel holds the same (see
-- eventMessage). The script returns the flags as 1 or 0 per fix.
local stream, pos = KEYS[1], KEYS[2]
local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local nu = tonumber(ARGV[5])
local cur, won = {}, {}
for j = 1, nu do
  local stored = redis.call('HMGET', KEYS[2 + j], 'time', 'source')
  cur[j] = stored[1] or ''
  if stored[2] == 'demo' and ARGV[6 + (j - 1) * 10 + 9] ~= 'demo' then
    cur[j] = '' -- any fix of the device's batch beats the simulated one
  end
end
local base = 5 + nu * 10
local out = {}
for i = 1, (#ARGV - base) / 2 do
  local a = base + i * 2
  local j, t = tonumber(ARGV[a - 1]), ARGV[a]
  if t > cur[j] then
    cur[j], out[i], won[j] = t, 1, true
  else
    out[i] = 0
  end
end
local flags = table.concat(out)
local minid, maxlen = string.match(ARGV[2], '^(%d+) (%d+)$')
local id = redis.call('XADD', stream, 'MINID', '~', minid, '*', 'k', 'b', 'f', flags, 'd', ARGV[4])
redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen)
local geo = {}
for j = 1, nu do
  if won[j] then
    local a = 6 + (j - 1) * 10
    redis.call('HSET', KEYS[2 + j], 'time', ARGV[a + 1], 'lon', ARGV[a + 2], 'lat', ARGV[a + 3], 'speed', ARGV[a + 4],
      'heading', ARGV[a + 5], 'accuracy', ARGV[a + 6], 'altitude', ARGV[a + 7], 'battery', ARGV[a + 8],
      'source', ARGV[a + 9], 'updated', ARGV[3])
    geo[#geo + 1], geo[#geo + 2], geo[#geo + 3] = ARGV[a + 2], ARGV[a + 3], ARGV[a]
    if #geo >= 3000 then
      redis.call('GEOADD', pos, unpack(geo))
      geo = {}
    end
  end
end
if #geo > 0 then redis.call('GEOADD', pos, unpack(geo)) end
redis.call('PUBLISH', ARGV[1], prev .. ' ' .. id .. '\n' .. flags .. '\n' .. ARGV[4])
return out
