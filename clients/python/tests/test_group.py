"""The command group on every client shape: pipelines (sync and asyncio, transactions or
not) with decoded replies, r.swarm() on the swarm_redis client classes, a server without
the module (ModuleMissingError), and WAIT: blocking time 0, cancellation, interruption."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, List

import pytest
import redis
import redis.asyncio as aioredis

import swarm_redis
import swarm_redis.aio
from conftest import Server, start_server, stop_server
from swarm_redis import (
    ConflictError, EditResult, ModuleMissingError, PublishResult, Swarm, Versioned, convert_error,
)
from swarm_redis.aio import AsyncSwarm


def _setup(server: Server, prefix: str) -> str:
    key = prefix + "swarm:pipe"
    Swarm(server.client()).route.add(key, "job.>", f"stream:{prefix}pipe:s")
    return key


@pytest.mark.parametrize("transaction", [True, False])
@pytest.mark.parametrize("decode", [True, False])
def test_pipeline_sync(server: Server, prefix: str, transaction: bool, decode: bool) -> None:
    key = _setup(server, prefix)
    r = server.client(decode_responses=decode)
    pipe = r.pipeline(transaction=transaction)
    sw = Swarm(pipe)
    sw.publish(key, "job.a", {"n": 1})
    sw.snapshot.save(prefix + "doc", {"n": 0})
    sw.snapshot.edit(prefix + "doc", [{"op": "incr", "path": "/n", "value": 2}])
    sw.snapshot.get_with_version(prefix + "doc")
    sw.route.stats(key)
    sw.call("XLEN", f"{prefix}pipe:s")
    pub, saved, edited, got, stats, xlen = pipe.execute()
    assert isinstance(pub, PublishResult) and pub.delivered == [f"stream:{prefix}pipe:s"]
    assert pub.duplicate is False
    assert saved == 1 and edited == EditResult(2, [2])
    assert got == Versioned(2, {"n": 2})
    assert stats.published == 1 and xlen == 1
    # The client the pipeline came from decodes the same way afterwards.
    assert Swarm(r).snapshot.get(prefix + "doc") == {"n": 2}
    # An error inside a pipeline comes out of execute() as redis-py raises it.
    sw.snapshot.save(prefix + "doc", {}, if_version=1)
    with pytest.raises(redis.ResponseError) as info:
        pipe.execute()
    assert isinstance(convert_error(info.value), ConflictError)
    r.close()


def test_swarm_method_on_client_and_pipeline(server: Server, prefix: str) -> None:
    key = _setup(server, prefix)
    r = swarm_redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
    assert r.swarm().publish(key, "job.b", {}).delivered == [f"stream:{prefix}pipe:s"]
    with r.pipeline() as pipe:
        pipe.swarm().route.match(key, "job.b")
        pipe.swarm().snapshot.get_text(prefix + "none")
        assert pipe.execute() == [[f"stream:{prefix}pipe:s"], None]
    r.close()


@pytest.mark.parametrize("transaction", [True, False])
def test_pipeline_async(server: Server, prefix: str, transaction: bool) -> None:
    key = _setup(server, prefix)

    async def main() -> None:
        r = swarm_redis.aio.Redis(host="127.0.0.1", port=server.port)
        async with r.pipeline(transaction=transaction) as pipe:
            sw = pipe.swarm()
            await sw.publish(key, "job.c", [1])
            await sw.snapshot.save(prefix + "adoc", {"a": 1})
            await sw.route.list(key)
            pub, saved, routes = await pipe.execute()
        assert isinstance(pub, PublishResult) and saved == 1
        assert [x.target for x in routes] == [f"stream:{prefix}pipe:s"]
        async with r.pipeline(transaction=transaction) as pipe:
            sw2 = AsyncSwarm(pipe)
            await sw2.snapshot.get(prefix + "adoc")
            assert await pipe.execute() == [{"a": 1}]
        assert await r.swarm().snapshot.get(prefix + "adoc") == {"a": 1}
        await r.close()
    asyncio.run(main())


def test_module_missing() -> None:
    s = start_server(module=False)
    try:
        r = s.client()
        with pytest.raises(ModuleMissingError) as info:
            Swarm(r).publish("swarm:x", "a.b", {})
        e = info.value
        assert e.command == "SWARM.PUBLISH" and e.server == f"127.0.0.1:{s.port}"
        assert str(e).startswith(f"ERR the swarm module is not loaded on 127.0.0.1:{s.port}")

        async def main() -> None:
            ar = aioredis.Redis(host="127.0.0.1", port=s.port)
            with pytest.raises(ModuleMissingError):
                await AsyncSwarm(ar).snapshot.wait("k", 0, 10)
            await ar.close()
        asyncio.run(main())
        r.close()
    finally:
        stop_server(s)


def test_wait_zero_is_forever_and_interruptible(server: Server, prefix: str) -> None:
    r = server.client(max_connections=4)
    sw = Swarm(r)
    key = prefix + "w0"
    sw.snapshot.save(key, 1)
    got: List[Any] = []
    t = threading.Thread(target=lambda: got.append(sw.snapshot.wait(key, 1, 0)))
    t.start()
    ctl = server.client()
    deadline = time.monotonic() + 10
    while int(ctl.info("clients")["blocked_clients"]) < 1:
        assert time.monotonic() < deadline, "WAIT never blocked"
        time.sleep(0.01)
    assert t.is_alive()  # 0 does not mean "do not block"
    sw.snapshot.save(key, 2)
    t.join(10)
    assert got == [2]
    ctl.close()
    r.close()


def test_async_wait_cancelled_frees_the_client(server: Server, prefix: str) -> None:
    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=server.port, max_connections=2)
        sw = AsyncSwarm(r)
        key = prefix + "wc"
        await sw.snapshot.save(key, 1)
        for _ in range(3):  # more than max_connections: cancelled WAITs give theirs back
            task = asyncio.ensure_future(sw.snapshot.wait(key, 1, 0))
            while int((await r.info("clients"))["blocked_clients"]) < 1:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            while int((await r.info("clients"))["blocked_clients"]) > 0:
                await asyncio.sleep(0.01)
        # No reply of the cancelled WAITs is left on a pooled connection.
        assert await sw.snapshot.save(key, 2) == 2
        assert await sw.snapshot.get(key) == 2
        assert await sw.snapshot.wait(key, 1, 0) == 2
        await r.close()
    asyncio.run(asyncio.wait_for(main(), 30))
