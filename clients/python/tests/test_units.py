"""Pure decoding: error texts to classes (including redis-py's stripped ERR), envelopes and
stream entries to Messages, reply shapes (3/4-element PUBLISH, EDIT, RESP2/RESP3 maps)."""

from __future__ import annotations

import pytest
import redis

import ast
import inspect
from pathlib import Path
from typing import Any, Dict, List

from swarm_redis import (
    ERROR_CLASSES, BadOpError, BusyKeyError, CommandError, ConflictError, CrossSlotError,
    DeniedError, EditTypeError, EventTypeError, Loss, Message, ModuleMissingError, NoPathError,
    NoSwarmError, NoVersionError, OutOfMemoryError, PayloadError, SwarmError, TestFailedError,
    WrongTypeError, convert_error, decode_envelope, decode_stream_entry, error_from_reply,
    register_error_code,
)
from swarm_redis.commands import RouteCommands, SnapshotCommands, SwarmCommands
from swarm_redis.types import (
    decode_edit, decode_publish, decode_stats, decode_stats_page, decode_stream_reply,
)

CASES = [
    ("ERR syntax error", CommandError, "ERR"),
    ("WRONGTYPE Operation against a key holding the wrong kind of value", WrongTypeError, "WRONGTYPE"),
    ("EVENTTYPE event type may not contain wildcard '*' (byte 5)", EventTypeError, "EVENTTYPE"),
    ("DENIED event type 'task.secret' is denied by rule 4", DeniedError, "DENIED"),
    ("PAYLOAD invalid JSON at byte 15: expected '\"'", PayloadError, "PAYLOAD"),
    ("NOSWARM no routing table at key 'swarm:opz'", NoSwarmError, "NOSWARM"),
    ("CONFLICT version is 2, expected 1", ConflictError, "CONFLICT"),
    ("NOVERSION version 1 was evicted, the oldest retained is 2", NoVersionError, "NOVERSION"),
    ("CROSSSLOT target hashes to another slot", CrossSlotError, "CROSSSLOT"),
    ("TESTFAILED op 1 test failed at '/tasks/3/owner'", TestFailedError, "TESTFAILED"),
    ("NOPATH op 0 path '/a/b' does not exist", NoPathError, "NOPATH"),
    ("BADOP op 1 has an unknown op 'inc'", BadOpError, "BADOP"),
    ("TYPE op 0 incr target at '/n' is not an integer", EditTypeError, "TYPE"),
    ("BUSYKEY Target key name already exists.", BusyKeyError, "BUSYKEY"),
    ("OOM out of memory", OutOfMemoryError, "OOM"),
]


@pytest.mark.parametrize("text,cls,code", CASES)
def test_error_classes(text: str, cls: type, code: str) -> None:
    e = error_from_reply(text)
    assert type(e) is cls
    assert isinstance(e, SwarmError) and isinstance(e, redis.ResponseError)
    assert e.code == code
    assert str(e) == text


def test_error_fields() -> None:
    assert error_from_reply("EVENTTYPE event type may not contain wildcard '*' (byte 5)").offset == 5
    assert error_from_reply("DENIED event type 'x' is denied by rule 12").rule_id == 12
    assert error_from_reply("DENIED event type 'b' matches no ALLOW rule of the table").rule_id is None
    assert error_from_reply("PAYLOAD invalid JSON at byte 128: nesting deeper than 128").offset == 128
    assert error_from_reply("PAYLOAD payload is 18 bytes, more than swarm.max-payload-bytes (10)").offset is None
    assert error_from_reply("NOSWARM no routing table at key 'a b'").key == "a b"
    c = error_from_reply("CONFLICT version is 0, expected 3")
    assert (c.current, c.expected) == (0, 3)
    assert error_from_reply("NOVERSION version 9 does not exist, the head is 3").version == 9
    tf = error_from_reply("TESTFAILED op 1 test failed at '/tasks/3/owner'")
    assert (tf.op, tf.path) == (1, "/tasks/3/owner")
    assert error_from_reply("NOPATH op 3 from '/x' does not exist").op == 3
    assert error_from_reply("BADOP ops must be a JSON array").op is None
    assert error_from_reply("TYPE op 2 incr overflows int64 at '/n'").op == 2


