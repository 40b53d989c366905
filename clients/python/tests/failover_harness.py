"""A Sentinel failover experiment: what an acknowledged publish survives.

Starts 3 data nodes with the swarm module (1 master, 2 replicas) and 3 sentinels, all on free
127.0.0.1 ports, in a temporary directory. ``writers`` writers per mode publish numbered messages
(``{"w": writer, "seq": n}``) to a stream target through a client that finds the master via
Sentinel (redis-py's ``Sentinel.master_for``), and retries a message until it is
acknowledged: the publish returned, and with ``replicas=N`` WAIT reported N replicas. One
consumer per mode reads the stream through a consumer group (a StreamConsumer over the same
Sentinel client) and acknowledges each entry. Meanwhile the master is killed (kill -9)
several times; after each promotion the killed node is started again as a replica of the
new master, and the next kill waits until the sentinels see two healthy replicas.

Counted per mode at the end, on the final master:

- lost: acknowledged messages that are not in the stream;
- duplicate entries: messages appended more than once (a retry of a publish that had been
  applied); with ``msgid`` the retry is answered as a duplicate instead;
- redelivered: entries the group handed out again (an XACK lost in the failover);
- reissued ids: message ids the writer was given for one message and that another message
  carries after a promotion.

Processes are started and stopped by pid only; stop() ends every one even after a failure.
Used by tests/test_failover.py (short) and bench/failover.py (full).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Set, Tuple

import redis
import redis.sentinel

from swarm_redis import Swarm

SERVICE = "swarm-fo"


@dataclass(frozen=True)
class Mode:
    name: str
    replicas: int  # 0: no WAIT
    msgid: bool


MODES = [Mode("no wait", 0, False), Mode("no wait + msgid", 0, True),
         Mode("1 of 2", 1, False), Mode("all (2 of 2)", 2, False),
         Mode("all + msgid", 2, True)]


@dataclass
class Result:
    mode: Mode
    acknowledged: int = 0
    attempts: int = 0
    failed_attempts: int = 0  # errors and WAITs short of the replicas asked
    duplicates_answered: int = 0  # publishes answered duplicate=True (msgid)
    lost: int = 0
    duplicate_entries: int = 0
    redelivered: int = 0
    reissued_ids: int = 0
    delivered: int = 0


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(n: int) -> List[int]:
    out: List[int] = []
    while len(out) < n:
        p = random.randint(20000, 30000)
        if p not in out and _bindable(p):
            out.append(p)
    return out


def _poll(cond: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if cond():
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Cluster:
    """3 data nodes and 3 sentinels on free loopback ports."""

    def __init__(self, module: str, redis_server: str = "redis-server",
                 sentinel: Optional[List[str]] = None, log: Callable[[str], None] = print,
                 down_after_ms: int = 2000, failover_timeout_ms: int = 5000) -> None:
        self.module = os.path.abspath(module)
        self.redis_server = redis_server
        self.sentinel_cmd = sentinel or (["redis-sentinel"] if shutil.which("redis-sentinel")
                                         else [redis_server, "--sentinel"])
        self.log = log
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.dir = tempfile.mkdtemp(prefix="swarm-failover-")
        self.procs: Dict[int, "subprocess.Popen[bytes]"] = {}  # port -> process
        self.data_ports: List[int] = []
        self.sentinel_ports: List[int] = []
        self.kills = 0
        self.unplanned = 0  # failovers the sentinels made without a kill
        self.why = ""
        self._last_master: Optional[int] = None

    # ---- processes ----

    def _spawn(self, port: int, args: List[str]) -> None:
        out = open(os.path.join(self.dir, f"{port}.log"), "ab")
        try:
            self.procs[port] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                                cwd=self.dir)
        finally:
            out.close()

    def _data_node(self, port: int, replicaof: Optional[int]) -> None:
        d = os.path.join(self.dir, str(port))
        os.makedirs(d, exist_ok=True)
        args = [self.redis_server, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                "--save", "", "--appendonly", "no", "--repl-diskless-sync", "yes",
                "--repl-diskless-sync-delay", "0", "--loadmodule", self.module]
        if replicaof is not None:
            args += ["--replicaof", "127.0.0.1", str(replicaof)]
        self._spawn(port, args)
        self._up(port, f"node {port}")

    def _up(self, port: int, what: str) -> None:
        try:
            _poll(lambda: bool(redis.Redis(port=port, socket_timeout=1).ping()), what, 20)
        except TimeoutError:
            with open(os.path.join(self.dir, f"{port}.log"), "rb") as f:
                tail = f.read()[-2000:].decode("utf-8", "replace")
            raise TimeoutError(f"{what} did not start:\n{tail}") from None

    def _sentinel(self, port: int, master: int) -> None:
        conf = os.path.join(self.dir, f"sentinel-{port}.conf")
        with open(conf, "w") as f:
            f.write(f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                    f"sentinel monitor {SERVICE} 127.0.0.1 {master} 2\n"
                    f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}\n"
                    f"sentinel failover-timeout {SERVICE} {self.failover_timeout_ms}\n"
                    f"sentinel parallel-syncs {SERVICE} 2\n")
        self._spawn(port, [*self.sentinel_cmd, conf] if self.sentinel_cmd[-1] != "--sentinel"
                    else [self.sentinel_cmd[0], conf, "--sentinel"])
        self._up(port, f"sentinel {port}")

    def start(self) -> None:
        ports = free_ports(6)
        self.data_ports, self.sentinel_ports = ports[:3], ports[3:]
        master = self.data_ports[0]
        self._data_node(master, None)
        for p in self.data_ports[1:]:
            self._data_node(p, master)
        for p in self.sentinel_ports:
            self._sentinel(p, master)
        self.wait_healthy(master, 60)
        self._last_master = master

    def stop(self, keep_dir: bool = False) -> None:
        """Ends every process this cluster started (by pid) and removes its directory
        (unless ``keep_dir``: the node and sentinel logs are there)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()
        if not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- views ----

    def sentinel(self) -> redis.sentinel.Sentinel:
        return redis.sentinel.Sentinel([("127.0.0.1", p) for p in self.sentinel_ports],
                                       socket_timeout=1.0, socket_connect_timeout=1.0)

    def master_port(self) -> Optional[int]:
        """The master the sentinels agree on, else None."""
        seen: Set[int] = set()
        for p in self.sentinel_ports:
            addr = redis.Redis(port=p, socket_timeout=1).execute_command(
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
            seen.add(int(addr[1]))
        return seen.pop() if len(seen) == 1 else None

    def _healthy(self, master: Optional[int]) -> bool:
        agreed = self.master_port()
        self.why = f"sentinels agree on master {agreed}, not {master}"
        if agreed is None or (master is not None and agreed != master):
            return False
        master = agreed
        info = redis.Redis(port=master, socket_timeout=1).info("replication")
        self.why = f"master {master}: {info}"
        if info.get("role") != "master" or info.get("connected_slaves") != 2:
            return False
        if any(info[f"slave{i}"]["state"] != "online" for i in range(2)):
            return False
        for p in self.sentinel_ports:
            s = redis.Redis(port=p, socket_timeout=1, decode_responses=True)
            reps = s.execute_command("SENTINEL", "REPLICAS", SERVICE)
            self.why = f"sentinel {p} sees replicas {reps}"
            ok = [r for r in reps if _flags(r) == {"slave"} and _field(r, "master-link-status")
                  == "ok" and int(_field(r, "master-port") or 0) == master]
            if len(ok) != 2:
                return False
            others = s.execute_command("SENTINEL", "SENTINELS", SERVICE)
            self.why = f"sentinel {p} sees sentinels {others}"
            if len(others) != 2:
                return False
        return True

    def wait_healthy(self, master: Optional[int], timeout: float) -> None:
        """Until the sentinels agree on ``master`` (None: on any master) and see it with two
        replicas online."""
        self.why = ""
        try:
            _poll(lambda: self._healthy(master), "two healthy replicas seen by the sentinels",
                  timeout)
        except TimeoutError as e:
            raise TimeoutError(f"{e}: {self.why}") from None

    # ---- the failure ----

    def kill_master(self, timeout: float = 60) -> float:
        """kill -9 of the master, then waits for the promotion and starts the killed node as
        a replica of the new master; returns the seconds without a master."""
        old = self.master_port()
        assert old is not None
        if self._last_master is not None and old != self._last_master:
            self.unplanned += 1
            self.log(f"unplanned failover: {self._last_master} -> {old}")
        proc = self.procs.pop(old)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills += 1
        new: List[int] = []

        def promoted() -> bool:
            m = self.master_port()
            if m is None or m == old:
                return False
            role = redis.Redis(port=m, socket_timeout=1).info("replication").get("role")
            new[:] = [m]
            return bool(role == "master")
        _poll(promoted, "the sentinels to promote a replica", timeout)
        down = time.monotonic() - t0
        self._data_node(old, new[0])
        # the sentinels may fail over again meanwhile (counted at the next kill)
        self.wait_healthy(None, timeout)
        self._last_master = self.master_port()
        self.log(f"kill {self.kills}: master {old} -> {new[0]} after {down:.1f} s")
        return down


def _field(rec: List[str], name: str) -> Optional[str]:
    for i in range(0, len(rec) - 1, 2):
        if rec[i] == name:
            return rec[i + 1]
    return None


def _flags(rec: List[str]) -> Set[str]:
    return set((_field(rec, "flags") or "").split(","))


class _Writer(threading.Thread):
    def __init__(self, sw: Swarm, key: str, mode: Mode, stop: threading.Event,
                 result: Result, tag: str) -> None:
        super().__init__(daemon=True)
        self.sw, self.key, self.mode, self.stop, self.shared = sw, key, mode, stop, result
        self.result = Result(mode)  # this writer's counts, summed into ``shared`` at the end
        self.tag = tag
        self.acked: Dict[int, str] = {}  # seq -> message id acknowledged
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            seq = 0
            while not self.stop.is_set():
                seq += 1
                self._until_acked(seq)
        except BaseException as e:  # reported by run_experiment
            self.error = e

    def _until_acked(self, seq: int) -> None:
        m = self.mode
        while True:
            self.result.attempts += 1
            try:
                res = self.sw.publish(
                    self.key, "job.x", {"w": self.tag, "seq": seq},
                    msgid=f"{self.tag}-{seq}" if m.msgid else None,
                    replicas=m.replicas or None, replicas_timeout_ms=500)
            except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, OSError,
                    redis.ResponseError) as e:
                if isinstance(e, redis.ResponseError) and \
                        not str(e).startswith(("READONLY", "LOADING", "MASTERDOWN")):
                    raise
                self.result.failed_attempts += 1
                if self.stop.is_set():
                    return
                time.sleep(0.02)
                continue
            if res.duplicate:
                self.result.duplicates_answered += 1
            if m.replicas and (res.replicas or 0) < m.replicas:
                self.result.failed_attempts += 1  # not acknowledged: retried
                if self.stop.is_set():
                    return
                continue
            self.acked[seq] = res.id
            self.result.acknowledged += 1
            return


