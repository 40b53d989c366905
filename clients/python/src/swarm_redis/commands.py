"""The swarm command group: one implementation for every redis-py client.

Built the way redis-py builds ``r.json()``: each method returns
``client.execute_command(...)``, and the reply is decoded by a response callback the group
registers on the client (``SWARM.ROUTE``, ``SWARM.PUBLISH``, ``SWARM.SNAPSHOT``, ``SWARM.STATS``; the
callback is told which decoder to use through an execute_command option, as redis-py's own
``withscores`` is). So the same methods work on ``redis.Redis`` and ``redis.RedisCluster``
(the decoded value), inside their pipelines (queued; ``execute()`` returns the decoded
replies), and on the asyncio clients (a coroutine of the decoded value).

Error replies of a direct call are raised as the SwarmError subclass of their code word;
in a pipeline they come out of ``execute()`` as redis-py raises them (``convert_error``
maps one).

The methods here are typed for the synchronous clients; ``swarm_redis.aio`` declares the
same methods awaited for the asyncio ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import (
    Any, AsyncIterator, Coroutine, Generator, Iterator, List, Optional, Sequence, Tuple, TypeVar,
    Union,
)

import redis
import redis.asyncio
from redis.exceptions import ResponseError

from . import _spec as c
from .errors import convert_error
from .types import (
    EditOp, EditResult, Message, Num, PublishResult, RawJSON, Route, Rule, SnapshotInfo, Stats,
    StatsPage, TableStats, Version, VersionEntry, Versioned, i, n,
)

T = TypeVar("T")

__all__ = ["SwarmCommands", "RouteCommands", "SnapshotCommands", "SWARM_COMMANDS",
           "parse_reply", "register_callbacks"]

SWARM_COMMANDS = ("SWARM.ROUTE", "SWARM.PUBLISH", "SWARM.SNAPSHOT", "SWARM.STATS")
PARSE_OPTION = "swarm_parse"


def parse_reply(response: Any, **options: Any) -> Any:
    """The response callback of the SWARM commands: the decoder named by the call."""
    decode = options.get(PARSE_OPTION)
    return decode(response) if decode is not None else response


def register_callbacks(client: Any) -> None:
    """Registers parse_reply for the SWARM commands on a redis-py client or pipeline (an
    asyncio cluster pipeline: on its cluster client, whose callbacks it uses)."""
    if not hasattr(client, "set_response_callback"):
        client = getattr(client, "_client", None)
        if client is None or not hasattr(client, "set_response_callback"):
            raise TypeError(f"not a redis-py client or pipeline: {type(client).__name__}")
    for name in SWARM_COMMANDS:
        client.set_response_callback(name, parse_reply)


def _async_cluster_pipeline(client: Any) -> Any:
    """The cluster client of a redis.asyncio ClusterPipeline, else None."""
    inner = getattr(client, "_client", None)
    if _is_pipeline(client) and isinstance(inner, redis.asyncio.RedisCluster):
        return inner
    return None


def server_of(client: Any) -> Optional[str]:
    """``host:port`` of a client's pool, when it has one."""
    pool = getattr(client, "connection_pool", None)
    kw = getattr(pool, "connection_kwargs", None) or {}
    if "path" in kw:
        return str(kw["path"])
    if "host" in kw:
        return f"{kw['host']}:{kw.get('port', 6379)}"
    return None


def _is_pipeline(client: Any) -> bool:
    return isinstance(client, (redis.client.Pipeline, redis.asyncio.client.Pipeline)) or \
        type(client).__name__.endswith("Pipeline")


def _key_of(args: List[Any]) -> Optional[str]:
    if args[0] == "SWARM.STATS":  # keyless: it reads the tables of one node's database
        return None
    if args[0] == "SWARM.PUBLISH":
        return str(args[1])
    if args[0] in SWARM_COMMANDS and len(args) > 2:
        return str(args[2])
    return None


class _Queued:
    """What a command queued in an asyncio pipeline returns: awaiting it gives the pipeline
    and does nothing else (awaiting redis-py's asyncio cluster pipeline itself would empty
    its queue); not awaiting it is fine too."""

    __slots__ = ("pipeline",)

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def __await__(self) -> Generator[Any, None, Any]:
        if False:  # a generator that returns at once
            yield None
        return self.pipeline


