"""The Python and TypeScript clients against each other on one real server: a Node requester
answered by a Python responder and the other way round (channel inboxes through request(),
stream reply targets through publish(reply_to=...)), concurrent requests each matched, the
reply envelope exactly {"corr","ts","sender","payload"} in that order; each client decoding
the other's envelopes and stream entries (msgid and reply_to included); a MSGID retried
from one language after a publish from the other answered as a duplicate of the original.

The Node side is interop_peer.mjs over clients/node/dist (built by `npm ci` in clients/node,
which scripts/test-clients.sh runs first). Without that build these tests are skipped,
unless SWARM_INTEROP=1 (as test-clients.sh sets it): then they fail."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import redis.asyncio as aioredis

from conftest import REPO, Server, wait_for
from swarm_redis import (
    Message, Reply, Swarm, decode_reply, decode_reply_entry, decode_stream_entry, raw_json,
)
from swarm_redis.aio import AsyncSwarm

NODE_DIR = REPO / "clients" / "node"
PEER = Path(__file__).with_name("interop_peer.mjs")
N = 24  # concurrent requests per direction
# The responders' senders (interop_peer.mjs has NODE_SENDER): escapes and non-ASCII.
PY_SENDER = 'py-w\u00f6rker "2"\\\t'
NODE_SENDER = 'node-w\u00f6rker "1"\\\t'


class NodePeer:
    """interop_peer.mjs in a child process: call() sends one command, returns its result."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen(["node", str(PEER), str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def call(self, op: str, **kw: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        try:
            line = self.lines.get(timeout=30)
        except queue.Empty:
            raise AssertionError(f"the Node peer did not answer {op}") from None
        if not line:
            raise AssertionError(f"the Node peer exited (status {self.proc.poll()}) on {op}")
        out = json.loads(line)
        if "error" in out:
            raise AssertionError(f"Node {op}: {out['error']}")
        return out["ok"]

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                assert self.call("failures") == []
                self.call("close")
        finally:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


@pytest.fixture
def node(server: Server) -> Iterator[NodePeer]:
    built = (NODE_DIR / "dist" / "index.js").exists() and \
        (NODE_DIR / "node_modules" / "redis").exists() and shutil.which("node") is not None
    if not built:
        why = "clients/node is not built (npm ci in clients/node) or node is missing"
        if os.environ.get("SWARM_INTEROP") == "1":
            pytest.fail(why)
        pytest.skip(why)
    peer = NodePeer(server.port)
    try:
        yield peer
    finally:
        peer.close()


def assert_reply_text(text: str, sender: Optional[str]) -> Dict[str, Any]:
    """``text`` is exactly {"corr":..,"ts":..,["sender":..,]"payload":..}: these keys in
    this order, nothing else, no whitespace outside the payload."""
    env = json.loads(text, object_pairs_hook=OrderedDict)
    keys = ["corr", "ts", "sender", "payload"] if sender is not None else ["corr", "ts", "payload"]
    assert list(env) == keys, text
    assert isinstance(env["corr"], str) and type(env["ts"]) is int
    head = '{"corr":' + json.dumps(env["corr"]) + ',"ts":' + str(env["ts"])
    if sender is not None:
        assert env["sender"] == sender
        head += ',"sender":' + json.dumps(sender, ensure_ascii=False)
    assert text.startswith(head + ',"payload":') and text.endswith("}"), text
    assert json.loads(text[len(head) + len(',"payload":'):-1]) == env["payload"]
    return dict(env)


class RawReplies:
    """Every message published on the channels matching ``pattern``, as raw text."""

    def __init__(self, server: Server, pattern: str) -> None:
        self.p = server.client().pubsub()
        self.p.psubscribe(pattern)
        wait_for(lambda: (self.p.get_message(timeout=0.1) or {}).get("type") == "psubscribe",
                 "psubscribe confirmation")
        self.texts: List[Tuple[str, str]] = []

    def drain(self, count: int) -> List[Tuple[str, str]]:
        def more() -> bool:
            m = self.p.get_message(timeout=0.1)
            if m is not None and m["type"] == "pmessage":
                self.texts.append((m["channel"], m["data"]))
            return len(self.texts) >= count
        wait_for(more, f"{count} raw replies")
        return self.texts

    def close(self) -> None:
        self.p.close()


class PyResponder:
    """A thread answering every request on the table's channel targets with reply():
    payload {"n": .., "by": "py"}, sender PY_SENDER except for n == 0."""

    def __init__(self, server: Server, key: str) -> None:
        self.sw = Swarm(server.client())
        self.seen: List[Message] = []
        self.errors: List[BaseException] = []
        self.stop = threading.Event()
        self.sub = self.sw.subscribe(key)
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                m = self.sub.get(timeout=0.05)
                if m is None:
                    continue
                self.seen.append(m)
                n = m.payload.get("n")
                self.sw.reply(m, {"n": n, "by": "py"}, sender=None if n == 0 else PY_SENDER)
        except BaseException as e:  # noqa: B036 - reported by close()
            self.errors.append(e)
        finally:
            self.sub.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sw.close()
        assert self.errors == []


