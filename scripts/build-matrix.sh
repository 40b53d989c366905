#!/usr/bin/env bash
# Builds swarm (core, module, unit and integration tests) with warnings as errors in every
# build type of SWARM_MATRIX_TYPES (default: Release) with gcc and with clang, each into
# build-<type>-<cc>/ (or under $SWARM_MATRIX_DIR). Builds only, runs nothing: a user's build
# has SWARM_WERROR off, this is where a new warning in an optimised build is caught.
# Exits non-zero when any build fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${SWARM_MATRIX_DIR:-$root}
types=${SWARM_MATRIX_TYPES:-Release}
status=0
for type in $types; do
    for cc in gcc clang; do
        build=$dir/build-$(echo "$type" | tr '[:upper:]' '[:lower:]')-$cc
        if CC=$cc cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="$type" -DSWARM_WERROR=ON \
            -DSWARM_TESTS=ON >/dev/null &&
            cmake --build "$build" -j2 -- -k >"$build/build-matrix.log" 2>&1; then
            echo "build-matrix: $type $cc ok"
        else
            grep -E 'error|warning' "$build/build-matrix.log" | head -20
            echo "build-matrix: $type $cc FAILED (log: $build/build-matrix.log)"
            status=1
        fi
    done
done
exit $status
