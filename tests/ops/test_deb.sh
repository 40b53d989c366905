#!/usr/bin/env bash
# tests/ops/test_deb.sh -- the Debian package, built by the project's CMake (CPack DEB).
#
# Builds redis-swarm_<version>_<arch>.deb in $SWARM_DEB_BUILD_DIR (default build-deb/),
# inspects it with dpkg-deb (files, modes, control fields), installs it with apt, loads the
# installed /usr/lib/redis/modules/swarm.so into a redis-server running as the redis user
# (as Debian's service does) on a free loopback port, runs a smoke SWARM.ROUTE ADD +
# SWARM.PUBLISH, then removes and purges the package and checks nothing is left. Needs
# root (or sudo). Refuses to run when redis-swarm is already installed, so it never
# replaces a package it did not install; a run that fails purges what it installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$root/tests/ops/lib.sh"
ops_init deb
build=${SWARM_DEB_BUILD_DIR:-$root/build-deb}
pkg=redis-swarm
so=/usr/lib/redis/modules/swarm.so

failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
check() { # what command...
    local what=$1
    shift
    checks=$((checks + 1))
    "$@" >/dev/null 2>&1 || fail "$what"
}
installed() { dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; }

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv 'not-installed'; then
    ops_die "$pkg is already installed (or its config files remain): dpkg --purge $pkg first"
fi
we_installed=
ops_extra_cleanup() {
    if [ -n "$we_installed" ] && dpkg-query -W "$pkg" >/dev/null 2>&1; then
        as_root dpkg --purge "$pkg" >/dev/null 2>&1 || true
    fi
}

# ---- Build ----
ops_log "building the package in $build"
cmake -S "$root" -B "$build" -DSWARM_TESTS=OFF >"$OPS_WORK/cmake.log" 2>&1 ||
    { tail -20 "$OPS_WORK/cmake.log" >&2; ops_die "cmake configure failed"; }
cmake --build "$build" -j2 >>"$OPS_WORK/cmake.log" 2>&1 ||
    { tail -20 "$OPS_WORK/cmake.log" >&2; ops_die "build failed"; }
rm -f "$build"/${pkg}_*.deb
(cd "$build" && cpack -G DEB) >>"$OPS_WORK/cmake.log" 2>&1 ||
    { tail -20 "$OPS_WORK/cmake.log" >&2; ops_die "cpack failed"; }
version=$(sed -n 's/^project(swarm VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
deb=$build/${pkg}_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || ops_die "$deb was not built"

# ---- Contents ----
dpkg-deb -c "$deb" >"$OPS_WORK/contents"
has() { grep -qE "^$1 +root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$2\$" "$OPS_WORK/contents"; }
# redis-server 7.0 refuses to load a module file without an execute bit.
check "swarm.so at $so, mode 0755" has -rwxr-xr-x "${so#/}"
for f in prometheus/swarm.lua prometheus/relabel.yml prometheus/alerts.yml; do
    check "/usr/share/$pkg/$f" has -rw-r--r-- "usr/share/$pkg/$f"
done
for f in copyright README.md operations.md commands.md getting-started.md; do
    check "/usr/share/doc/$pkg/$f" has -rw-r--r-- "usr/share/doc/$pkg/$f"
done
check "nothing outside /usr/lib/redis/modules and /usr/share" \
    test -z "$(awk '{ print $NF }' "$OPS_WORK/contents" |
        grep -vE '^\./(usr/?|usr/lib/?|usr/lib/redis/?|usr/lib/redis/modules/.*|usr/share/?|usr/share/doc/?|usr/share/(doc/)?redis-swarm(/.*)?)$')"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./${so#/}" >"$OPS_WORK/swarm.so"
check "swarm.so is an ELF shared object" grep -q 'DYN' <(readelf -h "$OPS_WORK/swarm.so")
check "swarm.so is stripped" test -z "$(readelf -S "$OPS_WORK/swarm.so" | grep -E '\.debug_|\.symtab')"
check "swarm.so exports RedisModule_OnLoad" grep -q ' RedisModule_OnLoad$' <(readelf --dyn-syms -W "$OPS_WORK/swarm.so")
check "copyright carries the BSD-3-Clause LICENSE text" \
    bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/share/doc/$pkg/copyright |
        grep -q '^License: BSD-3-Clause' &&
        dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/share/doc/$pkg/copyright |
        grep -qF ' 3. Neither the name of the copyright holder nor the names of its'"

