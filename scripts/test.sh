#!/usr/bin/env bash
# Installs what is missing, builds swarm with warnings as errors and runs every test:
#   0. clang-format --dry-run --Werror over module/ include/ tests/ bench/*.c (the root
#      .clang-format), listing every file that is not formatted;
#   1. the cmocka unit tests of the core and the integration tests against real
#      redis-server processes on free loopback ports (ctest, build/);
#   1b. the integration tests again against every server folder in $SWARM_SERVERS (space- or
#      colon-separated folders holding redis-server and redis-cli; .ci/run fills it from
#      ../shared/servers), one ctest run per server with the same build; skipped, and said
#      so, when SWARM_SERVERS is empty;
#   2. everything again with AddressSanitizer + UBSan (build-asan/): the unit tests, and the
#      integration tests with the sanitized swarm.so in redis-server (scripts/redis-server-asan.sh);
#   3. Release builds with gcc and clang, warnings as errors (scripts/build-matrix.sh);
#   4. a short libFuzzer run of every target in tests/fuzz (build-fuzz/; SWARM_FUZZ_SECONDS
#      per target, default 10; 0 skips the stage), after replaying tests/fuzz/regressions;
#   5. the Node and Python client libraries and the examples (scripts/test-clients.sh);
#   6. operations: redis_exporter with the Prometheus script, the Prometheus rules, and the
#      Debian package built, installed, loaded and removed (tests/ops/).
# Exits non-zero when anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== clang-format --dry-run --Werror"
unformatted=()
while IFS= read -r f; do
    clang-format --dry-run --Werror "$root/$f" >/dev/null 2>&1 || unformatted+=("$f")
done < <(cd "$root" && find module include tests -name '*.[ch]' -not -path '*/build*' | sort &&
    find bench -maxdepth 1 -name '*.c' | sort)
