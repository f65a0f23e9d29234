-- Removes a member from a room and announces it, once: only the call that
-- removes the member announces the leave.
--
-- KEYS[1]  the room's members                                   chat:{room}:members
-- ARGV[1]  the room's sharded channel
-- ARGV[2]  room_id
-- ARGV[3]  the member's instance
-- ARGV[4]  the member's connection on that instance
-- ARGV[5]  the name the member joined under
--
-- Returns 1 if the member was removed, 0 if it was not there.
local entry = cjson.encode({ ARGV[3], ARGV[4], ARGV[5] })
local removed = redis.call('ZREM', KEYS[1], entry)
if removed == 1 then
  redis.call('SPUBLISH', ARGV[1], cjson.encode({
    type = 'leave-room', room_id = ARGV[2], from = ARGV[5],
    instance = ARGV[3], connection = ARGV[4],
  }))
end
return removed
