#!/usr/bin/env bash
# bench/profile.sh -- where a swarm command spends its instructions, counted by callgrind.
#
#   bench/profile.sh [publish|match|snapshot]       (default: publish)
#
# Runs redis-server with swarm.so under valgrind --tool=callgrind on a free loopback port
# (stopped by pid at exit), warms up, zeroes the counters, drives REQUESTS requests with
# redis-benchmark (-c 50 -P 16) and dumps the profile; then does the same for the built-in
# baseline. Instruction counts do not depend on the neighbours' load, which makes them the
# steadiest number this shared machine can give.
#   publish  the targets of SWARM.PUBLISH v2 in one run: instructions per request of PUBLISH,
#            XADD (the entry SWARM.PUBLISH writes, MAXLEN ~ 100000) and SWARM.PUBLISH to a
#            channel route, a stream route and both (no subscriber; breaker threshold raised
#            so every message is published); the same for PUBLISH, XADD and channel + stream
#            with one replica attached (master and replica both under callgrind, and the
#            replication stream's bytes per request); the heaviest functions inside
#            SWARM.PUBLISH; then, without valgrind, redis-benchmark -P 16 throughput of
#            PUBLISH, XADD, SWARM.PUBLISH channel + stream and the Lua equivalent
#            (bench/publish.lua), and used_memory over 1,000,000 publishes; channel + stream
#            and channel only again with a new MSGID per request. Ends with the
#            ratios against the issue's targets (about 5 minutes)
#   match    SWARM.ROUTE MATCH of a new type on every call (svc0.get.__rand_int__) against
#            a table of 1 and of 10,000 subject routes
#   snapshot SWARM.SNAPSHOT SAVE, PATCH (one field), GET, GET PATH and DIFF on
#            bench/gen_state.py's 88 KB document against SET and GET of the same bytes and
#            the Lua save (bench/snapshot_save.lua); -c 4 -P 1, 50 requests of warm-up,
#            PROFILE_N defaulting to 200
# Prints markdown: instructions per request (whole server) and the heaviest functions under
# the module command, inclusive, per request. Environment: SWARM_SO (default
# build/swarm.so, built with scripts/build.sh when missing), PROFILE_N (default 20000),
# PROFILE_KEEP=1 keeps the callgrind files.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/bench
mode=${1:-publish}
case $mode in
publish | match | snapshot) ;;
*)
    echo "usage: bench/profile.sh [publish|match|snapshot]" >&2
    exit 2
    ;;
esac
REQ=${PROFILE_N:-20000}
# Load shape: warm-up requests, clients, pipeline.
WARM=2000 WARM_TXT=2,000 PC=50 PP=16
if [[ $mode == snapshot ]]; then
    REQ=${PROFILE_N:-200}
    WARM=50 WARM_TXT=50 PC=4 PP=1
fi
PAYLOAD='{"agent":"coder-1","task":"t-42","status":"done","confidence":0.88,"files":["a.c","b.c"]}'
so=${SWARM_SO:-${SWARM_BUILD_DIR:-$root/build}/swarm.so}
if [[ ! -f $so ]]; then
    [[ -n ${SWARM_SO:-} ]] && {
        echo "SWARM_SO=$so does not exist" >&2
        exit 1
    }
    "$root/scripts/build.sh" -DSWARM_TESTS=OFF >&2
fi
for tool in valgrind callgrind_control callgrind_annotate redis-server redis-benchmark; do
    command -v "$tool" >/dev/null || {
        echo "profile: $tool not found" >&2
        exit 1
    }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/swarm-profile.XXXXXX")
server_pid=
cleanup() {
    stop_replica
    stop_server
    if [[ ${PROFILE_KEEP:-0} == 1 ]]; then
        echo "profile: callgrind files kept in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }

# start_server [VALGRIND-OPTION...]: a fresh server under callgrind (the previous one stopped).
start_server() {
    stop_server
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$@" \
        redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" \
        --logfile "$work/redis.log" --daemonize no --loadmodule "$so" >"$work/valgrind.log" 2>&1 &
    server_pid=$!
    nprof=0
    for _ in $(seq 100); do
        cli PING 2>/dev/null | grep -q PONG && return 0
        sleep 0.2
    done
    cat "$work/valgrind.log" >&2
    exit 1
}

stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}

