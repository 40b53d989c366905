-- snapshot_patch.lua -- the Lua baseline for SWARM.SNAPSHOT PATCH in bench/run.sh: an
-- RFC 7396 JSON Merge Patch applied to a JSON document kept as a plain string.
--
--   EVALSHA <sha> 1 <key> <merge-patch>
--
-- GETs the document ({} when missing), decodes it and the patch with cjson, merges, encodes
-- and SETs the result. Replies the new document's length. (cjson re-encodes: member order
-- and number formatting are not preserved, which SWARM.SNAPSHOT PATCH does preserve.)
local ok, patch = pcall(cjson.decode, ARGV[1])
if not ok then
    return redis.error_reply('PAYLOAD invalid JSON')
end
local function merge(target, p)
    if type(p) ~= 'table' or p[1] ~= nil then
        return p
    end
    if type(target) ~= 'table' or target[1] ~= nil then
        target = {}
    end
    for k, v in pairs(p) do
        if v == cjson.null then
            target[k] = nil
        else
            target[k] = merge(target[k], v)
        end
    end
    return target
end
local cur = redis.call('GET', KEYS[1])
local doc = {}
if cur then
    doc = cjson.decode(cur)
end
local out = cjson.encode(merge(doc, patch))
redis.call('SET', KEYS[1], out)
return #out