async def _cluster_async(client: Any, args: List[Any], options: Any) -> Any:
    """redis-py 4.3's asyncio cluster cannot find the key of a command with subcommands:
    send it to the node of its key."""
    await client.initialize()
    node = client.get_node_from_key(_key_of(args))
    return await client.execute_command(*args, target_nodes=node, **options)


async def _converting(coro: Coroutine[Any, Any, T], server: Optional[str]) -> T:
    try:
        return await coro
    except ResponseError as e:
        raise convert_error(e, server) from e


def _blocking_sync(client: "redis.Redis[Any]", args: List[str], options: Any) -> Any:
    """A blocking command on a connection of its own, taken from the pool for the call; a
    call interrupted anywhere (KeyboardInterrupt, a timeout) disconnects that connection, so
    no reply is left to the next command."""
    pool = client.connection_pool
    conn = pool.get_connection(args[0])
    try:
        conn.send_command(*args)
        return client.parse_response(conn, args[0], **options)
    except ResponseError:
        raise
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


async def _blocking_async(client: Any, args: List[str], options: Any) -> Any:
    """_blocking_sync for redis.asyncio: a cancelled task disconnects its connection."""
    pool = client.connection_pool
    conn = await pool.get_connection(args[0])
    try:
        await conn.send_command(*args)
        return await client.parse_response(conn, args[0], **options)
    except ResponseError:
        raise
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)


def _with_replicas(value: Any, acked: Any) -> Any:
    """A write's decoded reply with the number of replicas WAIT reported."""
    count = i(acked)
    if isinstance(value, (PublishResult, EditResult)):
        return dataclasses.replace(value, replicas=count)
    return Version(int(value), count)


def _waited(replies: List[Any], decode: Any, server: Optional[str]) -> Any:
    for r in replies:
        if isinstance(r, ResponseError):
            raise convert_error(r, server)
    value = decode(replies[0]) if decode is not None else replies[0]
    return _with_replicas(value, replies[1])


async def _waited_async(pipe: Any, decode: Any, server: Optional[str]) -> Any:
    async with pipe:
        replies = await pipe.execute(raise_on_error=False)
    return _waited(replies, decode, server)


class _Group:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.execute_command = client.execute_command
        self._server = server_of(client)

    def _run_waiting(self, cmd: "c.Cmd[Any]", replicas: Num, timeout_ms: Num) -> Any:
        """The write and ``WAIT replicas timeout_ms`` sent together on one connection (a
        pipeline without MULTI: inside MULTI, WAIT would not block)."""
        wait = ["WAIT", n(replicas), n(timeout_ms)]
        client = self.client
        if _is_pipeline(client):
            raise TypeError("replicas= is for a client, not a pipeline: queue "
                            "pipe.wait(replicas, timeout_ms) after the writes instead")
        if isinstance(client, redis.asyncio.RedisCluster):
            raise TypeError("replicas= is not supported on redis.asyncio.RedisCluster")
        if isinstance(client, redis.RedisCluster):
            # the node's own client; the reply is decoded here, as a cluster pipeline
            # decodes again what that client's callbacks decoded
            client = client.get_redis_connection(client.get_node_from_key(_key_of(cmd.args)))
        pipe = client.pipeline(transaction=False)
        pipe.execute_command(*cmd.args)
        pipe.execute_command(*wait)
        if isinstance(client, redis.asyncio.Redis):
            return _waited_async(pipe, cmd.decode, self._server)
        with pipe:
            return _waited(pipe.execute(raise_on_error=False), cmd.decode, self._server)

    def _run(self, cmd: "c.Cmd[Any]", blocking: bool = False, replicas: Optional[Num] = None,
             replicas_timeout_ms: Num = 1000, node: Any = None) -> Any:
        """``node``: the cluster node to send a keyless command to."""
        if replicas is not None:
            return self._run_waiting(cmd, replicas, replicas_timeout_ms)
        options = {PARSE_OPTION: cmd.decode} if cmd.decode is not None else {}
        client = self.client
        try:
            if node is not None:
                res = self.execute_command(*cmd.args, target_nodes=node, **options)
            elif blocking and not _is_pipeline(client) and hasattr(client, "connection_pool"):
                if isinstance(client, redis.asyncio.Redis):
                    res = _blocking_async(client, cmd.args, options)
                else:
                    res = _blocking_sync(client, cmd.args, options)
            else:
                key = _key_of(cmd.args)
                cluster = _async_cluster_pipeline(client)
                if isinstance(client, redis.asyncio.RedisCluster) and key is not None:
                    res = _cluster_async(client, cmd.args, options)
                elif cluster is not None and key is not None and not cluster._initialize:
                    # As _cluster_async, for a queued command: the cluster must know its
                    # slots (any command run on it before, or `await rc.initialize()`).
                    options["target_nodes"] = cluster.get_node_from_key(key)
                    res = self.execute_command(*cmd.args, **options)
                else:
                    res = self.execute_command(*cmd.args, **options)
        except ResponseError as e:
            raise convert_error(e, self._server) from e
        if asyncio.iscoroutine(res):
            return _converting(res, self._server)
        if isinstance(client, redis.asyncio.client.Pipeline) or \
                _async_cluster_pipeline(client) is not None:
            return _Queued(res)
        return res