# profile LABEL REDIS-BENCHMARK-ARGS... -> sets FILE to the dumped profile
nprof=0
profile() {
    local label=$1
    shift
    redis-benchmark -h 127.0.0.1 -p "$port" -n "$WARM" -c "$PC" -P "$PP" -q "$@" >/dev/null 2>&1
    callgrind_control -z "$server_pid" >/dev/null 2>&1
    redis-benchmark -h 127.0.0.1 -p "$port" -n "$REQ" -c "$PC" -P "$PP" -q "$@" >/dev/null 2>&1
    callgrind_control -d "$label" "$server_pid" >/dev/null 2>&1
    nprof=$((nprof + 1))
    FILE=$work/cg.$server_pid.$nprof
    [[ -s $FILE ]] || {
        echo "profile: no dump for $label" >&2
        exit 1
    }
}

# "Ir function object" per line, inclusive, heaviest first (functions of a known object).
inclusive() {
    callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$1" 2>/dev/null |
        awk '/ \[[^]]*\]$/ && match($0, /^ *[0-9,]+ \( *[0-9.]+%\)  /) {
            ir = $1; gsub(/,/, "", ir)
            rest = substr($0, RLENGTH + 1)
            ob = rest; sub(/^.* \[/, "", ob); sub(/\]$/, "", ob); sub(/^.*\//, "", ob)
            if (ob == "redis-check-rdb") ob = "redis-server"
            fn = rest; sub(/ \[[^]]*\]$/, "", fn); sub(/^[^:]*:/, "", fn)
            gsub(/ /, "_", fn)
            print ir, fn, ob }'
}

# Instructions of the whole profile (its heaviest, outermost entry).
total() { inclusive "$1" | awk 'NR == 1 { print $1 }'; }

# Inclusive Ir of one function (0 when absent).
cost() { inclusive "$1" | awk -v fn="$2" '$2 == fn && !f { print $1; f = 1 } END { if (!f) print 0 }'; }

# top FILE ROOTFN N: the N heaviest functions of a profile collected only inside ROOTFN
# (valgrind --toggle-collect), inclusive, per request.
top() {
    local file=$1 rootfn=$2 n=$3
    out "| function | object | Ir per request (inclusive) | share of $rootfn |"
    out "|---|---|---:|---:|"
    inclusive "$file" | awk -v root="$rootfn" -v req="$REQ" -v n="$n" '
        $2 == root { r = $1 }
        r && ($1 < r || $2 == root) && k < n && $2 !~ /^0x/ && !seen[$2]++ {
            printf "| %s | %s | %.0f | %.0f %% |\n", $2, $3, $1 / req, $1 * 100 / r; k++ }'
}