def test_redis_py_stripped_err() -> None:
    # What redis-py hands over for "ERR PRIORITY must be between 1 and 9" and "ERR syntax error".
    for text in ("PRIORITY must be between 1 and 9", "SENDER has a control character at byte 1",
                 "KEEP must be between 1 and 1000000", "syntax error", "no such key"):
        e = convert_error(redis.ResponseError(text))
        assert type(e) is CommandError and e.code == "ERR" and e.detail == text
        assert isinstance(e.__cause__, redis.ResponseError)
    e = convert_error(redis.ResponseError("CONFLICT version is 2, expected 1"))
    assert type(e) is ConflictError and e.current == 2
    # redis-py's own classes (NOPERM...) and other exceptions pass through.
    perm = redis.exceptions.NoPermissionError("this user has no permissions")
    assert convert_error(perm) is perm
    conn = redis.ConnectionError("gone")
    assert convert_error(conn) is conn


def test_unknown_code_word_and_registration() -> None:
    e = error_from_reply("NEWCODE op 0 (test at /a) failed")
    assert type(e) is SwarmError and e.code == "NEWCODE" and e.detail == "op 0 (test at /a) failed"
    e2 = convert_error(redis.ResponseError("NEWCODE op 0 (test at /a) failed"))
    assert isinstance(e2, SwarmError) and type(e2) is SwarmError and e2.code == "NEWCODE"

    class NewCode(SwarmError):
        pass
    register_error_code("NEWCODE", NewCode)
    try:
        assert type(error_from_reply("NEWCODE op 0")) is NewCode
    finally:
        del ERROR_CLASSES["NEWCODE"]
    assert type(error_from_reply("something odd")) is CommandError


def test_module_missing() -> None:
    # redis-py strips "ERR "; servers word the rest differently, swarm's text is ours.
    for text in ("unknown command 'SWARM.PUBLISH', with args beginning with: 'k' ",
                 "unknown command `SWARM.ROUTE`, with args beginning with: `ADD`, "):
        e = convert_error(redis.ResponseError(text), "127.0.0.1:7")
        assert type(e) is ModuleMissingError and isinstance(e, CommandError)
        assert e.code == "ERR" and e.server == "127.0.0.1:7"
        assert e.command in ("SWARM.PUBLISH", "SWARM.ROUTE")
        assert e.detail.startswith("the swarm module is not loaded on 127.0.0.1:7")
    assert type(convert_error(redis.ResponseError("unknown command 'FOO'"))) is CommandError


ENVELOPE = ('{"id":"17-0","swarm":"swarm:\\"ops\\"","type":"task.done","priority":8,"ts":17,'
            '"sender":"c-1","payload":{"a": 12.50, "s":"\\",\\"payload\\":"}}')
PAYLOAD = '{"a": 12.50, "s":"\\",\\"payload\\":"}'


def test_envelope_and_stream_entry_decode_alike() -> None:
    m = decode_envelope(ENVELOPE, "tasks")
    assert m == Message(id="17-0", type="task.done", priority=8, ts=17,
                        payload={"a": 12.5, "s": '","payload":'}, payload_text=PAYLOAD,
                        swarm='swarm:"ops"', sender="c-1", channel="tasks")
    flat = ["id", "17-0", "swarm", 'swarm:"ops"', "type", "task.done", "priority", "8", "ts",
            "17", "payload", PAYLOAD, "sender", "c-1"]
    e = decode_stream_entry("log", "17-1", flat)
    assert e == Message(id="17-0", type="task.done", priority=8, ts=17, payload=m.payload,
                        payload_text=PAYLOAD, swarm='swarm:"ops"', sender="c-1", stream="log",
                        entry_id="17-1")
    as_bytes = {k.encode(): v.encode() for k, v in zip(flat[::2], flat[1::2])}
    assert decode_stream_entry("log", "17-1", as_bytes) == e
    assert decode_envelope(ENVELOPE.encode(), "tasks") == m
    short = decode_stream_entry("s", "1-0", {"id": "1-0", "type": "a.b", "priority": "5",
                                             "ts": "1", "payload": "[]"})
    assert (short.swarm, short.sender, short.payload) == (None, None, [])
    # redis-py's XREADGROUP shape, deleted entries skipped.
    msgs = decode_stream_reply([["log", [("17-1", as_bytes), ("17-2", None)]]])
    assert msgs == [e]


