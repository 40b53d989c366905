#!/usr/bin/env bash
# bench/run.sh -- swarm's benchmarks, printed as markdown tables.
#
#   bench/run.sh [route|publish|snapshot|all]      (default: all)
#
# Starts its own redis-server (--save "" --appendonly no) on a free loopback port with
# swarm.so loaded, and stops it (by pid) when it exits, however it exits. The machine these
# numbers come from is small and shared, so every figure is paired with a Redis built-in
# measured in the same run, and the ratios are what to compare across runs:
#   - server time: usec_per_call from INFO commandstats (CONFIG RESETSTAT before each load);
#   - throughput: requests/s from redis-benchmark --csv.
#
# Environment:
#   SWARM_SO        module to load (default $SWARM_BUILD_DIR/swarm.so, SWARM_BUILD_DIR
#                   defaulting to build/; built with scripts/build.sh when missing)
#   BENCH_N         requests per load (default 200000; half of it for publish at P1)
#   BENCH_FANOUT_N  requests per fan-out load (default 50000)
#   BENCH_REPEAT    interleaved repetitions of each group, best kept (default 2)
#   BENCH_CLIENTS   redis-benchmark clients (default 50)
#   BENCH_OUT       also write the tables here (default bench/out/last-run.md)
# Needs redis-server, redis-cli, redis-benchmark (7.0), python3 and a C compiler (for the
# fan-out helper bench/subscribers.c).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/bench
phase=${1:-all}
case $phase in
route | publish | snapshot | all) ;;
-h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
*)
    echo "usage: bench/run.sh [route|publish|snapshot|all]" >&2
    exit 2
    ;;
esac

N=${BENCH_N:-200000}
C=${BENCH_CLIENTS:-50}
FANOUT_N=${BENCH_FANOUT_N:-50000}
REPEAT=${BENCH_REPEAT:-2}
OUT=${BENCH_OUT:-$bench/out/last-run.md}
PAYLOAD='{"agent":"coder-1","task":"t-42","status":"done","confidence":0.88,"files":["a.c","b.c"]}'
TYPE=task.completed

log() { echo "bench: $*" >&2; }
die() {
    log "$*"
    if [[ -n ${server_pid:-} ]] && ! kill -0 "$server_pid" 2>/dev/null; then
        log "redis-server (pid $server_pid) is gone; the end of its log:"
        tail -40 "$work/redis.log" >&2 || true
        server_pid=
    fi
    exit 1
}

for tool in redis-server redis-cli redis-benchmark python3; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

so=${SWARM_SO:-${SWARM_BUILD_DIR:-$root/build}/swarm.so}
if [[ ! -f $so ]]; then
    [[ -n ${SWARM_SO:-} ]] && die "SWARM_SO=$so does not exist"
    log "building $so with scripts/build.sh"
    "$root/scripts/build.sh" -DSWARM_TESTS=OFF >&2
fi

# ---- Server lifecycle ----

work=$(mktemp -d "${TMPDIR:-/tmp}/swarm-bench.XXXXXX")
port=
server_pid=
helper_pids=()

cleanup() {
    local pid
    for pid in "${helper_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }

start_server() {
    # The port is free when we ask, not necessarily when redis binds it: retry on a race.
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
            --dir "$work" --logfile "$work/redis.log" --daemonize no \
            --loadmodule "$so" >/dev/null 2>&1 &
        server_pid=$!
        local i
        for i in $(seq 50); do
            if cli PING 2>/dev/null | grep -q PONG; then
                log "redis-server pid $server_pid on 127.0.0.1:$port with $so"
                return 0
            fi
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    done
    tail -20 "$work/redis.log" >&2 || true
    die "could not start redis-server"
}

# Stops a helper process started by this script, by pid.
stop_helper() {
    local pid=$1 keep=() p
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${helper_pids[@]}"; do
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    helper_pids=("${keep[@]}")
}

wait_numsub() {
    local chan=$1 want=$2 i
    for i in $(seq 100); do
        [[ $(cli PUBSUB NUMSUB "$chan" | sed -n 2p) == "$want" ]] && return 0
        sleep 0.1
    done
    die "channel $chan has $(cli PUBSUB NUMSUB "$chan" | sed -n 2p) subscribers, expected $want"
}

# ---- Measurement ----

# One field of one INFO commandstats entry, e.g. stat swarm.route\|match usec_per_call.
stat() {
    cli INFO commandstats | tr -d '\r' |
        awk -F'[:,=]' -v n="cmdstat_$1" -v f="$2" \
            '$1 == n { for (i = 2; i < NF; i += 2) if ($i == f) print $(i + 1) }'
}

# measure STATNAME REQUESTS PIPELINE [redis-benchmark options --] COMMAND...
# Sets RPS (requests/s, from redis-benchmark) and USEC (server usec_per_call of STATNAME).
# Dies if the command failed or was rejected: a benchmark of an error reply is worthless.
measure() {
    local name=$1 n=$2 p=$3
    shift 3
    local opts=()
    if [[ ${1:-} == -r ]]; then
        opts=(-r "$2")
        shift 2
    fi
    USEC='' RPS=''
    cli CONFIG RESETSTAT >/dev/null
    RPS=$(redis-benchmark -h 127.0.0.1 -p "$port" -n "$n" -c "$C" -P "$p" "${opts[@]}" --csv \
        "$@" 2>/dev/null | tail -1 | awk -F'","' '{ print $(NF - 6) }')
    local calls failed rejected usec
    calls=$(stat "$name" calls)
    usec=$(stat "$name" usec)
    # usec_per_call is printed with 2 decimals; usec / calls keeps the third.
    [[ -n $calls && -n $usec ]] && USEC=$(awk -v u="$usec" -v c="$calls" 'BEGIN { printf "%.3f", u / c }')
    failed=$(stat "$name" failed_calls)
    rejected=$(stat "$name" rejected_calls)
    [[ -n $USEC && -n $RPS ]] || die "no stats for $name after: $*"
    if [[ ${failed:-0} != 0 || ${rejected:-0} != 0 ]]; then
        die "$name: $failed failed and $rejected rejected of $calls calls for: $*"
    fi
    ((calls >= n)) || die "$name: only $calls calls of $n for: $*"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

# verdict VALUE OP LIMIT -> "met" or "**missed**"
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == "<=") ? (v <= l) : (v >= l)
        print ok ? "met" : "**missed**" }'
}

