-- Lists a room's live members, and removes those of instances whose
-- heartbeat expired, announcing each removal once: whoever reads first
-- after an instance died cleans up after it, and the others find nothing
-- left to clean.
--
-- KEYS[1]  the room's members, scored by when they joined (µs)  chat:{room}:members
-- KEYS[2]  each instance's expiry in the room (ms)              chat:{room}:instances
-- ARGV[1]  the room's sharded channel
-- ARGV[2]  room_id
--
-- Returns { how many members were removed, the live members' entries }:
-- each entry JSON [instance, connection, from], in the order they joined.
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local alive = {}
local expiries = redis.call('HGETALL', KEYS[2])
for i = 1, #expiries, 2 do
  if tonumber(expiries[i + 1]) < now_ms then
    redis.call('HDEL', KEYS[2], expiries[i])
  else
    alive[expiries[i]] = true
  end
end
local live, removed = {}, 0
for _, entry in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local member = cjson.decode(entry)
  if alive[member[1]] then
    table.insert(live, entry)
  else
    redis.call('ZREM', KEYS[1], entry)
    removed = removed + 1
    redis.call('SPUBLISH', ARGV[1], cjson.encode({
      type = 'leave-room', room_id = ARGV[2], from = member[3],
      instance = member[1], connection = member[2],
    }))
  end
end
return { removed, live }
