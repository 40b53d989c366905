#!/usr/bin/env bash
# bench/route_del.sh -- SWARM.ROUTE DEL of many ids on a large routing table: server time
# (INFO commandstats) and wall time of one DEL of 3,000 ids that do not exist and one DEL of
# 3,000 that do, on a table of 100,000 subject routes (bench/gen_routes.py subject), and the
# CPU time the server's main thread spent meanwhile (/proc/<pid>/schedstat), which a busy
# machine inflates far less than the elapsed server time commandstats reports.
#
#   bench/route_del.sh [swarm.so]      (default build/swarm.so)
#
# Env: BENCH_ROUTES (default 100000), BENCH_IDS (default 3000), BENCH_REPS (default 3; the
# table is rebuilt for each repetition), REDIS_SERVER / REDIS_CLI (default from PATH),
# BENCH_SHARED=1 for routes that all share one pattern ('a.>' to channel:c<N>; adding them
# costs time quadratic in their number, so use BENCH_ROUTES=20000 or so).
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

# Nanoseconds the server's main thread has run on a CPU.
cpuns() { cut -d' ' -f1 "/proc/$pid/task/$pid/schedstat"; }

# One DEL of the ids in file $1: prints "<server usec> <cpu usec> <wall ms> <removed>". The
# CPU time includes reading the 3,000 arguments.
del() {
    cli CONFIG RESETSTAT >/dev/null
    local t0 t1 c0 c1 removed
    c0=$(cpuns)
    t0=$(date +%s%N)
    removed=$(xargs -a "$1" "$clibin" -p "$port" SWARM.ROUTE DEL rd:t)
    t1=$(date +%s%N)
    c1=$(cpuns)
    echo "$(usec) $(( (c1 - c0) / 1000 )) $(( (t1 - t0) / 1000000 )) $removed"
}

# Ids that do not exist (past every id) and ids that do (spread over the whole table).
seq $((routes + 1)) $((routes + nids)) >"$dir/missing"
python3 -c "import sys; r,n=int(sys.argv[1]),int(sys.argv[2]); print('\n'.join(str(1+i*(r//n)) for i in range(n)))" \
    "$routes" "$nids" >"$dir/existing"

echo "routes=$routes ids=$nids shared=${BENCH_SHARED:-0} module=$so"
echo "| ids | server usec | server CPU usec | wall ms | removed |"
echo "|---|---|---|---|---|"
for _ in $(seq "$reps"); do
    cli FLUSHALL >/dev/null
    if [ "${BENCH_SHARED:-0}" = 1 ]; then
        python3 -c "import sys
w = sys.stdout.buffer
for k in range(int(sys.argv[1])):
    a = [b'SWARM.ROUTE', b'ADD', b'rd:t', b'a.>', b'channel:c%d' % k]
    w.write(b'*5\r\n' + b''.join(b'\$%d\r\n%s\r\n' % (len(x), x) for x in a))" "$routes" |
            cli --pipe >/dev/null
    else
        python3 "$root/bench/gen_routes.py" subject rd:t "$routes" | cli --pipe >/dev/null
    fi
    [ "$(cli SWARM.ROUTE STATS rd:t | sed -n '/^routes$/{n;p}')" -eq "$routes" ] ||
        { echo "the table does not hold $routes routes" >&2; exit 1; }
    read -r u c w n < <(del "$dir/missing")
    echo "| $nids missing | $u | $c | $w | $n |"
    read -r u c w n < <(del "$dir/existing")
    echo "| $nids existing | $u | $c | $w | $n |"
done
