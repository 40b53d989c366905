-- snapshot_save.lua -- the Lua baseline for SWARM.SNAPSHOT SAVE in bench/run.sh: what one
-- would do without the module to keep a JSON document only if it is valid.
--
--   EVALSHA <sha> 1 <key> <json>
--
-- Validates the document with cjson.decode and SETs it as a plain string. No history, no
-- version number, no checksum: less work than SAVE does, so a fair lower bound for Lua.
if not pcall(cjson.decode, ARGV[1]) then
    return redis.error_reply('PAYLOAD invalid JSON')
end
return redis.call('SET', KEYS[1], ARGV[1])
