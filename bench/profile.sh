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
#   publish  SWARM.PUBLISH to one channel route without subscriber (breaker threshold
#            raised so every message is published) against PUBLISH of an envelope-sized
#            message
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
}
setup_match() {
    python3 "$bench/gen_routes.py" subject bench:r1 1 | cli --pipe >/dev/null
    python3 "$bench/gen_routes.py" subject bench:r10k 10000 | cli --pipe >/dev/null
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
    pub=(PUBLISH chan "$env")
    start_server
    setup_publish
    profile swarm "${swp[@]}"
    ts=$(total "$FILE") cs=$(cost "$FILE" $CMDFN)
    profile publish "${pub[@]}"
    tp=$(total "$FILE") cp=$(cost "$FILE" publishCommand)
    start_server --toggle-collect=$CMDFN
    setup_publish
    profile swarm "${swp[@]}"
    fs=$FILE
    out "| command | Ir per request, whole server | Ir per request, in the command |"
    out "|---|---:|---:|"
    out "| \`PUBLISH chan <${#env} bytes>\`, no subscriber | $(per "$tp") | $(per "$cp") (publishCommand) |"
    out "| \`SWARM.PUBLISH\` -> channel route, no subscriber | $(per "$ts") | $(per "$cs") ($CMDFN) |"
    out "| ratio | $(ratio "$ts" "$tp") | $(ratio "$cs" "$cp") |"
    out ""
    out "Heaviest functions inside SWARM.PUBLISH (its call tree only):"
    out ""
    top "$fs" $CMDFN 40
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
