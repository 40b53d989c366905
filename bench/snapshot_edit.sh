#!/usr/bin/env bash
# bench/snapshot_edit.sh -- SWARM.SNAPSHOT EDIT against PATCH and a plain string, and the
# memory of deep histories, as markdown tables.
#
#   bench/snapshot_edit.sh
#
# Starts its own redis-server (--save "" --appendonly no) on a free loopback port with
# swarm.so loaded and stops it (by pid) when it exits. Server time is usec_per_call from
# INFO commandstats (CONFIG RESETSTAT before each load), one client, so the figures are
# the command's own cost. The document is bench/gen_state.py's (about 90 KB).
#
# Environment: SWARM_SO (default build/swarm.so), BENCH_N (requests per load, default 5000).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
so=${SWARM_SO:-$root/build/swarm.so}
n=${BENCH_N:-5000}
[[ -f $so ]] || { echo "no module at $so (run scripts/build.sh)" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
    --loadmodule "$so" >"$tmp/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 50); do cli PING >/dev/null 2>&1 && break; sleep 0.1; done

python3 "$root/bench/gen_state.py" >"$tmp/state.json"
doc=$(cat "$tmp/state.json")
bytes=${#doc}
cli SET str "$doc" >/dev/null
cli SWARM.SNAPSHOT SAVE snp "$doc" KEEP 1000 >/dev/null

# usec_per_call of cmdstat name after n requests of the given command.
usec() {
    local name=$1
    shift
    cli CONFIG RESETSTAT >/dev/null
    redis-benchmark -p "$port" -c 1 -n "$n" -q "$@" >/dev/null
    cli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$name:.*usec_per_call=\([0-9.]*\).*/\1/p"
}

edit=$(usec 'swarm.snapshot|edit' SWARM.SNAPSHOT EDIT snp '[{"op":"replace","path":"/rev","value":1001}]')
patch=$(usec 'swarm.snapshot|patch' SWARM.SNAPSHOT PATCH snp '{"rev":1002}')
incr=$(usec 'swarm.snapshot|edit' SWARM.SNAPSHOT EDIT snp '[{"op":"incr","path":"/rev","value":1}]')
set=$(usec set SET str "$doc")
save=$(usec 'swarm.snapshot|save' SWARM.SNAPSHOT SAVE snp "$doc")
get=$(usec get GET str)
head=$(usec 'swarm.snapshot|get' SWARM.SNAPSHOT GET snp)
# Small edits again, so that the retained versions are deltas, then the oldest of them.
for i in $(seq 1000); do
    printf 'SWARM.SNAPSHOT EDIT snp "[{\\"op\\":\\"incr\\",\\"path\\":\\"/rev\\",\\"value\\":1}]"\n'
done | cli >/dev/null
oldest=$(cli SWARM.SNAPSHOT INFO snp | sed -n '4p')
# Reads of old versions in a shuffled order, so the history's cache of two rebuilt versions
# never answers (a repeated read of one version would be served from it).
oldget() {
    cli CONFIG RESETSTAT >/dev/null
    python3 -c "
import random
vs = [$oldest + i for i in range($1)] * max(1, $n // $1)
random.shuffle(vs)
for v in vs: print('SWARM.SNAPSHOT GET snp VERSION', v)" | cli >/dev/null
    cli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_swarm.snapshot|get:.*usec_per_call=\([0-9.]*\).*/\1/p'
}
old=$(oldget 1000)
cached=$(usec 'swarm.snapshot|get' SWARM.SNAPSHOT GET snp VERSION "$oldest")
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
echo "Server time per call (usec_per_call, one client, $n calls), document of $bytes bytes:"
echo
echo "| command | usec/call | vs |"
echo "|---|---:|---|"
echo "| \`SET\` of the whole string | $set | |"
echo "| \`SWARM.SNAPSHOT SAVE\` of the whole document | $save | $(ratio "$save" "$set") x SET |"
echo "| \`SWARM.SNAPSHOT PATCH\` of one member | $patch | $(ratio "$patch" "$set") x SET |"
echo "| \`SWARM.SNAPSHOT EDIT\` replace of one member | $edit | $(ratio "$edit" "$patch") x PATCH |"
echo "| \`SWARM.SNAPSHOT EDIT\` incr of one member | $incr | $(ratio "$incr" "$patch") x PATCH |"
echo "| \`GET\` of the string | $get | |"
echo "| \`SWARM.SNAPSHOT GET\` of the head | $head | $(ratio "$head" "$get") x GET |"
echo "| \`SWARM.SNAPSHOT GET VERSION\` any of 1000, shuffled (rebuilt) | $old | $(ratio "$old" "$get") x GET |"
echo "| \`SWARM.SNAPSHOT GET VERSION\` the oldest, repeated (cached) | $cached | $(ratio "$cached" "$get") x GET |"
echo

echo "MEMORY USAGE with one small edit (incr) per version:"
echo
str=$(cli MEMORY USAGE str)
echo "| history | MEMORY USAGE (bytes) | vs the string |"
echo "|---|---:|---:|"
echo "| the document as a string | $str | 1.00 |"
for keep in 16 100 1000; do
    cli SWARM.SNAPSHOT SAVE "mem$keep" "$doc" KEEP "$keep" >/dev/null
    for i in $(seq "$keep"); do
        printf 'SWARM.SNAPSHOT EDIT mem%s "[{\\"op\\":\\"incr\\",\\"path\\":\\"/rev\\",\\"value\\":1}]"\n' "$keep"
    done | cli >/dev/null
    m=$(cli MEMORY USAGE "mem$keep")
    echo "| KEEP $keep, $keep versions | $m | $(ratio "$m" "$str") |"
done
