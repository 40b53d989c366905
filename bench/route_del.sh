#!/usr/bin/env bash
# bench/route_del.sh -- SWARM.ROUTE DEL of many ids on a large routing table: server time
# (INFO commandstats) and wall time of one DEL of 3,000 ids that do not exist and one DEL of
# 3,000 that do, on a table of 100,000 subject routes (bench/gen_routes.py subject).
#
#   bench/route_del.sh [swarm.so]      (default build/swarm.so)
#
# Env: BENCH_ROUTES (default 100000), BENCH_IDS (default 3000), BENCH_REPS (default 3; the
# table is rebuilt for each repetition), REDIS_SERVER / REDIS_CLI (default from PATH).
# Starts its own redis-server (--save "" --appendonly no) on a free loopback port and stops
# it by pid on exit. Needs python3. Target: <= 20 ms server time per DEL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
so=$(realpath "${1:-$root/build/swarm.so}")
server=${REDIS_SERVER:-redis-server}
clibin=${REDIS_CLI:-redis-cli}
routes=${BENCH_ROUTES:-100000}
nids=${BENCH_IDS:-3000}
reps=${BENCH_REPS:-3}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
"$server" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --loadmodule "$so" >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cli() { "$clibin" -p "$port" "$@"; }
for _ in $(seq 50); do cli PING >/dev/null 2>&1 && break; sleep 0.1; done
usec() { cli INFO commandstats | tr -d '\r' | grep '^cmdstat_swarm.route|del:' |
    sed 's/.*usec=\([0-9]*\).*/\1/'; }

# One DEL of the ids in file $1: prints "<server usec> <wall ms> <removed>".
del() {
    cli CONFIG RESETSTAT >/dev/null
    local t0 t1 removed
    t0=$(date +%s%N)
    removed=$(xargs -a "$1" "$clibin" -p "$port" SWARM.ROUTE DEL rd:t)
    t1=$(date +%s%N)
    echo "$(usec) $(( (t1 - t0) / 1000000 )) $removed"
}

# Ids that do not exist (past every id) and ids that do (spread over the whole table).
seq $((routes + 1)) $((routes + nids)) >"$dir/missing"
python3 -c "import sys; r,n=int(sys.argv[1]),int(sys.argv[2]); print('\n'.join(str(1+i*(r//n)) for i in range(n)))" \
    "$routes" "$nids" >"$dir/existing"

echo "routes=$routes ids=$nids module=$so"
echo "| ids | server usec | wall ms | removed |"
echo "|---|---|---|---|"
for _ in $(seq "$reps"); do
    cli FLUSHALL >/dev/null
    python3 "$root/bench/gen_routes.py" subject rd:t "$routes" | cli --pipe >/dev/null
    [ "$(cli SWARM.ROUTE STATS rd:t | sed -n '/^routes$/{n;p}')" -eq "$routes" ] ||
        { echo "the table does not hold $routes routes" >&2; exit 1; }
    read -r u w n < <(del "$dir/missing")
    echo "| $nids missing | $u | $w | $n |"
    read -r u w n < <(del "$dir/existing")
    echo "| $nids existing | $u | $w | $n |"
done