out() { echo "$*"; }
per() { awk -v a="$1" -v r="$REQ" 'BEGIN { printf "%.0f", a / r }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Two passes: the first collects everything (instructions per request, whole server and
# inside the command), the second only inside the module command (--toggle-collect), so the
# function list is exactly the command's own call tree, RM_Call'ed commands included.
CMDFN=RedisModuleCommandDispatcher
setup_publish() {
    cli CONFIG SET swarm.breaker-threshold 1000000 >/dev/null
    cli SWARM.ROUTE ADD swarm:ch 'task.>' channel:chan >/dev/null
    cli SWARM.ROUTE ADD swarm:st 'task.>' stream:swarm:st:inbox >/dev/null
    cli SWARM.ROUTE ADD swarm:cs 'task.>' channel:chan >/dev/null
    cli SWARM.ROUTE ADD swarm:cs 'task.>' stream:swarm:cs:inbox >/dev/null
}
setup_match() {
    python3 "$bench/gen_routes.py" subject bench:r1 1 | cli --pipe >/dev/null
    python3 "$bench/gen_routes.py" subject bench:r10k 10000 | cli --pipe >/dev/null
}


# start_pair: a master and a replica, both under callgrind (the replica synced).
replica_pid= rport=
start_pair() {
    start_server
    rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    mkdir -p "$work/replica"
    valgrind --tool=callgrind --callgrind-out-file="$work/replica/cg.%p" \
        redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no \
        --dir "$work/replica" --logfile "$work/replica/redis.log" --daemonize no \
        --loadmodule "$so" --replicaof 127.0.0.1 "$port" >"$work/replica/valgrind.log" 2>&1 &
    replica_pid=$!
    nrprof=0
    for _ in $(seq 300); do
        redis-cli -h 127.0.0.1 -p "$rport" INFO replication 2>/dev/null |
            grep -q '^master_link_status:up' && return 0
        sleep 0.2
    done
    echo "profile: the replica did not sync" >&2
    exit 1
}

stop_replica() {
    if [[ -n $replica_pid ]]; then
        kill "$replica_pid" 2>/dev/null || true
        wait "$replica_pid" 2>/dev/null || true
        replica_pid=
    fi
}

offset() { redis-cli -h 127.0.0.1 -p "$1" INFO replication | tr -d '\r' | sed -n 's/^master_repl_offset:\([0-9]*\)$/\1/p'; }

# profile_pair LABEL ARGS...: PM, PR = whole-server Ir of master and replica during the
# load, PB = replication bytes sent.
profile_pair() {
    local label=$1
    shift
    redis-benchmark -h 127.0.0.1 -p "$port" -n "$WARM" -c "$PC" -P "$PP" -q "$@" >/dev/null 2>&1
    local o
    o=$(offset "$port")
    until (($(offset "$rport") >= o)); do sleep 0.2; done
    callgrind_control -z "$server_pid" >/dev/null 2>&1
    callgrind_control -z "$replica_pid" >/dev/null 2>&1
    redis-benchmark -h 127.0.0.1 -p "$port" -n "$REQ" -c "$PC" -P "$PP" -q "$@" >/dev/null 2>&1
    callgrind_control -d "$label" "$server_pid" >/dev/null 2>&1
    PB=$(($(offset "$port") - o))
    o=$(offset "$port")
    until (($(offset "$rport") >= o)); do sleep 0.2; done
    callgrind_control -d "$label" "$replica_pid" >/dev/null 2>&1
    nprof=$((nprof + 1)) nrprof=$((nrprof + 1))
    PM=$(total "$work/cg.$server_pid.$nprof")
    PR=$(total "$work/replica/cg.$replica_pid.$nrprof")
}

# start_plain: a server without valgrind, for throughput and memory.
start_plain() {
    stop_server
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" \
        --logfile "$work/redis.log" --daemonize no --loadmodule "$so" >/dev/null 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        cli PING 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    exit 1
}

THR_N=${PROFILE_THR_N:-200000}
rps_of() {
    redis-benchmark -h 127.0.0.1 -p "$port" -n "$THR_N" -c "$PC" -P 16 --csv "$@" 2>/dev/null |
        tail -1 | awk -F'","' '{ print $(NF - 6) }'
}
used_memory() {
    sleep 0.3
    cli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p'
}
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "met" : "**missed**" }'
}

out "## callgrind: $mode, $(date -u '+%Y-%m-%d %H:%M UTC')"
out ""
out "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') under valgrind $(valgrind --version | sed 's/valgrind-//'),"
out "$REQ requests after $WARM_TXT of warm-up, -c $PC -P $PP. Ir = instructions executed."
out ""

