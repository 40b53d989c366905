"""The short Sentinel failover run (2 kills of the master; bench/failover.py runs more and
prints the table): 1 master and 2 replicas with the module, 3 sentinels, writers in every
mode. Every write that waited for all replicas survives; with MSGID a writer retrying after
a failover delivers each message once; no message id is reissued for another message."""

from __future__ import annotations

from typing import Any

from conftest import MODULE, REDIS_SERVER
from failover_harness import Cluster, run_experiment, table


def test_failover_short(capsys: Any) -> None:
    cluster = Cluster(MODULE, REDIS_SERVER)
    try:
        cluster.start()
        results = run_experiment(cluster, kills=2)
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
