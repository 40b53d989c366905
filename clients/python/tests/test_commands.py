"""Every command method against a real server, through the sync API (decode_responses on
and off) and the asyncio API. One async test body runs against both: the sync Swarm is
wrapped in a proxy that makes its methods awaitable."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, Coroutine, Type

import pytest
import redis
import redis.asyncio as aioredis

from swarm_redis import (
    CommandError, ConflictError, DeniedError, EventTypeError, Loss, NoSwarmError, NoVersionError,
    PayloadError, Route, Rule, SnapshotInfo, Swarm, SwarmError, TestFailedError, WrongTypeError,
    raw_json,
)
from swarm_redis.aio import AsyncSwarm


class Awaitably:
    """Makes a sync object's methods (and its route/snapshot members') awaitable."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._obj, name)
        if callable(attr):
            async def call(*a: Any, **kw: Any) -> Any:
                return attr(*a, **kw)
            return call
        return Awaitably(attr)


APIS = ["sync-str", "sync-bytes", "async-str", "async-bytes"]


def run(server: Any, api: str, body: Callable[[Any], Coroutine[Any, Any, None]]) -> None:
    decode = api.endswith("-str")
    if api.startswith("sync"):
        r = server.client(decode_responses=decode)
        try:
            asyncio.run(body(Awaitably(Swarm(r))))
        finally:
            r.close()
    else:
        async def main() -> None:
            r = aioredis.Redis(host="127.0.0.1", port=server.port, decode_responses=decode)
            try:
                await body(AsyncSwarm(r))
            finally:
                await r.close()
        asyncio.run(main())


async def expect(exc: Type[BaseException], aw: Awaitable[Any]) -> Any:
    with pytest.raises(exc) as info:
        await aw
    return info.value


@pytest.mark.parametrize("api", APIS)
def test_route_commands(server: Any, prefix: str, api: str) -> None:
    async def body(sw: Any) -> None:
        key = prefix + "swarm:routes"
        assert await sw.route.add(key, "task.*", "channel:tasks") == 1
        assert await sw.route.add(key, "task.>", f"stream:{prefix}log") == 2
        assert await sw.route.add(key, r"agent\.[a-z]+\.hb", "channel:hb", regex=True,
                                  priority=(1, "4")) == 3
        assert await sw.route.add(key, "task.*", "channel:tasks") == 1
        assert await sw.route.match(key, "task.done") == ["channel:tasks", f"stream:{prefix}log"]
        assert await sw.route.match(key, "agent.x.hb", priority=2) == ["channel:hb"]
        assert await sw.route.match(key, "agent.x.hb", priority="5") == []
        routes = await sw.route.list(key)
        assert routes[2] == Route(id=3, pattern=r"agent\.[a-z]+\.hb", kind="regex",
                                  target="channel:hb", priority=(1, 4), matched=0, delivered=0,
                                  missed=0, failed=0, shed=0, breaker="closed")
        assert routes[0].kind == "subject"
        assert await sw.route.delete(key, 3, "2", 99) == 2
        assert [r.id for r in await sw.route.list(key)] == [1]
        assert await sw.route.list(prefix + "nokey") == []

        key = prefix + "swarm:rules"
        await sw.route.add(key, "task.>", f"stream:{prefix}rules:log")
        deny = await sw.route.deny(key, r".*\.secret")
        allow = await sw.route.allow(key, r"task\..+")
        assert await sw.route.rules(key) == [Rule(deny, "deny", r".*\.secret", 0),
                                             Rule(allow, "allow", r"task\..+", 0)]
        await sw.route.set_default(key, f"stream:{prefix}dead")
        await sw.publish(key, "task.done", {"ok": True})
        await expect(DeniedError, sw.publish(key, "task.secret", {}))
        st = await sw.route.stats(key)
        assert (st.published, st.delivered, st.rejected, st.routes, st.rules) == (1, 1, 1, 1, 2)
        assert st.default == f"stream:{prefix}dead"
        assert st.last_id.count("-") == 1
        await sw.route.set_default(key, None)
        assert (await sw.route.stats(key)).default is None
        empty = await sw.route.stats(prefix + "nokey")
        assert (empty.last_id, empty.published) == ("0-0", 0)
        assert any(line.startswith("ADD") for line in await sw.route.help())
    run(server, api, body)


@pytest.mark.parametrize("api", APIS)
def test_publish(server: Any, prefix: str, api: str, features: Any) -> None:
    async def body(sw: Any) -> None:
        key = prefix + "swarm:pub"
        await sw.route.add(key, "job.>", f"stream:{prefix}pub:s")
        await sw.route.add(key, "job.>", f"channel:{prefix}nobody")
        r = await sw.publish(key, "job.new", raw_json('{"n": 1.50}'), priority=8, sender="coord")
        assert r.id and r.id.count("-") == 1
        assert r.delivered == [f"stream:{prefix}pub:s"]
        assert r.receivers == 0
        want = [Loss(f"channel:{prefix}nobody", "missed")] if features.publish_lost else []
        assert r.lost == want
        entries = await sw.call("XRANGE", f"{prefix}pub:s", "-", "+")
        assert len(entries) == 1
        # redis-py strips "ERR ": the class and code still say ERR.
        e = await expect(CommandError, sw.publish(key, "job.new", {}, priority=10))
        assert e.code == "ERR" and e.detail == "PRIORITY must be between 1 and 9"
        assert isinstance(e, redis.ResponseError)
        e = await expect(CommandError, sw.publish(key, "job.new", {}, sender=""))
        assert e.detail.startswith("SENDER must be")
        e = await expect(EventTypeError, sw.publish(key, "a.*", {}))
        assert e.offset == 2
        e = await expect(PayloadError, sw.publish(key, "a.b", raw_json('{"x":1,}')))
        assert e.offset == 7
        rule = await sw.route.deny(key, r"a\.secret")
        e = await expect(DeniedError, sw.publish(key, "a.secret", {}))
        assert e.rule_id == rule
    run(server, api, body)


