"""The synchronous API: ``Swarm`` (the command group plus helpers) over ``redis.Redis``.

    import redis
    from swarm_redis import Swarm

    sw = Swarm(redis.Redis(decode_responses=True))
    sw.route.add("swarm:ops", "task.*", "channel:tasks")
    sw.publish("swarm:ops", "task.done", {"task": "t-17"}, priority=8)

The commands (``sw.publish``, ``sw.route.*``, ``sw.snapshot.*``) are the command group of
``swarm_redis.commands`` and also work on pipelines and ``redis.RedisCluster``. The helpers
(subscription, consumer, state) need a client; subscriptions and consumers own one
connection each, heal it after a server restart, and free it on close().
"""

from __future__ import annotations

import random
import socket
import threading
import time
import uuid
import weakref
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Union

import redis
from redis.exceptions import ResponseError

from . import _helpers as h
from . import _spec as c
from .commands import SnapshotCommands, SwarmCommands, _is_pipeline
from .errors import ConflictError, RequestTimeoutError, SwarmError, convert_error
from .inbox import Matcher, Waiter
from .types import ConnectionEvent, Message, Num, Reply, Versioned, decode_envelope, decode_reply, s

__all__ = ["Swarm", "Subscription", "StreamConsumer", "State", "Inbox", "UNCHANGED", "DEFAULT",
           "SwarmModuleCommands", "Redis", "Pipeline"]

DEFAULT = h.DEFAULT
_NET_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()
"""Returned by an update function to write nothing."""


class _Closed(Exception):
    pass


class _Healer:
    """Reconnect bookkeeping of one owned connection: reports "lost" once per outage and
    "restored" when an operation succeeds again; sleeps between attempts until closed."""

    def __init__(self, source: str, name: str, on_outage: Optional[h.OutageCallback]) -> None:
        self.source = source
        self.name = name
        self.on_outage = on_outage
        self.attempts = 0
        self.closed = threading.Event()

    def failed(self, error: BaseException) -> None:
        if self.closed.is_set():
            raise _Closed()
        self.attempts += 1
        if self.attempts == 1 and self.on_outage is not None:
            self.on_outage(ConnectionEvent("lost", self.source, self.name, error, 0))
        if self.closed.wait(h.reconnect_delay(self.attempts)):
            raise _Closed()

    def succeeded(self) -> None:
        if self.attempts:
            n, self.attempts = self.attempts, 0
            if self.on_outage is not None:
                self.on_outage(ConnectionEvent("restored", self.source, self.name, None, n))


