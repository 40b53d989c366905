"""A server killed (kill -9) and restarted on the same port (AOF on, fsync always) in the
middle of a subscription, a consumer-group read and a WAIT, sync (threads) and asyncio
(tasks): the process survives, the application sees the outage through on_outage, the
subscription receives what is published after the restart, every stream entry published
before and after is delivered and acknowledged once, and the WAIT completes or raises
redis.ConnectionError; nothing is printed."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List, Optional

import redis
import redis.asyncio as aioredis

from conftest import Server, kill_and_restart, start_server, stop_server, wait_for
from swarm_redis import ConnectionEvent, Message, Swarm
from swarm_redis.aio import AsyncSwarm

AOF = ["--appendonly", "yes", "--appendfsync", "always"]
BEFORE, AFTER = 5, 5


class Record:
    def __init__(self) -> None:
        self.events: List[ConnectionEvent] = []
        self.channel: List[Message] = []
        self.acks: Dict[str, int] = {}  # entry id -> sum of XACK replies
        self.wait: List[Any] = []

    def handled(self, entry_id: str, acked: int) -> None:
        self.acks[entry_id] = self.acks.get(entry_id, 0) + acked

    def states(self, source: str) -> List[str]:
        return [e.state for e in self.events if e.source == source]


def make_swarm(r: "redis.Redis[str]", key: str, p: str) -> None:
    sw = Swarm(r)
    sw.route.add(key, "ev.>", f"channel:{p}ch")
    sw.route.add(key, "job.>", f"stream:{p}jobs")
    sw.snapshot.save(f"{p}doc", {"v": 1})


def blocked(port: int) -> int:
    r = redis.Redis(port=port)
    try:
        return int(r.info("clients")["blocked_clients"])
    finally:
        r.close()


def check(rec: Record, ctl: "redis.Redis[str]", p: str) -> None:
    entries = [e[0] for e in ctl.xrange(f"{p}jobs")]
    assert len(entries) == BEFORE + AFTER
    assert rec.acks == {e: 1 for e in entries}, "each entry acknowledged exactly once"
    assert ctl.xpending(f"{p}jobs", "g")["pending"] == 0
    assert [m.payload for m in rec.channel if m.type == "ev.after"] == [{"n": 1}]
    for source in ("subscription", "consumer"):
        assert rec.states(source)[:1] == ["lost"] and rec.states(source)[-1] == "restored"
    [w] = rec.wait
    assert w == 2 or isinstance(w, redis.ConnectionError), w


def test_restart_sync(prefix: str, capfd: Any) -> None:
    s: Optional[Server] = start_server(AOF)
    assert s is not None
    p, key = prefix, prefix + "swarm"
    rec = Record()
    try:
        ctl = s.client()
        make_swarm(ctl, key, p)
        sw = Swarm(s.client(), on_outage=rec.events.append)
        sub = sw.subscribe(key)
        cons = sw.consumer(f"{p}jobs", "g", "c1", block_ms=0)

        def listen() -> None:
            for m in sub:
                rec.channel.append(m)

        def consume() -> None:
            for m in cons:
                assert m.entry_id
                rec.handled(m.entry_id, cons.ack(m))

        def wait() -> None:
            try:
                rec.wait.append(sw.snapshot.wait(f"{p}doc", 1, 0))
            except redis.ConnectionError as e:
                rec.wait.append(e)
        threads = [threading.Thread(target=f) for f in (listen, consume, wait)]
        for t in threads:
            t.start()
        for n in range(BEFORE):
            sw.publish(key, "job.x", {"n": n})
        wait_for(lambda: len(rec.acks) == BEFORE, "entries before the restart")
        port = s.port
        wait_for(lambda: blocked(port) == 2, "the consumer and WAIT to block")

        ctl.close()
        s = kill_and_restart(s, AOF)
        ctl = s.client()
        wait_for(lambda: bool(ctl.pubsub_numsub(f"{p}ch")[0][1] == 1), "the re-subscription")
        sw.publish(key, "ev.after", {"n": 1})
        for n in range(AFTER):
            sw.publish(key, "job.x", {"n": BEFORE + n})
        sw.snapshot.save(f"{p}doc", {"v": 2})
        wait_for(lambda: len(rec.acks) == BEFORE + AFTER, "entries after the restart")
        wait_for(lambda: len(rec.channel) == 1, "the message after the restart")
        wait_for(lambda: len(rec.wait) == 1, "WAIT to end")
        sw.close()
        for t in threads:
            t.join(10)
            assert not t.is_alive()
        check(rec, ctl, p)
        ctl.close()
        assert capfd.readouterr() == ("", ""), "the library printed nothing"
    finally:
        if s is not None:
            stop_server(s)


def test_restart_async(prefix: str, capfd: Any) -> None:
    s: Optional[Server] = start_server(AOF)
    assert s is not None
    p, key = prefix, prefix + "swarm"
    rec = Record()
    ctl = s.client()
    make_swarm(ctl, key, p)
    ctl.close()

    async def main() -> None:
        nonlocal s
        assert s is not None
        r = aioredis.Redis(host="127.0.0.1", port=s.port)

        async def observe(e: ConnectionEvent) -> None:
            rec.events.append(e)
        sw = AsyncSwarm(r, on_outage=observe)
        sub = await sw.subscribe(key)
        cons = sw.consumer(f"{p}jobs", "g", "c1", block_ms=0)

        async def listen() -> None:
            async for m in sub:
                rec.channel.append(m)

        async def consume() -> None:
            async for m in cons:
                assert m.entry_id
                rec.handled(m.entry_id, await cons.ack(m))

        async def wait() -> None:
            try:
                rec.wait.append(await sw.snapshot.wait(f"{p}doc", 1, 0))
            except redis.ConnectionError as e:
                rec.wait.append(e)
        tasks = [asyncio.ensure_future(f()) for f in (listen, consume, wait)]

        async def until(cond: Any, what: str) -> None:
            for _ in range(2000):
                if cond():
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(f"timed out waiting for {what}")
        for n in range(BEFORE):
            await sw.publish(key, "job.x", {"n": n})
        await until(lambda: len(rec.acks) == BEFORE, "entries before the restart")
        port = s.port
        await until(lambda: blocked(port) == 2, "the consumer and WAIT to block")

        s = await asyncio.get_running_loop().run_in_executor(None, kill_and_restart, s, AOF)
        ctl = s.client()
        await until(lambda: bool(ctl.pubsub_numsub(f"{p}ch")[0][1] == 1), "the re-subscription")
        await sw.publish(key, "ev.after", {"n": 1})
        for n in range(AFTER):
            await sw.publish(key, "job.x", {"n": BEFORE + n})
        await sw.snapshot.save(f"{p}doc", {"v": 2})
        await until(lambda: len(rec.acks) == BEFORE + AFTER, "entries after the restart")
        await until(lambda: len(rec.channel) == 1, "the message after the restart")
        await until(lambda: len(rec.wait) == 1, "WAIT to end")
        await sw.close()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        check(rec, ctl, p)
        ctl.close()
        await r.close()
    try:
        asyncio.run(asyncio.wait_for(main(), 60))
        assert capfd.readouterr() == ("", ""), "the library printed nothing"
    finally:
        if s is not None:
            stop_server(s)
