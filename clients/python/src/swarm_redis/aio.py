"""The asyncio API: ``AsyncSwarm`` over ``redis.asyncio.Redis`` (or its cluster / pipeline).

    import redis.asyncio as aioredis
    from swarm_redis.aio import AsyncSwarm

    sw = AsyncSwarm(aioredis.Redis(decode_responses=True))
    async with await sw.subscribe("swarm:ops") as sub:
        async for msg in sub:
            ...

The commands are the same command group as the sync API (``swarm_redis.commands``): on an
asyncio client they return coroutines. This module declares their awaited types for type
checkers, and holds the asyncio helpers (subscription, consumer, state). Every blocking
call can be cancelled: the task's cancellation closes the connection it was blocked on.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
import weakref
from typing import (
    TYPE_CHECKING, Any, AsyncIterator, Callable, Dict, List, Optional, Sequence, Set, Tuple,
    Union,
)

import redis
import redis.asyncio
from redis.exceptions import ResponseError

from . import _helpers as h
from . import _spec as c
from .client import UNCHANGED
from .commands import SwarmCommands, _is_pipeline
from .errors import ConflictError, RequestTimeoutError, SwarmError, convert_error
from .inbox import Matcher, Waiter
from .types import (
    ConnectionEvent, EditOp, EditResult, Message, Num, PublishResult, RawJSON, Reply, Route,
    Rule, SnapshotInfo, Stats, StatsPage, TableStats, Version, VersionEntry, Versioned,
    decode_envelope, decode_reply, s,
)

__all__ = ["AsyncSwarm", "AsyncRouteCommands", "AsyncSnapshotCommands", "AsyncSubscription", "AsyncInbox",
           "AsyncStreamConsumer", "AsyncState", "UNCHANGED", "DEFAULT",
           "AsyncSwarmModuleCommands", "Redis", "Pipeline"]

DEFAULT = h.DEFAULT
_NET_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)

if TYPE_CHECKING:
    # The command group's methods as an asyncio client returns them (the implementation is
    # swarm_redis.commands; tests/test_units.py checks that these signatures match it).
    class AsyncRouteCommands:
        async def add(self, key: str, pattern: str, target: str, *, regex: bool = False,
                      priority: Optional[Tuple[Num, Num]] = None) -> int: ...
        async def delete(self, key: str, *ids: Num) -> int: ...
        async def list(self, key: str) -> List[Route]: ...
        async def match(self, key: str, type: str, *,
                        priority: Optional[Num] = None) -> List[str]: ...
        async def allow(self, key: str, regex: str) -> int: ...
        async def deny(self, key: str, regex: str) -> int: ...
        async def rules(self, key: str) -> List[Rule]: ...
        async def set_default(self, key: str, target: Optional[str]) -> None: ...
        async def stats(self, key: str) -> Stats: ...
        async def help(self) -> List[str]: ...

    class AsyncSnapshotCommands:
        async def save(self, key: str, doc: Any, *, if_version: Optional[Num] = None,
                       keep: Optional[Num] = None, replicas: Optional[Num] = None,
                       replicas_timeout_ms: Num = 1000) -> Version: ...
        async def get(self, key: str, *, version: Optional[Num] = None,
                      path: Optional[str] = None) -> Any: ...
        async def get_text(self, key: str, *, version: Optional[Num] = None,
                           path: Optional[str] = None) -> Optional[str]: ...
        async def get_with_version(self, key: str, *,
                                   path: Optional[str] = None) -> Versioned: ...
        async def patch(self, key: str, merge_patch: Any, *,
                        if_version: Optional[Num] = None, replicas: Optional[Num] = None,
                        replicas_timeout_ms: Num = 1000) -> Version: ...
        async def edit(self, key: str, ops: Union[Sequence[EditOp], RawJSON], *,
                       if_version: Optional[Num] = None, replicas: Optional[Num] = None,
                       replicas_timeout_ms: Num = 1000) -> EditResult: ...
        async def wait(self, key: str, version: Num,
                       timeout_ms: Num) -> Optional[int]: ...
        async def diff(self, key: str, from_version: Num,
                       to_version: Optional[Num] = None) -> str: ...
        async def list(self, key: str) -> List[VersionEntry]: ...
        async def restore(self, key: str, version: Num, *, replicas: Optional[Num] = None,
                          replicas_timeout_ms: Num = 1000) -> Version: ...
        async def info(self, key: str) -> SnapshotInfo: ...
        async def help(self) -> List[str]: ...

    class _AsyncGroup:
        route: AsyncRouteCommands
        snapshot: AsyncSnapshotCommands
        client: Any

        def __init__(self, client: Any) -> None: ...
        async def publish(self, key: str, type: str, payload: Any, *,
                          priority: Optional[Num] = None,
                          sender: Optional[str] = None, msgid: Optional[str] = None,
                          reply_to: Optional[str] = None, replicas: Optional[Num] = None,
                          replicas_timeout_ms: Num = 1000) -> PublishResult: ...
        async def reply(self, message: Message, payload: Any, *,
                        sender: Optional[str] = None) -> Any: ...
        async def stats_page(self, cursor: Num = 0, *,
                             count: Optional[Num] = None) -> StatsPage: ...
        def stats_iter(self, *,
                       count: Optional[Num] = None) -> AsyncIterator[Tuple[str, TableStats]]: ...
        async def call(self, *args: Union[str, int, float, bytes]) -> Any: ...
else:
    from .commands import RouteCommands as AsyncRouteCommands
    from .commands import SnapshotCommands as AsyncSnapshotCommands
    _AsyncGroup = SwarmCommands


async def _notify(cb: Optional[h.OutageCallback], event: ConnectionEvent) -> None:
    if cb is not None:
        r = cb(event)
        if asyncio.iscoroutine(r):
            await r


class _Healer:
    """Reconnect bookkeeping of one owned connection (see the sync _Healer)."""

    def __init__(self, source: str, name: str, on_outage: Optional[h.OutageCallback]) -> None:
        self.source = source
        self.name = name
        self.on_outage = on_outage
        self.attempts = 0
        self.closed = asyncio.Event()

    async def failed(self, error: BaseException) -> bool:
        """Sleeps before the next attempt; False once closed."""
        if self.closed.is_set():
            return False
        self.attempts += 1
        if self.attempts == 1:
            await _notify(self.on_outage, ConnectionEvent("lost", self.source, self.name, error))
        try:
            await asyncio.wait_for(self.closed.wait(), h.reconnect_delay(self.attempts))
            return False
        except asyncio.TimeoutError:
            return not self.closed.is_set()

    async def succeeded(self) -> None:
        if self.attempts:
            n, self.attempts = self.attempts, 0
            await _notify(self.on_outage,
                          ConnectionEvent("restored", self.source, self.name, None, n))


class _Closed(Exception):
    pass


class AsyncSubscription:
    """An async iterator of Messages from pub/sub; ``await close()`` ends it. It heals its
    connection like the sync Subscription; a cancelled get() drops the connection, and the
    next get() subscribes again."""

    def __init__(self, r: Any, channels: List[str], *,
                 on_outage: Optional[h.OutageCallback] = None) -> None:
        self.channels = list(channels)
        self._r = r
        self._p: Any = None
        self._queue: List[Message] = []
        self._healer = _Healer("subscription", ",".join(self.channels), on_outage)
        self.undecodable = 0

    @property
    def closed(self) -> bool:
        return self._healer.closed.is_set()

    async def _open(self, timeout: float = h.SUBSCRIBE_CONFIRM_TIMEOUT) -> "AsyncSubscription":
        p = self._r.pubsub()
        try:
            await p.subscribe(*self.channels)
            confirmed = 0
            deadline = time.monotonic() + timeout
            while confirmed < len(self.channels):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise redis.TimeoutError("no subscribe confirmation from the server")
                m = await p.get_message(timeout=min(left, 1.0))
                if m is None:
                    continue
                if m["type"] == "subscribe":
                    confirmed += 1
                else:
                    self._take(m)
        except BaseException:
            await _close_pubsub(p)
            raise
        self._p = p
        return self

    async def _drop(self) -> None:
        p, self._p = self._p, None
        if p is not None:
            await _close_pubsub(p)

    def _take(self, m: Any) -> None:
        if m["type"] != "message":
            return
        try:
            self._queue.append(decode_envelope(m["data"], s(m["channel"])))
        except ValueError:
            self.undecodable += 1

    async def get(self, timeout: float = 1.0) -> Optional[Message]:
        """The next message, or None after ``timeout`` seconds (0: as long as it takes) or
        once closed."""
        deadline = time.monotonic() + timeout if timeout > 0 else float("inf")
        while not self._queue and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                if self._p is None:
                    await self._open(min(left, 1.0))
                    await self._healer.succeeded()
                p = self._p
                assert p is not None
                m = await p.get_message(timeout=min(left, 0.2))
            except _NET_ERRORS as e:
                await self._drop()
                if not await self._healer.failed(e):
                    break
                continue
            except BaseException:
                await asyncio.shield(self._drop())
                raise
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
            elif self.closed:
                return

    async def close(self) -> None:
        if self.closed:
            return
        self._healer.closed.set()
        if self._p is not None:
            try:
                await self._p.unsubscribe()
            except _NET_ERRORS:
                pass
        await self._drop()

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


async def _close_pubsub(p: Any) -> None:
    try:
        await p.reset()
    except _NET_ERRORS:
        pass


class AsyncStreamConsumer:
    """A consumer-group reader for a stream target (see StreamConsumer), on a connection of
    its own. Cancelling a task blocked in read() closes that connection; ``await close()``
    wakes a read blocked in another task (it returns [])."""

    def __init__(self, r: Any, stream: str, group: str, consumer: str, *, start: str = "0",
                 count: int = 10, block_ms: Optional[int] = 1000, min_idle_ms: int = 30000,
                 on_outage: Optional[h.OutageCallback] = None) -> None:
        self._r = r
        self.stream = c.stream_name(stream)
        self.group = group
        self.name = consumer
        self.start = start
        self.count = count
        self.block_ms = block_ms
        self.min_idle_ms = min_idle_ms
        self._conn: Any = None
        self._ready = False
        self._history: Optional[str] = "0"
        self._healer = _Healer("consumer", f"{self.stream}/{group}/{consumer}", on_outage)
        self._lock = asyncio.Lock()

    @property
    def closed(self) -> bool:
        return self._healer.closed.is_set()

    async def _command(self, *args: Any) -> Any:
        if self._conn is None:
            pool = h.pool_for(self._r, self.stream)
            self._conn = pool.connection_class(**h.own_connection_kwargs(pool))
        conn = self._conn
        try:
            await conn.send_command(*args)
            return await conn.read_response()
        except ResponseError as e:
            raise convert_error(e) from e
        except BaseException:
            await asyncio.shield(self._release())
            raise

    async def _release(self) -> None:
        self._history = "0"  # entries delivered but not yet handed out come again
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.disconnect()
            except _NET_ERRORS:
                pass

    async def _healing(self, fn: Callable[[], Any]) -> Any:
        async with self._lock:
            if self.closed:  # one attempt, on a connection closed again afterwards
                try:
                    return await fn()
                finally:
                    await self._release()
            while True:
                try:
                    out = await fn()
                except _NET_ERRORS as e:
                    self._ready = False
                    self._history = "0"
                    await self._release()
                    if not await self._healer.failed(e):
                        raise
                    continue
                await self._healer.succeeded()
                return out

    async def _ensure_group(self) -> bool:
        try:
            await self._command("XGROUP", "CREATE", self.stream, self.group, self.start,
                                "MKSTREAM")
            created = True
        except SwarmError as e:
            if e.code != "BUSYGROUP":
                raise
            created = False
        self._ready = True
        return created

    async def ensure_group(self) -> bool:
        """Creates the group (and stream) if missing; True if this call created it."""
        return bool(await self._healing(self._ensure_group))

    async def _blocking(self, *args: Any) -> Any:
        """A command that may block, raced against close()."""
        task = asyncio.ensure_future(self._command(*args))
        closing = asyncio.ensure_future(self._healer.closed.wait())
        try:
            await asyncio.wait({task, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not task.done():
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
        if task.cancelled():
            raise _Closed()
        return task.result()

    async def _read_once(self, count: int, block: Optional[int]) -> List[Message]:
        if not self._ready:
            await self._ensure_group()
        while self._history is not None:
            entries = h.entries_of(await self._command(*h.xreadgroup_args(
                self.group, self.name, self.stream, self._history, count, None)))
            if not entries:
                self._history = None
                break
            self._history = entries[-1][0]
            msgs = h.messages_of(self.stream, entries)
            if msgs:
                return msgs
        args = h.xreadgroup_args(self.group, self.name, self.stream, ">", count, block)
        try:
            reply = await self._blocking(*args)
        except SwarmError as e:
            if e.code != "NOGROUP":
                raise
            await self._ensure_group()
            reply = await self._blocking(*args)
        return h.messages_of(self.stream, h.entries_of(reply))

    async def read(self, *, count: Optional[int] = None,
                   block_ms: Union[Optional[int], h.Default] = DEFAULT) -> List[Message]:
        """See StreamConsumer.read (0: block forever; None: no block)."""
        block = self.block_ms if isinstance(block_ms, h.Default) else block_ms
        if self.closed:
            return []
        try:
            return await self._healing(  # type: ignore[no-any-return]
                lambda: self._read_once(count or self.count, block))
        except (_Closed, *_NET_ERRORS):
            if self.closed:
                return []
            raise

    async def ack(self, *items: Union[Message, str]) -> int:
        ids = [m if isinstance(m, str) else (m.entry_id or m.id) for m in items]
        if not ids:
            return 0
        return int(await self._healing(
            lambda: self._command("XACK", self.stream, self.group, *ids)))

    async def reclaim(self, *, min_idle_ms: Optional[int] = None,
                      count: Optional[int] = None) -> Tuple[List[Message], List[str]]:
        limit = count or self.count
        idle = self.min_idle_ms if min_idle_ms is None else min_idle_ms

        async def run() -> Tuple[List[Message], List[str]]:
            if not self._ready:
                await self._ensure_group()
            msgs: List[Message] = []
            deleted: List[str] = []
            cursor = "0-0"
            while True:
                cursor, got, gone = h.autoclaim_page(self.stream, await self._command(
                    "XAUTOCLAIM", self.stream, self.group, self.name, idle, cursor,
                    "COUNT", limit - len(msgs)))
                msgs += got
                deleted += gone
                if cursor == "0-0" or len(msgs) >= limit:
                    return msgs, deleted
        return await self._healing(run)  # type: ignore[no-any-return]

    async def pending(self) -> int:
        return h.pending_count(await self._healing(
            lambda: self._command("XPENDING", self.stream, self.group)))

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Message]:
        try:
            while not self.closed:
                for m in await self.read():
                    yield m
        finally:
            if not self._lock.locked():
                await self._release()

    async def close(self) -> None:
        """Ends the consumer and closes its connection."""
        self._healer.closed.set()
        async with self._lock:
            await self._release()

    async def __aenter__(self) -> "AsyncStreamConsumer":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


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


class _FutureWaiter(Waiter):
    def __init__(self) -> None:
        self.future: "asyncio.Future[Optional[Reply]]" = \
            asyncio.get_running_loop().create_future()

    def deliver(self, reply: Optional[Reply]) -> None:
        if not self.future.done():
            self.future.set_result(reply)


class AsyncInbox:
    """The reply inbox of request() for asyncio: one pub/sub connection read by one task,
    one channel per routing table subscribed once (see the sync Inbox and
    swarm_redis.inbox). ``late`` counts replies dropped because no request waited for them
    any more."""

    POLL_SECONDS = 0.05

    def __init__(self, r: Any, on_outage: Optional[h.OutageCallback] = None) -> None:
        self._r = r
        self.matcher = Matcher(f"swarm.inbox.{uuid.uuid4().hex}")
        self._healer = _Healer("inbox", self.matcher.prefix, on_outage)
        self._p: Any = None
        self._wanted: Dict[str, asyncio.Event] = {}  # channel -> subscribed
        self._sent: Set[str] = set()  # SUBSCRIBE sent on the current connection
        self._error: Optional[BaseException] = None
        self._task: "Optional[asyncio.Task[None]]" = None

    @property
    def late(self) -> int:
        return self.matcher.late

    @property
    def closed(self) -> bool:
        return self._healer.closed.is_set()

    async def channel(self, table: str) -> str:
        """The inbox channel for requests through ``table``, subscribed before it returns."""
        if self.closed:
            raise redis.ConnectionError("the inbox is closed")
        ch = self.matcher.channel(table)
        ev = self._wanted.get(ch)
        if ev is None:
            ev = self._wanted[ch] = asyncio.Event()
        if self._task is None:
            self._task = asyncio.ensure_future(self._loop())
        try:
            await asyncio.wait_for(ev.wait(), h.SUBSCRIBE_CONFIRM_TIMEOUT)
        except asyncio.TimeoutError:
            raise redis.ConnectionError(
                f"the inbox could not subscribe {ch}: {self._error}") from None
        return ch

    async def _loop(self) -> None:
        try:
            while not self.closed:
                try:
                    if self._p is None:
                        self._p = self._r.pubsub()
                        self._sent.clear()
                    todo = [ch for ch in self._wanted if ch not in self._sent]
                    if todo:
                        await self._p.subscribe(*todo)
                        self._sent.update(todo)
                    m = await self._p.get_message(timeout=self.POLL_SECONDS)
                except _NET_ERRORS as e:
                    self._error = e
                    await self._drop()
                    if not await self._healer.failed(e):
                        return
                    continue
                if m is None:
                    continue
                if m["type"] == "subscribe":
                    ev = self._wanted.get(s(m["channel"]))
                    if ev is not None:
                        await self._healer.succeeded()
                        ev.set()
                elif m["type"] == "message":
                    try:
                        reply = decode_reply(m["data"], s(m["channel"]))
                    except (ValueError, KeyError, TypeError):
                        self.matcher.undecodable += 1
                        continue
                    self.matcher.dispatch(reply)
        finally:
            await asyncio.shield(self._drop())

    async def _drop(self) -> None:
        p, self._p = self._p, None
        if p is not None:
            await _close_pubsub(p)

    async def wait(self, w: _FutureWaiter, timeout_ms: int) -> Optional[Reply]:
        """The reply, or None on timeout (0: none) or once closed; a cancelled wait ends
        the request (a reply arriving later is late)."""
        try:
            if timeout_ms > 0:
                await asyncio.wait_for(asyncio.shield(w.future), timeout_ms / 1000.0)
            else:
                await asyncio.shield(w.future)
        except asyncio.TimeoutError:
            pass
        finally:
            reply = self.matcher.finish(w)
        return reply

    async def close(self) -> None:
        self._healer.closed.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except BaseException:
                pass
        await self._drop()
        self.matcher.close()


class AsyncSwarm(_AsyncGroup):
    """The swarm command group over one ``redis.asyncio`` client (``Redis``,
    ``RedisCluster`` or a pipeline), plus the asyncio helpers. ``await close()`` closes the
    subscriptions and consumers it opened (not the redis-py client)."""

    def __init__(self, client: Any, *, on_outage: Optional[h.OutageCallback] = None) -> None:
        super().__init__(client)
        self.redis = client
        self.on_outage = on_outage
        self._owned: "weakref.WeakSet[Union[AsyncSubscription, AsyncStreamConsumer]]" = \
            weakref.WeakSet()
        self._inbox: Optional[AsyncInbox] = None

    @property
    def inbox(self) -> AsyncInbox:
        """The reply inbox of request() (its connection opens with the first request)."""
        if self._inbox is None:
            self._inbox = AsyncInbox(self.redis, self.on_outage)
        return self._inbox

    @property
    def late_replies(self) -> int:
        """Replies dropped because no request waited for them any more."""
        return self._inbox.late if self._inbox is not None else 0

    async def request(self, key: str, type: str, payload: Any, *, timeout_ms: int = 5000,
                      priority: Optional[Num] = None, sender: Optional[str] = None,
                      msgid: Optional[str] = None) -> Reply:
        """See Swarm.request. Cancelling the task ends the request; the inbox stays."""
        if _is_pipeline(self.redis) or hasattr(self.redis, "get_node_from_key"):
            raise TypeError("request() needs a client (not a pipeline nor a cluster client)")
        inbox = self.inbox
        channel = await inbox.channel(key)
        w = _FutureWaiter()
        inbox.matcher.begin()
        try:
            res = await self.publish(key, type, payload, priority=priority, sender=sender,
                                     msgid=msgid, reply_to="channel:" + channel)
            inbox.matcher.register(w, channel, res.id)
        finally:
            inbox.matcher.end()
        reply = await inbox.wait(w, timeout_ms)
        if reply is not None:
            return reply
        if inbox.closed:
            raise redis.ConnectionError("the AsyncSwarm was closed while a request waited")
        raise RequestTimeoutError(key, type, res.id, timeout_ms)

    async def subscribe(self, key: str, *, channels: Optional[List[str]] = None,
                        include_default: bool = True,
                        on_outage: Optional[h.OutageCallback] = None) -> AsyncSubscription:
        if channels is None:
            stats = await self.route.stats(key) if include_default else None
            channels = c.channels_of(await self.route.list(key), stats)
        if not channels:
            raise ValueError(f"swarm {key!r} has no channel targets to subscribe to")
        sub = AsyncSubscription(self.redis, channels, on_outage=on_outage or self.on_outage)
        await sub._open()
        self._owned.add(sub)
        return sub

    def consumer(self, stream: str, group: str, consumer: str, *, start: str = "0",
                 count: int = 10, block_ms: Optional[int] = 1000, min_idle_ms: int = 30000,
                 on_outage: Optional[h.OutageCallback] = None) -> AsyncStreamConsumer:
        cons = AsyncStreamConsumer(self.redis, stream, group, consumer, start=start,
                                   count=count, block_ms=block_ms, min_idle_ms=min_idle_ms,
                                   on_outage=on_outage or self.on_outage)
        self._owned.add(cons)
        return cons

    def state(self, key: str, *, retries: int = 50, base_delay_ms: float = 2,
              max_delay_ms: float = 200, keep: Optional[Num] = None) -> AsyncState:
        return AsyncState(self.snapshot, key, retries=retries, base_delay_ms=base_delay_ms,
                          max_delay_ms=max_delay_ms, keep=keep)

    async def close(self) -> None:
        for x in list(self._owned):
            await x.close()
        if self._inbox is not None:
            await self._inbox.close()

    async def __aenter__(self) -> "AsyncSwarm":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class AsyncSwarmModuleCommands:
    """A mixin giving a redis.asyncio client class ``.swarm()``."""

    def swarm(self, *, on_outage: Optional[h.OutageCallback] = None) -> AsyncSwarm:
        return AsyncSwarm(self, on_outage=on_outage)


class Pipeline(AsyncSwarmModuleCommands, redis.asyncio.client.Pipeline):  # type: ignore[misc]
    """``redis.asyncio`` Pipeline with ``.swarm()``."""


class Redis(AsyncSwarmModuleCommands, redis.asyncio.Redis):  # type: ignore[misc]
    """``redis.asyncio.Redis`` with ``.swarm()``; its pipelines have ``.swarm()`` too."""

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        return Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
