#!/usr/bin/env bash
# tests/ops/test_prometheus.sh -- contrib/prometheus/relabel.yml and alerts.yml in a real
# Prometheus (Debian's prometheus package, installed when missing).
#
# Checks the rules with promtool (syntax, and `promtool test rules` on synthetic series),
# then starts redis-server with swarm.so, prometheus-redis-exporter with swarm.lua and
# Prometheus with a scrape job that has relabel.yml pasted as its metric_relabel_configs
# (next to a rule of its own) and alerts.yml, all on free loopback ports, and queries
# Prometheus until the relabelled series (swarm_table_*_total{db,swarm},
# swarm_rejected_total{reason}, swarm_*) carry the values SWARM.ROUTE STATS and INFO swarm
# give, and SwarmBreakerOpen is pending for the swarm whose breaker is open. Every process is
# stopped by pid however the script ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$root/tests/ops/lib.sh"
ops_init prometheus

module=$(ops_module "$root")
prom=$root/contrib/prometheus
ops_apt_install prometheus prometheus-redis-exporter curl

failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
check_eq() {
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# ---- promtool: syntax and rule unit tests ----
checks=$((checks + 1))
promtool check rules "$prom/alerts.yml" >/dev/null || fail "promtool check rules"
checks=$((checks + 1))
promtool test rules "$root/tests/ops/alerts_test.yml" >"$OPS_WORK/ruletest.log" 2>&1 ||
    { cat "$OPS_WORK/ruletest.log" >&2; fail "promtool test rules"; }

# ---- The whole chain ----
ops_start_redis "$module"
cli() { redis-cli -p "$REDIS_PORT" "$@"; }
cli SWARM.ROUTE ADD 'swarm:{ops}' 'task.>' channel:nobody >/dev/null
cli SWARM.ROUTE DEFAULT 'swarm:{ops}' stream:dead >/dev/null
for _ in 1 2 3 4 5 6 7; do cli SWARM.PUBLISH 'swarm:{ops}' task.x '{}' >/dev/null; done
cli SWARM.PUBLISH 'swarm:{ops}' 'bad..type' '{}' >/dev/null
cli -n 2 SWARM.ROUTE ADD other 'job.*' stream:jobs >/dev/null
cli -n 2 SWARM.PUBLISH other job.a '{}' >/dev/null

ops_start_exporter "$prom/swarm.lua"

prom_port=$(ops_free_port)
# An existing job with a metric_relabel_configs rule of its own; the snippet pasted after it.
{
    printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
    printf 'rule_files: ["%s"]\n' "$prom/alerts.yml"
    printf 'scrape_configs:\n  - job_name: redis\n    static_configs:\n'
    printf '      - targets: ["127.0.0.1:%s"]\n' "$EXPORTER_PORT"
    printf '    metric_relabel_configs:\n'
    printf '      - source_labels: [__name__]\n        regex: "go_gc_.*"\n        action: drop\n'
    sed 's/^/      /' "$prom/relabel.yml"
} >"$OPS_WORK/prometheus.yml"
prometheus --config.file="$OPS_WORK/prometheus.yml" --storage.tsdb.path="$OPS_WORK/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >"$OPS_WORK/prometheus.log" 2>&1 &
OPS_PIDS+=("$!")

# query PROMQL -> the value of its first sample, or "none".
query() {
    curl -sf -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")' 2>/dev/null || echo none
}

want_published=$(cli SWARM.ROUTE STATS 'swarm:{ops}' | sed -n 2p)
if ! ops_wait "[ \"\$(query 'swarm_table_published_total{swarm=\"swarm:{ops}\",db=\"db0\"}')\" = $want_published ]" 300; then
    tail -20 "$OPS_WORK/prometheus.log" >&2
    fail "swarm_table_published_total{swarm=\"swarm:{ops}\"} never became $want_published"
fi
stats=$(cli SWARM.ROUTE STATS 'swarm:{ops}')
for f in published delivered rejected unrouted deadlettered shed; do
    want=$(awk -v f="$f" 'prev == f { print; exit } { prev = $0 }' <<<"$stats")
    check_eq "swarm_table_${f}_total" "$(query "swarm_table_${f}_total{swarm=\"swarm:{ops}\",db=\"db0\"}")" "$want"
done
check_eq "breakers_open" "$(query 'swarm_table_breakers_open{swarm="swarm:{ops}"}')" 1
check_eq "db2 table" "$(query 'swarm_table_delivered_total{swarm="other",db="db2"}')" 1
# INFO swarm field -> its series in Prometheus
for pair in published:swarm_published_total delivered:swarm_delivered_total \
    'rejected_eventtype:swarm_rejected_total{reason="eventtype"}' \
    'rejected_denied:swarm_rejected_total{reason="denied"}' tables:swarm_tables \
    'rejected:sum(swarm_rejected_total)'; do
    f=${pair%%:*}
    series=${pair#*:}
    want=$(cli INFO swarm | tr -d '\r' | awk -F: -v f="swarm_$f" '$1 == f { print $2 }')
    check_eq "$series" "$(query "$series")" "$want"
done
check_eq "no key label left" "$(query 'count(swarm_published_total{key!=""})')" none
check_eq "the job's own rule still applies" "$(query 'count(go_gc_duration_seconds)')" none
check_eq "other metrics untouched" "$(query 'redis_up')" 1
check_eq "redis_script_values gone" "$(query 'count(redis_script_values)')" none
checks=$((checks + 1))
ops_wait "[ \"\$(query 'ALERTS{alertname=\"SwarmBreakerOpen\",swarm=\"swarm:{ops}\",alertstate=\"pending\"}')\" = 1 ]" 100 ||
    fail "SwarmBreakerOpen is not pending for swarm:{ops}"
check_eq "no alert for the healthy swarm" \
    "$(query 'ALERTS{alertname="SwarmBreakerOpen",swarm="other"}')" none

if [ "$failures" -ne 0 ]; then
    echo "test_prometheus: $failures of $checks checks failed (logs: $OPS_WORK)" >&2
    # shellcheck disable=SC2034 # read by ops_cleanup in lib.sh
    OPS_KEEP=1
    exit 1
fi
echo "test_prometheus: all $checks checks passed"
