#!/usr/bin/env bash
# Installs what is missing, builds swarm with warnings as errors and runs every test:
#   0. clang-format --dry-run --Werror over module/ include/ tests/ bench/*.c (the root
#      .clang-format), listing every file that is not formatted;
#   1. the cmocka unit tests of the core and the integration tests against real
#      redis-server processes on free loopback ports (ctest, build/);
#   2. everything again with AddressSanitizer + UBSan (build-asan/): the unit tests, and the
#      integration tests with the sanitized swarm.so in redis-server (scripts/redis-server-asan.sh);
#   3. a short libFuzzer run of the JSON validator against cJSON (build-fuzz/;
#      SWARM_FUZZ_SECONDS, default 20; 0 skips it).
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

echo "== unit and integration tests under AddressSanitizer + UBSan"
SWARM_BUILD_DIR=$root/build-asan "$root/scripts/build.sh" -DSWARM_TESTS=ON \
    -DSWARM_SANITIZER=address -DREDIS_SERVER="$root/scripts/redis-server-asan.sh"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir "$root/build-asan" -j2 --output-on-failure \
    --timeout 600 2>&1 | tee -a "$log" || status=1

seconds=${SWARM_FUZZ_SECONDS:-20}
if [ "$seconds" != 0 ]; then
    echo "== fuzz_json for ${seconds}s"
    CC=clang SWARM_BUILD_DIR=$root/build-fuzz "$root/scripts/build.sh" -DSWARM_FUZZ=ON \
        -DSWARM_TESTS=OFF
    corpus=$(mktemp -d)
    if "$root/build-fuzz/tests/fuzz/fuzz_json" -max_total_time="$seconds" -max_len=8192 \
        -dict="$root/tests/fuzz/json.dict" -print_final_stats=1 "$corpus" \
        "$root/tests/fuzz/corpus/json" >"$corpus.log" 2>&1; then
        grep -E '^stat::number_of_executed_units' "$corpus.log" || true
        echo "100% tests passed, 0 tests failed out of 1" >>"$log"
    else
        tail -40 "$corpus.log"
        echo "0% tests passed, 1 tests failed out of 1" >>"$log"
        status=1
    fi
    rm -rf "$corpus" "$corpus.log"
fi

# One closing line over every stage: ctest's per-stage counts, summed.
total=$(grep -Eo 'tests failed out of [0-9]+' "$log" | awk '{s += $5} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ tests failed out of' "$log" | awk '{s += $1} END {print s + 0}')
[ "$total" -gt 0 ] || status=1
echo "swarm: $((total - failed)) passed, $failed failed"
exit $status
