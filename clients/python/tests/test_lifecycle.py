"""Connections the helpers own: leaving a loop over a consumer closes its connection (sync
and asyncio), close() wakes a consumer blocked forever (block_ms=0) in another thread or
task, task cancellation of a consumer read and of a subscription get leaves nothing
behind, and Swarm.close() closes what it opened."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, AsyncGenerator, Iterator, List, cast

import redis.asyncio as aioredis

import pytest

from conftest import Server, start_server, stop_server, wait_for
from swarm_redis import Swarm
from swarm_redis.aio import AsyncSwarm


@pytest.fixture
def own_server() -> Iterator[Server]:
    """A server of this test's own: counting its clients is exact."""
    s = start_server()
    try:
        yield s
    finally:
        stop_server(s)


def clients(server: Server) -> int:
    r = server.client()
    try:
        return len(r.client_list()) - 1  # not this one
    finally:
        r.close()


def subscribers(server: Server) -> int:
    r = server.client()
    try:
        return len(str(r.execute_command("CLIENT", "LIST", "TYPE", "pubsub")).splitlines())
    finally:
        r.close()


def test_sync_loop_exit_and_close(own_server: Server, prefix: str) -> None:
    server = own_server
    r = server.client()
    r.ping()
    base = clients(server)
    sw = Swarm(r)
    key = prefix + "swarm:life"
    sw.route.add(key, "job.>", f"stream:{prefix}life")
    c = sw.consumer(f"{prefix}life", "g", "c", block_ms=0)
    for n in range(3):
        sw.publish(key, "job.x", {"n": n})
    for m in c:
        c.ack(m)
        break
    assert clients(server) == base, "leaving the loop closed the consumer's connection"
    assert [m.payload["n"] for m in c.read()] == [1, 2]  # the next call opens one again

    got: List[Any] = []
    t = threading.Thread(target=lambda: got.append(c.read()))
    t.start()
    wait_for(lambda: int(r.info("clients")["blocked_clients"]) == 1, "the read to block")
    c.close()
    t.join(10)
    assert got == [[]] and not t.is_alive()
    assert clients(server) == base
    sub = sw.subscribe(key, channels=[f"{prefix}ch"])
    assert subscribers(server) == 1
    # get(0) waits as long as it takes: for a message, or for close() in another thread.
    sw.route.add(key, "ev.>", f"channel:{prefix}ch")
    msgs: List[Any] = []
    t = threading.Thread(target=lambda: msgs.append(sub.get(0)))
    t.start()
    sw.publish(key, "ev.a", 1)
    t.join(10)
    assert [m.payload for m in msgs] == [1]
    t = threading.Thread(target=lambda: msgs.append(sub.get(0)))
    t.start()
    t.join(0.2)
    assert t.is_alive()  # 0 is not "do not wait"
    sw.close()
    t.join(10)
    assert not t.is_alive() and msgs[1:] == [None]
    assert sub.closed and subscribers(server) == 0
    r.close()


def test_async_loop_exit_cancel_and_close(own_server: Server, prefix: str) -> None:
    server = own_server
    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=server.port)
        await r.ping()
        base = clients(server)
        sw = AsyncSwarm(r)
        key = prefix + "swarm:alife"
        await sw.route.add(key, "job.>", f"stream:{prefix}alife")
        await sw.route.add(key, "ev.>", f"channel:{prefix}ach")
        c = sw.consumer(f"{prefix}alife", "g", "c", block_ms=0)
        for n in range(3):
            await sw.publish(key, "job.x", {"n": n})
        agen = cast(AsyncGenerator[Any, None], c.__aiter__())
        async for m in agen:
            await c.ack(m)
            break
        await agen.aclose()  # what the event loop does soon after a break
        assert clients(server) == base

        async def blocked(n: int) -> None:
            while int((await r.info("clients"))["blocked_clients"]) != n:
                await asyncio.sleep(0.01)
        # Cancelling the task blocked in read() closes its connection.
        two = await c.read()
        assert len(two) == 2 and await c.ack(*two) == 2
        task = asyncio.ensure_future(c.read())
        await blocked(1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await blocked(0)
        assert clients(server) == base
        await sw.publish(key, "job.x", {"n": 3})
        assert [m.payload["n"] for m in await c.read()] == [3]

        # close() from another task wakes a read blocked forever.
        task = asyncio.ensure_future(c.read())
        await blocked(1)
        await c.close()
        assert await asyncio.wait_for(task, 10) == []
        assert clients(server) == base

        # A cancelled subscription get() subscribes again on the next one.
        sub = await sw.subscribe(key)
        get = asyncio.ensure_future(sub.get(30))
        await asyncio.sleep(0.05)
        get.cancel()
        try:
            await get
        except asyncio.CancelledError:
            pass
        nxt = asyncio.ensure_future(sub.get(10))
        ctl = server.client()
        await asyncio.get_running_loop().run_in_executor(None, wait_for, lambda: bool(
            ctl.pubsub_numsub(f"{prefix}ach")[0][1] == 1), "the new subscription")
        ctl.close()
        await sw.publish(key, "ev.x", {"after": True})
        got = await nxt
        assert got is not None and got.payload == {"after": True}
        assert subscribers(server) == 1
        await sw.close()
        assert sub.closed and subscribers(server) == 0
        await r.close()
    asyncio.run(asyncio.wait_for(main(), 30))
