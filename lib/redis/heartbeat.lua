-- One heartbeat of a server instance, timed by Redis's clock so that the
-- instances' own clocks need not agree.
--
-- KEYS[1]  live instances, scored by heartbeat expiry (ms)  chat:instances
-- ARGV[1]  the instance's id
-- ARGV[2]  how long the heartbeat lasts (ms)
--
-- Instances that expired an hour ago are dropped from the set; the others
-- stay, expired, so that an instance coming back can tell it was given up.
--
-- Returns { Redis's time (ms), 1 if the instance had expired or was
-- unknown, else 0, the ids of the live instances }.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
local expired = (not previous or tonumber(previous) < now) and 1 or 0
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
return { now, expired, redis.call('ZRANGE', KEYS[1], now, '+inf', 'BYSCORE') }