class RouteCommands(_Group):
    """SWARM.ROUTE subcommands."""

    def add(self, key: str, pattern: str, target: str, *, regex: bool = False,
            priority: Optional[Tuple[Num, Num]] = None) -> int:
        """ADD: the route id (the existing id for an identical route)."""
        return self._run(c.route_add(key, pattern, target, regex, priority))  # type: ignore[no-any-return]

    def delete(self, key: str, *ids: Num) -> int:
        """DEL: how many routes or rules were removed."""
        return self._run(c.route_del(key, ids))  # type: ignore[no-any-return]

    def list(self, key: str) -> List[Route]:
        return self._run(c.route_list(key))  # type: ignore[no-any-return]

    def match(self, key: str, type: str, *, priority: Optional[Num] = None) -> List[str]:
        """MATCH: the targets a publish would reach (a dry run)."""
        return self._run(c.route_match(key, type, priority))  # type: ignore[no-any-return]

    def allow(self, key: str, regex: str) -> int:
        return self._run(c.route_rule("ALLOW", key, regex))  # type: ignore[no-any-return]

    def deny(self, key: str, regex: str) -> int:
        return self._run(c.route_rule("DENY", key, regex))  # type: ignore[no-any-return]

    def rules(self, key: str) -> List[Rule]:
        return self._run(c.route_rules(key))  # type: ignore[no-any-return]

    def set_default(self, key: str, target: Optional[str]) -> None:
        """DEFAULT: sets the dead-letter target, or clears it with None."""
        return self._run(c.route_default(key, target))  # type: ignore[no-any-return]

    def stats(self, key: str) -> Stats:
        return self._run(c.route_stats(key))  # type: ignore[no-any-return]

    def help(self) -> List[str]:
        return self._run(c.help_("SWARM.ROUTE"))  # type: ignore[no-any-return]


