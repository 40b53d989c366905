-- swarm.lua -- Prometheus metrics of the swarm Redis module, for redis_exporter's -script.
--
--   prometheus-redis-exporter -redis.addr redis://127.0.0.1:6379 \
--       -script /usr/share/redis-swarm/prometheus/swarm.lua
--
-- redis_exporter (Debian 12 ships 1.45) runs this script with EVAL on every scrape. It
-- wants a flat array of name, value, name, value ... all strings, and turns each pair into
--
--   redis_script_values{key="<name>"} <value>
--
-- (one gauge metric, one label; "redis" is the exporter's -namespace). So the names below
-- carry what would be labels, after a ':' that no metric part contains:
--
--   swarm_<counter>_total                      the counters of INFO swarm: published
--       delivered unrouted deadlettered shed duplicates snapshots_saved
--       snapshots_rejected_oom regex_limit_hits targets_refused
--   swarm_rejected_total:<reason>              INFO swarm's swarm_rejected_<reason>
--                                              (eventtype denied payload noswarm oom
--                                              other)
--   swarm_<field>                              every other numeric field of INFO swarm
--                                              (gauges: tables routes rules snapshots
--                                              snapshot_bytes)
--   swarm_table_<counter>_total:<db>:<swarm key>   per routing table, from SWARM.STATS:
--       published delivered rejected unrouted deadlettered shed duplicates
--   swarm_table_msgids:<db>:<swarm key>            MSGIDs its de-duplication window holds
--   swarm_table_breakers_open:<db>:<swarm key>     routes whose breaker is not closed
--   swarm_scrape_tables                        tables exported by this scrape
--   swarm_scrape_truncated                     1 when MAX_TABLES or MAX_CALLS stopped the
--                                              walk before it reached every table
--   swarm_scrape_error                         1 when SWARM.STATS failed (module not loaded,
--                                              ACL denies it); INFO swarm is still exported
--
-- relabel.yml (paste it into the exporter's scrape job) turns these into
-- swarm_table_published_total{db="db0",swarm="swarm:ops"},
-- swarm_rejected_total{reason="denied"} and the like; alerts.yml has alert rules over them.
-- INFO swarm's swarm_rejected (the sum of the reasons) is not exported: sum() the reasons.
--
-- Bytes of a swarm key that are not printable ASCII, and the backslash, are written as
-- \xHH: a Prometheus label value must be valid UTF-8 or the exporter drops the sample.
--
-- Cost: the script reads at most MAX_TABLES tables per scrape (in SCAN order, which is
-- stable while the keyspace does not change much, so the same tables keep their series),
-- and asks SWARM.STATS to visit at most MAX_CALLS x PAGE keys. Edit the limits here. The
-- script never writes and never raises an error (an error would make the exporter report
-- redis_up 0 for the whole instance).

local MAX_TABLES = 1000 -- tables exported per scrape, all databases together
local PAGE = 1000       -- COUNT of each SWARM.STATS call (keys visited per call)
local MAX_CALLS = 20    -- SWARM.STATS calls per scrape

local out = {}

local function put(name, value)
    out[#out + 1] = name
    out[#out + 1] = value
end

-- tostring is exact below 1e14 (it prints 14 significant digits) and cheaper than format.
local function num(v)
    if v < 1e14 and v > -1e14 then return tostring(v) end
    return string.format("%.0f", v)
end

local UNSAFE = "[%c\\\128-\255]"
local function label(s)
    return (string.gsub(s, UNSAFE, function(ch)
        return string.format("\\x%02x", string.byte(ch))
    end))
end

-- The SWARM.STATS fields exported, and their metric names.
local NAMES = {}
for _, f in ipairs({"published", "delivered", "rejected", "unrouted", "deadlettered", "shed",
                    "duplicates"}) do
    NAMES[f] = "swarm_table_" .. f .. "_total"
end
NAMES["msgids"] = "swarm_table_msgids"
NAMES["breakers-open"] = "swarm_table_breakers_open"

-- The counters of INFO swarm (the other numeric fields are gauges).
local COUNTERS = {}
for _, f in ipairs({"published", "delivered", "unrouted", "deadlettered", "shed", "duplicates",
                    "snapshots_saved", "snapshots_rejected_oom", "regex_limit_hits",
                    "targets_refused"}) do
    COUNTERS["swarm_" .. f] = true
end

-- ---- Module-wide metrics: INFO swarm ----

local info = redis.pcall("INFO", "swarm")
if type(info) == "string" then
    for name, value in string.gmatch(info, "(swarm_[%w_]+):([^\r\n]*)") do
        if tonumber(value) then
            local reason = string.match(name, "^swarm_rejected_([%w_]+)$")
            if reason then
                put("swarm_rejected_total:" .. reason, value)
            elseif COUNTERS[name] then
                put(name .. "_total", value)
            elseif name ~= "swarm_rejected" then
                put(name, value)
            end
        end
    end
end

-- ---- Per-table counters: SWARM.STATS in every database that holds keys ----

local dbs = {}
local keyspace = redis.pcall("INFO", "keyspace")
if type(keyspace) == "string" then
    for db in string.gmatch(keyspace, "db(%d+):keys=") do dbs[#dbs + 1] = db end
end

local tables, calls, truncated, failed = 0, 0, 0, 0
local function walk()
for _, db in ipairs(dbs) do
    if tables >= MAX_TABLES or calls >= MAX_CALLS then
        truncated = 1
        break
    end
    local sel = redis.pcall("SELECT", db)
    if type(sel) == "table" and sel.err then
        failed = 1
        break
    end
    local cursor = "0"
    repeat
        if tables >= MAX_TABLES or calls >= MAX_CALLS then
            truncated = 1
            break
        end
        local count = math.min(PAGE, math.max(1, MAX_TABLES - tables))
        local r = redis.pcall("SWARM.STATS", cursor, "COUNT", tostring(count))
        calls = calls + 1
        if type(r) ~= "table" or r.err or type(r[2]) ~= "table" then
            failed = 1
            break
        end
        cursor = r[1]
        for _, entry in ipairs(r[2]) do
            if tables >= MAX_TABLES then
                truncated = 1
                break
            end
            local key = entry[1]
            if string.find(key, UNSAFE) then key = label(key) end
            key = ":" .. db .. ":" .. key
            local fields = entry[2]
            for i = 1, #fields - 1, 2 do
                local f, v = fields[i], fields[i + 1]
                local name = NAMES[type(f) == "table" and f.ok or f] -- names are status replies
                if name and type(v) == "number" then put(name .. key, num(v)) end
            end
            tables = tables + 1
        end
    until cursor == "0"
    if failed == 1 then break end
end
end
-- A reply of a shape this script does not expect (another module version) is an error of
-- this scrape's swarm_table_* part, not of the whole exporter.
if not pcall(walk) then failed = 1 end

put("swarm_scrape_tables", num(tables))
put("swarm_scrape_truncated", num(truncated))
put("swarm_scrape_error", num(failed))
return out
