#!/usr/bin/python3
"""bench/failover.py -- what an acknowledged publish survives in a Sentinel failover.

    /usr/bin/python3 bench/failover.py [--kills N] [--writers W] [--settle SECONDS]

Starts 3 data nodes with swarm.so (1 master, 2 replicas) and 3 sentinels on free
127.0.0.1 ports, runs W writers (default 4) and one consumer-group reader per mode (no WAIT, no WAIT
with MSGID, replicas=1, replicas=2, replicas=2 with MSGID) while the master is killed
(kill -9) N times (default 10), and prints a markdown table per mode: acknowledged
messages, lost, duplicate entries, redeliveries, reissued ids, retries. The method is
described in clients/python/tests/failover_harness.py and docs/operations.md. Every
process it starts is stopped by pid when it ends, however it ends.

Environment: SWARM_MODULE (default build/swarm.so), REDIS_SERVER (default redis-server),
REDIS_SENTINEL (default redis-sentinel, else "$REDIS_SERVER --sentinel"). Needs Debian's
python3-redis for /usr/bin/python3.
"""

import argparse
import os
import shlex
import signal
import sys
import time
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(root / "clients" / "python" / "src"),
                str(root / "clients" / "python" / "tests")]

from failover_harness import Cluster, run_experiment, table  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--writers", type=int, default=4, help="writers per mode")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds of writing before the first kill and after each recovery")
    args = ap.parse_args()
    # a SIGTERM ends the run through the finally below, which stops every process
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    module = os.environ.get("SWARM_MODULE", str(root / "build" / "swarm.so"))
    if not os.path.exists(module):
        print(f"failover: {module} not built (scripts/build.sh)", file=sys.stderr)
        return 1
    sentinel = os.environ.get("REDIS_SENTINEL")
    cluster = Cluster(module, os.environ.get("REDIS_SERVER", "redis-server"),
                      shlex.split(sentinel) if sentinel else None,
                      log=lambda line: print(line, flush=True))
    t0 = time.monotonic()
    ok = False
    try:
        cluster.start()
        results = run_experiment(cluster, args.kills, settle=args.settle,
                                 writers_per_mode=args.writers)
        ok = True
    finally:
        cluster.stop(keep_dir=not ok)
        if not ok:
            print(f"failover: logs kept in {cluster.dir}", file=sys.stderr)
    print()
    print(table(results, args.kills, args.writers))
    print(f"\nunplanned failovers (made by the sentinels without a kill): {cluster.unplanned}")
    print(f"\n({time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