def test_node_requests_python_replies(server: Server, prefix: str, node: NodePeer) -> None:
    key = prefix + "swarm:n2p"
    sw = Swarm(server.client())
    sw.route.add(key, "ask.*", f"channel:{prefix}asks")
    resp = PyResponder(server, key)
    raw = RawReplies(server, "swarm.inbox.*")
    try:
        # channel reply target: Node's request() inbox
        out = node.call("request", key=key, type="ask.sum", payloads=[{"n": i} for i in range(N)],
                        timeoutMs=15000, sender="node-asker")
        replies = out["replies"]
        assert [r["payload"] for r in replies] == [{"n": i, "by": "py"} for i in range(N)]
        asked = {m.payload["n"]: m for m in resp.seen}
        assert sorted(asked) == list(range(N))
        for i, r in enumerate(replies):
            assert r["corr"] == asked[i].id
            assert r.get("sender") == (None if i == 0 else PY_SENDER)
            assert json.loads(r["payloadText"]) == r["payload"]
        assert all(m.sender == "node-asker" and m.reply_to == "channel:" + out["inboxChannels"][0]
                   for m in resp.seen)
        assert out["late"] == 0
        texts = raw.drain(N)
        assert len(texts) == N and {ch for ch, _ in texts} == set(out["inboxChannels"])
        for _, text in texts:
            env = assert_reply_text(text, None if json.loads(text)["payload"]["n"] == 0
                                    else PY_SENDER)
            assert env["corr"] == asked[env["payload"]["n"]].id

        # stream reply target: Node publishes with it, Python replies there, Node reads it
        answers = prefix + "n2p:answers"
        pubs = [node.call("publish", key=key, type="ask.one", payload={"n": i},
                          opts={"replyTo": f"stream:{answers}"}) for i in range(2)]
        wait_for(lambda: int(sw.redis.xlen(answers)) == 2, "two replies in the stream")
        entries = node.call("xrange", stream=answers)
        assert [e[1][0::2] for e in entries] == [["corr", "ts", "payload"],
                                                ["corr", "ts", "sender", "payload"]]
        for i, (pub, (_, f)) in enumerate(zip(pubs, entries)):
            fields = dict(zip(f[0::2], f[1::2]))
            assert fields["corr"] == pub["id"] and fields["ts"].isdigit()
            assert json.loads(fields["payload"]) == {"n": i, "by": "py"}
            assert fields.get("sender") == (None if i == 0 else PY_SENDER)
    finally:
        raw.close()
        resp.close()
        sw.close()


def test_python_requests_node_replies(server: Server, prefix: str, node: NodePeer) -> None:
    key, jobs = prefix + "swarm:p2n", prefix + "p2n:jobs"
    sw = Swarm(server.client())
    sw.route.add(key, "ask.*", f"stream:{jobs}")
    sw.route.add(key, "chat.*", f"channel:{prefix}chat")
    node.call("serve", key=key, stream=jobs, channels=[prefix + "chat"])
    try:
        raw = RawReplies(server, sw.inbox.matcher.prefix + ".*")
        # channel reply target: Python's request() inbox; the requests reach Node through a
        # stream, so Node decodes Python's stream entries
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda i: sw.request(
                key, "ask.sum", {"n": i}, timeout_ms=15000, sender="py-asker",
                msgid=f"{prefix}q{i}"), range(N)))
        assert [(r.payload["n"], r.payload["by"]) for r in replies] == [(i, "node") for i in range(N)]
        inbox = "channel:" + sw.inbox.channel(key)
        for i, r in enumerate(replies):
            got = r.payload["got"]
            assert r.corr == got["id"] and r.sender == (None if i == 0 else NODE_SENDER)
            assert r.channel == inbox[len("channel:"):]
            assert got == {
                "id": r.corr, "swarm": key, "type": "ask.sum", "priority": 5, "ts": got["ts"],
                "sender": "py-asker", "msgid": f"{prefix}q{i}", "replyTo": inbox,
                "payload": {"n": i}, "payloadText": '{"n":%d}' % i,
                "stream": jobs, "entryId": got["entryId"],
            }
            [(eid, fields)] = sw.redis.xrange(jobs, got["entryId"], got["entryId"])
            assert decode_stream_entry(jobs, eid, fields).id == r.corr
        assert sw.late_replies == 0
        texts = raw.drain(N)
        assert len(texts) == N
        for _, text in texts:
            n = json.loads(text)["payload"]["n"]
            env = assert_reply_text(text, None if n == 0 else NODE_SENDER)
            assert decode_reply(text).corr == env["corr"] == replies[n].corr
        raw.close()

        # the asyncio client's requests, answered by Node too
        async def ask() -> List[Reply]:
            r = aioredis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
            asw = AsyncSwarm(r)
            try:
                return list(await asyncio.gather(*[asw.request(
                    key, "chat.q", {"n": i}, timeout_ms=15000) for i in range(1, 5)]))
            finally:
                await asw.close()
                await r.close()
        areplies = asyncio.run(ask())
        assert [(a.payload["n"], a.sender, a.payload["got"]["id"]) for a in areplies] == [
            (i, NODE_SENDER, a.corr) for i, a in zip(range(1, 5), areplies)]

        # stream reply target: Python publishes with it, Node replies there, Python reads it
        answers = prefix + "p2n:answers"
        pubs = [sw.publish(key, "chat.q", {"n": i}, reply_to=f"stream:{answers}")
                for i in range(2)]
        wait_for(lambda: int(sw.redis.xlen(answers)) == 2, "two replies in the stream")
        entries = sw.redis.xrange(answers)
        assert [list(f) for _, f in entries] == [["corr", "ts", "payload"],
                                                 ["corr", "ts", "sender", "payload"]]
        for i, (pub, (eid, f)) in enumerate(zip(pubs, entries)):
            r = decode_reply_entry(answers, eid, f)
            assert (r.corr, r.sender, r.payload["n"]) == (
                pub.id, None if i == 0 else NODE_SENDER, i)
            assert r.payload["got"]["replyTo"] == f"stream:{answers}"
            assert r.payload["got"]["channel"] == prefix + "chat"
            assert r.ts > 0
    finally:
        sw.close()


