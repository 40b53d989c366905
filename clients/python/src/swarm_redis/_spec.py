"""Each command as (arguments, reply decoder), shared by the sync and asyncio APIs."""

from __future__ import annotations

import json
from typing import Any, Callable, Generic, List, Optional, Sequence, Tuple, TypeVar, Union

from .types import (
    EditOp, EditResult, Num, Version, Versioned, PublishResult, RawJSON, Route, Rule, SnapshotInfo, Stats, VersionEntry,
    StatsPage, decode_edit, decode_info, decode_publish, decode_route, decode_rule, decode_stats,
    decode_stats_page,
    decode_version_entry, get_args, reply_envelope, i, lst, n, s, s_or_none, to_json_text,
)

T = TypeVar("T")


class Cmd(Generic[T]):
    __slots__ = ("args", "decode")

    def __init__(self, args: List[Any], decode: Optional[Callable[[Any], T]]) -> None:
        self.args = args
        self.decode = decode


def _strs(v: Any) -> List[str]:
    return [s(x) for x in lst(v)]


def route_add(key: str, pattern: str, target: str, regex: bool,
              priority: Optional[Tuple[Num, Num]]) -> Cmd[int]:
    args = ["SWARM.ROUTE", "ADD", key, pattern, target]
    if regex:
        args.append("REGEX")
    if priority is not None:
        args += ["PRIORITY", n(priority[0]), n(priority[1])]
    return Cmd(args, i)


def route_del(key: str, ids: Sequence[Num]) -> Cmd[int]:
    return Cmd(["SWARM.ROUTE", "DEL", key, *[n(x) for x in ids]], i)


def route_list(key: str) -> Cmd[List[Route]]:
    return Cmd(["SWARM.ROUTE", "LIST", key], lambda r: [decode_route(x) for x in lst(r)])


def route_match(key: str, type: str, priority: Optional[Num]) -> Cmd[List[str]]:
    args = ["SWARM.ROUTE", "MATCH", key, type]
    if priority is not None:
        args += ["PRIORITY", n(priority)]
    return Cmd(args, _strs)


def route_rule(action: str, key: str, regex: str) -> Cmd[int]:
    return Cmd(["SWARM.ROUTE", action, key, regex], i)


def route_rules(key: str) -> Cmd[List[Rule]]:
    return Cmd(["SWARM.ROUTE", "RULES", key], lambda r: [decode_rule(x) for x in lst(r)])


def route_default(key: str, target: Optional[str]) -> Cmd[None]:
    return Cmd(["SWARM.ROUTE", "DEFAULT", key, target if target is not None else "NONE"],
               lambda r: None)


def route_stats(key: str) -> Cmd[Stats]:
    return Cmd(["SWARM.ROUTE", "STATS", key], decode_stats)


def stats_scan(cursor: Num, count: Optional[Num]) -> Cmd[StatsPage]:
    args = ["SWARM.STATS", n(cursor)]
    if count is not None:
        args += ["COUNT", n(count)]
    return Cmd(args, decode_stats_page)


def help_(command: str) -> Cmd[List[str]]:
    return Cmd([command, "HELP"], _strs)


def publish(key: str, type: str, payload: Any, priority: Optional[Num],
            sender: Optional[str], msgid: Optional[str] = None,
            reply_to: Optional[str] = None) -> Cmd[PublishResult]:
    args = ["SWARM.PUBLISH", key, type, to_json_text(payload)]
    if priority is not None:
        args += ["PRIORITY", n(priority)]
    if sender is not None:
        args += ["SENDER", sender]
    if msgid is not None:
        args += ["MSGID", msgid]
    if reply_to is not None:
        args += ["REPLYTO", reply_to]
    return Cmd(args, decode_publish)


