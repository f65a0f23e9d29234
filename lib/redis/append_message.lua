-- Appends one message to its room and publishes it, in one atomic step:
-- no other client can see the id taken but the message missing, or the
-- message stored but not yet published.
--
-- KEYS[1]  the room's stream               chat:{room}:stream
-- KEYS[2]  the room's last id              chat:{room}:seq
-- ARGV[1]  the room's sharded channel      chat:{room}:messages
-- ARGV[2]  room_id
-- ARGV[3]  from
-- ARGV[4]  message
-- ARGV[5]  sent_at, as the text of a JSON number (unix seconds)
-- ARGV[6]  most messages the room keeps ("0": no limit)
--
-- Returns { the message's id, 1 if the room had no messages before }. The
-- id is the room's previous id plus one, so a room's ids are consecutive
-- and a reader who sees id 7 after id 5 knows that it missed id 6. The
-- stream entry's id is "<id>-0".
local id = (tonumber(redis.call('GET', KEYS[2])) or 0) + 1
local created = redis.call('EXISTS', KEYS[1]) == 0 and 1 or 0
local entry = string.format('%d-0', id)
local fields = { 'from', ARGV[3], 'message', ARGV[4], 'sent_at', ARGV[5] }
if ARGV[6] ~= '0' then
  redis.call('XADD', KEYS[1], 'MAXLEN', '=', ARGV[6], entry, unpack(fields))
else
  redis.call('XADD', KEYS[1], entry, unpack(fields))
end
-- Only once the entry is in: a failed XADD takes no id.
redis.call('SET', KEYS[2], string.format('%d', id))
-- The stored message as JSON, in the fields' usual order. sent_at goes in
-- as the client wrote it: cjson would round it to 14 digits.
redis.call('SPUBLISH', ARGV[1], '{"room_id":' .. cjson.encode(ARGV[2]) ..
  ',"from":' .. cjson.encode(ARGV[3]) ..
  ',"message":' .. cjson.encode(ARGV[4]) ..
  ',"sent_at":' .. ARGV[5] ..
  ',"id":' .. string.format('%d', id) .. '}')
return { id, created }