@pytest.mark.parametrize("api", APIS)
def test_publish_missing_key(server: Any, prefix: str, api: str) -> None:
    async def body(sw: Any) -> None:
        e = await expect(NoSwarmError, sw.publish(prefix + "swarm:typo", "a.b", {}))
        assert e.key == prefix + "swarm:typo"
    run(server, api, body)


@pytest.mark.parametrize("api", APIS)
def test_snapshot_commands(server: Any, prefix: str, api: str) -> None:
    async def body(sw: Any) -> None:
        key = prefix + "state:a"
        assert await sw.snapshot.save(key, raw_json('{"plan":{"step":1},"budget":12.50}')) == 1
        assert await sw.snapshot.patch(key, {"plan": {"step": 2}, "budget": None}, if_version=1) == 2
        assert await sw.snapshot.get(key) == {"plan": {"step": 2}}
        assert await sw.snapshot.get_text(key, version=1) == '{"plan":{"step":1},"budget":12.50}'
        assert await sw.snapshot.get(key, path="/plan/step") == 2
        assert await sw.snapshot.get(key, path="/nope") is None
        assert await sw.snapshot.get_text(prefix + "nokey") is None
        assert json.loads(await sw.snapshot.diff(key, 1)) == {"plan": {"step": 2}, "budget": None}
        assert json.loads(await sw.snapshot.diff(key, "2", 1)) == {"plan": {"step": 1}, "budget": 12.5}
        lst = await sw.snapshot.list(key)
        assert [v.version for v in lst] == [2, 1]
        assert lst[1].bytes == len('{"plan":{"step":1},"budget":12.50}')
        assert len(lst[0].checksum) == 16 and int(lst[0].checksum, 16) >= 0
        assert await sw.snapshot.restore(key, 1) == 3
        info = await sw.snapshot.info(key)
        assert isinstance(info, SnapshotInfo)
        assert (info.head, info.oldest, info.retained, info.keep) == (3, 1, 3, 1000)
        assert info.updated >= info.created > 0
        assert await sw.snapshot.save(key, "x", keep=2) == 4
        assert (await sw.snapshot.info(key)).retained == 2
        assert any(line.startswith("SAVE") for line in await sw.snapshot.help())
        v = await sw.snapshot.get_with_version(key)
        assert (v.version, v.doc) == (4, "x")
        v = await sw.snapshot.get_with_version(prefix + "nokey")
        assert (v.version, v.doc) == (0, None)

        await sw.snapshot.save(prefix + "c", {"v": 1}, if_version=0)
        e = await expect(ConflictError, sw.snapshot.save(prefix + "c", {}, if_version=0))
        assert (e.code, e.current, e.expected) == ("CONFLICT", 1, 0)
        assert isinstance(e, SwarmError)
        e = await expect(NoVersionError, sw.snapshot.get(key, version=9))
        assert e.version == 9
        e = await expect(CommandError, sw.snapshot.info(prefix + "nokey"))
        assert e.detail == "no such key"
        await sw.call("SET", prefix + "str", "x")
        e = await expect(WrongTypeError, sw.snapshot.get(prefix + "str"))
        assert e.code == "WRONGTYPE"
        await expect(WrongTypeError, sw.route.add(prefix + "str", "a", "channel:a"))
    run(server, api, body)


@pytest.mark.parametrize("api", APIS)
def test_snapshot_edit(server: Any, prefix: str, api: str) -> None:
    async def body(sw: Any) -> None:
        key = prefix + "state:edit"
        await sw.snapshot.save(key, {"done": 0, "tasks": []})
        r = await sw.snapshot.edit(key, [{"op": "incr", "path": "/done", "value": 5},
                                         {"op": "add", "path": "/tasks/-", "value": "t1"},
                                         {"op": "incr", "path": "/done", "value": 2}], if_version=1)
        assert (r.version, r.incr) == (2, [5, 7])
        assert await sw.snapshot.get(key) == {"done": 7, "tasks": ["t1"]}
        await expect(ConflictError, sw.snapshot.edit(key, [], if_version=1))
        e = await expect(TestFailedError,
                         sw.snapshot.edit(key, [{"op": "test", "path": "/done", "value": 0}]))
        assert (e.code, e.op, e.path) == ("TESTFAILED", 0, "/done")
    run(server, api, body)


@pytest.mark.parametrize("api", APIS)
def test_snapshot_wait(server: Any, prefix: str, api: str) -> None:
    async def body(sw: Any) -> None:
        key = prefix + "state:wait"
        await sw.snapshot.save(key, {"n": 1})
        assert await sw.snapshot.wait(key, 0, 100) == 1
        assert await sw.snapshot.wait(key, 1, 20) is None
    run(server, api, body)


@pytest.mark.parametrize("api", APIS)
def test_get_withversion(server: Any, prefix: str, api: str) -> None:
    async def body(sw: Any) -> None:
        key = prefix + "state:wv"
        await sw.snapshot.save(key, {"a": 1})
        await sw.snapshot.save(key, {"a": 2})
        v = await sw.snapshot.get_with_version(key)
        assert (v.version, v.doc) == (2, {"a": 2})
    run(server, api, body)
