#!/usr/bin/env bash
# Installs what swarm needs on Debian 12 and fetches redismodule.h from Debian's `redis`
# source package matching the installed redis-server. Idempotent: a second run that finds
# everything in place touches nothing and takes well under a second.
#
# SWARM_REDISMODULE_H=/path/to/redismodule.h skips the download and uses that header.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
hdr_dir="$root/.deps/include"

pkgs=(redis-server redis-tools cmake make gcc clang clang-format pkg-config ca-certificates
      libpcre2-dev libcjson-dev libcmocka-dev libhiredis-dev libxxhash-dev
      libclang-rt-14-dev valgrind
      python3 python3-redis python3-pytest python3-mypy python3-pip python3-venv
      python3-setuptools python3-wheel dpkg-dev file binutils
      redis-sentinel)
# Node.js for the TypeScript client: Debian's nodejs and npm, unless a Node.js with npm is
# already installed (NodeSource's nodejs ships its own npm and conflicts with Debian's).
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -q
    # Debian starts redis-server on 6379 as a service after install; the quick start wants
    # that port for its own server, so keep package scripts from starting services.
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
    as_root rm -f /usr/sbin/policy-rc.d
fi

if [ -n "${SWARM_REDISMODULE_H:-}" ]; then
    [ -f "$SWARM_REDISMODULE_H" ] || { echo "setup: $SWARM_REDISMODULE_H not found" >&2; exit 1; }
    mkdir -p "$hdr_dir"
    cp "$SWARM_REDISMODULE_H" "$hdr_dir/redismodule.h"
    echo "user-supplied" > "$hdr_dir/.version"
    exit 0
fi

version=$(dpkg-query -W -f='${Version}' redis-server)
stamp="$hdr_dir/.version"
# A header the user supplied stays until they remove .deps/ (or supply another).
if [ -f "$hdr_dir/redismodule.h" ] &&
    { [ "$(cat "$stamp" 2>/dev/null)" = "$version" ] || [ "$(cat "$stamp" 2>/dev/null)" = "user-supplied" ]; }; then
    exit 0
fi

# apt-get source needs a deb-src entry; derive one from the existing deb entries.
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup: adding a deb-src entry for Debian's source packages"
    src=/etc/apt/sources.list.d/swarm-deb-src.sources
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | as_root tee "$src" >/dev/null
    else
        grep -hE '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
            as_root tee /etc/apt/sources.list.d/swarm-deb-src.list >/dev/null
    fi
    as_root apt-get update -q
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "setup: fetching redismodule.h from Debian's redis $version source package"
(cd "$work" && apt-get source --download-only -q "redis=$version" >/dev/null)
orig=$(ls "$work"/redis_*.orig.tar.* | head -1)
tar -xf "$orig" -C "$work" --wildcards --no-anchored 'src/redismodule.h'
mkdir -p "$hdr_dir"
cp "$(find "$work" -path '*/src/redismodule.h' | head -1)" "$hdr_dir/redismodule.h"
echo "$version" > "$stamp"
echo "setup: $hdr_dir/redismodule.h ready"