if [[ $mode == publish ]]; then
    ms=$(date +%s%3N)
    env="{\"id\":\"$ms-0\",\"swarm\":\"swarm:ch\",\"type\":\"task.completed\",\"priority\":5,\"ts\":$ms,\"payload\":$PAYLOAD}"
    swp=(SWARM.PUBLISH swarm:ch task.completed "$PAYLOAD")
    sws=(SWARM.PUBLISH swarm:st task.completed "$PAYLOAD")
    swc=(SWARM.PUBLISH swarm:cs task.completed "$PAYLOAD")
    pub=(PUBLISH chan "$env")
    # The entry SWARM.PUBLISH appends, as a client would XADD it.
    xadd=(XADD bench:xadd MAXLEN '~' 100000 '*' id "$ms-0" swarm swarm:cs type task.completed
        priority 5 ts "$ms" payload "$PAYLOAD")
    # Whole-server instructions per request, no replica.
    start_server
    setup_publish
    profile publish "${pub[@]}"
    tp=$(total "$FILE")
    profile xadd "${xadd[@]}"
    tx=$(total "$FILE")
    profile swp "${swp[@]}"
    tsp=$(total "$FILE")
    profile sws "${sws[@]}"
    tss=$(total "$FILE")
    profile swc "${swc[@]}"
    tsc=$(total "$FILE")
    # The same publishes with a MSGID, a new one per request (the window fills as it would).
    profile swcm -r 1000000000 "${swc[@]}" MSGID m-__rand_int__
    tscm=$(total "$FILE")
    profile swpm -r 1000000000 "${swp[@]}" MSGID m-__rand_int__
    tspm=$(total "$FILE")
    stop_server
    # With one replica attached, both under callgrind: the master's and the replica's
    # instructions per request, and the replication stream's bytes per request.
    start_pair
    setup_publish
    profile_pair pub "${pub[@]}"
    rmp=$PM rrp=$PR rbp=$PB
    profile_pair xadd "${xadd[@]}"
    rmx=$PM rrx=$PR rbx=$PB
    profile_pair swc "${swc[@]}"
    rmc=$PM rrc=$PR rbc=$PB
    profile_pair swp "${swp[@]}"
    rmp1=$PM rrp1=$PR rbp1=$PB
    profile_pair sws "${sws[@]}"
    rms1=$PM rrs1=$PR rbs1=$PB
    stop_replica
    # Only inside the module command, for the list of heaviest functions.
    start_server --toggle-collect=$CMDFN
    setup_publish
    profile swc "${swc[@]}"
    fs=$FILE
    profile swp "${swp[@]}"
    fsp=$FILE
    stop_server
    # Throughput at pipeline 16 and memory, without valgrind.
    start_plain
    setup_publish
    sha=$(cli SCRIPT LOAD "$(cat "$bench/publish.lua")")
    lua=(EVALSHA "$sha" 2 swarm:lua bench:lua chan task.completed "$PAYLOAD")
    declare -A rps
    for _ in 1 2 3; do
        for c in pub xadd swc lua; do
            declare -n arr=$c
            r=$(rps_of "${arr[@]}")
            unset -n arr
            awk -v a="$r" -v b="${rps[$c]:-0}" 'BEGIN { exit !(a > b) }' && rps[$c]=$r
        done
    done
    pair=$(awk -v p="${rps[pub]}" -v x="${rps[xadd]}" 'BEGIN { printf "%.0f", 1 / (1 / p + 1 / x) }')
    # Memory, the target: one channel route after FLUSHALL (the module's own footprint, not
    # the streams above), 10,000 then 990,000 more publishes.
    cli FLUSHALL SYNC >/dev/null
    cli SWARM.ROUTE ADD swarm:mem 'task.>' channel:memchan >/dev/null
    mem=(SWARM.PUBLISH swarm:mem task.completed "$PAYLOAD")
    load() { redis-benchmark -h 127.0.0.1 -p "$port" -n "$1" -c "$PC" -P 16 -q "${@:2}" >/dev/null 2>&1; }
    # A command's first call allocates its latency histogram (about 25 KB): call INFO once
    # before the first sample, or that is counted as growth.
    cli INFO memory >/dev/null
    load 10000 "${mem[@]}"
    m1=$(used_memory)
    load 990000 "${mem[@]}"
    m2=$(used_memory)
    npub=$(cli SWARM.ROUTE STATS swarm:mem | sed -n '/^published$/{n;p}')
    mpct=$(awk -v a="$m1" -v b="$m2" 'BEGIN { printf "%.3f", (b - a) * 100 / a }')
    # The same with a stream target capped at 1,000 entries, next to XADD doing the same
    # (an approximately trimmed stream's allocations settle after its first trims).
    cli FLUSHALL SYNC >/dev/null
    cli CONFIG SET swarm.stream-maxlen 1000 >/dev/null
    cli SWARM.ROUTE ADD swarm:mem 'task.>' channel:memchan >/dev/null
    cli SWARM.ROUTE ADD swarm:mem 'task.>' stream:swarm:mem:inbox >/dev/null
    load 10000 "${mem[@]}"
    s1=$(used_memory)
    load 990000 "${mem[@]}"
    s2=$(used_memory)
    cli FLUSHALL SYNC >/dev/null
    xcap=(XADD bench:cap MAXLEN '~' 1000 '*' id "$ms-0" swarm swarm:cs type task.completed
        priority 5 ts "$ms" payload "$PAYLOAD")
    load 10000 "${xcap[@]}"
    x1=$(used_memory)
    load 990000 "${xcap[@]}"
    x2=$(used_memory)
    stop_server

    out "The 89-byte seed payload, type \`task.completed\`; swarm.breaker-threshold raised so"
    out "a channel without subscribers keeps being published to. XADD writes the entry"
    out "SWARM.PUBLISH writes (6 fields: id swarm type priority ts payload)."
    out ""
    out "| request | Ir per request, no replica | master, 1 replica | replica | replication bytes |"
    out "|---|---:|---:|---:|---:|"
    out "| \`PUBLISH chan <${#env} bytes>\`, no subscriber | $(per "$tp") | $(per "$rmp") | $(per "$rrp") | $(per "$rbp") |"
    out "| \`XADD key MAXLEN ~ 100000 * <6 fields>\` | $(per "$tx") | $(per "$rmx") | $(per "$rrx") | $(per "$rbx") |"
    out "| PUBLISH + XADD | $(per $((tp + tx))) | $(per $((rmp + rmx))) | $(per $((rrp + rrx))) | $(per $((rbp + rbx))) |"
    out "| \`SWARM.PUBLISH\`, 1 channel route | $(per "$tsp") | $(per "$rmp1") | $(per "$rrp1") | $(per "$rbp1") |"
    out "| \`SWARM.PUBLISH\`, 1 stream route | $(per "$tss") | $(per "$rms1") | $(per "$rrs1") | $(per "$rbs1") |"
    out "| \`SWARM.PUBLISH\`, channel + stream routes | $(per "$tsc") | $(per "$rmc") | $(per "$rrc") | $(per "$rbc") |"
    out ""
    out "Throughput, redis-benchmark -c $PC -P 16 -n $THR_N, best of 3 interleaved runs, no"
    out "valgrind; PUBLISH + XADD pairs/s = 1 / (1/PUBLISH/s + 1/XADD/s); the Lua equivalent is"
    out "bench/publish.lua with a stream key. Memory: used_memory after FLUSHALL and 10,000, then"
    out "after $npub SWARM.PUBLISH to a table with one channel route; then the same with a"
    out "stream route too (swarm.stream-maxlen 1000), next to XADD MAXLEN ~ 1000 of the entry."
    out ""
    out "| measure | value |"
    out "|---|---:|"
    out "| PUBLISH/s | ${rps[pub]} |"
    out "| XADD/s | ${rps[xadd]} |"
    out "| PUBLISH + XADD pairs/s | $pair |"
    out "| SWARM.PUBLISH channel + stream/s | ${rps[swc]} |"
    out "| Lua equivalent/s | ${rps[lua]} |"
    out "| used_memory after 10,000 / 1,000,000, channel route | $m1 / $m2 ($mpct %) |"
    out "| same, channel + stream route (stream capped at 1,000) | $s1 / $s2 ($(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.3f", (b - a) * 100 / a }') %) |"
    out "| built-in: XADD MAXLEN ~ 1000, same entry | $x1 / $x2 ($(awk -v a="$x1" -v b="$x2" 'BEGIN { printf "%.3f", (b - a) * 100 / a }') %) |"
    out ""
    out "| target | value | limit | |"
    out "|---|---:|---:|---|"
    row() { out "| $1 | $2 | $3 $4 | $(verdict "$2" "$3" "$4") |"; }
    row "channel + stream / (PUBLISH + XADD), Ir" "$(ratio "$tsc" $((tp + tx)))" "<=" 1.10
    row "same, 1 replica, master" "$(ratio "$rmc" $((rmp + rmx)))" "<=" 1.00
    row "same, 1 replica, replica" "$(ratio "$rrc" $((rrp + rrx)))" "<=" 1.00
    row "stream only / XADD, Ir" "$(ratio "$tss" "$tx")" "<=" 1.20
    row "channel only / PUBLISH, Ir" "$(ratio "$tsp" "$tp")" "<=" 3.0
    row "channel + stream, MSGID / without, Ir" "$(ratio "$tscm" "$tsc")" "<=" 1.10
    row "channel only, MSGID / without, Ir" "$(ratio "$tspm" "$tsp")" "<=" 1.10
    out "| stream only / XADD, 1 replica, master (no target set) | $(ratio "$rms1" "$rmx") | | |"
    out "| channel only / PUBLISH, 1 replica, master (no target set) | $(ratio "$rmp1" "$rmp") | | |"
    row "replication bytes / (PUBLISH + XADD)" "$(ratio "$rbc" $((rbp + rbx)))" "<=" 1.00
    row "throughput P16 / PUBLISH + XADD pairs" "$(ratio "${rps[swc]}" "$pair")" ">=" 1.2
    row "throughput P16 / Lua equivalent" "$(ratio "${rps[swc]}" "${rps[lua]}")" ">=" 5
    row "memory growth, 1,000,000 vs 10,000 publishes, channel route (%)" "${mpct#-}" "<=" 1
    out ""
    out "Heaviest functions inside SWARM.PUBLISH, channel + stream (its call tree only):"
    out ""
    top "$fs" $CMDFN 40
    out ""
    out "Heaviest functions inside SWARM.PUBLISH, channel only (its call tree only):"
    out ""
    top "$fsp" $CMDFN 30