if [ ${#unformatted[@]} -eq 0 ]; then
    echo "100% tests passed, 0 tests failed out of 1" >>"$log"
else
    printf 'not formatted (clang-format -i FILE): %s\n' "${unformatted[@]}"
    echo "0% tests passed, 1 tests failed out of 1" >>"$log"
    status=1
fi

echo "== build and run unit + integration tests"
SWARM_BUILD_DIR=$root/build "$root/scripts/build.sh" -DSWARM_TESTS=ON -DSWARM_WERROR=ON
ctest --test-dir "$root/build" -j2 --output-on-failure --timeout 600 2>&1 | tee -a "$log" ||
    status=1

# The same integration tests against each server of the matrix: the harness runs
# $SWARM_REDIS_SERVER when it is set, so one build serves every server.
if [ -z "${SWARM_SERVERS:-}" ]; then
    echo "== server matrix: SKIPPED (SWARM_SERVERS is empty: integration tests ran only on" \
        "the redis-server found at configure time)"
else
    echo "== integration tests against each server in SWARM_SERVERS"
    matrix=()
    for dir in ${SWARM_SERVERS//:/ }; do
        dir=${dir%/}
        if [ ! -x "$dir/redis-server" ] || [ ! -x "$dir/redis-cli" ]; then
            echo "-- $dir: no redis-server and redis-cli there"
            echo "0% tests passed, 1 tests failed out of 1" >>"$log"
            matrix+=("$dir: missing")
            status=1
            continue
        fi
        version=$("$dir/redis-server" --version | grep -Eo 'v=[^ ]+')
        echo "-- $dir ($version)"
        # The chaos test's fixed cases run on every server; its random seeds get 5 s here
        # (30 s in the stock run above) to keep the whole run well inside its budget.
        out=$(SWARM_CHAOS_SECONDS=5 SWARM_REDIS_SERVER="$dir/redis-server" ctest --test-dir "$root/build" \
            -L integration -j2 --output-on-failure --timeout 600 2>&1) || status=1
        echo "$out"
        line=$(echo "$out" | grep -E 'tests passed, [0-9]+ tests failed out of' ||
            echo "0% tests passed, 1 tests failed out of 1")
        echo "$line" >>"$log"
        failed_tests=$(echo "$out" | sed -n 's/^[[:space:]]*[0-9]* - integration\.\([^ ]*\) .*/\1/p' |
            paste -sd ' ')
        matrix+=("$(basename "$dir") ($version): $line${failed_tests:+; failed: $failed_tests}")
    done
    echo "== server matrix"
    printf '  %s\n' "${matrix[@]}"
fi

echo "== unit and integration tests under AddressSanitizer + UBSan"
SWARM_BUILD_DIR=$root/build-asan "$root/scripts/build.sh" -DSWARM_TESTS=ON \
    -DSWARM_SANITIZER=address -DREDIS_SERVER="$root/scripts/redis-server-asan.sh"
ASAN_OPTIONS=detect_leaks=1 SWARM_CHAOS_SECONDS=10 ctest --test-dir "$root/build-asan" -j2 --output-on-failure \
    --timeout 600 2>&1 | tee -a "$log" || status=1

# One stage result line in ctest's words, so the closing summary can add them up.
stage() { # stage <name> <command...>
    local name=$1
    shift
    if "$@"; then
        echo "100% tests passed, 0 tests failed out of 1" >>"$log"
    else
        echo "stage failed: $name"
        echo "0% tests passed, 1 tests failed out of 1" >>"$log"
        status=1
    fi
}

echo "== Release builds with gcc and clang (warnings as errors)"
stage build-matrix "$root/scripts/build-matrix.sh"

fuzz_one() { # fuzz_one <target> <corpus-dir> [libFuzzer flags...]
    local target=$1 seeds=$2
    shift 2
    local bin="$root/build-fuzz/tests/fuzz/$target" work rc=0
    work=$(mktemp -d)
    # Inputs that once crashed a target are replayed first: each must pass now.
    if [ -d "$root/tests/fuzz/regressions/${target#fuzz_}" ]; then
        "$bin" "$root/tests/fuzz/regressions/${target#fuzz_}"/* >"$work/log" 2>&1 || rc=1
    fi
    # A crashing input is written to the work folder and printed (base64) in the log.
    if [ $rc = 0 ] && "$bin" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$work/" "$@" "$work" \
        "$seeds" >"$work/log" 2>&1; then
        echo "$target: $(grep -E '^stat::number_of_executed_units' "$work/log")"
    else
        rc=1
        tail -40 "$work/log"
    fi
    rm -rf "$work"
    return $rc
}

seconds=${SWARM_FUZZ_SECONDS:-10}
if [ "$seconds" != 0 ]; then
    echo "== libFuzzer, ${seconds}s per target"
    fuzz_build() {
        CC=clang SWARM_BUILD_DIR=$root/build-fuzz "$root/scripts/build.sh" -DSWARM_FUZZ=ON \
            -DSWARM_TESTS=OFF
    }
    stage fuzz-build fuzz_build
    for t in "$root"/build-fuzz/tests/fuzz/fuzz_*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        name=$(basename "$t")
        dict=()
        [ -f "$root/tests/fuzz/${name#fuzz_}.dict" ] && dict=(-dict="$root/tests/fuzz/${name#fuzz_}.dict")
        stage "$name" fuzz_one "$name" "$root/tests/fuzz/corpus/${name#fuzz_}" -max_len=8192 \
            "${dict[@]}"
    done
fi

echo "== client libraries (Node, Python)"
out=$(SWARM_MODULE="$root/build/swarm.so" "$root/scripts/test-clients.sh" 2>&1) || status=1
echo "$out"
read -r cp cf < <(echo "$out" | sed -n 's/^clients: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p') || true
cp=${cp:-0}
cf=${cf:-1}
echo "$((cp * 100 / (cp + cf)))% tests passed, $cf tests failed out of $((cp + cf))" >>"$log"

echo "== operations: redis_exporter, Prometheus rules, Debian package"
for t in test_exporter test_prometheus test_deb; do
    stage "$t" "$root/tests/ops/$t.sh"
done

# One closing line over every stage: ctest's per-stage counts, summed.
total=$(grep -Eo 'tests failed out of [0-9]+' "$log" | awk '{s += $5} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ tests failed out of' "$log" | awk '{s += $1} END {print s + 0}')
[ "$total" -gt 0 ] || status=1
echo "swarm: $((total - failed)) passed, $failed failed"
exit $status
