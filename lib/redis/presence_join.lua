-- Adds a member to a room and announces it, once: joining twice with the
-- same connection changes nothing and announces nothing.
--
-- KEYS[1]  the room's members, scored by when they joined (µs)  chat:{room}:members
-- KEYS[2]  each instance's expiry in the room (ms)              chat:{room}:instances
-- ARGV[1]  the room's sharded channel
-- ARGV[2]  room_id
-- ARGV[3]  the member's instance
-- ARGV[4]  the member's connection on that instance
-- ARGV[5]  the name the member joined under
-- ARGV[6]  how long the instance's heartbeat lasts (ms)
--
-- Returns 1 if the member was added, 0 if it was there already.
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
local entry = cjson.encode({ ARGV[3], ARGV[4], ARGV[5] })
redis.call('HSET', KEYS[2], ARGV[3], now_ms + tonumber(ARGV[6]))
local added = redis.call('ZADD', KEYS[1], 'NX', now_us, entry)
if added == 1 then
  redis.call('SPUBLISH', ARGV[1], cjson.encode({
    type = 'join-room', room_id = ARGV[2], from = ARGV[5],
    instance = ARGV[3], connection = ARGV[4],
  }))
end
return added
