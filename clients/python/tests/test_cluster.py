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
        pipe = rc.pipeline()
        psw = Swarm(pipe)
        psw.publish("swarm:{ops}", "a.c", {})
        psw.snapshot.save("{ops}:doc", {"v": 1})
        pub, saved = pipe.execute()
        assert isinstance(pub, PublishResult) and saved == 1
        cons = csw.consumer("swarm:{ops}:log", "g", "c", block_ms=None)
        assert [m.type for m in cons.read()] == ["a.b", "a.c"]
        cons.close()
        rc.close()

        async def main() -> None:
            arc = redis.asyncio.RedisCluster(host="127.0.0.1", port=s.port)
            asw = AsyncSwarm(arc)
            assert await asw.snapshot.get("{ops}:doc") == {"v": 1}
            assert (await asw.publish("swarm:{ops}", "a.d", [])).receivers == 0
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
