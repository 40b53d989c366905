#!/usr/bin/env bash
# Installs what is missing, builds swarm with warnings as errors and runs every test: the
# cmocka unit tests of the core and the integration tests against real redis-server
# processes on free loopback ports. SWARM_SANITIZER=address|undefined builds the core and
# the unit tests with that sanitizer in a separate build directory as well.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
SWARM_BUILD_DIR=$root/build "$root/scripts/build.sh" -DSWARM_TESTS=ON -DSWARM_WERROR=ON
status=0
ctest --test-dir "$root/build" -j2 --output-on-failure --timeout 600 || status=$?
if [ -n "${SWARM_SANITIZER:-}" ]; then
    SWARM_BUILD_DIR=$root/build-$SWARM_SANITIZER "$root/scripts/build.sh" -DSWARM_TESTS=ON \
        -DSWARM_SANITIZER="$SWARM_SANITIZER"
    ctest --test-dir "$root/build-$SWARM_SANITIZER" -L unit -j2 --output-on-failure || status=$?
fi
exit $status
