-- Removes a room's oldest messages beyond the limits, in one atomic step,
-- and deletes the stream once it is empty (the last id stays, in its own
-- key, so that ids are never reused).
--
-- KEYS[1]  the room's stream               chat:{room}:stream
-- ARGV[1]  most messages to keep ("-1": no limit)
-- ARGV[2]  remove messages sent before this (unix seconds; "": none)
-- ARGV[3]  most messages to remove in this call
--
-- Messages go from the oldest on, while the room holds more than it may
-- keep or the message is too old, as in the other stores. A room's entries
-- are consecutive ids ("<id>-0"), appended at the end and removed only from
-- the start, so the removed ones end just below the new first id.
--
-- Returns { removed, messages left, sent_at of the oldest left or "" }.
local keep = tonumber(ARGV[1])
local sent_before = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local length = redis.call('XLEN', KEYS[1])
local excess = keep >= 0 and length - keep or 0

local removed, last_removed, oldest_left = 0, nil, ''
local start = '-'
while removed < budget and oldest_left == '' do
  local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 100)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    local fields, sent_at = entry[2], nil
    for i = 1, #fields, 2 do
      if fields[i] == 'sent_at' then sent_at = fields[i + 1] end
    end
    local too_old = sent_before ~= nil and tonumber(sent_at) < sent_before
    if removed < budget and (removed < excess or too_old) then
      removed = removed + 1
      last_removed = entry[1]
    else
      oldest_left = sent_at
      break
    end
  end
  start = '(' .. batch[#batch][1]
end

if last_removed then
  local id = tonumber(string.match(last_removed, '^(%d+)'))
  redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-0', id + 1))
end
local left = length - removed
if left == 0 then
  redis.call('DEL', KEYS[1])
elseif oldest_left == '' then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  for i = 1, #first[1][2], 2 do
    if first[1][2][i] == 'sent_at' then oldest_left = first[1][2][i + 1] end
  end
end
return { removed, left, oldest_left }
