#!/usr/bin/env bash
# bench/stats_scrape.sh -- what a Prometheus scrape of swarm costs the server.
#
#   bench/stats_scrape.sh            (SWARM_MODULE=path/swarm.so, default build/swarm.so)
#
# For 10, 1,000 and 100,000 routing tables (and 10 tables among 1,000,000 other keys, the
# case where the script's MAX_CALLS limit matters) it measures, on its own redis-server on a
# free loopback port:
#   - eval usec: server time of one EVAL of contrib/prometheus/swarm.lua, usec_per_call of
#     cmdstat_eval in INFO commandstats (CONFIG RESETSTAT first; SCRAPE_RUNS runs);
#   - walk usec: server time of a complete SWARM.STATS iteration with COUNT 1000 (every
#     table, no cap), the sum of the calls' usec from cmdstat_swarm.stats;
#   - scrape ms: redis_exporter_last_scrape_duration_seconds of prometheus-redis-exporter
#     with the script, averaged over SCRAPE_RUNS scrapes (needs the exporter installed);
#     and the same without -script, for comparison.
# Prints a markdown table. Every process it starts is stopped by pid when it exits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=SCRIPTDIR/../tests/ops/lib.sh
. "$root/tests/ops/lib.sh"
ops_init bench-scrape
module=$(ops_module "$root")
script=$root/contrib/prometheus/swarm.lua
RUNS=${SCRAPE_RUNS:-20}
have_exporter=
command -v prometheus-redis-exporter >/dev/null && have_exporter=1

ops_start_redis "$module"
cli() { redis-cli -p "$REDIS_PORT" "$@"; }

# RESP for "SWARM.ROUTE ADD swarm:t<i> task.> channel:c<i>", i in [from, to).
tables_proto() {
    awk -v from="$1" -v to="$2" 'BEGIN {
        for (i = from; i < to; i++) {
            k = "swarm:t" i; c = "channel:c" i
            printf "*5\r\n$11\r\nSWARM.ROUTE\r\n$3\r\nADD\r\n$%d\r\n%s\r\n$6\r\ntask.>\r\n$%d\r\n%s\r\n",
                length(k), k, length(c), c
        }
    }'
}
strings_proto() {
    awk -v n="$1" 'BEGIN {
        for (i = 0; i < n; i++) { k = "other:" i; printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n", length(k), k }
    }'
}

stat_field() { # cmdstat field
    cli INFO commandstats | tr -d '\r' | awk -F'[:,=]' -v c="cmdstat_$1" -v f="$2" \
        '$1 == c { for (i = 2; i < NF; i += 2) if ($i == f) print $(i + 1) }'
}

eval_usec() {
    local body
    body=$(cat "$script")
    cli CONFIG RESETSTAT >/dev/null
    for ((i = 0; i < RUNS; i++)); do cli EVAL "$body" 0 0 >/dev/null; done
    stat_field eval usec_per_call
}

walk_usec() {
    cli CONFIG RESETSTAT >/dev/null
    local cursor=0 n=0
    while :; do
        cursor=$(cli SWARM.STATS "$cursor" COUNT 1000 | head -1)
        n=$((n + 1))
        [ "$cursor" = 0 ] && break
    done
    echo "$(stat_field swarm.stats usec) ($n calls)"
}

# Mean redis_exporter_last_scrape_duration_seconds in ms over RUNS scrapes of an exporter
# started with the given extra arguments (-script FILE, or none).
scrape_ms() {
    EXPORTER_PORT=$(ops_free_port)
    prometheus-redis-exporter -redis.addr "redis://127.0.0.1:$REDIS_PORT" \
        -web.listen-address "127.0.0.1:$EXPORTER_PORT" "$@" >/dev/null 2>&1 &
    EXPORTER_PID=$!
    OPS_PIDS+=("$EXPORTER_PID")
    ops_wait "curl -sf http://127.0.0.1:$EXPORTER_PORT/" 100 || ops_die "exporter did not start"
    local sum=0 v
    for ((i = 0; i < RUNS; i++)); do
        v=$(curl -sf "http://127.0.0.1:$EXPORTER_PORT/metrics" |
            awk '$1 == "redis_exporter_last_scrape_duration_seconds" { print $2 }')
        sum=$(awk -v a="$sum" -v b="$v" 'BEGIN { print a + b }')
    done
    kill "$EXPORTER_PID"
    wait "$EXPORTER_PID" 2>/dev/null || true
    awk -v s="$sum" -v n="$RUNS" 'BEGIN { printf "%.1f", s / n * 1000 }'
}

echo "| tables | other keys | tables exported | eval usec | full SWARM.STATS walk usec | exporter scrape ms (with script) | exporter scrape ms (without) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
have=0
for spec in 10:0 1000:0 100000:0 10:1000000; do
    n=${spec%%:*}
    others=${spec##*:}
    cli FLUSHALL >/dev/null
    tables_proto 0 "$n" | cli --pipe >/dev/null
    [ "$others" -gt 0 ] && strings_proto "$others" | cli --pipe >/dev/null
    have=$(cli INFO swarm | tr -d '\r' | awk -F: '$1 == "swarm_tables" { print $2 }')
    [ "$have" = "$n" ] || ops_die "created $have tables, wanted $n"
    exported=$(cli EVAL "$(cat "$script")" 0 0 | paste - - | awk '$1 == "swarm_scrape_tables" { print $2 }')
    e=$(eval_usec)
    w=$(walk_usec)
    s=-
    b=-
    if [ -n "$have_exporter" ]; then
        s=$(scrape_ms -script "$script")
        b=$(scrape_ms)
    fi
    echo "| $n | $others | $exported | $e | $w | $s | $b |"
done
