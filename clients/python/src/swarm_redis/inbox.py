"""Reply matching for request(), shared by the sync and asyncio inboxes.

One inbox per Swarm object: one pub/sub connection. Each routing table a request goes
through gets one channel, ``swarm.inbox.<uuid>.<n>``, subscribed once (plain SUBSCRIBE: a
pattern would cost every PUBLISH on the server a match per inbox), because message ids are
unique per table only: a reply is matched by (channel, corr), where corr is the request's
message id.

A reply can arrive before the requester has learnt its message id (the publish reply and
the responder's answer race), so while a publish is in flight unmatched replies are held;
whatever is still unmatched when no publish is in flight (or after HOLD_SECONDS) is late:
dropped and counted, never handed to another request.
"""

from __future__ import annotations

import threading
import time
from typing import Dict, List, Optional, Tuple

from .types import Reply

HOLD_SECONDS = 30.0

Key = Tuple[str, str]


class Waiter:
    """One request waiting for its first reply; deliver() is called at most once."""

    key: Key
    reply: Optional[Reply] = None
    done = False

    def deliver(self, reply: Optional[Reply]) -> None:  # None: the inbox was closed
        raise NotImplementedError


class Matcher:
    """Waiters by (channel, message id), the replies held while publishes are in flight, and
    the late count. Thread-safe."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.late = 0
        self.undecodable = 0
        self._lock = threading.Lock()
        self._channels: Dict[str, str] = {}
        self._waiters: Dict[Key, List[Waiter]] = {}
        self._held: Dict[Key, Tuple[float, Reply]] = {}
        self._inflight = 0

    def channel(self, table: str) -> str:
        """The inbox channel of the requests published through ``table``."""
        with self._lock:
            ch = self._channels.get(table)
            if ch is None:
                ch = self._channels[table] = f"{self.prefix}.{len(self._channels)}"
            return ch

    def begin(self) -> None:
        """A request's publish starts: hold unmatched replies until it registers."""
        with self._lock:
            self._inflight += 1

    def end(self) -> None:
        with self._lock:
            self._inflight -= 1
            if self._inflight == 0 and self._held:
                self.late += len(self._held)
                self._held.clear()

    def register(self, w: Waiter, channel: str, msg_id: str) -> None:
        """Call between begin() and end(): a reply held for this id is delivered at once."""
        w.key = (channel, msg_id)
        with self._lock:
            held = self._held.pop(w.key, None)
            if held is not None:
                w.done = True
                w.reply = held[1]
            else:
                self._waiters.setdefault(w.key, []).append(w)
        if held is not None:
            w.deliver(held[1])

    def finish(self, w: Waiter) -> Optional[Reply]:
        """The request ends (reply, timeout, cancel): its reply if one came, else None; a
        reply arriving from now on is late."""
        with self._lock:
            ws = self._waiters.get(w.key)
            if ws is not None and w in ws:
                ws.remove(w)
                if not ws:
                    del self._waiters[w.key]
            w.done = True
            return w.reply

    def dispatch(self, reply: Reply) -> None:
        key = (reply.channel or "", reply.corr)
        with self._lock:
            ws = self._waiters.pop(key, None)
            if ws is None:
                if self._inflight > 0:
                    now = time.monotonic()
                    if key in self._held:
                        self.late += 1
                    else:
                        self._held[key] = (now, reply)
                    for k in [k for k, (t, _) in self._held.items() if now - t > HOLD_SECONDS]:
                        del self._held[k]
                        self.late += 1
                else:
                    self.late += 1
                return
            for w in ws:
                w.done = True
                w.reply = reply
        for w in ws:
            w.deliver(reply)

    def close(self) -> None:
        """Wakes every waiter with no reply."""
        with self._lock:
            ws = [w for lst in self._waiters.values() for w in lst]
            self._waiters.clear()
            for w in ws:
                w.done = True
        for w in ws:
            w.deliver(None)

    def pending(self) -> int:
        with self._lock:
            return sum(len(x) for x in self._waiters.values())