def py_view(m: Message) -> Dict[str, Any]:
    """A Python Message in the Node client's field names (unset fields left out)."""
    names = {"payload_text": "payloadText", "reply_to": "replyTo", "entry_id": "entryId"}
    return {names.get(k, k): v for k, v in m.__dict__.items() if v is not None}


def test_messages_and_msgid_across_clients(server: Server, prefix: str, node: NodePeer) -> None:
    key, chan, log = prefix + "swarm:mix", prefix + "mix", prefix + "mix:log"
    sw = Swarm(server.client())
    sw.route.add(key, "ev.*", f"channel:{chan}")
    sw.route.add(key, "ev.*", f"stream:{log}")
    node.call("collect", channels=[chan])
    with sw.subscribe(key) as sub:
        py_pub = sw.publish(key, "ev.py", raw_json('{"k": [1, 2.5, "\\u00e9\u00e9"], "z": null}'),
                            priority=7, sender="py-\u00e9\"x", msgid=prefix + "m1",
                            reply_to=f"stream:{prefix}back")
        node_pub = node.call("publish", key=key, type="ev.node", payload={"a": ["\u00e9", 1e21]},
                             opts={"priority": 9, "sender": "node\\1", "msgid": prefix + "m2",
                                   "replyTo": f"channel:{prefix}back"})
        assert py_pub.duplicate is False and node_pub["duplicate"] is False
        got_py = [sub.get(timeout=5) for _ in range(2)]
    wait_for(lambda: len(node.call("collected")) == 2, "Node received both envelopes")
    got_node = node.call("collected")
    # both clients decode both envelopes alike
    assert [m["id"] for m in got_node] == [py_pub.id, node_pub["id"]]
    assert [py_view(m) for m in got_py if m is not None] == got_node
    assert got_node[0]["sender"] == "py-\u00e9\"x" and got_node[0]["msgid"] == prefix + "m1"
    assert got_node[0]["replyTo"] == f"stream:{prefix}back" and got_node[0]["priority"] == 7
    assert got_node[0]["payloadText"] == '{"k": [1, 2.5, "\\u00e9\u00e9"], "z": null}'
    assert got_node[1]["replyTo"] == f"channel:{prefix}back" and got_node[1]["sender"] == "node\\1"
    # and both stream entries
    py_entries = [decode_stream_entry(log, eid, f) for eid, f in sw.redis.xrange(log)]
    assert [py_view(m) for m in py_entries] == node.call("entries", stream=log)
    assert [(m.id, m.msgid, m.reply_to) for m in py_entries] == [
        (py_pub.id, prefix + "m1", f"stream:{prefix}back"),
        (node_pub["id"], prefix + "m2", f"channel:{prefix}back")]

    # a MSGID retried from the other language: a duplicate answering the original id
    node_retry = node.call("publish", key=key, type="ev.node", payload={}, opts={"msgid": prefix + "m1"})
    py_retry = sw.publish(key, "ev.py", {}, msgid=prefix + "m2")
    assert (node_retry["duplicate"], node_retry["id"], node_retry["delivered"]) == (True, py_pub.id, [])
    assert (py_retry.duplicate, py_retry.id, py_retry.delivered) == (True, node_pub["id"], [])
    assert sw.redis.xlen(log) == 2
    stats = sw.route.stats(key)
    assert (stats.published, stats.duplicates) == (2, 2)
    sw.close()
