"""The short Sentinel failover run (2 kills of the master; bench/failover.py runs more and
prints the table): 1 master and 2 replicas with the module, 3 sentinels, writers in every
mode. Every write that waited for all replicas survives; with MSGID a writer retrying after
a failover delivers each message once (and a retry of a publish the old master had
acknowledged is answered as a duplicate by the new one); no message id is reissued."""

from __future__ import annotations

import time
from typing import Any

import redis

from conftest import MODULE, REDIS_SERVER
from failover_harness import SERVICE, Cluster, run_experiment, table
from swarm_redis import PublishResult, Swarm


def retry_after_failover(cluster: Cluster) -> None:
    """A publish acknowledged by both replicas, the master killed, the same publish retried
    (as a writer does whose answer was lost): answered as the original, appended once."""
    r = cluster.sentinel().master_for(SERVICE, socket_timeout=2.0, decode_responses=True)
    sw = Swarm(r)
    key, stream = "swarm:{once}", "swarm:{once}:log"
    sw.route.add(key, "job.*", f"stream:{stream}")
    first = sw.publish(key, "job.x", {"n": 1}, msgid="once-1", replicas=2,
                       replicas_timeout_ms=10000)
    assert first.replicas == 2 and not first.duplicate
    cluster.kill_master()
    deadline = time.monotonic() + 30
    again: PublishResult
    while True:
        try:
            again = sw.publish(key, "job.x", {"n": 1}, msgid="once-1")
            break
        except (redis.ConnectionError, redis.TimeoutError):
            assert time.monotonic() < deadline, "no master after the failover"
            time.sleep(0.05)
    assert (again.duplicate, again.id, again.delivered) == (True, first.id, [])
    entries = r.xrange(stream)
    assert [(f["id"], f["msgid"]) for _, f in entries] == [(first.id, "once-1")]
    r.close()


def test_failover_short(capsys: Any) -> None:
    cluster = Cluster(MODULE, REDIS_SERVER)
    try:
        cluster.start()
        results = run_experiment(cluster, kills=2)
        retry_after_failover(cluster)
    finally:
        cluster.stop()
    with capsys.disabled():
        print("\n" + table(results, 2))
    by = {r.mode.name: r for r in results}
    for r in results:
        assert r.acknowledged > 0, r
        assert r.reissued_ids == 0, r
    assert by["all (2 of 2)"].lost == 0
    assert by["all + msgid"].lost == 0
    assert by["all + msgid"].duplicate_entries == 0
    assert by["no wait + msgid"].duplicate_entries == 0
