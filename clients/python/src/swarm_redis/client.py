"""The synchronous API over ``redis.Redis``.

    import redis
    from swarm_redis import Swarm

    sw = Swarm(redis.Redis(decode_responses=True))
    sw.route.add("swarm:ops", "task.*", "channel:tasks")
    sw.publish("swarm:ops", "task.done", {"task": "t-17"}, priority=8)

Blocking calls (``snapshot.wait``, ``consumer.read`` with ``block_ms``) take a connection
from redis-py's pool for their duration and leave the others free; the client's
``socket_timeout`` (none by default) must be longer than the block.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import redis
from redis.exceptions import ResponseError

from . import _spec as c
from .errors import CommandError, ConflictError, SwarmError, convert_error
from .types import (
    EditResult, Message, Num, PublishResult, RawJSON, Route, Rule, SnapshotInfo, Stats,
    VersionEntry, Versioned, decode_envelope, decode_stream_entry, decode_stream_reply, lst, s,
)

T = TypeVar("T")

__all__ = ["Swarm", "RouteCommands", "SnapshotCommands", "Subscription", "StreamConsumer",
           "State", "UNCHANGED"]


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()
"""Returned by an update function to write nothing."""


class _Base:
    def __init__(self, r: "redis.Redis[Any]") -> None:
        self._r = r

    def _run(self, cmd: "c.Cmd[T]") -> T:
        try:
            reply = self._r.execute_command(*cmd.args)
        except ResponseError as e:
            raise convert_error(e) from e
        return cmd.decode(reply)


class RouteCommands(_Base):
    """SWARM.ROUTE subcommands."""

    def add(self, key: str, pattern: str, target: str, *, regex: bool = False,
            priority: Optional[Tuple[Num, Num]] = None) -> int:
        """ADD: the route id (the existing id for an identical route)."""
        return self._run(c.route_add(key, pattern, target, regex, priority))

    def delete(self, key: str, *ids: Num) -> int:
        """DEL: how many routes or rules were removed."""
        return self._run(c.route_del(key, ids))

    def list(self, key: str) -> List[Route]:
        return self._run(c.route_list(key))

    def match(self, key: str, type: str, *, priority: Optional[Num] = None) -> List[str]:
        """MATCH: the targets a publish would reach (a dry run)."""
        return self._run(c.route_match(key, type, priority))

    def allow(self, key: str, regex: str) -> int:
        return self._run(c.route_rule("ALLOW", key, regex))

    def deny(self, key: str, regex: str) -> int:
        return self._run(c.route_rule("DENY", key, regex))

    def rules(self, key: str) -> List[Rule]:
        return self._run(c.route_rules(key))

    def set_default(self, key: str, target: Optional[str]) -> None:
        """DEFAULT: sets the dead-letter target, or clears it with None."""
        self._run(c.route_default(key, target))

    def stats(self, key: str) -> Stats:
        return self._run(c.route_stats(key))

    def help(self) -> List[str]:
        return self._run(c.help_("SWARM.ROUTE"))


class SnapshotCommands(_Base):
    """SWARM.SNAPSHOT subcommands. Documents are JSON values (json.dumps) or RawJSON."""

    def __init__(self, r: "redis.Redis[Any]") -> None:
        super().__init__(r)
        self._withversion: Optional[bool] = None

    def save(self, key: str, doc: Any, *, if_version: Optional[Num] = None,
             keep: Optional[Num] = None) -> int:
        """SAVE: the new version. ``if_version=0``: only if the key does not exist."""
        return self._run(c.snap_save(key, doc, if_version, keep))

    def get(self, key: str, *, version: Optional[Num] = None, path: Optional[str] = None) -> Any:
        """GET, parsed; None when the key or path is absent (get_text tells it from null)."""
        return self._run(c.snap_get(key, version, path))

    def get_text(self, key: str, *, version: Optional[Num] = None,
                 path: Optional[str] = None) -> Optional[str]:
        """GET as JSON text; None when the key or the path is absent."""
        return self._run(c.snap_get_text(key, version, path))

    def get_with_version(self, key: str, *, path: Optional[str] = None) -> Versioned:
        """The head document and its version, read atomically.

        ``GET ... WITHVERSION`` where the module has it; otherwise INFO for the head, then
        ``GET VERSION <head>``, which is exactly that version's text whatever happens in
        between (read again if that version was evicted meanwhile).
        """
        if self._withversion is not False:
            try:
                version, doc = self._run(c.snap_get_withversion(key, path))
                self._withversion = True
                return Versioned(version, doc)
            except CommandError as e:
                if e.detail != "syntax error":
                    raise
                self._withversion = False
        for attempt in range(100):
            try:
                head = self.info(key).head
            except CommandError as e:
                if e.detail == "no such key":
                    return Versioned(0, None)
                raise
            try:
                return Versioned(head, self.get(key, version=head, path=path))
            except SwarmError as e:
                if e.code != "NOVERSION" or attempt == 99:
                    raise
        raise AssertionError("unreachable")

    def supports_withversion(self) -> bool:
        """Whether GET takes WITHVERSION here (probed once, cached)."""
        if self._withversion is None:
            self.get_with_version("\x00swarm:probe")
        return bool(self._withversion)

    def patch(self, key: str, merge_patch: Any, *, if_version: Optional[Num] = None) -> int:
        """PATCH (RFC 7396 merge patch): the new version."""
        return self._run(c.snap_patch(key, merge_patch, if_version))

    def edit(self, key: str, ops: Union[Sequence[Any], RawJSON], *,
             if_version: Optional[Num] = None) -> EditResult:
        """EDIT (RFC 6902 JSON Patch plus ``incr``): the new version and the incr results."""
        return self._run(c.snap_edit(key, ops, if_version))

    def wait(self, key: str, version: Num, timeout_ms: Num) -> Optional[int]:
        """WAIT: the head once it is above ``version``; None on timeout (0: forever)."""
        return self._run(c.snap_wait(key, version, timeout_ms))

    def diff(self, key: str, from_version: Num, to_version: Optional[Num] = None) -> str:
        """DIFF: the merge patch (JSON text) turning one version into another (head default)."""
        return self._run(c.snap_diff(key, from_version, to_version))

    def list(self, key: str) -> List[VersionEntry]:
        return self._run(c.snap_list(key))

    def restore(self, key: str, version: Num) -> int:
        return self._run(c.snap_restore(key, version))

    def info(self, key: str) -> SnapshotInfo:
        """INFO; CommandError ``no such key`` for a missing key."""
        return self._run(c.snap_info(key))

    def help(self) -> List[str]:
        return self._run(c.help_("SWARM.SNAPSHOT"))


class Subscription:
    """A pub/sub subscription yielding Messages; iterate it, or get(timeout). close() ends it."""

    def __init__(self, r: "redis.Redis[Any]", channels: List[str]) -> None:
        self.channels = list(channels)
        self._p = r.pubsub()
        self._queue: List[Message] = []
        self._closed = False
        self.undecodable = 0
        self._p.subscribe(*self.channels)
        confirmed = 0
        deadline = time.monotonic() + 10
        while confirmed < len(self.channels):
            if time.monotonic() > deadline:
                self._p.close()
                raise TimeoutError("no subscribe confirmation from the server")
            m = self._p.get_message(timeout=1.0)
            if m is None:
                continue
            if m["type"] == "subscribe":
                confirmed += 1
            else:
                self._take(m)

    def _take(self, m: Any) -> None:
        if m["type"] != "message":
            return
        try:
            self._queue.append(decode_envelope(m["data"], s(m["channel"])))
        except ValueError:
            self.undecodable += 1

    def get(self, timeout: float = 1.0) -> Optional[Message]:
        """The next message, or None after ``timeout`` seconds (or once closed)."""
        deadline = time.monotonic() + timeout
        while not self._queue and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            m = self._p.get_message(timeout=min(left, 1.0))
            if m is not None:
                self._take(m)
        return self._queue.pop(0) if self._queue else None

    def __iter__(self) -> Iterator[Message]:
        while True:
            m = self.get(1.0)
            if m is not None:
                yield m
            elif self._closed:
                return

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._p.unsubscribe()
        finally:
            self._p.close()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class StreamConsumer:
    """A consumer-group reader for a stream target.

    The group is created if missing (``XGROUP CREATE <stream> <group> <start> MKSTREAM``);
    ``start="0"`` (default) also delivers entries published before the group existed,
    ``"$"`` only newer ones. read() is XREADGROUP ``>``, ack() XACK with the stream entry
    ids, reclaim() XAUTOCLAIM of entries pending longer than ``min_idle_ms``.
    """

    def __init__(self, r: "redis.Redis[Any]", stream: str, group: str, consumer: str, *,
                 start: str = "0", count: int = 10, block_ms: int = 1000,
                 min_idle_ms: int = 30000) -> None:
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

    def _call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return fn(*args, **kw)
        except ResponseError as e:
            raise convert_error(e) from e

    def ensure_group(self) -> bool:
        """Creates the group (and stream) if missing; True if this call created it."""
        try:
            self._call(self._r.xgroup_create, self.stream, self.group, self.start, mkstream=True)
        except SwarmError as e:
            if e.code != "BUSYGROUP":
                raise
            self._ready = True
            return False
        self._ready = True
        return True

    def read(self, *, count: Optional[int] = None, block_ms: Optional[int] = None) -> List[Message]:
        """New entries for this consumer; [] when none came within ``block_ms`` (0: no block)."""
        if not self._ready:
            self.ensure_group()
        block = self.block_ms if block_ms is None else block_ms

        def once() -> List[Message]:
            reply = self._call(self._r.xreadgroup, self.group, self.name, {self.stream: ">"},
                               count=count or self.count, block=block or None)
            return decode_stream_reply(reply)
        try:
            return once()
        except SwarmError as e:
            if e.code != "NOGROUP":  # stream or group deleted meanwhile: recreate once
                raise
            self.ensure_group()
            return once()

    def ack(self, *items: Union[Message, str]) -> int:
        """XACK messages (or entry ids); how many were acknowledged."""
        ids = [m if isinstance(m, str) else (m.entry_id or m.id) for m in items]
        if not ids:
            return 0
        return int(self._call(self._r.xack, self.stream, self.group, *ids))

    def reclaim(self, *, min_idle_ms: Optional[int] = None,
                count: Optional[int] = None) -> Tuple[List[Message], List[str]]:
        """XAUTOCLAIM from 0-0 following the cursor: (claimed messages, deleted entry ids)."""
        if not self._ready:
            self.ensure_group()
        limit = count or self.count
        idle = self.min_idle_ms if min_idle_ms is None else min_idle_ms
        msgs: List[Message] = []
        deleted: List[str] = []
        cursor: Any = "0-0"
        while True:
            reply = self._call(self._r.xautoclaim, self.stream, self.group, self.name, idle,
                               start_id=cursor, count=limit - len(msgs))
            cursor = s(reply[0])
            for entry in lst(reply[1]):
                if entry[1] is not None:
                    msgs.append(decode_stream_entry(self.stream, s(entry[0]), entry[1]))
            if len(reply) > 2:
                deleted += [s(x) for x in lst(reply[2])]
            if cursor == "0-0" or len(msgs) >= limit:
                return msgs, deleted

    def pending(self) -> int:
        """How many entries of the group are delivered but not acknowledged."""
        r = self._call(self._r.xpending, self.stream, self.group)
        return int(r["pending"] if isinstance(r, dict) else lst(r)[0])

    def __iter__(self) -> Iterator[Message]:
        while not self._closed:
            yield from self.read()

    def close(self) -> None:
        self._closed = True


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


class Swarm:
    """The swarm commands over one ``redis.Redis`` (any ``decode_responses`` setting)."""

    def __init__(self, r: "redis.Redis[Any]") -> None:
        self.redis = r
        self.route = RouteCommands(r)
        self.snapshot = SnapshotCommands(r)
        self._base = _Base(r)

    def publish(self, key: str, type: str, payload: Any, *, priority: Optional[Num] = None,
                sender: Optional[str] = None) -> PublishResult:
        """SWARM.PUBLISH; ``payload`` is any JSON value or RawJSON. ``lost`` lists the
        targets shed, missed or failed (empty on servers without that reply element)."""
        return self._base._run(c.publish(key, type, payload, priority, sender))

    def subscribe(self, key: str, *, channels: Optional[List[str]] = None,
                  include_default: bool = True) -> Subscription:
        """Subscribes to the swarm's channel targets (and its DEFAULT target when that is a
        channel). Returns once the server confirmed, so later publishes are not missed."""
        if channels is None:
            stats = self.route.stats(key) if include_default else None
            channels = c.channels_of(self.route.list(key), stats)
        if not channels:
            raise ValueError(f"swarm {key!r} has no channel targets to subscribe to")
        return Subscription(self.redis, channels)

    def consumer(self, stream: str, group: str, consumer: str, **opts: Any) -> StreamConsumer:
        """A StreamConsumer (options: start, count, block_ms, min_idle_ms)."""
        return StreamConsumer(self.redis, stream, group, consumer, **opts)

    def state(self, key: str, **opts: Any) -> State:
        """A State handle (options: retries, base_delay_ms, max_delay_ms, keep)."""
        return State(self.snapshot, key, **opts)

    def call(self, *args: Union[str, int]) -> Any:
        """Any command, with the same error mapping."""
        return self._base._run(c.Cmd([str(a) for a in args], lambda r: r))

