-- Appends messages to one room and publishes them, in one atomic step: no
-- other client can see an id taken but its message missing, or a message
-- stored but not yet published. The messages of a room that arrive in one
-- turn of a server's event loop come in one call, as one SQLite
-- transaction holds a turn's messages.
--
-- KEYS[1]  the room's stream               chat:{room}:stream
-- KEYS[2]  the room's last id              chat:{room}:seq
-- ARGV[1]  the room's sharded channel      chat:{room}:messages
-- ARGV[2]  room_id
-- ARGV[3]  most messages the room keeps ("0": no limit)
-- then, for each message, three arguments:
--   from, message, sent_at (the text of a JSON number, unix seconds)
--
-- Returns { the first message's id, 1 if the room had no messages before }:
-- the others follow it, one by one. A room's ids are consecutive, so a
-- reader who sees id 7 after id 5 knows that it missed id 6. The stream
-- entry of id n is "n-0". The messages are published as one JSON array, in
-- id order.
local last = tonumber(redis.call('GET', KEYS[2])) or 0
local created = redis.call('EXISTS', KEYS[1]) == 0 and 1 or 0
local published = {}
local room = cjson.encode(ARGV[2])
local id = last
for i = 4, #ARGV, 3 do
  id = id + 1
  local from, message, sent_at = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('XADD', KEYS[1], string.format('%d-0', id),
    'from', from, 'message', message, 'sent_at', sent_at)
  -- The stored message as JSON, in the fields' usual order. sent_at goes
  -- in as the server wrote it: cjson would round it to 14 digits.
  published[#published + 1] = '{"room_id":' .. room ..
    ',"from":' .. cjson.encode(from) ..
    ',"message":' .. cjson.encode(message) ..
    ',"sent_at":' .. sent_at ..
    ',"id":' .. string.format('%d', id) .. '}'
end
if ARGV[3] ~= '0' then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', '=', ARGV[3])
end
-- Only once the entries are in: a failed XADD takes no id.
redis.call('SET', KEYS[2], string.format('%d', id))
redis.call('SPUBLISH', ARGV[1], '[' .. table.concat(published, ',') .. ']')
return { last + 1, created }