def reply(target: str, corr: str, ts: int, sender: Optional[str], payload: Any) -> Cmd[Any]:
    """PUBLISH of a reply envelope to ``channel:<name>``, or XADD of its fields to
    ``stream:<key>``."""
    text = to_json_text(payload)
    if target.startswith("channel:") and len(target) > 8:
        return Cmd(["PUBLISH", target[8:], reply_envelope(corr, ts, sender, text)], None)
    if target.startswith("stream:") and len(target) > 7:
        fields = ["corr", corr, "ts", str(int(ts))]
        if sender is not None:
            fields += ["sender", sender]
        return Cmd(["XADD", target[7:], "*", *fields, "payload", text], None)
    raise ValueError(f"not a reply target (channel:<name> or stream:<key>): {target!r}")


def version(r: Any) -> Version:
    return Version(i(r))


def snap_save(key: str, doc: Any, if_version: Optional[Num], keep: Optional[Num]) -> Cmd[Version]:
    args = ["SWARM.SNAPSHOT", "SAVE", key, to_json_text(doc)]
    if if_version is not None:
        args += ["IFVERSION", n(if_version)]
    if keep is not None:
        args += ["KEEP", n(keep)]
    return Cmd(args, version)


def snap_get_text(key: str, version: Optional[Num], path: Optional[str]) -> Cmd[Optional[str]]:
    return Cmd(get_args(key, version, path), s_or_none)


def _parse_or_none(r: Any) -> Any:
    return None if r is None else json.loads(s(r))


def snap_get(key: str, version: Optional[Num], path: Optional[str]) -> Cmd[Any]:
    return Cmd(get_args(key, version, path), _parse_or_none)


def _versioned(r: Any) -> Versioned:
    if r is None:
        return Versioned(0, None)
    a = lst(r)
    return Versioned(i(a[0]) if a and a[0] is not None else 0,
                     _parse_or_none(a[1] if len(a) > 1 else None))


def snap_get_withversion(key: str, path: Optional[str]) -> Cmd[Versioned]:
    return Cmd(get_args(key, None, path) + ["WITHVERSION"], _versioned)


def snap_patch(key: str, patch: Any, if_version: Optional[Num]) -> Cmd[Version]:
    args = ["SWARM.SNAPSHOT", "PATCH", key, to_json_text(patch)]
    if if_version is not None:
        args += ["IFVERSION", n(if_version)]
    return Cmd(args, version)


def snap_edit(key: str, ops: Union[Sequence[EditOp], RawJSON], if_version: Optional[Num]) -> Cmd[EditResult]:
    args = ["SWARM.SNAPSHOT", "EDIT", key, to_json_text(ops if isinstance(ops, RawJSON) else list(ops))]
    if if_version is not None:
        args += ["IFVERSION", n(if_version)]
    return Cmd(args, decode_edit)


def snap_wait(key: str, version: Num, timeout_ms: Num) -> Cmd[Optional[int]]:
    return Cmd(["SWARM.SNAPSHOT", "WAIT", key, n(version), n(timeout_ms)],
               lambda r: None if r is None else i(r))


def snap_diff(key: str, from_: Num, to: Optional[Num]) -> Cmd[str]:
    args = ["SWARM.SNAPSHOT", "DIFF", key, n(from_)]
    if to is not None:
        args.append(n(to))
    return Cmd(args, s)


def snap_list(key: str) -> Cmd[List[VersionEntry]]:
    return Cmd(["SWARM.SNAPSHOT", "LIST", key], lambda r: [decode_version_entry(x) for x in lst(r)])


def snap_restore(key: str, v: Num) -> Cmd[Version]:
    return Cmd(["SWARM.SNAPSHOT", "RESTORE", key, n(v)], version)


def snap_info(key: str) -> Cmd[SnapshotInfo]:
    return Cmd(["SWARM.SNAPSHOT", "INFO", key], decode_info)


def channels_of(routes: List[Route], stats: Optional[Stats]) -> List[str]:
    targets = [r.target for r in routes]
    if stats is not None and stats.default:
        targets.append(stats.default)
    out: List[str] = []
    for t in targets:
        if t.startswith("channel:") and t[8:] not in out:
            out.append(t[8:])
    return out


def stream_name(stream: str) -> str:
    return stream[7:] if stream.startswith("stream:") else stream


def backoff_ceiling(attempt: int, base_ms: float, max_ms: float) -> float:
    return float(min(max_ms, base_ms * (2 ** (attempt - 1)))) / 1000.0