class SnapshotCommands(_Group):
    """SWARM.SNAPSHOT subcommands. Documents are JSON values (json.dumps) or RawJSON."""

    def save(self, key: str, doc: Any, *, if_version: Optional[Num] = None,
             keep: Optional[Num] = None, replicas: Optional[Num] = None,
             replicas_timeout_ms: Num = 1000) -> Version:
        """SAVE: the new version. ``if_version=0``: only if the key does not exist.

        ``replicas=N``: also waits (``WAIT N replicas_timeout_ms``, same round trip) until
        N replicas hold the write; the version's ``.replicas`` says how many did."""
        return self._run(c.snap_save(key, doc, if_version, keep), replicas=replicas,  # type: ignore[no-any-return]
                         replicas_timeout_ms=replicas_timeout_ms)

    def get(self, key: str, *, version: Optional[Num] = None, path: Optional[str] = None) -> Any:
        """GET, parsed; None when the key or path is absent (get_text tells it from null)."""
        return self._run(c.snap_get(key, version, path))

    def get_text(self, key: str, *, version: Optional[Num] = None,
                 path: Optional[str] = None) -> Optional[str]:
        """GET as JSON text; None when the key or the path is absent."""
        return self._run(c.snap_get_text(key, version, path))  # type: ignore[no-any-return]

    def get_with_version(self, key: str, *, path: Optional[str] = None) -> Versioned:
        """GET WITHVERSION: the head document and its version, read atomically;
        ``Versioned(0, None)`` when the key does not exist."""
        return self._run(c.snap_get_withversion(key, path))  # type: ignore[no-any-return]

    def patch(self, key: str, merge_patch: Any, *, if_version: Optional[Num] = None,
              replicas: Optional[Num] = None, replicas_timeout_ms: Num = 1000) -> Version:
        """PATCH (RFC 7396 merge patch): the new version (``replicas`` as for save)."""
        return self._run(c.snap_patch(key, merge_patch, if_version), replicas=replicas,  # type: ignore[no-any-return]
                         replicas_timeout_ms=replicas_timeout_ms)

    def edit(self, key: str, ops: Union[Sequence[EditOp], RawJSON], *,
             if_version: Optional[Num] = None, replicas: Optional[Num] = None,
             replicas_timeout_ms: Num = 1000) -> EditResult:
        """EDIT (RFC 6902 JSON Patch plus ``incr``): the new version and the incr results
        (``replicas`` as for save)."""
        return self._run(c.snap_edit(key, ops, if_version), replicas=replicas,  # type: ignore[no-any-return]
                         replicas_timeout_ms=replicas_timeout_ms)

    def wait(self, key: str, version: Num, timeout_ms: Num) -> Optional[int]:
        """WAIT: the head once it is above ``version``; None on timeout (0: wait forever).

        On a client with a connection pool it runs on a connection of its own for the
        call; an interrupted or cancelled WAIT closes that connection."""
        return self._run(c.snap_wait(key, version, timeout_ms), blocking=True)  # type: ignore[no-any-return]

    def diff(self, key: str, from_version: Num, to_version: Optional[Num] = None) -> str:
        """DIFF: the merge patch (JSON text) turning one version into another (head default)."""
        return self._run(c.snap_diff(key, from_version, to_version))  # type: ignore[no-any-return]

    def list(self, key: str) -> List[VersionEntry]:
        return self._run(c.snap_list(key))  # type: ignore[no-any-return]

    def restore(self, key: str, version: Num, *, replicas: Optional[Num] = None,
                replicas_timeout_ms: Num = 1000) -> Version:
        """RESTORE: a new head equal to ``version`` (``replicas`` as for save)."""
        return self._run(c.snap_restore(key, version), replicas=replicas,  # type: ignore[no-any-return]
                         replicas_timeout_ms=replicas_timeout_ms)

    def info(self, key: str) -> SnapshotInfo:
        """INFO; CommandError ``no such key`` for a missing key."""
        return self._run(c.snap_info(key))  # type: ignore[no-any-return]

    def help(self) -> List[str]:
        return self._run(c.help_("SWARM.SNAPSHOT"))  # type: ignore[no-any-return]


