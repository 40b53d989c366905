#!/usr/bin/env bash
# Quick start: installs what is missing, builds swarm.so and runs redis-server on
# 127.0.0.1:6379 (or $PORT) with the module loaded, in the foreground. Extra arguments are
# passed to redis-server, e.g. `scripts/run.sh --save ""`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" -DSWARM_TESTS=OFF
data=${SWARM_DATA_DIR:-$root/build/data}
mkdir -p "$data"
echo "swarm: redis-server on 127.0.0.1:${PORT:-6379} with $root/build/swarm.so (data in $data)"
exec redis-server --bind 127.0.0.1 --port "${PORT:-6379}" --dir "$data" \
    --loadmodule "$root/build/swarm.so" "$@"