def test_reply_shapes() -> None:
    assert decode_publish(["1-0", ["channel:a"], 2]).lost == []
    r = decode_publish(["1-0", [], 0, [["channel:a", "missed"], ["stream:s", "failed"]]])
    assert r.lost == [Loss("channel:a", "missed"), Loss("stream:s", "failed")]
    assert decode_publish([b"1-0", [], 0, [b"channel:a", b"shed"]]).lost == [Loss("channel:a", "shed")]
    assert decode_publish(["1-0", [], 0, []]).duplicate is False
    assert decode_publish(["1-0", [], 0, [], 1]).duplicate is True
    assert decode_publish(["1-0", [], 0, [], 0]).duplicate is False
    assert (decode_edit(3).version, decode_edit(3).incr) == (3, [])
    assert decode_edit([3, [5, 7]]).incr == [5, 7]
    assert decode_edit([3, 5, 7]).incr == [5, 7]
    flat = ["published", 1, "delivered", 2, "rejected", 3, "unrouted", 4, "deadlettered", 5,
            "shed", 6, "routes", 7, "rules", 8, "last-id", "9-0", "default", None]
    assert decode_stats(flat) == decode_stats(dict(zip(flat[::2], flat[1::2])))
    assert decode_stats(flat).last_id == "9-0"
    table = flat + ["duplicates", 10, "msgids", 11, "breakers-open", 12]
    page = decode_stats_page([b"17", [[b"swarm:a", table]]])
    assert page == decode_stats_page(["17", [["swarm:a", dict(zip(table[::2], table[1::2]))]]])
    assert page.cursor == 17 and page.tables[0][0] == "swarm:a"
    assert (page.tables[0][1].msgids, page.tables[0][1].breakers_open) == (11, 12)
    assert decode_stats_page(["0", []]) == (0, [])


def _decl_params(tree: ast.Module) -> Dict[str, Dict[str, List[str]]]:
    """{class: {method: [parameter names with their kind]}} of aio.py's TYPE_CHECKING block."""
    out: Dict[str, Dict[str, List[str]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for cls in node.body:
                if isinstance(cls, ast.ClassDef):
                    out[cls.name] = {}
                    for f in cls.body:
                        # async methods, and plain ones returning an async iterator
                        if isinstance(f, ast.AsyncFunctionDef) or \
                                isinstance(f, ast.FunctionDef) and not f.name.startswith("_"):
                            a = f.args
                            names = [x.arg for x in a.args] + \
                                (["*" + a.vararg.arg] if a.vararg else []) + \
                                ["kw:" + x.arg for x in a.kwonlyargs]
                            out[cls.name][f.name] = names
    return out


def _runtime_params(cls: Any) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for name, fn in vars(cls).items():
        if name.startswith("_") or not callable(fn):
            continue
        names = []
        for p in inspect.signature(fn).parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                names.append("*" + p.name)
            elif p.kind is p.KEYWORD_ONLY:
                names.append("kw:" + p.name)
            else:
                names.append(p.name)
        out[name] = names
    return out


def test_async_declarations_match_the_implementation() -> None:
    import swarm_redis.aio as aio
    decl = _decl_params(ast.parse(Path(aio.__file__).read_text()))
    assert decl["AsyncRouteCommands"] == _runtime_params(RouteCommands)
    assert decl["AsyncSnapshotCommands"] == _runtime_params(SnapshotCommands)
    assert decl["_AsyncGroup"] == _runtime_params(SwarmCommands)
