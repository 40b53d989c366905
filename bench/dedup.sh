#!/usr/bin/env bash
# bench/dedup.sh -- server time of SWARM.ROUTE MATCH and SWARM.PUBLISH for one event type
# that T routes match, each to its own target: the cost of de-duplicating targets, which was
# quadratic in T (issue 9 item 4).
#
#   bench/dedup.sh [swarm.so]        (default build/swarm.so)
#
# Starts its own redis-server (--save "" --appendonly no) on a free loopback port and stops
# it by pid on exit. For T = 10,000 and 20,000: one MATCH to fill the resolution cache, then
# BENCH_CALLS (default 20) MATCH and PUBLISH calls; prints usec_per_call from INFO
# commandstats. Needs redis-server, redis-cli and python3 (for a free port).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
so=$(realpath "${1:-$root/build/swarm.so}")
calls=${BENCH_CALLS:-20}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --loadmodule "$so" >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 50); do cli PING >/dev/null 2>&1 && break; sleep 0.1; done
usec() { cli INFO commandstats | tr -d '\r' | grep "^cmdstat_$1:" | sed 's/.*usec_per_call=\([0-9.]*\).*/\1/'; }
echo "| routes T | MATCH usec/call | PUBLISH usec/call |"
echo "|---|---|---|"
for t in 10000 20000; do
    cli FLUSHALL >/dev/null
    seq 1 "$t" | awk '{print "SWARM.ROUTE ADD d:t > channel:c" $1}' | cli >/dev/null
    [ "$(cli SWARM.ROUTE MATCH d:t a.b | wc -l)" -eq "$t" ] || { echo "MATCH did not return $t targets" >&2; exit 1; }
    cli CONFIG RESETSTAT >/dev/null
    for _ in $(seq "$calls"); do echo "SWARM.ROUTE MATCH d:t a.b"; done | cli >/dev/null
    for _ in $(seq "$calls"); do echo "SWARM.PUBLISH d:t a.b {}"; done | cli >/dev/null
    echo "| $t | $(usec 'swarm.route|match') | $(usec swarm.publish) |"
done