# 123456.7 -> 123,457
fmt_rps() {
    awk -v r="$1" 'BEGIN {
        s = sprintf("%.0f", r); o = ""
        while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
        print s o }'
}

out() { echo "$*"; }

# ---- Groups of measurements ----

# A group is a list of commands measured under the same conditions; the first one is the
# built-in baseline. Each repetition measures every command of the group once, in order,
# so a burst of noise from the neighbours hits one repetition of each rather than all of one
# command; each command keeps its best repetition (highest requests/s, lowest usec).
#
#   run_group REQUESTS PIPELINE SPEC...
#   SPEC = "label;subscribers;statname;array", array naming a bash array with the command
#   line (and optionally "-r N" in front of it).
# Prints one markdown row per command and leaves the results in G_RPS[i] / G_USEC[i].
G_RPS=()
G_USEC=()
run_group() {
    local n=$1 p=$2
    shift 2
    local specs=("$@") i rep label subs name arr
    G_RPS=()
    G_USEC=()
    for ((rep = 0; rep < REPEAT; rep++)); do
        for i in "${!specs[@]}"; do
            IFS=';' read -r label subs name arr <<<"${specs[$i]}"
            local -n cmdref=$arr
            measure "$name" "$n" "$p" "${cmdref[@]}"
            unset -n cmdref
            if [[ -z ${G_RPS[i]:-} ]] || awk -v a="$RPS" -v b="${G_RPS[i]}" 'BEGIN { exit !(a > b) }'; then
                G_RPS[i]=$RPS
            fi
            if [[ -z ${G_USEC[i]:-} ]] || awk -v a="$USEC" -v b="${G_USEC[i]}" 'BEGIN { exit !(a < b) }'; then
                G_USEC[i]=$USEC
            fi
        done
    done
    for i in "${!specs[@]}"; do
        IFS=';' read -r label subs name arr <<<"${specs[$i]}"
        out "| $label | $subs | $p | $(fmt_rps "${G_RPS[i]}") | ${G_USEC[i]} |" \
            "$(ratio "${G_RPS[i]}" "${G_RPS[0]}") | $(ratio "${G_USEC[i]}" "${G_USEC[0]}") |"
    done
}

# ---- Phase 1: route matching ----

