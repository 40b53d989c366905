"""MSGID, REPLYTO and request/reply against a real server, sync and asyncio: duplicates answer
the original id, the reply envelope on channel and stream targets, 200 concurrent requests
over 3 responders all matched, timeouts, a responder that never answers, a requester that
cancels, late replies counted and never handed to another request, one inbox connection
that heals after a server restart."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

import pytest
import redis.asyncio as aioredis

from conftest import Server, kill_and_restart, start_server, stop_server, wait_for
from swarm_redis import (
    CommandError, ConnectionEvent, Message, RequestTimeoutError, Swarm, decode_reply, decode_reply_entry, raw_json,
)
from swarm_redis.aio import AsyncSwarm


def test_msgid_duplicate(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    key, stream = prefix + "swarm:dup", prefix + "dup:log"
    sw.route.add(key, "job.*", f"stream:{stream}")
    first = sw.publish(key, "job.a", {"n": 1}, msgid="m-1")
    again = sw.publish(key, "job.a", {"n": 1}, msgid="m-1")
    other = sw.publish(key, "job.a", {"n": 2}, msgid="m-2")
    assert (first.duplicate, first.delivered) == (False, [f"stream:{stream}"])
    assert (again.duplicate, again.id, again.delivered) == (True, first.id, [])
    assert other.duplicate is False and other.id != first.id
    stats = sw.route.stats(key)
    assert (stats.published, stats.duplicates, stats.msgids) == (2, 1, 2)
    msgs = sw.consumer(stream, "g", "c", block_ms=None).read()
    assert [(m.id, m.msgid, m.reply_to) for m in msgs] == [(first.id, "m-1", None),
                                                           (other.id, "m-2", None)]
    with pytest.raises(CommandError) as e:
        sw.publish(key, "job.a", {}, msgid="")
    assert e.value.code == "ERR" and e.value.detail.startswith("MSGID must be 1 to 128 bytes")
    with pytest.raises(CommandError) as e:
        sw.publish(key, "job.a", {}, reply_to="queue:x")
    assert "invalid REPLYTO target 'queue:x'" in e.value.detail


def test_reply_to_channel_envelope(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    key = prefix + "swarm:env"
    sw.route.add(key, "ask.*", f"channel:{prefix}asks")
    with sw.subscribe(key) as asks:
        r = server.client()
        p = r.pubsub()
        p.subscribe(prefix + "answers")
        wait_for(lambda: (p.get_message(timeout=0.1) or {}).get("type") == "subscribe",
                 "subscribe confirmation")
        res = sw.publish(key, "ask.x", {"q": 1}, msgid="q-1", sender="asker",
                         reply_to=f"channel:{prefix}answers")
        got = asks.get(timeout=5)
        assert got is not None
        assert (got.id, got.msgid, got.reply_to, got.sender) == (
            res.id, "q-1", f"channel:{prefix}answers", "asker")
        assert sw.reply(got, raw_json('{"a": [1, 2]}'), sender="bob\"") == 1
        msg = None
        while msg is None or msg["type"] != "message":
            msg = p.get_message(timeout=5)
        text = msg["data"]
        ts = json.loads(text)["ts"]
        assert text == ('{"corr":"%s","ts":%d,"sender":"bob\\"","payload":{"a": [1, 2]}}'
                        % (res.id, ts))
        reply = decode_reply(text, prefix + "answers")
        assert (reply.corr, reply.sender, reply.payload, reply.payload_text) == (
            res.id, 'bob"', {"a": [1, 2]}, '{"a": [1, 2]}')
        p.close()
    with pytest.raises(ValueError):
        sw.reply(got.__class__(**{**got.__dict__, "reply_to": None}), {})


def test_reply_to_stream(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    key, jobs, answers = prefix + "swarm:st", prefix + "st:jobs", prefix + "st:answers"
    sw.route.add(key, "job.*", f"stream:{jobs}")
    res = sw.publish(key, "job.x", {"q": 2}, reply_to=f"stream:{answers}")
    [m] = sw.consumer(jobs, "g", "c", block_ms=None).read()
    assert m.reply_to == f"stream:{answers}"
    entry_id = sw.reply(m, {"ok": True})
    [(eid, fields)] = sw.redis.xrange(answers)
    assert eid == entry_id
    assert list(fields) == ["corr", "ts", "payload"] and fields["corr"] == res.id
    reply = decode_reply_entry(answers, eid, fields)
    assert (reply.corr, reply.payload, reply.sender, reply.entry_id) == (
        res.id, {"ok": True}, None, eid)
    with pytest.raises(ValueError):
        sw.reply(Message(m.id, m.type, 5, 0, {}, "{}", reply_to="queue:x"), {})


class Responders:
    """Threads answering the requests of one stream through one consumer group; each
    reply says which request it answers (the payload's n) and who answered."""

    def __init__(self, server: Any, stream: str, names: List[str],
                 silent: bool = False) -> None:
        self.stop = threading.Event()
        self.seen: Dict[str, List[Message]] = {n: [] for n in names}
        self.sw = Swarm(server.client())
        self.threads = [threading.Thread(target=self.run, args=(stream, n, silent))
                        for n in names]
        for t in self.threads:
            t.start()

    def run(self, stream: str, name: str, silent: bool) -> None:
        c = self.sw.consumer(stream, "responders", name, block_ms=50, count=20)
        while not self.stop.is_set():
            for m in c.read():
                self.seen[name].append(m)
                if not silent:
                    self.sw.reply(m, {"n": m.payload["n"], "by": name}, sender=name)
                c.ack(m)
        c.close()

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def inbox_channels(sw: Any) -> List[str]:
    return sorted(sw.redis.pubsub_channels(sw.inbox.matcher.prefix + ".*"))


def test_request_200_concurrent_sync(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    # two tables feeding one stream: their message ids can be equal, their replies must
    # still reach the right request
    key, key2, stream = prefix + "swarm:rq", prefix + "swarm:rq2", prefix + "rq:jobs"
    sw.route.add(key, "ask.*", f"stream:{stream}")
    sw.route.add(key2, "ask.*", f"stream:{stream}")
    resp = Responders(server, stream, ["a", "b", "c"])
    try:
        with ThreadPoolExecutor(40) as pool:
            replies = list(pool.map(lambda n: sw.request(
                key if n % 2 else key2, "ask.sum", {"n": n}, timeout_ms=20000), range(200)))
        assert [r.payload["n"] for r in replies] == list(range(200))
        assert {r.sender for r in replies} <= {"a", "b", "c"}
        assert all(r.sender == r.payload["by"] for r in replies)
        assert sum(len(v) for v in resp.seen.values()) == 200
        assert sw.late_replies == 0
        # one inbox connection for all of them, one channel per table, no pattern
        prefix_ = sw.inbox.matcher.prefix
        assert inbox_channels(sw) == [prefix_ + ".0", prefix_ + ".1"]
        assert len(sw.redis.client_list(_type="pubsub")) == 1
        assert sw.redis.pubsub_numpat() == 0
    finally:
        resp.close()
        sw.close()


def test_request_timeout_and_late_reply_sync(server: Any, prefix: str) -> None:
    sw = Swarm(server.client())
    key, stream = prefix + "swarm:to", prefix + "to:jobs"
    sw.route.add(key, "ask.*", f"stream:{stream}")
    silent = Responders(server, stream, ["mute"], silent=True)
    try:
        with pytest.raises(RequestTimeoutError) as e:
            sw.request(key, "ask.x", {"n": 1}, timeout_ms=200)
        assert (e.value.key, e.value.type, e.value.timeout_ms) == (key, "ask.x", 200)
        wait_for(lambda: len(silent.seen["mute"]) == 1, "the silent responder got it")
        [asked] = silent.seen["mute"]
        assert e.value.id == asked.id
    finally:
        silent.close()
    # the answer comes after the request gave up: dropped and counted
    sw.reply(asked, {"n": 1, "by": "slow"})
    wait_for(lambda: sw.late_replies == 1, "the late reply counted")
    # the next request gets its own reply, not the late one
    resp = Responders(server, stream, ["quick"])
    try:
        r = sw.request(key, "ask.x", {"n": 2}, timeout_ms=10000)
        assert (r.payload, r.sender) == ({"n": 2, "by": "quick"}, "quick")
        assert r.corr != asked.id
    finally:
        resp.close()
        sw.close()
    with pytest.raises(Exception):
        sw.request(key, "ask.x", {"n": 3}, timeout_ms=100)  # closed


def test_request_async_concurrent_cancel_timeout(server: Any, prefix: str) -> None:
    key, stream = prefix + "swarm:arq", prefix + "arq:jobs"
    quiet = prefix + "arq:quiet"

    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        sw = AsyncSwarm(r)
        await sw.route.add(key, "ask.*", f"stream:{stream}")
        await sw.route.add(key, "hold.*", f"stream:{quiet}")
        resp = Responders(server, stream, ["a", "b", "c"])
        try:
            replies = await asyncio.gather(*[
                sw.request(key, "ask.sum", {"n": n}, timeout_ms=20000) for n in range(200)])
            assert [x.payload["n"] for x in replies] == list(range(200))
            assert sum(len(v) for v in resp.seen.values()) == 200
            assert await r.pubsub_channels(sw.inbox.matcher.prefix + ".*") == [
                sw.inbox.matcher.prefix + ".0"]
            assert len(await r.client_list(_type="pubsub")) == 1

            # a responder that never answers: the request times out
            with pytest.raises(RequestTimeoutError):
                await sw.request(key, "hold.x", {"n": -1}, timeout_ms=100)

            # a requester that cancels: the reply sent afterwards is late, not misdelivered
            task = asyncio.ensure_future(sw.request(key, "hold.x", {"n": -2}, timeout_ms=0))
            held: List[Message] = []
            c = sw.consumer(quiet, "q", "q", block_ms=None)
            while len(held) < 2:
                held += await c.read()
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert sw.late_replies == 0
            for m in held:
                await sw.reply(m, {"n": m.payload["n"], "by": "late"})
            next_reply = await sw.request(key, "ask.sum", {"n": 7}, timeout_ms=10000)
            assert next_reply.payload["n"] == 7
            for _ in range(500):
                if sw.late_replies == 2:
                    break
                await asyncio.sleep(0.01)
            assert sw.late_replies == 2
        finally:
            resp.close()
            await sw.close()
            await r.close()
    asyncio.run(main())


def test_inbox_heals_after_restart(prefix: str) -> None:
    aof = ["--appendonly", "yes", "--appendfsync", "always"]
    s: Optional[Server] = start_server(aof)
    events: List[ConnectionEvent] = []
    sw = None
    resp = None
    try:
        assert s is not None
        sw = Swarm(s.client(), on_outage=events.append)
        key, stream = prefix + "swarm:heal", prefix + "heal:jobs"
        sw.route.add(key, "ask.*", f"stream:{stream}")
        resp = Responders(s, stream, ["a"])
        assert sw.request(key, "ask.x", {"n": 1}, timeout_ms=10000).payload["n"] == 1
        resp.close()
        resp = None
        s = kill_and_restart(s, aof)
        resp = Responders(s, stream, ["a"])
        wait_for(lambda: [(e.source, e.state) for e in events] ==
                 [("inbox", "lost"), ("inbox", "restored")], "the inbox to heal")
        assert sw.request(key, "ask.x", {"n": 2}, timeout_ms=10000).payload["n"] == 2
        assert len(inbox_channels(sw)) == 1
    finally:
        if resp is not None:
            resp.close()
        if sw is not None:
            sw.close()
        if s is not None:
            stop_server(s)
