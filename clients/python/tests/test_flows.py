"""Subscription, stream consumer and state handle against a real server, sync and asyncio:
channel iteration and close, group creation (start 0 and $), read/ack/pending, XAUTOCLAIM
reclaim, and the compare-and-set loop under 20 concurrent writers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, List

import pytest
import redis.asyncio as aioredis

from swarm_redis import UNCHANGED, ConflictError, Swarm, raw_json
from swarm_redis.aio import AsyncSwarm


def test_subscribe_sync(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    key = prefix + "swarm:sub"
    sw.route.add(key, "task.*", f"channel:{prefix}tasks")
    sw.route.add(key, "note.*", f"channel:{prefix}notes")
    sw.route.add(key, "task.*", f"stream:{prefix}sub:log")
    sw.route.set_default(key, f"channel:{prefix}dead")
    with sw.subscribe(key) as sub:
        assert sorted(sub.channels) == sorted([f"{prefix}tasks", f"{prefix}notes", f"{prefix}dead"])
        r = sw.publish(key, "task.done", {"n": 1}, sender="me", priority=7)
        assert r.receivers == 1
        sw.publish(key, "note.x", raw_json("[1, 2]"))
        sw.publish(key, "other.x", "dead")
        got = []
        for m in sub:
            got.append(m)
            if len(got) == 3:
                break
        assert [(m.channel, m.type, m.payload) for m in got] == [
            (f"{prefix}tasks", "task.done", {"n": 1}), (f"{prefix}notes", "note.x", [1, 2]),
            (f"{prefix}dead", "other.x", "dead")]
        assert (got[0].id, got[0].swarm, got[0].sender, got[0].priority) == (r.id, key, "me", 7)
        assert got[1].payload_text == "[1, 2]"
        assert sub.get(timeout=0.05) is None
    assert sw.publish(key, "task.done", {}).receivers == 0
    with pytest.raises(ValueError):
        sw.subscribe(prefix + "swarm:none")


def test_subscribe_async(server: Any, prefix: str) -> None:
    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        sw = AsyncSwarm(r)
        key = prefix + "swarm:asub"
        await sw.route.add(key, "task.*", f"channel:{prefix}atasks")
        async with await sw.subscribe(key, include_default=False) as sub:
            assert sub.channels == [f"{prefix}atasks"]
            for n in range(3):
                await sw.publish(key, "task.done", {"n": n})
            got: List[int] = []
            async for m in sub:
                got.append(m.payload["n"])
                if len(got) == 3:
                    break
            assert got == [0, 1, 2]
        assert (await sw.publish(key, "task.done", {})).receivers == 0
        await r.close()
    asyncio.run(main())


def test_consumer_sync(server: Any, prefix: str, features: Any) -> None:
    sw = Swarm(server.client())
    key, stream = prefix + "swarm:cons", prefix + "cons:jobs"
    sw.route.add(key, "job.>", f"stream:{stream}")
    first = sw.publish(key, "job.a", {"n": 1}, sender="coord")
    c = sw.consumer(f"stream:{stream}", "workers", "w1", block_ms=None)
    late = sw.consumer(stream, "late", "l1", start="$", block_ms=None)
    assert late.ensure_group() is True
    assert late.ensure_group() is False
    sw.publish(key, "job.b", {"n": 2})
    got = c.read()
    assert [m.type for m in got] == ["job.a", "job.b"]
    assert (got[0].id, got[0].sender, got[0].stream) == (first.id, "coord", stream)
    assert got[0].entry_id
    if features.stream_swarm_field:
        assert got[0].swarm == key
    assert [m.type for m in late.read()] == ["job.b"]
    assert c.pending() == 2
    assert c.ack(got[0]) == 1
    entry_id = got[1].entry_id
    assert entry_id is not None and c.ack(entry_id) == 1
    assert c.pending() == 0
    assert c.read() == [] and c.ack() == 0


def test_reclaim_sync(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    key, stream = prefix + "swarm:re", prefix + "re:jobs"
    sw.route.add(key, "job.>", f"stream:{stream}")
    for n in range(5):
        sw.publish(key, "job.x", {"i": n})
    dead = sw.consumer(stream, "g", "crashed", block_ms=None, count=5)
    assert len(dead.read()) == 5
    live = sw.consumer(stream, "g", "live", block_ms=None, min_idle_ms=60000)
    assert live.reclaim() == ([], [])
    msgs, deleted = live.reclaim(min_idle_ms=0, count=3)
    assert [m.payload["i"] for m in msgs] == [0, 1, 2] and deleted == []
    assert live.ack(*msgs) == 3
    msgs, _ = live.reclaim(min_idle_ms=0)
    assert [m.payload["i"] for m in msgs] == [3, 4]
    assert live.ack(*msgs) == 2
    sw.publish(key, "job.x", {"i": 5})
    [lost] = dead.read()
    sw.redis.xdel(stream, lost.entry_id)
    assert live.reclaim(min_idle_ms=0) == ([], [lost.entry_id])
    assert live.pending() == 0


def test_consumer_async_blocking_iteration(server: Any, prefix: str) -> None:
    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=server.port)
        sw = AsyncSwarm(r)
        key, stream = prefix + "swarm:ab", prefix + "ab:jobs"
        await sw.route.add(key, "job.>", f"stream:{stream}")
        c = sw.consumer(stream, "g", "w", block_ms=200)
        seen: List[int] = []

        async def loop() -> None:
            async for m in c:
                seen.append(m.payload["i"])
                await c.ack(m)
                if len(seen) == 3:
                    await c.close()
        task = asyncio.ensure_future(loop())
        for n in range(3):
            await sw.publish(key, "job.x", {"i": n})
        await task
        assert seen == [0, 1, 2]
        assert await c.pending() == 0
        # reclaim and $ through the async API
        for n in range(2):
            await sw.publish(key, "job.y", {"i": n})
        other = sw.consumer(stream, "g", "other", block_ms=None)
        assert len(await other.read()) == 2
        msgs, _ = await c.reclaim(min_idle_ms=0)
        assert [m.payload["i"] for m in msgs] == [0, 1]
        assert await c.ack(*msgs) == 2
        late = sw.consumer(stream, "late", "l", start="$", block_ms=None)
        assert await late.ensure_group() is True
        assert await late.read() == []
        await r.close()
    asyncio.run(main())


def test_state_sync(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    st = sw.state(prefix + "state:s")
    v = st.get()
    assert (v.version, v.doc) == (0, None)
    assert st.update(lambda d, v: {"n": (d or {}).get("n", 0) + 1}) == ({"n": 1}, 1, 1)
    assert st.update(lambda d, v: {"n": d["n"] + 1})[1] == 2
    assert st.update(lambda d, v: UNCHANGED) == ({"n": 2}, 2, 1)
    assert sw.snapshot.info(prefix + "state:s").head == 2


WRITERS, ROUNDS = 20, 3


def check_cas_result(sw: Swarm, key: str, attempts: List[int]) -> None:
    v = sw.state(key).get()
    assert v.version == WRITERS * ROUNDS, "one version per update"
    assert v.doc["n"] == WRITERS * ROUNDS, "every increment landed"
    assert all(v.doc["by"][f"w{i}"] == ROUNDS for i in range(WRITERS))
    assert len(attempts) == WRITERS * ROUNDS
    assert all(1 <= a <= 101 for a in attempts)
    # Round 0 starts with every writer holding version 0 (a barrier), so 19 must retry.
    assert sum(attempts) >= WRITERS * ROUNDS + WRITERS - 1


def bump(i: int, doc: Any) -> Any:
    doc = doc or {"n": 0, "by": {}}
    by = dict(doc["by"])
    by[f"w{i}"] = by.get(f"w{i}", 0) + 1
    return {"n": doc["n"] + 1, "by": by}


def test_state_20_writers_sync(server: Any, prefix: str) -> None:
    key = prefix + "state:cas"
    barrier = threading.Barrier(WRITERS)
    attempts: List[int] = []
    errors: List[BaseException] = []

    def writer(i: int) -> None:
        try:
            st = Swarm(server.client()).state(key, retries=100)
            waited = [False]

            def fn(doc: Any, version: int) -> Any:
                if not waited[0]:
                    waited[0] = True
                    barrier.wait(10)
                return bump(i, doc)
            for _ in range(ROUNDS):
                attempts.append(st.update(fn)[2])
        except BaseException as e:  # reported below
            errors.append(e)
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check_cas_result(Swarm(server.client()), key, attempts)


def test_state_20_writers_async(server: Any, prefix: str) -> None:
    key = prefix + "state:acas"
    attempts: List[int] = []

    async def main() -> None:
        arrived = 0
        release = asyncio.Event()
        clients = [aioredis.Redis(host="127.0.0.1", port=server.port) for _ in range(WRITERS)]

        async def writer(i: int) -> None:
            nonlocal arrived
            st = AsyncSwarm(clients[i]).state(key, retries=100)
            waited = False

            async def fn(doc: Any, version: int) -> Any:
                nonlocal waited, arrived
                if not waited:
                    waited = True
                    arrived += 1
                    if arrived == WRITERS:
                        release.set()
                    await release.wait()
                return bump(i, doc)
            for _ in range(ROUNDS):
                attempts.append((await st.update(fn))[2])
        await asyncio.gather(*(writer(i) for i in range(WRITERS)))
        for r in clients:
            await r.close()
    asyncio.run(main())
    check_cas_result(Swarm(server.client()), key, attempts)


def test_state_gives_up(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    key = prefix + "state:giveup"
    st = sw.state(key, retries=3, base_delay_ms=1)
    calls = [0]

    def fn(doc: Any, version: int) -> Any:
        calls[0] += 1
        sw.snapshot.save(key, {"n": -1})  # someone else always writes in between
        return {"n": 1}
    with pytest.raises(ConflictError) as info:
        st.update(fn)
    assert info.value.attempts == 4 and calls[0] == 4
    assert info.value.expected is not None
    assert info.value.current == info.value.expected + 1

    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=server.port)
        ast = AsyncSwarm(r).state(key, retries=2, base_delay_ms=1)
        with pytest.raises(ConflictError) as info:
            await ast.update(fn)
        assert info.value.attempts == 3
        await r.close()
    asyncio.run(main())