class _Reader(threading.Thread):
    def __init__(self, sw: Swarm, stream: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.consumer = sw.consumer(stream, "readers", "r1", block_ms=100, count=100)
        self.stop = stop
        self.entries: Counter[str] = Counter()  # entry id -> deliveries
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                msgs = self.consumer.read()
                for m in msgs:
                    assert m.entry_id is not None
                    self.entries[m.entry_id] += 1
                if msgs:
                    self.consumer.ack(*msgs)
        except BaseException as e:
            self.error = e
        finally:
            self.consumer.close()


def run_experiment(cluster: Cluster, kills: int, modes: List[Mode] = MODES,
                   settle: float = 1.0, writers_per_mode: int = 1) -> List[Result]:
    """Writers and readers for every mode at once while the master is killed ``kills``
    times; the figures per mode."""
    sentinel = cluster.sentinel()
    stop_writers, stop_readers = threading.Event(), threading.Event()
    results = [Result(m) for m in modes]
    writers: List[_Writer] = []
    readers: List[_Reader] = []
    clients: List[Swarm] = []

    def client() -> Swarm:
        r = sentinel.master_for(SERVICE, socket_timeout=2.0, socket_connect_timeout=1.0,
                                decode_responses=True)
        sw = Swarm(r)
        clients.append(sw)
        return sw

    try:
        for i, (m, res) in enumerate(zip(modes, results)):
            key, stream = f"swarm:{{fo{i}}}", f"swarm:{{fo{i}}}:log"
            sw = client()
            sw.route.add(key, "job.*", f"stream:{stream}")
            rd = _Reader(client(), stream, stop_readers)
            rd.consumer.ensure_group()
            readers.append(rd)
            for j in range(writers_per_mode):
                writers.append(_Writer(sw if j == 0 else client(), key, m, stop_writers, res,
                                       f"m{i}w{j}"))
        for t in [*readers, *writers]:
            t.start()
        time.sleep(settle)
        for _ in range(kills):
            cluster.kill_master()
            time.sleep(settle)
        stop_writers.set()
        for w in writers:
            w.join(30)
        cluster.wait_healthy(None, 60)
        if cluster._last_master is not None and cluster.master_port() != cluster._last_master:
            cluster.unplanned += 1
        master = cluster.master_port()
        assert master is not None
        r = redis.Redis(port=master, decode_responses=True)
        # let the readers drain the streams
        for i, rd in enumerate(readers):
            want = {eid for eid, _ in r.xrange(f"swarm:{{fo{i}}}:log")}
            _poll(lambda: want <= set(rd.entries), "the reader to catch up", 60)
        stop_readers.set()
        for rd in readers:
            rd.join(30)
        for err in [t.error for t in writers] + [t.error for t in readers]:
            if err is not None:
                raise err
        for i, (rd, res) in enumerate(zip(readers, results)):
            _count(r, f"swarm:{{fo{i}}}:log", [w for w in writers if w.shared is res], rd, res)
    finally:
        stop_writers.set()
        stop_readers.set()
        for t in [*writers, *readers]:
            if t.is_alive():
                t.join(10)
        for sw in clients:
            sw.close()
    return results


def _count(r: "redis.Redis[str]", stream: str, writers: List[_Writer], rd: _Reader,
           res: Result) -> None:
    entries: List[Tuple[str, Dict[str, str]]] = r.xrange(stream)
    copies: Counter[Tuple[str, int]] = Counter()  # (writer, seq) -> entries
    carried: Dict[str, Set[Tuple[str, int]]] = {}  # message id -> messages carrying it
    for _eid, f in entries:
        p = json.loads(f["payload"])
        msg = (str(p["w"]), int(p["seq"]))
        copies[msg] += 1
        carried.setdefault(f["id"], set()).add(msg)
    acked = {(w.tag, seq): mid for w in writers for seq, mid in w.acked.items()}
    for w in writers:
        res.acknowledged += w.result.acknowledged
        res.attempts += w.result.attempts
        res.failed_attempts += w.result.failed_attempts
        res.duplicates_answered += w.result.duplicates_answered
    res.lost = sum(1 for msg in acked if copies[msg] == 0)
    res.duplicate_entries = sum(n - 1 for n in copies.values() if n > 1)
    res.redelivered = sum(n - 1 for n in rd.entries.values() if n > 1)
    res.delivered = sum(rd.entries.values())
    # an id acknowledged for one message that another message carries now
    res.reissued_ids = sum(1 for msg, mid in acked.items() if carried.get(mid, {msg}) - {msg})


def table(results: List[Result], kills: int, writers: int = 1) -> str:
    head = ("| mode | acknowledged | lost | duplicate entries | redelivered | reissued ids "
            "| retries | answered duplicate |")
    rows = [head, "|" + "---|" * 8]
    for x in results:
        rows.append(f"| {x.mode.name} | {x.acknowledged} | {x.lost} | {x.duplicate_entries} | "
                    f"{x.redelivered} | {x.reissued_ids} | {x.failed_attempts} | "
                    f"{x.duplicates_answered} |")
    return f"{kills} kills of the master, {writers} writer(s) per mode\n" + "\n".join(rows)