# shellcheck disable=SC2034 # the command arrays are passed to run_group by name
phase_route() {
    log "route: loading tables"
    cli SET bench:small v >/dev/null
    local spec
    for spec in "subject bench:r1 1" "subject bench:r100 100" "subject bench:r10k 10000" \
        "regex bench:rx100 100"; do
        # shellcheck disable=SC2086 # spec is three words on purpose
        python3 "$bench/gen_routes.py" $spec | cli --pipe >"$work/pipe.log" 2>&1 ||
            die "loading routes ($spec) failed: $(tail -3 "$work/pipe.log")"
    done
    local k want
    for k in bench:r1:1 bench:r100:100 bench:r10k:10000 bench:rx100:100; do
        want=${k##*:}
        [[ $(cli SWARM.ROUTE STATS "${k%:*}" | sed -n '/^routes$/{n;p}') == "$want" ]] ||
            die "table ${k%:*} does not hold $want routes"
    done
    for k in bench:r1 bench:r100 bench:r10k; do
        [[ $(cli SWARM.ROUTE MATCH $k svc0.get.item) == channel:svc0.get ]] ||
            die "svc0.get.item does not match exactly channel:svc0.get in $k"
    done
    [[ $(cli SWARM.ROUTE MATCH bench:rx100 svc0.get.item) == channel:rx0 ]] ||
        die "svc0.get.item does not match exactly channel:rx0 in bench:rx100"

    local P=16 m=swarm.route\|match
    local get=(GET bench:small)
    local c_r1=(SWARM.ROUTE MATCH bench:r1 svc0.get.item)
    local c_r100=(SWARM.ROUTE MATCH bench:r100 svc0.get.item)
    local c_r10k=(SWARM.ROUTE MATCH bench:r10k svc0.get.item)
    local c_rx100=(SWARM.ROUTE MATCH bench:rx100 svc0.get.item)
    local u_r1=(-r 1000000 SWARM.ROUTE MATCH bench:r1 svc0.get.__rand_int__)
    local u_r10k=(-r 1000000 SWARM.ROUTE MATCH bench:r10k svc0.get.__rand_int__)
    local u_rx100=(-r 1000000 SWARM.ROUTE MATCH bench:rx100 svc0.get.__rand_int__)

    out "### Route matching: server time per SWARM.ROUTE MATCH"
    out ""
    out "redis-benchmark -n $N -c $C -P $P, best of $REPEAT interleaved runs; the type hits"
    out "exactly one route. *cached*: one fixed type, answered by the table's per-type"
    out "resolution cache. *uncached*: \`svc0.get.__rand_int__\` with -r 1000000, a new type"
    out "almost every call (full resolution plus a cache insert; the 1,024-entry cache is reset"
    out "when full). Ratios are against GET of a small string."
    out ""
    out "| command | table | P | requests/s | usec_per_call | rps / GET | usec / GET |"
    out "|---|---|---:|---:|---:|---:|---:|"
    run_group "$N" $P "\`GET bench:small\` (floor);-;get;get" \
        "\`MATCH svc0.get.item\` cached;1 subject route;$m;c_r1" \
        "\`MATCH svc0.get.item\` cached;100 subject routes;$m;c_r100" \
        "\`MATCH svc0.get.item\` cached;10,000 subject routes;$m;c_r10k" \
        "\`MATCH svc0.get.item\` cached;100 regex routes;$m;c_rx100"
    local c1=${G_USEC[1]} c10k=${G_USEC[3]}
    run_group "$N" $P "\`GET bench:small\` (floor);-;get;get" \
        "\`MATCH svc0.get.<random>\` uncached;1 subject route;$m;u_r1" \
        "\`MATCH svc0.get.<random>\` uncached;10,000 subject routes;$m;u_r10k" \
        "\`MATCH svc0.get.<random>\` uncached;100 regex routes;$m;u_rx100"
    local u1=${G_USEC[1]} u10k=${G_USEC[2]}
    local rc ru
    rc=$(ratio "$c10k" "$c1")
    ru=$(ratio "$u10k" "$u1")
    out ""
    out "| ratio (usec_per_call) | value | target | |"
    out "|---|---:|---:|---|"
    out "| MATCH(10,000 routes) / MATCH(1 route), cached | $rc | <= 1.5 | $(verdict "$rc" "<=" 1.5) |"
    out "| MATCH(10,000 routes) / MATCH(1 route), uncached | $ru | <= 1.5 | $(verdict "$ru" "<=" 1.5) |"
    out ""
}

# ---- Phase 2: publish ----

# shellcheck disable=SC2034 # the command arrays are passed to run_group by name
phase_publish() {
    log "publish: setting up tables, the Lua baseline and the fan-out helper"
    cc -O2 -Wall -o "$work/subscribers" "$bench/subscribers.c" || die "cannot build subscribers.c"
    local sha
    sha=$(cli SCRIPT LOAD "$(cat "$bench/publish.lua")")
    [[ $sha =~ ^[0-9a-f]{40}$ ]] || die "SCRIPT LOAD failed: $sha"
    cli SWARM.ROUTE ADD swarm:ch 'task.>' channel:chan >/dev/null
    cli SWARM.ROUTE ADD swarm:st 'task.>' stream:swarm:st:inbox >/dev/null
    cli SWARM.ROUTE ADD swarm:fan 'task.>' channel:fan >/dev/null
    cli SWARM.ROUTE ADD swarm:shed 'task.>' channel:nobody >/dev/null
    # With the default breaker (5 consecutive misses) a channel route without subscribers
    # opens and later messages skip it (shed): that would not compare PUBLISH with PUBLISH.
    # swarm:shed is opened now, with the default threshold, and kept open for the whole phase
    # by a long cooldown; then the threshold is raised so every other route is delivered to.
    cli CONFIG SET swarm.breaker-cooldown-ms 3600000 >/dev/null
    local i
    for i in 1 2 3 4 5 6; do
        cli SWARM.PUBLISH swarm:shed "$TYPE" "$PAYLOAD" >/dev/null
    done
    [[ $(cli SWARM.ROUTE LIST swarm:shed | sed -n '/^breaker$/{n;p}') == open ]] ||
        die "the breaker of swarm:shed did not open"
    cli CONFIG SET swarm.breaker-threshold 1000000 >/dev/null

    # An envelope exactly as SWARM.PUBLISH builds it, for the raw PUBLISH baseline.
    local ms env fan_env
    ms=$(date +%s%3N)
    env="{\"id\":\"$ms-0\",\"swarm\":\"swarm:ch\",\"type\":\"$TYPE\",\"priority\":5,\"ts\":$ms,\"payload\":$PAYLOAD}"
    fan_env=${env/swarm:ch/swarm:fan}
    local pub=(PUBLISH chan "$env")
    local swp=(SWARM.PUBLISH swarm:ch "$TYPE" "$PAYLOAD")
    local lua=(EVALSHA "$sha" 1 swarm:lua chan "$TYPE" "$PAYLOAD")
    local shed=(SWARM.PUBLISH swarm:shed "$TYPE" "$PAYLOAD")
    local xadd=(XADD bench:xadd MAXLEN '~' 100000 '*' id "$ms-0" type "$TYPE" priority 5 ts "$ms"
        payload "$PAYLOAD")
    local sws=(SWARM.PUBLISH swarm:st "$TYPE" "$PAYLOAD")
    local fpub=(PUBLISH fan "$fan_env")
    local fswp=(SWARM.PUBLISH swarm:fan "$TYPE" "$PAYLOAD")
    local n1=$((N / 2))

    out "### Publish: SWARM.PUBLISH against PUBLISH, XADD and a Lua script doing the same work"
    out ""
    out "$C clients; -n $N at P16, -n $n1 at P1; best of $REPEAT interleaved runs. Type"
    out "\`$TYPE\`, the 89-byte seed payload; the raw PUBLISH sends a ${#env}-byte message,"
    out "the size of SWARM.PUBLISH's envelope. Ratios are against the first row of each group"
    out "(PUBLISH with the same subscribers; XADD with the same fields for the stream route)."
    out "swarm.breaker-threshold is raised to 1000000 so a channel without subscribers keeps"
    out "being published to, except on the *breaker open* row, a route whose breaker is open"
    out "(the message skips it and is counted shed: no PUBLISH at all)."
    out ""
    out "| command | subscribers | P | requests/s | usec_per_call | rps / base | usec / base |"
    out "|---|---:|---:|---:|---:|---:|---:|"
    local p n sub_pid
    local -A pr pu
    for p in 1 16; do
        n=$N
        ((p == 1)) && n=$n1
        log "publish: pipeline $p, no subscriber"
        run_group "$n" "$p" "\`PUBLISH chan <${#env} bytes>\`;0;publish;pub" \
            "\`SWARM.PUBLISH\` -> channel route;0;swarm.publish;swp" \
            "\`EVALSHA\` Lua equivalent;0;evalsha;lua" \
            "\`SWARM.PUBLISH\` -> channel route, breaker open;0;swarm.publish;shed"
        pr[0,$p]=$(ratio "${G_RPS[1]}" "${G_RPS[0]}") pu[0,$p]=$(ratio "${G_USEC[1]}" "${G_USEC[0]}")
        pr[l0,$p]=$(ratio "${G_RPS[1]}" "${G_RPS[2]}") pu[l0,$p]=$(ratio "${G_USEC[1]}" "${G_USEC[2]}")

        log "publish: pipeline $p, one redis-cli subscriber"
        redis-cli -h 127.0.0.1 -p "$port" subscribe chan >/dev/null &
        sub_pid=$!
        helper_pids+=("$sub_pid")
        wait_numsub chan 1
        run_group "$n" "$p" "\`PUBLISH chan <${#env} bytes>\`;1;publish;pub" \
            "\`SWARM.PUBLISH\` -> channel route;1;swarm.publish;swp" \
            "\`EVALSHA\` Lua equivalent;1;evalsha;lua"
        pr[1,$p]=$(ratio "${G_RPS[1]}" "${G_RPS[0]}") pu[1,$p]=$(ratio "${G_USEC[1]}" "${G_USEC[0]}")
        stop_helper "$sub_pid"
        wait_numsub chan 0

        log "publish: pipeline $p, stream route"
        run_group "$n" "$p" "\`XADD bench:xadd MAXLEN ~ 100000 * <5 fields>\`;-;xadd;xadd" \
            "\`SWARM.PUBLISH\` -> stream route;-;swarm.publish;sws"
        pr[s,$p]=$(ratio "${G_RPS[1]}" "${G_RPS[0]}") pu[s,$p]=$(ratio "${G_USEC[1]}" "${G_USEC[0]}")
    done
    out ""

    log "publish: fan-out to 100 subscribers"
    "$work/subscribers" "$port" fan 100 2>"$work/subscribers.log" &
    sub_pid=$!
    helper_pids+=("$sub_pid")
    wait_numsub fan 100
    local recv
    recv=$(cli SWARM.PUBLISH swarm:fan "$TYPE" "$PAYLOAD" | sed -n 3p) # id, the target, receivers
    [[ $recv == 100 ]] || die "fan-out: SWARM.PUBLISH reached $recv receivers, expected 100"
    # Warm-up: the first load grows the 100 output buffers; keep that out of the comparison.
    measure publish $((FANOUT_N / 5)) 16 "${fpub[@]}"
    out "### Fan-out: one channel with 100 subscribers"
    out ""
    out "One process (bench/subscribers.c) holds the 100 connections and drains them; $C"
    out "publishing clients, -n $FANOUT_N, best of $REPEAT interleaved runs."
    out ""
    out "| command | subscribers | P | requests/s | usec_per_call | rps / base | usec / base |"
    out "|---|---:|---:|---:|---:|---:|---:|"
    for p in 1 16; do
        run_group "$FANOUT_N" "$p" "\`PUBLISH fan <${#fan_env} bytes>\`;100;publish;fpub" \
            "\`SWARM.PUBLISH\` -> channel route;100;swarm.publish;fswp"
        pr[f,$p]=$(ratio "${G_RPS[1]}" "${G_RPS[0]}") pu[f,$p]=$(ratio "${G_USEC[1]}" "${G_USEC[0]}")
    done
    [[ $(cli PUBSUB NUMSUB fan | sed -n 2p) == 100 ]] ||
        die "fan-out: subscribers were disconnected during the load (output buffer limit?)"
    stop_helper "$sub_pid"
    log "$(cat "$work/subscribers.log")"
    out ""

    log "publish: memory over 1,000,000 publishes"
    # On an emptied dataset, so that 1 % is measured against the module's own footprint and
    # not against the streams and tables of the loads above.
    cli FLUSHALL SYNC >/dev/null
    cli SWARM.ROUTE ADD swarm:mem 'task.>' channel:memchan >/dev/null
    local mem=(SWARM.PUBLISH swarm:mem "$TYPE" "$PAYLOAD")
    local m0 m1 m2 d pct published
    m0=$(cli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p')
    measure swarm.publish 10000 16 "${mem[@]}"
    sleep 0.3
    m1=$(cli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p')
    measure swarm.publish 990000 16 "${mem[@]}"
    sleep 0.3
    m2=$(cli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p')
    published=$(cli SWARM.ROUTE STATS swarm:mem | sed -n '/^published$/{n;p}')
    d=$((m2 - m1))
    pct=$(awk -v a="$m1" -v b="$m2" 'BEGIN { printf "%.3f", (b - a) * 100 / a }')
    local apct=${pct#-}
    out "### Memory: used_memory while publishing to a channel route (no subscriber)"
    out ""
    out "After FLUSHALL; one table with one route; -c $C -P 16."
    out ""
    out "| after | used_memory (bytes) |"
    out "|---|---:|"
    out "| 0 SWARM.PUBLISH (table created) | $m0 |"
    out "| 10,000 SWARM.PUBLISH | $m1 |"
    out "| $(fmt_rps "$published") SWARM.PUBLISH | $m2 |"
    out "| difference, 1,000,000 vs 10,000 | $d ($pct %) |"
    out ""

    out "### Publish targets"
    out ""
    out "| ratio | value | target | |"
    out "|---|---:|---:|---|"
    local s label
    for s in 0 1; do
        label="$s subscriber"
        [[ $s == 0 ]] && label="no subscriber"
        out "| SWARM.PUBLISH / PUBLISH requests/s, P16, $label | ${pr[$s,16]} | >= 0.8 | $(verdict "${pr[$s,16]}" ">=" 0.8) |"
        out "| SWARM.PUBLISH / PUBLISH usec_per_call, P16, $label | ${pu[$s,16]} | <= 1.5 | $(verdict "${pu[$s,16]}" "<=" 1.5) |"
        out "| SWARM.PUBLISH / PUBLISH requests/s, P1, $label | ${pr[$s,1]} | - | |"
        out "| SWARM.PUBLISH / PUBLISH usec_per_call, P1, $label | ${pu[$s,1]} | <= 1.5 | $(verdict "${pu[$s,1]}" "<=" 1.5) |"
    done
    out "| SWARM.PUBLISH / PUBLISH requests/s, P16, 100 subscribers | ${pr[f,16]} | >= 0.8 | $(verdict "${pr[f,16]}" ">=" 0.8) |"
    out "| SWARM.PUBLISH / PUBLISH usec_per_call, P16, 100 subscribers | ${pu[f,16]} | <= 1.5 | $(verdict "${pu[f,16]}" "<=" 1.5) |"
    out "| SWARM.PUBLISH / PUBLISH requests/s, P1, 100 subscribers | ${pr[f,1]} | - | |"
    out "| SWARM.PUBLISH / PUBLISH usec_per_call, P1, 100 subscribers | ${pu[f,1]} | <= 1.5 | $(verdict "${pu[f,1]}" "<=" 1.5) |"
    out "| SWARM.PUBLISH / Lua EVALSHA requests/s, P16, no subscriber | ${pr[l0,16]} | - | |"
    out "| SWARM.PUBLISH / Lua EVALSHA usec_per_call, P16, no subscriber | ${pu[l0,16]} | - | |"
    out "| SWARM.PUBLISH (stream route) / XADD requests/s, P16 | ${pr[s,16]} | - | |"
    out "| SWARM.PUBLISH (stream route) / XADD usec_per_call, P16 | ${pu[s,16]} | - | |"
    out "| used_memory, 1,000,000 vs 10,000 publishes | $pct % | within 1 % | $(verdict "$apct" "<=" 1) |"
    out ""
}

# ---- Phase 3: snapshot ----

# SWARM.SNAPSHOT on the state document of bench/gen_state.py (200 agents, 1,500 tasks,
# 90,018 bytes), against the built-ins handling the same bytes (SET and GET of a string) and
# Lua scripts doing the work without the module (bench/snapshot_save.lua: cjson.decode + SET;
# bench/snapshot_patch.lua: GET, decode, merge, encode, SET).
# redis-benchmark takes the document as one argument (Linux caps one argument at 128 KiB).
# Environment: BENCH_SNAP_N (requests per load, default 2000), BENCH_SNAP_CLIENTS (default 4).
# shellcheck disable=SC2034 # the command arrays are passed to run_group by name
phase_snapshot() {
    local SN=${BENCH_SNAP_N:-2000} C=${BENCH_SNAP_CLIENTS:-4} P=1
    local patch='{"tasks":{"t-42":{"status":"done"}}}'
    local s=swarm.snapshot\|save g=swarm.snapshot\|get pa=swarm.snapshot\|patch
    local df=swarm.snapshot\|diff
    log "snapshot: generating the document, loading keys and the Lua baselines"
    local doc size
    doc=$(python3 "$bench/gen_state.py") || die "gen_state.py failed"
    size=${#doc} # ASCII only: characters are bytes
    ((size > 80000 && size < 131072)) ||
        die "the state document is $size bytes, expected about 88 KB (and below 128 KiB)"
    local sha_save sha_patch
    sha_save=$(cli SCRIPT LOAD "$(cat "$bench/snapshot_save.lua")")
    [[ $sha_save =~ ^[0-9a-f]{40}$ ]] || die "SCRIPT LOAD snapshot_save.lua failed: $sha_save"
    sha_patch=$(cli SCRIPT LOAD "$(cat "$bench/snapshot_patch.lua")")
    [[ $sha_patch =~ ^[0-9a-f]{40}$ ]] || die "SCRIPT LOAD snapshot_patch.lua failed: $sha_patch"

    # bench:snap:ro holds version 1 (the document) and version 2 (the document patched):
    # GET, GET PATH and DIFF read it. Every other key is the target of one write load.
    local r k
    [[ $(cli SET bench:snap:str "$doc") == OK ]] || die "SET of the document failed"
    [[ $(cli SET bench:snap:luapatch "$doc") == OK ]] || die "SET of the document failed"
    for k in bench:snap:ro bench:snap:patch; do
        r=$(cli SWARM.SNAPSHOT SAVE $k "$doc")
        [[ $r == 1 ]] || die "SWARM.SNAPSHOT SAVE $k answered '$r', expected version 1"
    done
    [[ $(cli SWARM.SNAPSHOT GET bench:snap:ro PATH /tasks/t-42/status) == '"held"' ]] ||
        die "/tasks/t-42/status of the document is not \"held\": the patch would not change it"
    r=$(cli SWARM.SNAPSHOT PATCH bench:snap:ro "$patch")
    [[ $r == 2 ]] || die "SWARM.SNAPSHOT PATCH answered '$r', expected version 2"
    [[ $(cli SWARM.SNAPSHOT GET bench:snap:ro PATH /tasks/t-42/status) == '"done"' ]] ||
        die "the patch $patch did not set /tasks/t-42/status to \"done\""
    [[ $(cli SWARM.SNAPSHOT GET bench:snap:ro VERSION 1 | tr -d '\n') == "$doc" ]] ||
        die "SWARM.SNAPSHOT GET VERSION 1 does not answer the saved document"
    r=$(cli SWARM.SNAPSHOT DIFF bench:snap:ro 1 2)
    [[ $r == "$patch" ]] || die "SWARM.SNAPSHOT DIFF 1 2 answered '$r', expected $patch"
    [[ $(cli SWARM.SNAPSHOT GET bench:snap:ro PATH /tasks/t-1499/status) == '"done"' ]] ||
        die "/tasks/t-1499/status of the document is not \"done\""
    r=$(cli EVALSHA "$sha_patch" 1 bench:snap:luapatch "$patch")
    [[ $r =~ ^[0-9]+$ ]] || die "the Lua merge patch answered '$r'"

    local c_set=(SET bench:snap:set "$doc")
    local c_save=(SWARM.SNAPSHOT SAVE bench:snap:save "$doc")
    local c_lsave=(EVALSHA "$sha_save" 1 bench:snap:lua "$doc")
    local c_patch=(SWARM.SNAPSHOT PATCH bench:snap:patch "$patch")
    local c_lpatch=(EVALSHA "$sha_patch" 1 bench:snap:luapatch "$patch")
    local c_get=(GET bench:snap:str)
    local c_sget=(SWARM.SNAPSHOT GET bench:snap:ro)
    local c_sget1=(SWARM.SNAPSHOT GET bench:snap:ro VERSION 1)
    local c_path42=(SWARM.SNAPSHOT GET bench:snap:ro PATH /tasks/t-42/status)
    local c_path1499=(SWARM.SNAPSHOT GET bench:snap:ro PATH /tasks/t-1499/status)
    local c_pathtop=(SWARM.SNAPSHOT GET bench:snap:ro PATH /rev)
    local c_diff=(SWARM.SNAPSHOT DIFF bench:snap:ro 1 2)
    local sz
    sz=$(fmt_rps "$size")

    out "### Snapshot: SWARM.SNAPSHOT on an 88 KB state document"
    out ""
    out "The document: bench/gen_state.py, 200 agents and 1,500 tasks, $sz bytes of compact JSON."
    out "redis-benchmark -n $SN -c $C -P $P, best of $REPEAT interleaved runs. The patch is"
    out "\`$patch\` (one field; t-42 is \"held\" in the document). Ratios are"
    out "against the first row of each group: SET of the same $sz bytes, GET of a $sz-byte string."
    out ""
    out "| command | argument | P | requests/s | usec_per_call | rps / base | usec / base |"
    out "|---|---|---:|---:|---:|---:|---:|"
    log "snapshot: writes (SET, SAVE, Lua save, PATCH, Lua patch)"
    run_group "$SN" $P "\`SET key <doc>\`;$sz B;set;c_set" \
        "\`SWARM.SNAPSHOT SAVE key <doc>\` (keep 16);$sz B;$s;c_save" \
        "\`EVALSHA\` Lua: cjson.decode + SET;$sz B;evalsha;c_lsave" \
        "\`SWARM.SNAPSHOT PATCH key <patch>\`;one field;$pa;c_patch" \
        "\`EVALSHA\` Lua: GET, decode, merge, encode, SET;one field;evalsha;c_lpatch"
    local u_save=${G_USEC[1]} u_lsave=${G_USEC[2]} u_patch=${G_USEC[3]} u_lpatch=${G_USEC[4]}
    log "snapshot: reads (GET, SNAPSHOT GET, PATH, DIFF)"
    run_group "$SN" $P "\`GET key\` (string);$sz B;get;c_get" \
        "\`SWARM.SNAPSHOT GET key\` (head);$sz B;$g;c_sget" \
        "\`SWARM.SNAPSHOT GET key VERSION 1\`;$sz B;$g;c_sget1" \
        "\`SWARM.SNAPSHOT GET key PATH /rev\`;first members;$g;c_pathtop" \
        "\`SWARM.SNAPSHOT GET key PATH /tasks/t-42/status\`;early task;$g;c_path42" \
        "\`SWARM.SNAPSHOT GET key PATH /tasks/t-1499/status\`;last task;$g;c_path1499" \
        "\`SWARM.SNAPSHOT DIFF key 1 2\`;one field changed;$df;c_diff"
    local u_get=${G_USEC[0]} u_sget=${G_USEC[1]}
    out ""

    log "snapshot: memory of 16 retained versions"
    # On an emptied dataset, as for publish. Each version comes from its own redis-cli, whose
    # connection (and 88 KB query buffer) is gone before used_memory is read. Latency
    # tracking is off meanwhile: Redis 7.0 allocates a ~24 KB histogram for each command the
    # first time it runs after CONFIG RESETSTAT, which would land in the deltas.
    local lt
    lt=$(cli CONFIG GET latency-tracking | sed -n 2p)
    cli CONFIG SET latency-tracking no >/dev/null
    cli FLUSHALL SYNC >/dev/null
    local i m0 m1 m2 m3 mu mus=0 info
    used_memory() { cli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p'; }
    sleep 0.3
    m0=$(used_memory)
    for i in $(seq 0 15); do
        r=$(cli SWARM.SNAPSHOT SAVE bench:snap:mem "$(python3 "$bench/gen_state.py" "$i")" KEEP 16)
        [[ $r == $((i + 1)) ]] || die "SWARM.SNAPSHOT SAVE of variant $i answered '$r'"
    done
    sleep 0.3
    m1=$(used_memory)
    mu=$(cli MEMORY USAGE bench:snap:mem SAMPLES 0)
    info=$(cli SWARM.SNAPSHOT INFO bench:snap:mem | paste -sd' ')
    [[ $info == *"retained 16 keep 16 bytes $((16 * size)) "* ]] ||
        die "bench:snap:mem does not hold 16 versions of $size bytes: $info"
    for i in $(seq 16 31); do
        r=$(cli SWARM.SNAPSHOT SAVE bench:snap:mem "$(python3 "$bench/gen_state.py" "$i")")
        [[ $r == $((i + 1)) ]] || die "SWARM.SNAPSHOT SAVE of variant $i answered '$r'"
    done
    sleep 0.3
    m2=$(used_memory)
    for i in $(seq 0 15); do
        [[ $(cli SET "bench:snap:memstr:$i" "$(python3 "$bench/gen_state.py" "$i")") == OK ]] ||
            die "SET of variant $i failed"
    done
    sleep 0.3
    m3=$(used_memory)
    for i in $(seq 0 15); do
        mus=$((mus + $(cli MEMORY USAGE "bench:snap:memstr:$i" SAMPLES 0)))
    done
    cli CONFIG SET latency-tracking "$lt" >/dev/null
    local x16=$((16 * size))
    # fmt_rps with a sign: a delta can be slightly negative.
    fmt_int() { if (($1 < 0)); then echo "-$(fmt_rps "${1#-}")"; else fmt_rps "$1"; fi; }
    local d_save=$((m1 - m0)) d_more=$((m2 - m1)) d_str=$((m3 - m2))
    out "### Snapshot memory: 16 retained versions of the document"
    out ""
    out "After \`FLUSHALL\`: 16 \`SWARM.SNAPSHOT SAVE\` of 16 variants of the document (same"
    out "length, one task's status, \`rev\` and \`updated\` differ), \`KEEP 16\`; then 16 more"
    out "saves, which evict as many; then, as the built-in equivalent, the same 16 variants"
    out "\`SET\` into 16 string keys. Ratios are against 16 x $sz bytes."
    out ""
    out "| measure | bytes | / (16 x document) |"
    out "|---|---:|---:|"
    out "| 16 x document size | $(fmt_rps "$x16") | 1.00 |"
    out "| \`MEMORY USAGE\` of the key, 16 versions | $(fmt_rps "$mu") | $(ratio "$mu" "$x16") |"
    out "| used_memory delta, 16 SAVEs (key created) | $(fmt_int "$d_save") | $(ratio "$d_save" "$x16") |"
    out "| used_memory delta, 16 more SAVEs (16 evicted) | $(fmt_int "$d_more") | $(ratio "$d_more" "$x16" | sed 's/^-0\.00$/0.00/') |"
    out "| built-in: used_memory delta, 16 SETs into 16 string keys | $(fmt_int "$d_str") | $(ratio "$d_str" "$x16") |"
    out "| built-in: \`MEMORY USAGE\` summed over the 16 string keys | $(fmt_rps "$mus") | $(ratio "$mus" "$x16") |"
    out ""

    local rl rg
    rl=$(ratio "$u_save" "$u_lsave")
    rg=$(ratio "$u_sget" "$u_get")
    out "### Snapshot targets"
    out ""
    out "| measure | value | target | |"
    out "|---|---:|---:|---|"
    out "| SAVE usec_per_call, $sz-byte document | $u_save | <= 150 | $(verdict "$u_save" "<=" 150) |"
    out "| SAVE / Lua (cjson.decode + SET) usec_per_call | $rl | <= 0.2 | $(verdict "$rl" "<=" 0.2) |"
    out "| SNAPSHOT GET / GET of a $sz-byte string usec_per_call | $rg | <= 1.2 | $(verdict "$rg" "<=" 1.2) |"
    out "| PATCH of a one-field patch, usec_per_call | $u_patch | <= 1000 | $(verdict "$u_patch" "<=" 1000) |"
    out "| PATCH / Lua merge patch usec_per_call | $(ratio "$u_patch" "$u_lpatch") | - | |"
    out "| used_memory of 16 versions / (16 x document) | $(ratio "$d_save" "$x16") | - | |"
    out ""
}

# ---- Main ----

# main runs on the left of a pipe to tee, in a subshell, which does not inherit traps: the
# server's cleanup is armed here.
main() {
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    start_server
    local started=$SECONDS
    out "## swarm benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
    out ""
    local rev dirty=
    rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')
    git -C "$root" diff --quiet HEAD -- module include 2>/dev/null ||
        dirty=" (with uncommitted changes in module/ or include/)"
    out "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), swarm $rev$dirty,"
    out "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start."
    out ""
    case $phase in
    route) phase_route ;;
    publish) phase_publish ;;
    snapshot) phase_snapshot ;;
    all)
        phase_route
        phase_publish
        phase_snapshot
        ;;
    esac
    log "done in $((SECONDS - started)) s"
}

mkdir -p "$(dirname "$OUT")"
main | tee "$OUT"
