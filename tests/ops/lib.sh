# shellcheck shell=bash
# tests/ops/lib.sh -- shared by the operations tests and bench/stats_scrape.sh (sourced).
#
# Starts redis-server and prometheus-redis-exporter on free loopback ports, in a scratch
# directory, and stops exactly the processes it started (by pid) when the calling script
# exits, however it exits: call ops_init first, which installs the EXIT trap.

ops_log() { echo "${OPS_NAME:-ops}: $*" >&2; }

ops_die() {
    ops_log "$*"
    exit 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A TCP port on 127.0.0.1 that nothing listens on right now.
ops_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

OPS_PIDS=()
OPS_WORK=

ops_cleanup() {
    local pid
    for pid in "${OPS_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    OPS_PIDS=()
    if [ -n "$OPS_WORK" ] && [ -z "${OPS_KEEP:-}" ]; then rm -rf "$OPS_WORK"; fi
}

# ops_init NAME: a scratch directory in $OPS_WORK and the EXIT trap. Extra cleanup goes in
# a function named ops_extra_cleanup, which the trap calls first when it is defined.
ops_init() {
    OPS_NAME=$1
    OPS_WORK=$(mktemp -d "/tmp/swarm-$1.XXXXXX")
    trap 'rc=$?; if declare -F ops_extra_cleanup >/dev/null; then ops_extra_cleanup || true; fi; ops_cleanup; exit $rc' EXIT
    trap 'exit 130' INT TERM
}

# Installs Debian packages that are missing, without letting their maintainer scripts start
# services (Debian's prometheus-redis-exporter would start one on :9121).
ops_apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    ops_log "installing ${missing[*]}"
    local made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >"$OPS_WORK/apt.log" 2>&1 ||
        { as_root apt-get update -q >/dev/null 2>&1 &&
            DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q \
                --no-install-recommends "${missing[@]}" >"$OPS_WORK/apt.log" 2>&1; } || rc=1
    [ -n "$made_policy" ] && as_root rm -f /usr/sbin/policy-rc.d
    [ $rc -eq 0 ] || { tail -20 "$OPS_WORK/apt.log" >&2; ops_die "apt-get install failed"; }
}

# Waits until cmd (a string evaluated) succeeds, up to $2 tenths of a second.
ops_wait() {
    local i
    for ((i = 0; i < $2; i++)); do
        eval "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# ops_start_redis MODULE [redis-server args...]: sets REDIS_PORT and REDIS_PID. MODULE may
# be empty for a server without swarm. With OPS_REDIS_USER set (e.g. redis, the user of
# Debian's redis-server service) the server runs as that user (setpriv execs, so REDIS_PID
# is the server's own pid).
ops_start_redis() {
    local module=$1
    shift
    REDIS_PORT=$(ops_free_port)
    local dir=$OPS_WORK/redis-$REDIS_PORT
    mkdir -p "$dir"
    local load=() wrap=()
    [ -n "$module" ] && load=(--loadmodule "$module")
    if [ -n "${OPS_REDIS_USER:-}" ]; then
        chmod 755 "$OPS_WORK"
        chown "$OPS_REDIS_USER:" "$dir"
        wrap=(setpriv --reuid="$OPS_REDIS_USER" --regid="$OPS_REDIS_USER" --init-groups)
    fi
    "${wrap[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --save '' \
        --appendonly no --logfile "$dir/redis.log" "${load[@]}" "$@" &
    REDIS_PID=$!
    OPS_PIDS+=("$REDIS_PID")
    if ! ops_wait "redis-cli -p $REDIS_PORT PING | grep -q PONG" 100; then
        tail -20 "$dir/redis.log" >&2 || true
        ops_die "redis-server on port $REDIS_PORT did not start"
    fi
}

# ops_start_exporter SCRIPT [exporter args...]: prometheus-redis-exporter scraping
# REDIS_PORT, listening on 127.0.0.1:EXPORTER_PORT; sets EXPORTER_PID.
ops_start_exporter() {
    local script=$1
    shift
    EXPORTER_PORT=$(ops_free_port)
    prometheus-redis-exporter -redis.addr "redis://127.0.0.1:$REDIS_PORT" \
        -web.listen-address "127.0.0.1:$EXPORTER_PORT" -script "$script" "$@" \
        >"$OPS_WORK/exporter-$EXPORTER_PORT.log" 2>&1 &
    EXPORTER_PID=$!
    OPS_PIDS+=("$EXPORTER_PID")
    if ! ops_wait "curl -sf http://127.0.0.1:$EXPORTER_PORT/" 100; then
        cat "$OPS_WORK/exporter-$EXPORTER_PORT.log" >&2 || true
        ops_die "prometheus-redis-exporter on port $EXPORTER_PORT did not start"
    fi
}

# The module to test: $SWARM_MODULE, or the build tree's swarm.so.
ops_module() {
    local root=$1
    local so=${SWARM_MODULE:-${SWARM_BUILD_DIR:-$root/build}/swarm.so}
    [ -f "$so" ] || ops_die "$so not found: build first (scripts/build.sh) or set SWARM_MODULE"
    echo "$so"
}
