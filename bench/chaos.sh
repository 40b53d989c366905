#!/usr/bin/env bash
# bench/chaos.sh -- the long run of the replication chaos test (tests/integration/test_chaos.c):
# random seeds for N minutes, each on fresh servers (a master, its replica, and nodes restored
# from their AOFs), random swarm commands between topology and config events, every sequence
# checked (same keys and DEBUG DIGEST-VALUE everywhere, ids only grow). Prints each failing
# seed with what broke and the steps that led there, then the sequences checked per minute.
#
#   bench/chaos.sh [minutes] [build dir]      (default 10 minutes, build)
#
# Env: SWARM_REDIS_SERVER or REDIS_SERVER (default redis-server on PATH), the server the
# harness runs; SWARM_CHAOS_SAME_CONFIG=1 and
# SWARM_CHAOS_SKIP_CONFIG=name,... as the test reads them; CHAOS_LOG (default a temporary
# file) keeps the whole output. A failure does not end the run: the test starts again with
# the time left. Rerun one seed with
#   SWARM_CHAOS_SEED=<seed> SWARM_MODULE=$PWD/build/swarm.so build/tests/it_test_chaos
# Exit status 1 when a seed failed. Needs the test built (-DSWARM_TESTS=ON).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-10}
build=$(realpath "${2:-$root/build}")
bin=$build/tests/it_test_chaos
[ -x "$bin" ] || { echo "chaos.sh: $bin not built (configure with -DSWARM_TESTS=ON)" >&2; exit 2; }
export SWARM_MODULE=$build/swarm.so
export REDIS_SERVER=${SWARM_REDIS_SERVER:-${REDIS_SERVER:-redis-server}}
export SWARM_REDIS_SERVER=$REDIS_SERVER
export SWARM_CHAOS_FIXED=0
log=${CHAOS_LOG:-$(mktemp /tmp/swarm-chaos-bench.XXXXXX)}
: >"$log"

start=$(date +%s)
end=$(( start + $(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }') ))
sequences=0 seconds=0 runs=0
failed=()
echo "chaos.sh: $minutes min of random seeds against $("$REDIS_SERVER" --version | cut -d' ' -f1-3); log $log"
while [ "$(date +%s)" -lt "$end" ]; do
    left=$(( end - $(date +%s) ))
    out=$(mktemp /tmp/swarm-chaos-run.XXXXXX)
    SWARM_CHAOS_SECONDS=$left nice -n 10 "$bin" >"$out" 2>&1
    rc=$?
    runs=$((runs + 1))
    cat "$out" >>"$log"
    # "chaos: N sequences checked in S s of seeds ..." (seeds that finished)
    read -r n s < <(sed -n 's/^chaos: \([0-9]*\) sequences checked in \([0-9.]*\) s of seeds.*/\1 \2/p' "$out")
    sequences=$((sequences + ${n:-0}))
    seconds=$(awk -v a="$seconds" -v b="${s:-0}" 'BEGIN { print a + b }')
    if [ "$rc" -ne 0 ]; then
        seed=$(sed -n 's/^==== chaos FAILED: \(.*\), sequence \([0-9]*\) ====$/\1 (sequence \2)/p' "$out" | head -1)
        failed+=("${seed:-unknown (exit $rc, see $log)}")
        echo "---- FAILED: ${seed:-exit $rc} ----"
        # What broke, then the steps (the full report is in the log).
        awk '/^==== chaos FAILED/,/^---- end of steps/' "$out" | cut -c1-300
    fi
    grep '^chaos: seed' "$out" | sed 's/^/  /'
    rm -f "$out"
done
wall=$(( $(date +%s) - start ))
perMin=$(awk -v n="$sequences" -v s="$seconds" 'BEGIN { if (s > 0) printf "%.1f", n * 60 / s; else print 0 }')
wallMin=$(awk -v n="$sequences" -v s="$wall" 'BEGIN { if (s > 0) printf "%.1f", n * 60 / s; else print 0 }')
echo "chaos.sh: $sequences sequences checked: $perMin per minute of seeds (${seconds}s), $wallMin per minute of wall time (${wall}s, server starts included), $runs test runs"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "chaos.sh: ${#failed[@]} failure(s):"
    printf '  %s\n' "${failed[@]}"
    echo "chaos.sh: full output in $log"
    exit 1
fi
[ -n "${CHAOS_LOG:-}" ] || rm -f "$log"
echo "chaos.sh: no failure"
