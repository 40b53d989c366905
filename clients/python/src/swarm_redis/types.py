"""Reply types and the decoding shared by the sync and asyncio APIs.

Replies are decoded whatever redis-py gives: str or bytes (``decode_responses`` on or off),
RESP2 flat field/value arrays or RESP3 maps (dicts, with redis-py 5 and ``protocol=3``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import (
    Any, Dict, List, Literal, Mapping, NamedTuple, Optional, Sequence, Tuple, TypedDict, Union,
)

Num = Union[int, str]


class EditAdd(TypedDict):
    op: Literal["add"]
    path: str
    value: Any


class EditRemove(TypedDict):
    op: Literal["remove"]
    path: str


class EditReplace(TypedDict):
    op: Literal["replace"]
    path: str
    value: Any


class EditTest(TypedDict):
    op: Literal["test"]
    path: str
    value: Any


class EditIncr(TypedDict):
    op: Literal["incr"]
    path: str
    value: int


EditMoveCopy = TypedDict("EditMoveCopy", {"op": Literal["move", "copy"], "path": str, "from": str})

EditOp = Union[EditAdd, EditRemove, EditReplace, EditMoveCopy, EditTest, EditIncr]
"""One EDIT op: a JSON Patch (RFC 6902) op or ``incr``, as a dict."""


class RawJSON:
    """JSON text sent verbatim (keeps formatting such as ``12.50``) instead of json.dumps."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text!r})"


def raw_json(text: str) -> RawJSON:
    return RawJSON(text)


def to_json_text(value: Any) -> str:
    if isinstance(value, RawJSON):
        return value.text
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def n(value: Num) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"expected an integer, got {value!r}")
    return str(value)


