-- publish.lua -- the Lua baseline for SWARM.PUBLISH in bench/run.sh: the same work, done
-- the way one would without the module, for one channel route.
--
--   EVALSHA <sha> 1 <seq-key> <channel> <type> <payload>
--
-- Checks the type against the event-type grammar, validates the payload with cjson.decode,
-- issues an id <ms>-<seq> (a per-table counter kept in <seq-key>, as SWARM.PUBLISH keeps its
-- id clock in the table), builds the envelope in the documented key order with the payload bytes
-- verbatim, PUBLISHes it and answers [id, targets, receivers] like SWARM.PUBLISH.
local chan, t, payload = ARGV[1], ARGV[2], ARGV[3]
if #t == 0 or #t > 256 or not string.match(t, '^[%w_:%-][%w_:%-%.]*$')
    or string.find(t, '..', 1, true) or string.sub(t, -1) == '.' then
    return redis.error_reply('EVENTTYPE invalid event type')
end
if not pcall(cjson.decode, payload) then
    return redis.error_reply('PAYLOAD invalid JSON')
end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local id = string.format('%d-%d', ms, redis.call('INCR', KEYS[1]))
local env = '{"id":"' .. id .. '","swarm":"' .. KEYS[1] .. '","type":"' .. t ..
    '","priority":5,"ts":' .. string.format('%d', ms) .. ',"payload":' .. payload .. '}'
local n = redis.call('PUBLISH', chan, env)
if n > 0 then
    return {id, {'channel:' .. chan}, n}
end
return {id, {}, n}
