#!/usr/bin/env bash
# Tests the client libraries against a built module (SWARM_MODULE, default build/swarm.so):
#   1. clients/node: npm ci (from the committed lockfile; its prepare script builds the
#      package), tsc over the tests, node --test over the compiled tests (node-redis 5
#      RESP2/RESP3, node-redis 4, ioredis; a server restart; the examples; the snippets of
#      docs/getting-started.md; the npm pack tarball installed outside the repository).
#   2. clients/python: mypy --strict over the client, its tests and examples/python, then
#      pytest with /usr/bin/python3 (Debian's python3-redis, python3-pytest, python3-mypy;
#      the wheel test needs python3-pip, python3-venv, python3-setuptools, python3-wheel).
#      Its test_interop.py drives the Node client built in stage 1 (tests/interop_peer.mjs)
#      against the Python client: request/reply both ways, each decoding the other's messages.
# Each test file starts its own redis-server on a free 127.0.0.1 port and stops it by pid.
# Prints "clients: <n> passed, <m> failed" and exits non-zero when anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export SWARM_MODULE=${SWARM_MODULE:-$root/build/swarm.so}
python=${SWARM_PYTHON:-/usr/bin/python3}
[ -f "$SWARM_MODULE" ] || { echo "test-clients: $SWARM_MODULE not built (scripts/build.sh)" >&2; exit 1; }

status=0
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== clients/node: npm ci (builds), tsc, node --test"
node_start=$SECONDS
(cd "$root/clients/node" && npm ci --no-audit --no-fund --loglevel=error &&
    npx tsc -p tsconfig.test.json)
if (cd "$root/clients/node" && node --test --test-concurrency=3 --test-reporter=tap dist-test/*.test.js) >"$log" 2>&1; then :; else status=1; fi
grep -E '^# (tests|pass|fail|skipped)' "$log" || true
grep -E '^\s*not ok' "$log" && tail -60 "$log" || true
p=$(awk '/^# pass /{print $3}' "$log"); f=$(awk '/^# fail /{print $3}' "$log")
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
echo "clients/node: $((SECONDS - node_start)) s"

echo "== clients/python: mypy --strict, pytest ($python)"
py_start=$(date +%s)
if (cd "$root/clients/python" && MYPYPATH=src:tests "$python" -m mypy --cache-dir=/dev/null \
    src tests ../../examples/python); then
    passed=$((passed + 1))
else
    status=1; failed=$((failed + 1))
fi
if (cd "$root/clients/python" && SWARM_INTEROP=1 "$python" -m pytest -q -p no:cacheprovider) >"$log" 2>&1; then :; else status=1; fi
tail -25 "$log"
p=$( (grep -Eo '[0-9]+ passed' "$log" || true) | tail -1 | awk '{print $1}')
f=$( (grep -Eo '[0-9]+ (failed|error)' "$log" || true) | awk '{s += $1} END {print s + 0}')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
[ -n "$p" ] || status=1
echo "clients/python: $(($(date +%s) - py_start)) s"

# clients/langgraph: npm ci, tsc, vitest: LangGraph's checkpoint validation suite over node-redis
# and ioredis, the saver's tests, examples/langgraph (its own npm ci), the npm pack install test.
# Skipped or todo cases count as failed, a failed install or build as one.
echo "== clients/langgraph: npm ci, tsc, vitest (LangGraph's checkpoint validation suite, example, npm pack)"
lg_start=$(date +%s)
lgjson=$(mktemp)
if [ -f "$root/clients/node/dist/index.js" ] || (cd "$root/clients/node" && npm ci --no-audit --no-fund --loglevel=error &&
    npm run --silent build); then :; else status=1; fi
lgbuild=0
(cd "$root/clients/langgraph" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error && npm run --silent build) ||
    lgbuild=1
(cd "$root/examples/langgraph" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) || lgbuild=1
[ "$lgbuild" = 0 ] || { status=1; failed=$((failed + 1)); echo "clients/langgraph: install or build failed"; }
if (cd "$root/clients/langgraph" && npx vitest run --reporter=default --reporter=json --outputFile="$lgjson") >"$log" 2>&1; then :; else status=1; fi
grep -E 'Tests |Test Files |FAIL' "$log" | sed 's/\x1b\[[0-9;]*m//g' || true
counts=$(node -e 'try { const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.numPassedTests, r.numFailedTests + r.numPendingTests + r.numTodoTests) } catch { console.log("0 1") }' "$lgjson")
p=${counts% *}; f=${counts#* }
[ "$f" = 0 ] && [ "$p" -gt 0 ] || { status=1; tail -60 "$log"; }
passed=$((passed + p)); failed=$((failed + f))
rm -f "$lgjson"
echo "clients/langgraph: $(($(date +%s) - lg_start)) s"

echo "clients: $passed passed, $failed failed"
exit $status