def s(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if value is None:
        return ""
    return str(value)


def s_or_none(value: Any) -> Optional[str]:
    return None if value is None else s(value)


def i(value: Any) -> int:
    return int(s(value)) if not isinstance(value, int) else value


def lst(value: Any) -> List[Any]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [x for kv in value.items() for x in kv]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def record(value: Any) -> Dict[str, Any]:
    if isinstance(value, Mapping):
        return {s(k): v for k, v in value.items()}
    items = lst(value)
    return {s(items[j]): items[j + 1] for j in range(0, len(items) - 1, 2)}


@dataclass(frozen=True)
class Route:
    id: int
    pattern: str
    kind: str
    target: str
    priority: Tuple[int, int]
    matched: int
    delivered: int
    missed: int
    failed: int
    shed: int
    breaker: str


@dataclass(frozen=True)
class Rule:
    id: int
    action: str
    regex: str
    hits: int


@dataclass(frozen=True)
class Stats:
    published: int
    delivered: int
    rejected: int
    unrouted: int
    deadlettered: int
    shed: int
    routes: int
    rules: int
    last_id: str
    default: Optional[str]
    duplicates: int = 0  # publishes answered as duplicates of a remembered MSGID
    msgids: int = 0  # MSGIDs the table remembers now


@dataclass(frozen=True)
class TableStats(Stats):
    """One table's counters as SWARM.STATS reports them: the Stats fields, then
    ``breakers_open``, the routes whose breaker is open or half-open."""

    breakers_open: int = 0


class StatsPage(NamedTuple):
    """One SWARM.STATS call: the cursor to pass next (0 once the iteration is complete) and
    the tables the call visited, as ``(key, TableStats)`` pairs."""

    cursor: int
    tables: List[Tuple[str, TableStats]]


@dataclass(frozen=True)
class Loss:
    target: str
    outcome: str  # shed, missed or failed


@dataclass(frozen=True)
class PublishResult:
    id: str
    delivered: List[str]
    receivers: int
    lost: List[Loss] = field(default_factory=list)
    duplicate: bool = False  # the MSGID was remembered: nothing delivered, ``id`` is the original's
    replicas: Optional[int] = None  # replicas that acknowledged (None: not waited for)


class Version(int):
    """A snapshot version (an int) with ``replicas``: how many replicas acknowledged the write
    (None when the call did not wait for replicas)."""

    replicas: Optional[int]

    def __new__(cls, value: int, replicas: Optional[int] = None) -> "Version":
        v = super().__new__(cls, value)
        v.replicas = replicas
        return v


@dataclass(frozen=True)
class ConnectionEvent:
    """What an ``on_outage`` callback receives from a subscription or consumer.

    ``state`` is ``"lost"`` (first failure; ``error`` set) or ``"restored"`` (back again,
    re-subscribed or resumed; ``attempts`` reconnect attempts were made). ``source`` is
    ``"subscription"``, ``"consumer"`` or ``"inbox"`` (the reply inbox of request()); ``name`` the channels or ``stream/group/consumer``.
    """

    state: str
    source: str
    name: str
    error: Optional[BaseException] = None
    attempts: int = 0


@dataclass(frozen=True)
class VersionEntry:
    version: int
    ts: int
    bytes: int
    checksum: str


@dataclass(frozen=True)
class SnapshotInfo:
    head: int
    oldest: int
    retained: int
    keep: int
    bytes: int
    created: int
    updated: int


@dataclass(frozen=True)
class EditResult:
    version: int
    incr: List[int]
    replicas: Optional[int] = None  # replicas that acknowledged (None: not waited for)


@dataclass(frozen=True)
class Versioned:
    """A document with its version; version 0 and doc None when the key does not exist."""

    version: int
    doc: Any


@dataclass(frozen=True)
class Message:
    """One message, from a channel envelope or a stream entry alike."""

    id: str
    type: str
    priority: int
    ts: int
    payload: Any
    payload_text: str
    swarm: Optional[str] = None
    sender: Optional[str] = None
    channel: Optional[str] = None
    stream: Optional[str] = None
    entry_id: Optional[str] = None  # the stream entry id, for XACK
    msgid: Optional[str] = None  # the publisher's MSGID, when given
    reply_to: Optional[str] = None  # the reply target of a request (``channel:``/``stream:``)


@dataclass(frozen=True)
class Reply:
    """A reply envelope: ``corr`` is the id of the message it answers."""

    corr: str
    ts: int
    payload: Any
    payload_text: str
    sender: Optional[str] = None
    channel: Optional[str] = None
    stream: Optional[str] = None
    entry_id: Optional[str] = None


def decode_route(v: Any) -> Route:
    r = record(v)
    pr = lst(r.get("priority"))
    return Route(
        id=i(r["id"]), pattern=s(r["pattern"]), kind=s(r["kind"]), target=s(r["target"]),
        priority=(i(pr[0]), i(pr[1])), matched=i(r["matched"]), delivered=i(r["delivered"]),
        missed=i(r["missed"]), failed=i(r["failed"]), shed=i(r["shed"]), breaker=s(r["breaker"]),
    )


def decode_rule(v: Any) -> Rule:
    r = record(v)
    return Rule(id=i(r["id"]), action=s(r["action"]), regex=s(r["regex"]), hits=i(r["hits"]))


def _stats_fields(r: Dict[str, Any]) -> Dict[str, Any]:
    return dict(
        published=i(r["published"]), delivered=i(r["delivered"]), rejected=i(r["rejected"]),
        unrouted=i(r["unrouted"]), deadlettered=i(r["deadlettered"]), shed=i(r["shed"]),
        routes=i(r["routes"]), rules=i(r["rules"]), last_id=s(r["last-id"]),
        default=s_or_none(r.get("default")), duplicates=i(r.get("duplicates", 0)),
        msgids=i(r.get("msgids", 0)),
    )


def decode_stats(v: Any) -> Stats:
    return Stats(**_stats_fields(record(v)))


def decode_table_stats(v: Any) -> TableStats:
    r = record(v)
    return TableStats(**_stats_fields(r), breakers_open=i(r.get("breakers-open", 0)))


def decode_stats_page(v: Any) -> StatsPage:
    """``[cursor, [[key, stats], ...]]`` (stats a flat field/value array or a map)."""
    a = lst(v)
    tables = [(s(p[0]), decode_table_stats(p[1])) for p in (lst(x) for x in lst(a[1]))]
    return StatsPage(i(a[0]), tables)


def decode_publish(v: Any) -> PublishResult:
    """Accepts ``[id, delivered, receivers]``, ``[..., lost]`` and ``[..., lost, duplicate]``."""
    a = lst(v)
    lost: List[Loss] = []
    if len(a) > 3 and a[3] is not None:
        items = lst(a[3])
        if all(isinstance(x, (list, tuple)) for x in items):
            lost = [Loss(s(x[0]), s(x[1])) for x in items]
        else:
            lost = [Loss(s(items[j]), s(items[j + 1])) for j in range(0, len(items) - 1, 2)]
    duplicate = len(a) > 4 and a[4] is not None and a[4] not in (0, "0", b"0", False)
    return PublishResult(
        id=s(a[0]), delivered=[s(x) for x in lst(a[1])],
        receivers=i(a[2]) if len(a) > 2 else 0, lost=lost, duplicate=bool(duplicate),
    )


def decode_version_entry(v: Any) -> VersionEntry:
    r = record(v)
    return VersionEntry(
        version=i(r["version"]), ts=i(r["ts"]), bytes=i(r["bytes"]), checksum=s(r["checksum"])
    )


def decode_info(v: Any) -> SnapshotInfo:
    r = record(v)
    return SnapshotInfo(**{k: i(r[k]) for k in
                           ("head", "oldest", "retained", "keep", "bytes", "created", "updated")})


def decode_edit(v: Any) -> EditResult:
    """An integer, ``[version, [values]]`` or ``[version, values...]``."""
    if not isinstance(v, (list, tuple)):
        return EditResult(i(v), [])
    rest = list(v[1:])
    if len(rest) == 1 and isinstance(rest[0], (list, tuple)):
        rest = list(rest[0])
    return EditResult(i(v[0]), [i(x) for x in rest])


_PAYLOAD_KEY = ',"payload":'


def decode_envelope(text: Union[str, bytes], channel: Optional[str] = None) -> Message:
    """Decodes a channel envelope; the payload's exact text is kept in ``payload_text``."""
    t = s(text)
    env = json.loads(t)
    # '"payload":' cannot occur earlier unescaped: every string before it is JSON-escaped.
    at = t.find(_PAYLOAD_KEY)
    payload_text = t[at + len(_PAYLOAD_KEY):-1] if at >= 0 else to_json_text(env.get("payload"))
    return Message(
        id=s(env["id"]), type=s(env["type"]), priority=int(env["priority"]), ts=int(env["ts"]),
        payload=env.get("payload"), payload_text=payload_text, swarm=env.get("swarm"),
        sender=env.get("sender"), channel=channel, msgid=env.get("msgid"),
        reply_to=env.get("reply_to"),
    )


def _payload_text(t: str, env: Dict[str, Any]) -> str:
    at = t.find(_PAYLOAD_KEY)
    return t[at + len(_PAYLOAD_KEY):-1] if at >= 0 else to_json_text(env.get("payload"))


def reply_envelope(corr: str, ts: int, sender: Optional[str], payload_text: str) -> str:
    """``{"corr":..,"ts":..,"sender":..,"payload":..}`` (sender omitted when None)."""
    head = '{"corr":' + json.dumps(corr) + ',"ts":' + str(int(ts))
    if sender is not None:
        head += ',"sender":' + json.dumps(sender, ensure_ascii=False)
    return head + _PAYLOAD_KEY + payload_text + "}"


def decode_reply(text: Union[str, bytes], channel: Optional[str] = None) -> Reply:
    """Decodes a reply envelope received on a channel."""
    t = s(text)
    env = json.loads(t)
    if not isinstance(env, dict) or "corr" not in env:
        raise ValueError("not a reply envelope")
    return Reply(corr=s(env["corr"]), ts=int(env.get("ts", 0)), payload=env.get("payload"),
                 payload_text=_payload_text(t, env), sender=env.get("sender"), channel=channel)


def decode_reply_entry(stream: str, entry_id: str, fields: Any) -> Reply:
    """Decodes a reply written to a stream (fields ``corr ts sender payload``)."""
    f = record(fields)
    payload_text = s(f.get("payload"))
    return Reply(corr=s(f.get("corr")), ts=i(f.get("ts") or 0), payload=json.loads(payload_text),
                 payload_text=payload_text, sender=s_or_none(f.get("sender")), stream=stream,
                 entry_id=entry_id)


def decode_stream_entry(stream: str, entry_id: str, fields: Any) -> Message:
    """Decodes a stream entry's fields (a dict or a flat array) into a Message."""
    f = record(fields)
    payload_text = s(f.get("payload"))
    return Message(
        id=s(f["id"]) if "id" in f else entry_id, type=s(f.get("type")),
        priority=i(f.get("priority")), ts=i(f.get("ts")), payload=json.loads(payload_text),
        payload_text=payload_text, swarm=s_or_none(f.get("swarm")),
        sender=s_or_none(f.get("sender")), stream=stream, entry_id=entry_id,
        msgid=s_or_none(f.get("msgid")), reply_to=s_or_none(f.get("reply_to")),
    )


def decode_stream_reply(reply: Any) -> List[Message]:
    """XREADGROUP as redis-py returns it: ``[[stream, [(id, fields)...]]]`` or a dict."""
    out: List[Message] = []
    if not reply:
        return out
    pairs: Sequence[Any] = list(reply.items()) if isinstance(reply, dict) else reply
    for name, entries in pairs:
        if isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], list) \
                and entries[0] and not isinstance(entries[0][0], (str, bytes)):
            entries = entries[0]  # redis-py 5 RESP3: {stream: [[entries]]}
        for entry in entries:
            entry_id, fields = entry[0], entry[1]
            if fields is None:
                continue
            out.append(decode_stream_entry(s(name), s(entry_id), fields))
    return out


def get_args(key: str, version: Optional[Num], path: Optional[str]) -> List[str]:
    args = ["SWARM.SNAPSHOT", "GET", key]
    if version is not None:
        args += ["VERSION", n(version)]
    if path is not None:
        args += ["PATH", path]
    return args
