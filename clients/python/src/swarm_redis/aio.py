"""The asyncio API over ``redis.asyncio.Redis``: the same methods as the sync API, awaited.

    import redis.asyncio as aioredis
    from swarm_redis.aio import AsyncSwarm

    sw = AsyncSwarm(aioredis.Redis(decode_responses=True))
    async with await sw.subscribe("swarm:ops") as sub:
        async for msg in sub:
            ...
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, AsyncIterator, Awaitable, Callable, List, Optional, Sequence, Tuple, TypeVar, Union

from redis.exceptions import ResponseError

from . import _spec as c
from .client import UNCHANGED
from .errors import CommandError, ConflictError, SwarmError, convert_error
from .types import (
    EditResult, Message, Num, PublishResult, RawJSON, Route, Rule, SnapshotInfo, Stats,
    VersionEntry, Versioned, decode_envelope, decode_stream_entry, decode_stream_reply, lst, s,
)

T = TypeVar("T")

__all__ = ["AsyncSwarm", "AsyncRouteCommands", "AsyncSnapshotCommands", "AsyncSubscription",
           "AsyncStreamConsumer", "AsyncState", "UNCHANGED"]


class _Base:
    def __init__(self, r: Any) -> None:
        self._r = r

    async def _run(self, cmd: "c.Cmd[T]") -> T:
        try:
            reply = await self._r.execute_command(*cmd.args)
        except ResponseError as e:
            raise convert_error(e) from e
        return cmd.decode(reply)


class AsyncRouteCommands(_Base):
    """SWARM.ROUTE subcommands (see RouteCommands)."""

    async def add(self, key: str, pattern: str, target: str, *, regex: bool = False,
                  priority: Optional[Tuple[Num, Num]] = None) -> int:
        return await self._run(c.route_add(key, pattern, target, regex, priority))

    async def delete(self, key: str, *ids: Num) -> int:
        return await self._run(c.route_del(key, ids))

    async def list(self, key: str) -> List[Route]:
        return await self._run(c.route_list(key))

    async def match(self, key: str, type: str, *, priority: Optional[Num] = None) -> List[str]:
        return await self._run(c.route_match(key, type, priority))

    async def allow(self, key: str, regex: str) -> int:
        return await self._run(c.route_rule("ALLOW", key, regex))

    async def deny(self, key: str, regex: str) -> int:
        return await self._run(c.route_rule("DENY", key, regex))

    async def rules(self, key: str) -> List[Rule]:
        return await self._run(c.route_rules(key))

    async def set_default(self, key: str, target: Optional[str]) -> None:
        await self._run(c.route_default(key, target))

    async def stats(self, key: str) -> Stats:
        return await self._run(c.route_stats(key))

    async def help(self) -> List[str]:
        return await self._run(c.help_("SWARM.ROUTE"))


class AsyncSnapshotCommands(_Base):
    """SWARM.SNAPSHOT subcommands (see SnapshotCommands)."""

    def __init__(self, r: Any) -> None:
        super().__init__(r)
        self._withversion: Optional[bool] = None

    async def save(self, key: str, doc: Any, *, if_version: Optional[Num] = None,
                   keep: Optional[Num] = None) -> int:
        return await self._run(c.snap_save(key, doc, if_version, keep))

    async def get(self, key: str, *, version: Optional[Num] = None,
                  path: Optional[str] = None) -> Any:
        return await self._run(c.snap_get(key, version, path))

    async def get_text(self, key: str, *, version: Optional[Num] = None,
                       path: Optional[str] = None) -> Optional[str]:
        return await self._run(c.snap_get_text(key, version, path))

    async def get_with_version(self, key: str, *, path: Optional[str] = None) -> Versioned:
        if self._withversion is not False:
            try:
                version, doc = await self._run(c.snap_get_withversion(key, path))
                self._withversion = True
                return Versioned(version, doc)
            except CommandError as e:
                if e.detail != "syntax error":
                    raise
                self._withversion = False
        for attempt in range(100):
            try:
                head = (await self.info(key)).head
            except CommandError as e:
                if e.detail == "no such key":
                    return Versioned(0, None)
                raise
            try:
                return Versioned(head, await self.get(key, version=head, path=path))
            except SwarmError as e:
                if e.code != "NOVERSION" or attempt == 99:
                    raise
        raise AssertionError("unreachable")

    async def supports_withversion(self) -> bool:
        if self._withversion is None:
            await self.get_with_version("\x00swarm:probe")
        return bool(self._withversion)

    async def patch(self, key: str, merge_patch: Any, *, if_version: Optional[Num] = None) -> int:
        return await self._run(c.snap_patch(key, merge_patch, if_version))

    async def edit(self, key: str, ops: Union[Sequence[Any], RawJSON], *,
                   if_version: Optional[Num] = None) -> EditResult:
        return await self._run(c.snap_edit(key, ops, if_version))

    async def wait(self, key: str, version: Num, timeout_ms: Num) -> Optional[int]:
        return await self._run(c.snap_wait(key, version, timeout_ms))

    async def diff(self, key: str, from_version: Num, to_version: Optional[Num] = None) -> str:
        return await self._run(c.snap_diff(key, from_version, to_version))

    async def list(self, key: str) -> List[VersionEntry]:
        return await self._run(c.snap_list(key))

    async def restore(self, key: str, version: Num) -> int:
        return await self._run(c.snap_restore(key, version))

    async def info(self, key: str) -> SnapshotInfo:
        return await self._run(c.snap_info(key))

    async def help(self) -> List[str]:
        return await self._run(c.help_("SWARM.SNAPSHOT"))


class AsyncSubscription:
    """An async iterator of Messages from pub/sub; ``await close()`` ends it."""

    def __init__(self, r: Any, channels: List[str]) -> None:
        self.channels = list(channels)
        self._p = r.pubsub()
        self._queue: List[Message] = []
        self._closed = False
        self.undecodable = 0

    async def _open(self) -> "AsyncSubscription":
        await self._p.subscribe(*self.channels)
        confirmed = 0
        deadline = time.monotonic() + 10
        while confirmed < len(self.channels):
            if time.monotonic() > deadline:
                await self._p.close()
                raise TimeoutError("no subscribe confirmation from the server")
            m = await self._p.get_message(timeout=1.0)
            if m is None:
                continue
            if m["type"] == "subscribe":
                confirmed += 1
            else:
                self._take(m)
        return self

    def _take(self, m: Any) -> None:
        if m["type"] != "message":
            return
        try:
            self._queue.append(decode_envelope(m["data"], s(m["channel"])))
        except ValueError:
            self.undecodable += 1

    async def get(self, timeout: float = 1.0) -> Optional[Message]:
        """The next message, or None after ``timeout`` seconds (or once closed)."""
        deadline = time.monotonic() + timeout
        while not self._queue and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            m = await self._p.get_message(timeout=min(left, 0.2))
            if m is not None:
                self._take(m)
        return self._queue.pop(0) if self._queue else None

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Message]:
        while True:
            m = await self.get(1.0)
            if m is not None:
                yield m
            elif self._closed:
                return

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._p.unsubscribe()
        finally:
            await self._p.close()

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class AsyncStreamConsumer:
    """A consumer-group reader for a stream target (see StreamConsumer)."""

    def __init__(self, r: Any, stream: str, group: str, consumer: str, *, start: str = "0",
                 count: int = 10, block_ms: int = 1000, min_idle_ms: int = 30000) -> None:
        self._r = r
        self.stream = c.stream_name(stream)
        self.group = group
        self.name = consumer
        self.start = start
        self.count = count
        self.block_ms = block_ms
        self.min_idle_ms = min_idle_ms
        self._ready = False
        self._closed = False

    async def _call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kw: Any) -> T:
        try:
            return await fn(*args, **kw)
        except ResponseError as e:
            raise convert_error(e) from e

    async def ensure_group(self) -> bool:
        try:
            await self._call(self._r.xgroup_create, self.stream, self.group, self.start,
                             mkstream=True)
        except SwarmError as e:
            if e.code != "BUSYGROUP":
                raise
            self._ready = True
            return False
        self._ready = True
        return True

    async def read(self, *, count: Optional[int] = None,
                   block_ms: Optional[int] = None) -> List[Message]:
        if not self._ready:
            await self.ensure_group()
        block = self.block_ms if block_ms is None else block_ms

        async def once() -> List[Message]:
            reply = await self._call(self._r.xreadgroup, self.group, self.name,
                                     {self.stream: ">"}, count=count or self.count,
                                     block=block or None)
            return decode_stream_reply(reply)
        try:
            return await once()
        except SwarmError as e:
            if e.code != "NOGROUP":
                raise
            await self.ensure_group()
            return await once()

    async def ack(self, *items: Union[Message, str]) -> int:
        ids = [m if isinstance(m, str) else (m.entry_id or m.id) for m in items]
        if not ids:
            return 0
        return int(await self._call(self._r.xack, self.stream, self.group, *ids))

    async def reclaim(self, *, min_idle_ms: Optional[int] = None,
                      count: Optional[int] = None) -> Tuple[List[Message], List[str]]:
        if not self._ready:
            await self.ensure_group()
        limit = count or self.count
        idle = self.min_idle_ms if min_idle_ms is None else min_idle_ms
        msgs: List[Message] = []
        deleted: List[str] = []
        cursor: Any = "0-0"
        while True:
            reply = await self._call(self._r.xautoclaim, self.stream, self.group, self.name,
                                     idle, start_id=cursor, count=limit - len(msgs))
            cursor = s(reply[0])
            for entry in lst(reply[1]):
                if entry[1] is not None:
                    msgs.append(decode_stream_entry(self.stream, s(entry[0]), entry[1]))
            if len(reply) > 2:
                deleted += [s(x) for x in lst(reply[2])]
            if cursor == "0-0" or len(msgs) >= limit:
                return msgs, deleted

    async def pending(self) -> int:
        r = await self._call(self._r.xpending, self.stream, self.group)
        return int(r["pending"] if isinstance(r, dict) else lst(r)[0])

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Message]:
        while not self._closed:
            for m in await self.read():
                yield m

    def close(self) -> None:
        self._closed = True


class AsyncState:
    """A snapshot key as shared state (see State); ``fn`` may be sync or async."""

    def __init__(self, snapshot: AsyncSnapshotCommands, key: str, *, retries: int = 50,
                 base_delay_ms: float = 2, max_delay_ms: float = 200,
                 keep: Optional[Num] = None) -> None:
        self._snap = snapshot
        self.key = key
        self.retries = retries
        self.base_delay_ms = base_delay_ms
        self.max_delay_ms = max_delay_ms
        self.keep = keep

    async def get(self) -> Versioned:
        return await self._snap.get_with_version(self.key)

    async def update(self, fn: Callable[[Any, int], Any]) -> Tuple[Any, int, int]:
        attempt = 0
        while True:
            attempt += 1
            cur = await self.get()
            new = fn(cur.doc, cur.version)
            if asyncio.iscoroutine(new):
                new = await new
            if new is UNCHANGED:
                return cur.doc, cur.version, attempt
            try:
                v = await self._snap.save(self.key, new, if_version=cur.version, keep=self.keep)
                return new, v, attempt
            except ConflictError as e:
                if attempt > self.retries:
                    e.attempts = attempt
                    raise
                await asyncio.sleep(random.uniform(0, c.backoff_ceiling(
                    attempt, self.base_delay_ms, self.max_delay_ms)))


class AsyncSwarm:
    """The swarm commands over one ``redis.asyncio.Redis``."""

    def __init__(self, r: Any) -> None:
        self.redis = r
        self.route = AsyncRouteCommands(r)
        self.snapshot = AsyncSnapshotCommands(r)
        self._base = _Base(r)

    async def publish(self, key: str, type: str, payload: Any, *,
                      priority: Optional[Num] = None,
                      sender: Optional[str] = None) -> PublishResult:
        return await self._base._run(c.publish(key, type, payload, priority, sender))

    async def subscribe(self, key: str, *, channels: Optional[List[str]] = None,
                        include_default: bool = True) -> AsyncSubscription:
        if channels is None:
            stats = await self.route.stats(key) if include_default else None
            channels = c.channels_of(await self.route.list(key), stats)
        if not channels:
            raise ValueError(f"swarm {key!r} has no channel targets to subscribe to")
        return await AsyncSubscription(self.redis, channels)._open()

    def consumer(self, stream: str, group: str, consumer: str, **opts: Any) -> AsyncStreamConsumer:
        return AsyncStreamConsumer(self.redis, stream, group, consumer, **opts)

    def state(self, key: str, **opts: Any) -> AsyncState:
        return AsyncState(self.snapshot, key, **opts)

    async def call(self, *args: Union[str, int]) -> Any:
        return await self._base._run(c.Cmd([str(a) for a in args], lambda r: r))