elif [[ $mode == snapshot ]]; then
    doc=$(python3 "$bench/gen_state.py")
    patch='{"tasks":{"t-42":{"status":"done"}}}'
    setup_snapshot() {
        cli SWARM.SNAPSHOT SAVE bench:snap:ro "$doc" >/dev/null
        cli SWARM.SNAPSHOT PATCH bench:snap:ro "$patch" >/dev/null
        cli SWARM.SNAPSHOT SAVE bench:snap:patch "$doc" >/dev/null
        cli SET bench:snap:str "$doc" >/dev/null
        sha=$(cli SCRIPT LOAD "$(cat "$bench/snapshot_save.lua")")
    }
    set_=(SET bench:snap:set "$doc")
    save=(SWARM.SNAPSHOT SAVE bench:snap:save "$doc")
    spatch=(SWARM.SNAPSHOT PATCH bench:snap:patch "$patch")
    get=(GET bench:snap:str)
    sget=(SWARM.SNAPSHOT GET bench:snap:ro)
    path=(SWARM.SNAPSHOT GET bench:snap:ro PATH /tasks/t-42/status)
    diff=(SWARM.SNAPSHOT DIFF bench:snap:ro 1 2)
    start_server
    setup_snapshot
    lua=(EVALSHA "$sha" 1 bench:snap:lua "$doc")
    profile set "${set_[@]}"
    tset=$(total "$FILE") cset=$(cost "$FILE" setCommand)
    profile lua "${lua[@]}"
    tlua=$(total "$FILE") clua=$(cost "$FILE" evalShaCommand)
    profile save "${save[@]}"
    tsave=$(total "$FILE") csave=$(cost "$FILE" $CMDFN)
    profile patch "${spatch[@]}"
    tpatch=$(total "$FILE") cpatch=$(cost "$FILE" $CMDFN)
    profile get "${get[@]}"
    tget=$(total "$FILE") cget=$(cost "$FILE" getCommand)
    profile sget "${sget[@]}"
    tsget=$(total "$FILE") csget=$(cost "$FILE" $CMDFN)
    profile path "${path[@]}"
    tpath=$(total "$FILE") cpath=$(cost "$FILE" $CMDFN)
    profile diff "${diff[@]}"
    tdiff=$(total "$FILE") cdiff=$(cost "$FILE" $CMDFN)
    start_server --toggle-collect=$CMDFN
    setup_snapshot
    profile save "${save[@]}"
    fsave=$FILE
    profile patch "${spatch[@]}"
    fpatch=$FILE
    profile path "${path[@]}"
    fpath=$FILE
    profile diff "${diff[@]}"
    fdiff=$FILE
    out "The document: bench/gen_state.py, ${#doc} bytes; the patch \`$patch\`."
    out ""
    out "In the command: the module dispatcher (RedisModuleCommandDispatcher) for SWARM.SNAPSHOT."
    out ""
    out "| command | Ir per request, whole server | Ir per request, in the command |"
    out "|---|---:|---:|"
    out "| \`SET key <doc>\` | $(per "$tset") | $(per "$cset") (setCommand) |"
    out "| \`EVALSHA\` Lua: cjson.decode + SET | $(per "$tlua") | $(per "$clua") (evalShaCommand) |"
    out "| \`SWARM.SNAPSHOT SAVE key <doc>\` | $(per "$tsave") | $(per "$csave") |"
    out "| \`SWARM.SNAPSHOT PATCH key <patch>\` | $(per "$tpatch") | $(per "$cpatch") |"
    out "| \`GET key\` (string of the same bytes) | $(per "$tget") | $(per "$cget") (getCommand) |"
    out "| \`SWARM.SNAPSHOT GET key\` | $(per "$tsget") | $(per "$csget") |"
    out "| \`SWARM.SNAPSHOT GET key PATH /tasks/t-42/status\` | $(per "$tpath") | $(per "$cpath") |"
    out "| \`SWARM.SNAPSHOT DIFF key 1 2\` | $(per "$tdiff") | $(per "$cdiff") |"
    out ""
    for f in "SAVE:$fsave" "PATCH:$fpatch" "GET PATH:$fpath" "DIFF:$fdiff"; do
        out "Heaviest functions inside SWARM.SNAPSHOT ${f%%:*} (its call tree only):"
        out ""
        top "${f#*:}" $CMDFN 12
        out ""
    done
