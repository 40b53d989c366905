"""What the sync and asyncio helpers (subscription, consumer, state) share: reply parsing,
reconnect delays, connection options."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .types import ConnectionEvent, Message, decode_stream_entry, lst, s

OutageCallback = Callable[[ConnectionEvent], Any]
"""Called with ConnectionEvent("lost" ...) and ConnectionEvent("restored" ...); in asyncio it
may also be a coroutine function."""

RECONNECT_FIRST_DELAY = 0.05
RECONNECT_MAX_DELAY = 1.0
SUBSCRIBE_CONFIRM_TIMEOUT = 10.0


class Default:
    """The type of DEFAULT: "use the consumer's own setting"."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = Default()


def reconnect_delay(attempt: int) -> float:
    """Seconds to sleep before reconnect attempt ``attempt`` (1-based)."""
    return float(min(RECONNECT_MAX_DELAY, RECONNECT_FIRST_DELAY * (2 ** min(attempt - 1, 10))))


def own_connection_kwargs(pool: Any) -> Dict[str, Any]:
    """The pool's connection options for a connection that blocks: no read timeout (a
    blocking read answers when the server says so), the pool's connect timeout."""
    kw = dict(pool.connection_kwargs)
    kw["socket_timeout"] = None
    return kw


def pool_for(client: Any, key: str) -> Any:
    """The connection pool of the node serving ``key`` (RedisCluster) or of the client."""
    if hasattr(client, "get_node_from_key"):
        node = client.get_node_from_key(key)
        return client.get_redis_connection(node).connection_pool
    return client.connection_pool


def xreadgroup_args(group: str, consumer: str, stream: str, entry_id: str, count: int,
                    block_ms: Optional[int]) -> List[Any]:
    args: List[Any] = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
    if block_ms is not None:
        args += ["BLOCK", block_ms]
    return args + ["STREAMS", stream, entry_id]


def entries_of(reply: Any) -> List[Tuple[str, Any]]:
    """(entry id, fields or None) of a raw XREADGROUP reply (RESP2 arrays or RESP3 map)."""
    out: List[Tuple[str, Any]] = []
    if not reply:
        return out
    pairs: List[Any] = list(reply.items()) if isinstance(reply, dict) else [lst(x) for x in reply]
    for pair in pairs:
        entries = pair[1]
        for e in lst(entries):
            e = lst(e)
            out.append((s(e[0]), e[1] if len(e) > 1 else None))
    return out


def messages_of(stream: str, entries: List[Tuple[str, Any]]) -> List[Message]:
    return [decode_stream_entry(stream, eid, fields) for eid, fields in entries
            if fields is not None]


def autoclaim_page(stream: str, reply: Any) -> Tuple[str, List[Message], List[str]]:
    """(next cursor, messages, deleted ids) of a raw XAUTOCLAIM reply."""
    a = lst(reply)
    msgs = []
    for entry in lst(a[1]):
        e = lst(entry)
        if len(e) > 1 and e[1] is not None:
            msgs.append(decode_stream_entry(stream, s(e[0]), e[1]))
    deleted = [s(x) for x in lst(a[2])] if len(a) > 2 else []
    return s(a[0]), msgs, deleted


def pending_count(reply: Any) -> int:
    if isinstance(reply, dict):
        return int(reply.get("pending", reply.get(b"pending", 0)))
    return int(s(lst(reply)[0]) or 0)