class Subscription:
    """A pub/sub subscription yielding Messages: iterate it, or get(timeout); close() ends it.

    It owns its connection: when the server goes away it reconnects (with backoff) and
    subscribes again, reporting ``on_outage`` events; messages published while it was gone
    are not delivered (pub/sub keeps nothing)."""

    def __init__(self, r: Any, channels: List[str], *,
                 on_outage: Optional[h.OutageCallback] = None) -> None:
        self.channels = list(channels)
        self._r = r
        self._p: Any = None
        self._queue: List[Message] = []
        self._healer = _Healer("subscription", ",".join(self.channels), on_outage)
        self._in_get = False
        self.undecodable = 0
        self._open(h.SUBSCRIBE_CONFIRM_TIMEOUT)

    @property
    def closed(self) -> bool:
        return self._healer.closed.is_set()

    def _open(self, timeout: float) -> None:
        p = self._r.pubsub()
        try:
            p.subscribe(*self.channels)
            confirmed = 0
            deadline = time.monotonic() + timeout
            while confirmed < len(self.channels):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise redis.TimeoutError("no subscribe confirmation from the server")
                m = p.get_message(timeout=min(left, 1.0))
                if m is None:
                    continue
                if m["type"] == "subscribe":
                    confirmed += 1
                else:
                    self._take(m)
        except BaseException:
            p.close()
            raise
        self._p = p

    def _drop(self) -> None:
        p, self._p = self._p, None
        if p is not None:
            try:
                p.close()
            except _NET_ERRORS:
                pass

    def _take(self, m: Any) -> None:
        if m["type"] != "message":
            return
        try:
            self._queue.append(decode_envelope(m["data"], s(m["channel"])))
        except ValueError:
            self.undecodable += 1

    def get(self, timeout: float = 1.0) -> Optional[Message]:
        """The next message, or None after ``timeout`` seconds (0: as long as it takes) or
        once closed. During an outage it keeps reconnecting until the timeout."""
        deadline = time.monotonic() + timeout if timeout > 0 else float("inf")
        while not self._queue and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                if self._p is None:
                    self._open(min(left, 1.0))
                    if self.closed:  # close() ran meanwhile in another thread
                        self._drop()
                        break
                    self._healer.succeeded()
                p = self._p
                assert p is not None
                self._in_get = True
                try:
                    m = p.get_message(timeout=min(left, 1.0))
                finally:
                    self._in_get = False
            except _NET_ERRORS as e:
                self._drop()
                try:
                    self._healer.failed(e)
                except _Closed:
                    break
                continue
            except BaseException:
                self._drop()
                raise
            if m is not None:
                self._take(m)
        return self._queue.pop(0) if self._queue else None

    def __iter__(self) -> Iterator[Message]:
        while True:
            m = self.get(1.0)
            if m is not None:
                yield m
            elif self.closed:
                return

    def close(self) -> None:
        """Unsubscribes and closes the connection (from any thread)."""
        if self.closed:
            return
        self._healer.closed.set()
        p = self._p
        if p is not None and self._in_get:  # another thread reads: wake it, it disconnects
            sock = getattr(p.connection, "_sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return
        if p is not None:
            try:
                p.unsubscribe()
            except _NET_ERRORS:
                pass
        self._drop()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class StreamConsumer:
    """A consumer-group reader for a stream target, on a connection of its own.

    The group is created if missing (``XGROUP CREATE <stream> <group> <start> MKSTREAM``);
    ``start="0"`` (default) also delivers entries published before the group existed,
    ``"$"`` only newer ones. read() first returns this consumer's own pending entries
    (delivered before but not acknowledged: after a crash or a lost reply), then new ones
    (XREADGROUP ``>``, blocking ``block_ms``: 0 waits forever, None does not block). ack()
    is XACK, reclaim() XAUTOCLAIM of entries pending longer than ``min_idle_ms``.

    When the server goes away every call reconnects with backoff until it is back (or
    close() is called), re-creates the group if it was lost, reads its pending entries
    again, and reports ``on_outage`` events. Leaving a ``for`` loop over the consumer
    closes its connection (the next call opens one); close() ends it for good.
    """

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
        self._reading = False
        self._ready = False
        self._history: Optional[str] = "0"
        self._healer = _Healer("consumer", f"{self.stream}/{group}/{consumer}", on_outage)
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        return self._healer.closed.is_set()

    def _command(self, *args: Any) -> Any:
        if self._conn is None:
            pool = h.pool_for(self._r, self.stream)
            self._conn = pool.connection_class(**h.own_connection_kwargs(pool))
        conn = self._conn
        try:
            conn.send_command(*args)
            return conn.read_response()
        except ResponseError as e:
            raise convert_error(e) from e
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        self._history = "0"  # entries delivered but not yet handed out come again
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.disconnect()

    def _healing(self, fn: Callable[[], Any]) -> Any:
        with self._lock:
            if self.closed:  # one attempt, on a connection closed again afterwards
                try:
                    return fn()
                finally:
                    self._release()
            while True:
                try:
                    out = fn()
                except _NET_ERRORS as e:
                    self._ready = False
                    self._history = "0"
                    try:
                        self._healer.failed(e)
                    except _Closed:
                        raise e from None
                    continue
                self._healer.succeeded()
                if self.closed:  # close() ran in another thread meanwhile
                    self._release()
                return out

    def _ensure_group(self) -> bool:
        try:
            self._command("XGROUP", "CREATE", self.stream, self.group, self.start, "MKSTREAM")
            created = True
        except SwarmError as e:
            if e.code != "BUSYGROUP":
                raise
            created = False
        self._ready = True
        return created

    def ensure_group(self) -> bool:
        """Creates the group (and stream) if missing; True if this call created it."""
        return bool(self._healing(self._ensure_group))

    def _read_once(self, count: int, block: Optional[int]) -> List[Message]:
        if not self._ready:
            self._ensure_group()
        while self._history is not None:
            entries = h.entries_of(self._command(*h.xreadgroup_args(
                self.group, self.name, self.stream, self._history, count, None)))
            if not entries:
                self._history = None
                break
            self._history = entries[-1][0]
            msgs = h.messages_of(self.stream, entries)
            if msgs:
                return msgs
        args = h.xreadgroup_args(self.group, self.name, self.stream, ">", count, block)
        self._reading = True
        try:
            reply = self._command(*args)
        except SwarmError as e:
            if e.code != "NOGROUP":  # stream or group deleted meanwhile: recreate once
                raise
            self._ensure_group()
            reply = self._command(*args)
        finally:
            self._reading = False
        return h.messages_of(self.stream, h.entries_of(reply))

    def read(self, *, count: Optional[int] = None,
             block_ms: Union[Optional[int], h.Default] = DEFAULT) -> List[Message]:
        """Entries for this consumer: its pending ones first, then new ones; [] when none
        came within ``block_ms`` (default: the consumer's; 0: forever; None: no block) or
        once closed."""
        block = self.block_ms if isinstance(block_ms, h.Default) else block_ms
        if self.closed:
            return []
        try:
            return self._healing(lambda: self._read_once(count or self.count, block))  # type: ignore[no-any-return]
        except _NET_ERRORS:
            if self.closed:
                return []
            raise

    def ack(self, *items: Union[Message, str]) -> int:
        """XACK messages (or entry ids); how many were acknowledged."""
        ids = [m if isinstance(m, str) else (m.entry_id or m.id) for m in items]
        if not ids:
            return 0
        return int(self._healing(lambda: self._command("XACK", self.stream, self.group, *ids)))

    def reclaim(self, *, min_idle_ms: Optional[int] = None,
                count: Optional[int] = None) -> Tuple[List[Message], List[str]]:
        """XAUTOCLAIM from 0-0 following the cursor: (claimed messages, deleted entry ids)."""
        limit = count or self.count
        idle = self.min_idle_ms if min_idle_ms is None else min_idle_ms

        def run() -> Tuple[List[Message], List[str]]:
            if not self._ready:
                self._ensure_group()
            msgs: List[Message] = []
            deleted: List[str] = []
            cursor = "0-0"
            while True:
                cursor, got, gone = h.autoclaim_page(self.stream, self._command(
                    "XAUTOCLAIM", self.stream, self.group, self.name, idle, cursor,
                    "COUNT", limit - len(msgs)))
                msgs += got
                deleted += gone
                if cursor == "0-0" or len(msgs) >= limit:
                    return msgs, deleted
        return self._healing(run)  # type: ignore[no-any-return]

    def pending(self) -> int:
        """How many entries of the group are delivered but not acknowledged."""
        return h.pending_count(self._healing(
            lambda: self._command("XPENDING", self.stream, self.group)))

    def __iter__(self) -> Iterator[Message]:
        try:
            while not self.closed:
                yield from self.read()
        finally:
            if not self._lock.locked():
                self._release()

    def close(self) -> None:
        """Ends the consumer and closes its connection; a read blocked in another thread
        returns []."""
        self._healer.closed.set()
        conn = self._conn
        if conn is not None and self._reading:
            sock = getattr(conn, "_sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the reader, which disconnects
                except OSError:
                    pass
        elif not self._lock.locked():
            self._release()

    def __enter__(self) -> "StreamConsumer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class State:
    """A snapshot key as shared state: atomic get(), compare-and-set update(fn)."""

    def __init__(self, snapshot: SnapshotCommands, key: str, *, retries: int = 50,
                 base_delay_ms: float = 2, max_delay_ms: float = 200,
                 keep: Optional[Num] = None) -> None:
        self._snap = snapshot
        self.key = key
        self.retries = retries
        self.base_delay_ms = base_delay_ms
        self.max_delay_ms = max_delay_ms
        self.keep = keep

    def get(self) -> Versioned:
        """(version, doc); (0, None) when the key does not exist."""
        return self._snap.get_with_version(self.key)

    def update(self, fn: Callable[[Any, int], Any]) -> Tuple[Any, int, int]:
        """Runs read -> fn(doc, version) -> SAVE IFVERSION, retrying on CONFLICT with
        jittered exponential backoff. Returns (doc, version, attempts). fn may run several
        times and should have no side effects; it may return UNCHANGED. After ``retries``
        retries the last ConflictError is raised with ``.attempts`` set."""
        attempt = 0
        while True:
            attempt += 1
            cur = self.get()
            new = fn(cur.doc, cur.version)
            if new is UNCHANGED:
                return cur.doc, cur.version, attempt
            try:
                v = self._snap.save(self.key, new, if_version=cur.version, keep=self.keep)
                return new, v, attempt
            except ConflictError as e:
                if attempt > self.retries:
                    e.attempts = attempt
                    raise
                time.sleep(random.uniform(0, c.backoff_ceiling(
                    attempt, self.base_delay_ms, self.max_delay_ms)))


class _ThreadWaiter(Waiter):
    def __init__(self) -> None:
        self.event = threading.Event()

    def deliver(self, reply: Optional[Reply]) -> None:
        self.event.set()


class Inbox:
    """The reply inbox of request(): one pub/sub connection, read by one daemon thread that
    hands each reply to the request waiting for it (see swarm_redis.inbox). It subscribes
    one channel per routing table, once, the first time a request goes through that table.
    It heals its connection like a Subscription and subscribes again (replies sent while it
    was gone are lost: those requests time out). ``late`` counts replies dropped because no
    request waited for them (finished, timed out, cancelled)."""

    POLL_SECONDS = 0.05

    def __init__(self, r: Any, on_outage: Optional[h.OutageCallback] = None) -> None:
        self._r = r
        self.matcher = Matcher(f"swarm.inbox.{uuid.uuid4().hex}")
        self._healer = _Healer("inbox", self.matcher.prefix, on_outage)
        self._p: Any = None
        self._wanted: Dict[str, threading.Event] = {}  # channel -> subscribed
        self._sent: Set[str] = set()  # SUBSCRIBE sent on the current connection
        self._error: Optional[BaseException] = None
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None

    @property
    def late(self) -> int:
        return self.matcher.late

    @property
    def closed(self) -> bool:
        return self._healer.closed.is_set()

    def channel(self, table: str) -> str:
        """The inbox channel for requests through ``table``, subscribed before it returns
        (so no reply to a request published afterwards is missed)."""
        ch = self.matcher.channel(table)
        with self._lock:
            if self.closed:
                raise redis.ConnectionError("the inbox is closed")
            ev = self._wanted.get(ch)
            if ev is None:
                ev = self._wanted[ch] = threading.Event()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.matcher.prefix,
                                                daemon=True)
                self._thread.start()
        if not ev.wait(h.SUBSCRIBE_CONFIRM_TIMEOUT):
            raise redis.ConnectionError(f"the inbox could not subscribe {ch}: {self._error}")
        return ch

    def _loop(self) -> None:
        try:
            while not self.closed:
                try:
                    if self._p is None:
                        self._p = self._r.pubsub()
                        self._sent.clear()
                    with self._lock:
                        todo = [ch for ch in self._wanted if ch not in self._sent]
                    if todo:
                        self._p.subscribe(*todo)
                        self._sent.update(todo)
                    m = self._p.get_message(timeout=self.POLL_SECONDS)
                except _NET_ERRORS as e:
                    self._error = e
                    self._drop()
                    try:
                        self._healer.failed(e)
                    except _Closed:
                        return
                    continue
                if m is None:
                    continue
                if m["type"] == "subscribe":
                    ev = self._wanted.get(s(m["channel"]))
                    if ev is not None:
                        self._healer.succeeded()
                        ev.set()
                elif m["type"] == "message":
                    try:
                        reply = decode_reply(m["data"], s(m["channel"]))
                    except (ValueError, KeyError, TypeError):
                        self.matcher.undecodable += 1
                        continue
                    self.matcher.dispatch(reply)
        finally:
            self._drop()

    def _drop(self) -> None:
        p, self._p = self._p, None
        if p is not None:
            try:
                p.close()
            except _NET_ERRORS:
                pass

    def wait(self, w: _ThreadWaiter, timeout_ms: int) -> Optional[Reply]:
        """The reply, or None on timeout (0: none) or once closed."""
        try:
            w.event.wait(timeout_ms / 1000.0 if timeout_ms > 0 else None)
        finally:
            reply = self.matcher.finish(w)
        return reply

    def close(self) -> None:
        """Stops the reader thread, closes the connection, wakes waiting requests."""
        self._healer.closed.set()
        with self._lock:
            t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join()
        self.matcher.close()


class Swarm(SwarmCommands):
    """The swarm command group over one redis-py client (``redis.Redis``,
    ``redis.RedisCluster``, or a pipeline of either), plus the helpers that need a client.

    ``on_outage`` is passed to the subscriptions and consumers it opens. close() closes
    every one of them that is still open (not the redis-py client).
    """

    def __init__(self, client: Any, *, on_outage: Optional[h.OutageCallback] = None) -> None:
        super().__init__(client)
        self.redis = client
        self.on_outage = on_outage
        self._owned: "weakref.WeakSet[Union[Subscription, StreamConsumer]]" = weakref.WeakSet()
        self._inbox: Optional[Inbox] = None
        self._inbox_lock = threading.Lock()

    @property
    def inbox(self) -> Inbox:
        """The reply inbox of request() (its connection opens with the first request)."""
        with self._inbox_lock:
            if self._inbox is None:
                self._inbox = Inbox(self.redis, self.on_outage)
            return self._inbox

    @property
    def late_replies(self) -> int:
        """Replies dropped because no request waited for them any more."""
        return self._inbox.late if self._inbox is not None else 0

    def request(self, key: str, type: str, payload: Any, *, timeout_ms: int = 5000,
                priority: Optional[Num] = None, sender: Optional[str] = None,
                msgid: Optional[str] = None) -> Reply:
        """Publishes a message with ``reply_to`` set to this object's inbox and returns the
        first reply to it (a responder calls reply()). RequestTimeoutError when none came
        within ``timeout_ms`` (0: wait as long as it takes); redis.ConnectionError if the
        Swarm is closed meanwhile. Any number of threads may call it at once: they share
        one inbox connection."""
        if _is_pipeline(self.redis) or hasattr(self.redis, "get_node_from_key"):
            raise TypeError("request() needs a client (not a pipeline nor a cluster client)")
        inbox = self.inbox
        channel = inbox.channel(key)
        w = _ThreadWaiter()
        inbox.matcher.begin()
        try:
            res = self.publish(key, type, payload, priority=priority, sender=sender,
                               msgid=msgid, reply_to="channel:" + channel)
            inbox.matcher.register(w, channel, res.id)
        finally:
            inbox.matcher.end()
        reply = inbox.wait(w, timeout_ms)
        if reply is not None:
            return reply
        if inbox.closed:
            raise redis.ConnectionError("the Swarm was closed while a request waited")
        raise RequestTimeoutError(key, type, res.id, timeout_ms)

    def subscribe(self, key: str, *, channels: Optional[List[str]] = None,
                  include_default: bool = True,
                  on_outage: Optional[h.OutageCallback] = None) -> Subscription:
        """Subscribes to the swarm's channel targets (and its DEFAULT target when that is a
        channel). Returns once the server confirmed, so later publishes are not missed."""
        if channels is None:
            stats = self.route.stats(key) if include_default else None
            channels = c.channels_of(self.route.list(key), stats)
        if not channels:
            raise ValueError(f"swarm {key!r} has no channel targets to subscribe to")
        sub = Subscription(self.redis, channels, on_outage=on_outage or self.on_outage)
        self._owned.add(sub)
        return sub

    def consumer(self, stream: str, group: str, consumer: str, *, start: str = "0",
                 count: int = 10, block_ms: Optional[int] = 1000, min_idle_ms: int = 30000,
                 on_outage: Optional[h.OutageCallback] = None) -> StreamConsumer:
        """A StreamConsumer (see there)."""
        cons = StreamConsumer(self.redis, stream, group, consumer, start=start, count=count,
                              block_ms=block_ms, min_idle_ms=min_idle_ms,
                              on_outage=on_outage or self.on_outage)
        self._owned.add(cons)
        return cons

    def state(self, key: str, *, retries: int = 50, base_delay_ms: float = 2,
              max_delay_ms: float = 200, keep: Optional[Num] = None) -> State:
        """A State handle (see there)."""
        return State(self.snapshot, key, retries=retries, base_delay_ms=base_delay_ms,
                     max_delay_ms=max_delay_ms, keep=keep)

    def close(self) -> None:
        """Closes the subscriptions, consumers and the inbox this object opened."""
        for x in list(self._owned):
            x.close()
        if self._inbox is not None:
            self._inbox.close()

    def __enter__(self) -> "Swarm":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SwarmModuleCommands:
    """A mixin giving a redis-py client class ``.swarm()``, as ``.json()`` is given."""

    def swarm(self, *, on_outage: Optional[h.OutageCallback] = None) -> Swarm:
        """The swarm command group on this client (or pipeline)."""
        return Swarm(self, on_outage=on_outage)


class Pipeline(SwarmModuleCommands, redis.client.Pipeline):  # type: ignore[misc]
    """``redis.client.Pipeline`` with ``.swarm()``."""


class Redis(SwarmModuleCommands, redis.Redis):  # type: ignore[misc]
    """``redis.Redis`` with ``.swarm()``; its pipelines have ``.swarm()`` too."""

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        return Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