# ---- Control fields ----
field() { dpkg-deb -f "$deb" "$1"; }
check "Package" test "$(field Package)" = "$pkg"
check "Version" test "$(field Version)" = "$version"
check "Architecture" test "$(field Architecture)" = "$(dpkg --print-architecture)"
depends=$(field Depends)
for d in 'redis-server (>= 5:7.0)' 'redis-server (<< 5:7.1~)' 'libpcre2-8-0' 'libxxhash0'; do
    check "Depends has $d" grep -qF "$d" <<<"$depends"
done
redis_version=$(dpkg-query -W -f='${Version}' redis-server)
check "installed redis-server $redis_version is in range" \
    bash -c "dpkg --compare-versions '$redis_version' ge 5:7.0 &&
        dpkg --compare-versions '$redis_version' lt 5:7.1~"
check "7.2 is out of range" dpkg --compare-versions 5:7.2.4-1 ge 5:7.1~

# ---- Install, load, smoke ----
we_installed=1
as_root apt-get install -y -q --no-install-recommends "$deb" >"$OPS_WORK/apt.log" 2>&1 ||
    { tail -20 "$OPS_WORK/apt.log" >&2; ops_die "apt-get install $deb failed"; }
check "dpkg says installed" installed
check "$so installed" test -f "$so"
check "dpkg -L lists $so" grep -qx "$so" <(dpkg -L "$pkg")

user=
id redis >/dev/null 2>&1 && user=redis
OPS_REDIS_USER=$user ops_start_redis "$so"
cli() { redis-cli -p "$REDIS_PORT" "$@"; }
check "running as ${user:-$(id -un)}" test "$(ps -o user= -p "$REDIS_PID")" = "${user:-$(id -un)}"
check "MODULE LIST shows swarm" grep -qx swarm <(cli MODULE LIST)
check "SWARM.ROUTE ADD" test "$(cli SWARM.ROUTE ADD swarm:smoke 'task.>' stream:smoke:log)" = 1
reply=$(cli SWARM.PUBLISH swarm:smoke task.done '{"ok":true}' | paste -sd' ')
check "SWARM.PUBLISH delivered to the stream ($reply)" grep -qE '^[0-9]+-0 stream:smoke:log 0  0$' <<<"$reply" # id, target, receivers, no lost target, not a duplicate
check "the stream entry holds the payload" \
    grep -qx '{"ok":true}' <(cli XRANGE smoke:log - + | sed -n '/^payload$/{n;p}')
check "SWARM.STATS lists the table" grep -qx swarm:smoke <(cli SWARM.STATS 0)
cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true

# ---- Remove, purge ----
as_root dpkg -r "$pkg" >"$OPS_WORK/remove.log" 2>&1 || { cat "$OPS_WORK/remove.log" >&2; fail "dpkg -r"; }
check "$so gone after dpkg -r" test ! -e "$so"
check "/usr/share/$pkg gone" test ! -e "/usr/share/$pkg"
as_root dpkg --purge "$pkg" >>"$OPS_WORK/remove.log" 2>&1 || fail "dpkg --purge"
check "dpkg knows nothing of $pkg after purge" \
    bash -c "! dpkg-query -W -f='\${Status}' $pkg 2>/dev/null | grep -qv not-installed"
check "/usr/share/doc/$pkg gone" test ! -e "/usr/share/doc/$pkg"
we_installed=

if [ "$failures" -ne 0 ]; then
    echo "test_deb: $failures of $checks checks failed (logs: $OPS_WORK)" >&2
    # shellcheck disable=SC2034 # read by ops_cleanup in lib.sh
    OPS_KEEP=1
    exit 1
fi
echo "test_deb: all $checks checks passed ($deb)"