else
    r1=(-r 1000000 SWARM.ROUTE MATCH bench:r1 svc0.get.__rand_int__)
    r10k=(-r 1000000 SWARM.ROUTE MATCH bench:r10k svc0.get.__rand_int__)
    start_server
    setup_match
    profile r1 "${r1[@]}"
    t1=$(total "$FILE") c1=$(cost "$FILE" $CMDFN)
    profile r10k "${r10k[@]}"
    t2=$(total "$FILE") c2=$(cost "$FILE" $CMDFN)
    start_server --toggle-collect=$CMDFN
    setup_match
    profile r10k "${r10k[@]}"
    f2=$FILE
    out "MATCH of a new type on every call (\`svc0.get.__rand_int__\`, -r 1000000):"
    out ""
    out "| table | Ir per MATCH, whole server | Ir per MATCH, in the command |"
    out "|---|---:|---:|"
    out "| 1 subject route | $(per "$t1") | $(per "$c1") |"
    out "| 10,000 subject routes | $(per "$t2") | $(per "$c2") |"
    out "| ratio | $(ratio "$t2" "$t1") | $(ratio "$c2" "$c1") |"
    out ""
    out "Heaviest functions inside SWARM.ROUTE MATCH, 10,000 routes (its call tree only):"
    out ""
    top "$f2" $CMDFN 15
fi
