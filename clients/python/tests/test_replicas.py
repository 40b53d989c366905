"""replicas= on every write against a real master and replica: publish and the snapshot writes
say how many replicas acknowledged, sync and asyncio; asking for more replicas than exist
answers with the count that did; errors keep their class; pipelines are refused."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator, Tuple

import pytest
import redis.asyncio as aioredis

from conftest import Server, start_server, stop_server, wait_for
from swarm_redis import NoSwarmError, Swarm, Version
from swarm_redis.aio import AsyncSwarm


@pytest.fixture(scope="module")
def pair() -> Iterator[Tuple[Server, Server]]:
    master = start_server(["--repl-diskless-sync-delay", "0"])
    replica = None
    try:
        replica = start_server(["--replicaof", "127.0.0.1", str(master.port)])
        r = master.client()
        wait_for(lambda: r.info("replication").get("connected_slaves") == 1 and
                 replica is not None and
                 replica.client().info("replication").get("master_link_status") == "up",
                 "the replica to connect")
        yield master, replica
    finally:
        if replica is not None:
            stop_server(replica)
        stop_server(master)


def test_replicas_sync(pair: Tuple[Server, Server], prefix: str) -> None:
    master, replica = pair
    sw = Swarm(master.client())
    key, doc = prefix + "swarm:rep", prefix + "state"
    sw.route.add(key, "job.*", f"stream:{prefix}rep:log")
    res = sw.publish(key, "job.a", {"n": 1}, msgid="r-1", replicas=1, replicas_timeout_ms=10000)
    assert (res.replicas, res.delivered, res.duplicate) == (1, [f"stream:{prefix}rep:log"], False)
    # acknowledged by the replica: it holds the entry now, no polling needed
    assert replica.client().xlen(f"{prefix}rep:log") == 1
    assert sw.publish(key, "job.a", {"n": 1}).replicas is None
    v = sw.snapshot.save(doc, {"a": 1}, replicas=1, replicas_timeout_ms=10000)
    assert isinstance(v, Version) and (v, v.replicas) == (1, 1)
    assert sw.snapshot.save(doc, {"a": 2}).replicas is None
    p = sw.snapshot.patch(doc, {"b": 2}, replicas=1, replicas_timeout_ms=10000)
    assert (p, p.replicas) == (3, 1)
    e = sw.snapshot.edit(doc, [{"op": "incr", "path": "/a", "value": 5}], replicas=1,
                         replicas_timeout_ms=10000)
    assert (e.version, e.incr, e.replicas) == (4, [7], 1)
    back = sw.snapshot.restore(doc, 1, replicas=1, replicas_timeout_ms=10000)
    assert (back, back.replicas) == (5, 1)
    assert replica.client().execute_command("SWARM.SNAPSHOT", "GET", doc) == '{"a":1}'
    # two asked, one exists: WAIT gives up after the timeout and says 1
    res = sw.publish(key, "job.b", {}, replicas=2, replicas_timeout_ms=50)
    assert res.replicas == 1
    with pytest.raises(NoSwarmError):
        sw.publish(prefix + "nothing", "job.a", {}, replicas=1, replicas_timeout_ms=1000)
    with pytest.raises(TypeError):
        Swarm(master.client().pipeline()).publish(key, "job.a", {}, replicas=1)


def test_replicas_async(pair: Tuple[Server, Server], prefix: str) -> None:
    master, replica = pair

    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=master.port)
        sw = AsyncSwarm(r)
        key = prefix + "swarm:arep"
        await sw.route.add(key, "job.*", f"stream:{prefix}arep:log")
        res = await sw.publish(key, "job.a", {}, replicas=1, replicas_timeout_ms=10000)
        assert res.replicas == 1 and res.delivered == [f"stream:{prefix}arep:log"]
        v = await sw.snapshot.save(prefix + "astate", [1], replicas=1,
                                   replicas_timeout_ms=10000)
        assert (v, v.replicas) == (1, 1)
        with pytest.raises(NoSwarmError):
            await sw.publish(prefix + "none", "job.a", {}, replicas=1)
        await r.close()
    asyncio.run(main())
    assert replica.client().xlen(f"{prefix}arep:log") == 1
