"""A real single-node cluster (all slots assigned to it): CROSSSLOT, and the command group
on redis.RedisCluster and its pipeline, sync and asyncio."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio

from conftest import start_server, stop_server, wait_for
from swarm_redis import CrossSlotError, PublishResult, Swarm, Versioned
from swarm_redis.aio import AsyncSwarm


def test_cluster() -> None:
    s = start_server(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"])
    try:
        r = s.client()
        r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_for(lambda: "cluster_state:ok" in r.execute_command("CLUSTER", "INFO"), "cluster ok")
        sw = Swarm(r)
        assert sw.route.add("swarm:{ops}", "a.>", "stream:swarm:{ops}:log") == 1
        with pytest.raises(CrossSlotError) as info:
            sw.route.add("swarm:{ops}", "a.>", "stream:elsewhere")
        assert info.value.code == "CROSSSLOT"
        r.close()

        rc = redis.RedisCluster(host="127.0.0.1", port=s.port, decode_responses=True)
        csw = Swarm(rc)
        res = csw.publish("swarm:{ops}", "a.b", {"n": 1})
        assert isinstance(res, PublishResult) and res.delivered == ["stream:swarm:{ops}:log"]
        assert [x.id for x in csw.route.list("swarm:{ops}")] == [1]
        # replicas= on the node of the key (a cluster of one node: no replica to wait for)
        waited = csw.publish("swarm:{ops}", "a.w", {}, replicas=0, replicas_timeout_ms=100)
        assert waited.replicas == 0 and waited.delivered == ["stream:swarm:{ops}:log"]
        with pytest.raises(TypeError):
            csw.request("swarm:{ops}", "a.q", {})
        pipe = rc.pipeline()
        psw = Swarm(pipe)
        psw.publish("swarm:{ops}", "a.c", {})
        psw.snapshot.save("{ops}:doc", {"v": 1})
        pub, saved = pipe.execute()
        assert isinstance(pub, PublishResult) and saved == 1
        # SWARM.STATS is keyless: stats_iter() walks every primary, a cursor is one node's
        assert [(k, st.routes) for k, st in csw.stats_iter(count=1)] == [("swarm:{ops}", 1)]
        with pytest.raises(TypeError):
            csw.stats_page(0)
        cons = csw.consumer("swarm:{ops}:log", "g", "c", block_ms=None)
        assert [m.type for m in cons.read()] == ["a.b", "a.w", "a.c"]
        cons.close()
        rc.close()

        async def main() -> None:
            arc = redis.asyncio.RedisCluster(host="127.0.0.1", port=s.port)
            asw = AsyncSwarm(arc)
            assert await asw.snapshot.get("{ops}:doc") == {"v": 1}
            assert (await asw.publish("swarm:{ops}", "a.d", [])).receivers == 0
            assert [k async for k, _ in asw.stats_iter()] == ["swarm:{ops}"]
            with pytest.raises(TypeError):
                await asw.publish("swarm:{ops}", "a.d", [], replicas=1)
            async with arc.pipeline() as pipe:
                psw = AsyncSwarm(pipe)
                await psw.publish("swarm:{ops}", "a.e", {})
                await psw.snapshot.get_with_version("{ops}:doc")
                pub, got = await pipe.execute()
            assert isinstance(pub, PublishResult) and got == Versioned(1, {"v": 1})
            await arc.close()
        asyncio.run(main())
    finally:
        stop_server(s)
