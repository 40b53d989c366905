#!/usr/bin/env bash
# tests/ops/test_exporter.sh -- swarm's metrics through Debian's prometheus-redis-exporter.
#
# Installs prometheus-redis-exporter when it is missing, starts a redis-server with swarm.so
# and the exporter (with contrib/prometheus/swarm.lua) on free loopback ports, runs a known
# workload, fetches /metrics over HTTP and checks every swarm value against INFO swarm,
# SWARM.ROUTE STATS and SWARM.ROUTE LIST. Then checks the script's limits and its behaviour
# without the module or without the permission to run SWARM.STATS. Both processes are
# stopped by pid however the script ends.
#
#   tests/ops/test_exporter.sh          (SWARM_MODULE=path/swarm.so, default build/swarm.so)
#
# Exits 0 when every check passed; prints one line per failed check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$root/tests/ops/lib.sh"
ops_init exporter

module=$(ops_module "$root")
script=$root/contrib/prometheus/swarm.lua
for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || ops_die "$tool not found"
done
ops_apt_install prometheus-redis-exporter curl

failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
check_eq() { # what got want
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

ops_start_redis "$module"
cli() { redis-cli -p "$REDIS_PORT" "$@"; }

# ---- Workload ----
# ta: its route has no subscriber: five misses open the breaker, the sixth message is shed;
# misses and unrouted messages are dead-lettered; three rejections (DENIED, EVENTTYPE,
# PAYLOAD). tb: three deliveries to a stream. A key that needs escaping; a table in db 3.
cli SWARM.ROUTE ADD ta 'task.>' channel:nobody >/dev/null
cli SWARM.ROUTE ADD ta 'never.*' channel:nobody2 >/dev/null
cli SWARM.ROUTE DEFAULT ta stream:dead >/dev/null
cli SWARM.ROUTE DENY ta 'secret\..*' >/dev/null
for _ in 1 2 3 4 5 6; do cli SWARM.PUBLISH ta task.x '{}' >/dev/null; done
for _ in 1 2; do cli SWARM.PUBLISH ta other.x '{}' >/dev/null; done
cli SWARM.PUBLISH ta secret.x '{}' >/dev/null
cli SWARM.PUBLISH ta 'a..b' '{}' >/dev/null
cli SWARM.PUBLISH ta task.x '{bad' >/dev/null
cli SWARM.ROUTE ADD tb 'job.*' stream:jobs >/dev/null
for _ in 1 2 3; do cli SWARM.PUBLISH tb job.a '{"n":1}' >/dev/null; done
# tb: one MSGID published twice (the second a duplicate), a third publish with a new one.
for m in m-1 m-1 m-2; do cli SWARM.PUBLISH tb job.a '{"n":2}' MSGID "$m" >/dev/null; done
odd=$(printf 'swarm:\303\251\\x')
cli SWARM.ROUTE ADD "$odd" 'a.b' channel:odd >/dev/null
cli -n 3 SWARM.ROUTE ADD tdb3 'a.b' channel:db3 >/dev/null
cli SWARM.SNAPSHOT SAVE state:ops '{"plan":{"step":1}}' >/dev/null
cli SWARM.SNAPSHOT PATCH state:ops '{"plan":{"step":2}}' >/dev/null
cli SET plain value >/dev/null

# The workload did what the comment says (otherwise the comparisons below prove little).
check_eq "ta STATS" "$(cli SWARM.ROUTE STATS ta | paste -sd' ' | cut -d' ' -f1-16)" \
    "published 8 delivered 8 rejected 3 unrouted 2 deadlettered 8 shed 1 routes 2 rules 1"

ops_start_exporter "$script"
metrics=$OPS_WORK/metrics.txt
curl -sf "http://127.0.0.1:$EXPORTER_PORT/metrics" >"$metrics" || ops_die "GET /metrics failed"
info=$(cli INFO swarm | tr -d '\r')

# The value of redis_script_values{key="$1"} (exposition escaping: \ is written \\).
metric() {
    local k=${1//\\/\\\\}
    # Through the environment: awk -v would interpret the backslashes.
    WANT="redis_script_values{key=\"$k\"} " awk \
        'index($0, ENVIRON["WANT"]) == 1 { printf "%.0f\n", $NF; found = 1 }
         END { if (!found) print "missing" }' "$metrics"
}

check_eq redis_up "$(awk '$1 == "redis_up" { print $2 }' "$metrics")" 1

# ---- Global metrics: every numeric field of INFO swarm ----
# The name the script gives an INFO swarm field: counters end in _total, the rejection
# reasons go after swarm_rejected_total: (a label after relabeling), gauges keep theirs.
exported() {
    case $1 in
    swarm_rejected) echo "(not exported)" ;;
    swarm_rejected_*) echo "swarm_rejected_total:${1#swarm_rejected_}" ;;
    swarm_published | swarm_delivered | swarm_unrouted | swarm_deadlettered | swarm_shed | \
        swarm_duplicates | swarm_snapshots_saved | swarm_snapshots_rejected_oom | \
        swarm_regex_limit_hits | swarm_targets_refused) echo "$1_total" ;;
    *) echo "$1" ;;
    esac
}
nglobal=0
reasons=0
while IFS=: read -r field value; do
    case $field in '' | '#'*) continue ;; esac
    # Text fields (swarm_version, swarm_allocator) are not metrics.
    [[ $value =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || continue
    nglobal=$((nglobal + 1))
    if [ "$field" = swarm_rejected ]; then
        rejected=$value
        continue
    fi
    check_eq "$field" "$(metric "$(exported "$field")")" "$value"
    case $field in swarm_rejected_*) reasons=$((reasons + value)) ;; esac
done <<<"$info"
[ "$nglobal" -ge 15 ] || fail "only $nglobal numeric fields in INFO swarm"
check_eq "sum of the reasons" "$reasons" "$rejected"
check_eq "swarm_rejected not exported" "$(metric swarm_rejected)" missing
check_eq swarm_tables "$(metric swarm_tables)" 4
check_eq swarm_snapshots "$(metric swarm_snapshots)" 1
check_eq swarm_snapshots_saved_total "$(metric swarm_snapshots_saved_total)" 2
check_eq "swarm_snapshot_bytes > 0" "$([ "$(metric swarm_snapshot_bytes)" -gt 0 ] && echo yes)" yes
check_eq "swarm_rejected_total:denied" "$(metric swarm_rejected_total:denied)" 1
check_eq "swarm_published_total" "$(metric swarm_published_total)" 13
check_eq "swarm_duplicates_total" "$(metric swarm_duplicates_total)" 1

# ---- Per-table counters against SWARM.ROUTE STATS and LIST ----
# table db key-as-in-redis key-as-in-the-label
check_table() {
    local db=$1 key=$2 lkey=$3
    local stats
    stats=$(redis-cli -p "$REDIS_PORT" -n "$db" SWARM.ROUTE STATS "$key")
    local f
    for f in published delivered rejected unrouted deadlettered shed duplicates msgids; do
        local want name=swarm_table_${f}_total
        [ "$f" = msgids ] && name=swarm_table_msgids
        want=$(awk -v f="$f" 'prev == f { print; exit } { prev = $0 }' <<<"$stats")
        check_eq "$lkey $f" "$(metric "$name:$db:$lkey")" "$want"
    done
    local open
    open=$(redis-cli -p "$REDIS_PORT" -n "$db" SWARM.ROUTE LIST "$key" |
        awk 'prev == "breaker" && $0 != "closed" { n++ } { prev = $0 } END { print n + 0 }')
    check_eq "$lkey breakers_open" "$(metric "swarm_table_breakers_open:$db:$lkey")" "$open"
}
check_table 0 ta ta
check_table 0 tb tb
check_table 0 "$odd" 'swarm:\xc3\xa9\x5cx'
check_table 3 tdb3 tdb3
check_eq "ta breakers_open" "$(metric swarm_table_breakers_open:0:ta)" 1
check_eq "tb delivered" "$(metric swarm_table_delivered_total:0:tb)" 5
check_eq "tb duplicates" "$(metric swarm_table_duplicates_total:0:tb)" 1
check_eq "tb msgids" "$(metric swarm_table_msgids:0:tb)" 2
check_eq "ta duplicates" "$(metric swarm_table_duplicates_total:0:ta)" 0
check_eq swarm_scrape_tables "$(metric swarm_scrape_tables)" 4
check_eq swarm_scrape_truncated "$(metric swarm_scrape_truncated)" 0
check_eq swarm_scrape_error "$(metric swarm_scrape_error)" 0
check_eq "swarm_table_* series" "$(grep -c '^redis_script_values{key="swarm_table_' "$metrics")" 36

# ---- The script's limits (run with EVAL, as the exporter does) ----
eval_script() { # file [redis-cli args]
    local f=$1
    shift
    redis-cli -p "$REDIS_PORT" "$@" EVAL "$(cat "$f")" 0 0 | paste - - | tr '\t' ' '
}
sed 's/^local MAX_TABLES = [0-9]*/local MAX_TABLES = 2/' "$script" >"$OPS_WORK/cap.lua"
out=$(eval_script "$OPS_WORK/cap.lua")
check_eq "MAX_TABLES 2: tables" "$(awk '$1 == "swarm_scrape_tables" { print $2 }' <<<"$out")" 2
check_eq "MAX_TABLES 2: truncated" "$(awk '$1 == "swarm_scrape_truncated" { print $2 }' <<<"$out")" 1
check_eq "MAX_TABLES 2: breakers_open series" "$(grep -c '^swarm_table_breakers_open:' <<<"$out")" 2
sed -e 's/^local MAX_CALLS = [0-9]*/local MAX_CALLS = 1/' -e 's/^local PAGE = [0-9]*/local PAGE = 1/' \
    "$script" >"$OPS_WORK/calls.lua"
out=$(eval_script "$OPS_WORK/calls.lua")
check_eq "MAX_CALLS 1: truncated" "$(awk '$1 == "swarm_scrape_truncated" { print $2 }' <<<"$out")" 1

# Without the permission to run SWARM.STATS: INFO swarm still exported, error flagged.
cli ACL SETUSER monitor on '>pw' '~*' '&*' +eval +info +select -swarm.stats >/dev/null
out=$(eval_script "$script" --user monitor --pass pw --no-auth-warning)
check_eq "no SWARM.STATS: error" "$(awk '$1 == "swarm_scrape_error" { print $2 }' <<<"$out")" 1
check_eq "no SWARM.STATS: INFO" "$(awk '$1 == "swarm_published_total" { print $2 }' <<<"$out")" "$(metric swarm_published_total)"

# A server without the module: the script answers, with the error flag and nothing else.
ops_start_redis ""
cli SET k v >/dev/null
out=$(eval_script "$script")
check_eq "no module" "$out" "swarm_scrape_tables 0
swarm_scrape_truncated 0
swarm_scrape_error 1"

if [ "$failures" -ne 0 ]; then
    echo "test_exporter: $failures of $checks checks failed (exporter log: $OPS_WORK)" >&2
    # shellcheck disable=SC2034 # read by ops_cleanup in lib.sh
    OPS_KEEP=1
    exit 1
fi
echo "test_exporter: all $checks checks passed"