class SwarmCommands(_Group):
    """The swarm command group over one redis-py client or pipeline, sync or asyncio.

    ``route`` and ``snapshot`` are the SWARM.ROUTE and SWARM.SNAPSHOT subcommands.
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        register_callbacks(client)
        self.route = RouteCommands(client)
        self.snapshot = SnapshotCommands(client)

    def publish(self, key: str, type: str, payload: Any, *, priority: Optional[Num] = None,
                sender: Optional[str] = None, msgid: Optional[str] = None,
                reply_to: Optional[str] = None, replicas: Optional[Num] = None,
                replicas_timeout_ms: Num = 1000) -> PublishResult:
        """SWARM.PUBLISH; ``payload`` is any JSON value or RawJSON. ``lost`` lists the
        targets shed, missed or failed.

        ``msgid``: an id of the publisher's choosing; a publish repeating a remembered one
        delivers nothing and answers the original id with ``duplicate=True``. ``reply_to``:
        a ``channel:``/``stream:`` target that responders answer to (see reply()).
        ``replicas=N``: also waits until N replicas hold the write (``WAIT N
        replicas_timeout_ms`` in the same round trip); ``.replicas`` says how many did."""
        return self._run(c.publish(key, type, payload, priority, sender, msgid, reply_to),  # type: ignore[no-any-return]
                         replicas=replicas, replicas_timeout_ms=replicas_timeout_ms)

    def reply(self, message: Message, payload: Any, *, sender: Optional[str] = None) -> Any:
        """Answers a request: sends ``{"corr":<message id>,"ts":<ms>,"sender":..,
        "payload":..}`` to ``message.reply_to`` (PUBLISH for a ``channel:`` target: the
        number of receivers; XADD with fields corr ts sender payload for a ``stream:``
        target: the entry id). ``sender`` is omitted when None. ValueError when the message
        has no reply_to."""
        if not message.reply_to:
            raise ValueError(f"message {message.id} has no reply_to")
        return self._run(c.reply(message.reply_to, message.id, int(time.time() * 1000), sender,
                                 payload))

    def stats_page(self, cursor: Num = 0, *, count: Optional[Num] = None) -> StatsPage:
        """SWARM.STATS: one page of the routing tables of the current database, as SCAN
        pages keys. Start with cursor 0 and pass each page's ``cursor`` to the next call
        until it is 0 again; ``count`` (1 to 1000, server default 100) is how many keys a
        call visits, so a page may hold no tables while its cursor is not 0.

        A cursor is one server's: on a cluster client this raises TypeError (use
        stats_iter(), or a client of one node)."""
        if isinstance(self.client, (redis.RedisCluster, redis.asyncio.RedisCluster)) or \
                _async_cluster_pipeline(self.client) is not None:
            raise TypeError("stats_page() on a cluster client: a cursor is one node's; use "
                            "stats_iter(), or a client of the node")
        return self._run(c.stats_scan(cursor, count))  # type: ignore[no-any-return]

    def stats_iter(self, *, count: Optional[Num] = None) -> Iterator[Tuple[str, TableStats]]:
        """Every routing table of the database with its counters, ``(key, TableStats)``,
        fetched page by page (``count`` as for stats_page); on a cluster client, every
        primary's tables in turn. With SCAN's guarantees: a table present for the whole
        iteration comes back at least once. On an asyncio client this is an async iterator
        (``async for``); not on a pipeline (TypeError)."""
        client = self.client
        if _is_pipeline(client):
            raise TypeError("stats_iter() is for a client, not a pipeline: queue "
                            "stats_page(cursor) calls instead")
        if isinstance(client, (redis.asyncio.Redis, redis.asyncio.RedisCluster)):
            return self._stats_iter_async(count)  # type: ignore[return-value]
        return self._stats_iter_sync(count)

    def _stats_pages(self, count: Optional[Num], node: Any) -> Iterator[Tuple[str, TableStats]]:
        cursor = 0
        while True:
            page: StatsPage = self._run(c.stats_scan(cursor, count), node=node)
            yield from page.tables
            cursor = page.cursor
            if cursor == 0:
                return

    def _stats_iter_sync(self, count: Optional[Num]) -> Iterator[Tuple[str, TableStats]]:
        if isinstance(self.client, redis.RedisCluster):
            for node in self.client.get_primaries():
                yield from self._stats_pages(count, node)
        else:
            yield from self._stats_pages(count, None)

    async def _stats_iter_async(self, count: Optional[Num]) -> AsyncIterator[Tuple[str, TableStats]]:
        nodes: List[Any] = [None]
        if isinstance(self.client, redis.asyncio.RedisCluster):
            await self.client.initialize()
            nodes = list(self.client.get_primaries())
        for node in nodes:
            cursor = 0
            while True:
                page: StatsPage = await self._run(c.stats_scan(cursor, count), node=node)
                for table in page.tables:
                    yield table
                cursor = page.cursor
                if cursor == 0:
                    break

    def call(self, *args: Union[str, int, float, bytes]) -> Any:
        """Any command, with the same error mapping (no reply decoding)."""
        return self._run(c.Cmd([a if isinstance(a, bytes) else str(a) for a in args], None))
