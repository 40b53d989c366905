"""Test harness: a real redis-server with the swarm module on a free 127.0.0.1 port, one per
test session, stopped by pid in the fixture's finalizer even when tests fail."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List

import pytest
import redis

REPO = Path(__file__).resolve().parents[3]
MODULE = os.environ.get("SWARM_MODULE", str(REPO / "build" / "swarm.so"))
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


@dataclass
class Server:
    port: int
    proc: "subprocess.Popen[bytes]"
    dir: str

    def client(self, **kw: object) -> "redis.Redis[str]":
        kw.setdefault("decode_responses", True)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free port that a cluster node can use too: its bus port (port + 10000) must be a
    port as well, and free. Picked at random below the kernel's ephemeral range."""
    for _ in range(200):
        port = random.randint(20000, 30000)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair in 20000-40000")


def server_args(port: int, d: str, module: bool = True) -> List[str]:
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", d]
    return args + (["--loadmodule", MODULE] if module else [])


def start_server(extra: List[str] = [], module: bool = True) -> Server:
    if module and not os.path.exists(MODULE):
        pytest.exit(f"{MODULE} is not built: run scripts/build.sh (or set SWARM_MODULE)", 2)
    d = tempfile.mkdtemp(prefix="swarm-py-test-")
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(server_args(port, d, module) + extra,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(100):
            if proc.poll() is not None:
                break
            try:
                if redis.Redis(port=port, socket_timeout=1).ping():
                    return Server(port, proc, d)
            except redis.ConnectionError:
                time.sleep(0.05)
        out = proc.stdout.read().decode() if proc.poll() is not None and proc.stdout else ""
        stop_server(Server(port, proc, d), keep_dir=True)
        if "Address already in use" not in out:
            raise RuntimeError(f"redis-server did not start:\n{out}")
    raise RuntimeError("no free port for redis-server")


def kill_and_restart(server: Server, extra: List[str] = []) -> Server:
    """kill -9, then the same server again on the same port and directory (AOF reloaded)."""
    server.proc.kill()
    server.proc.wait()
    if server.proc.stdout:
        server.proc.stdout.close()
    proc = subprocess.Popen(server_args(server.port, server.dir) + extra,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            if redis.Redis(port=server.port, socket_timeout=1).ping():
                return Server(server.port, proc, server.dir)
        except (redis.ConnectionError, redis.exceptions.BusyLoadingError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not restart")
            time.sleep(0.02)


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Polls ``cond`` until it holds; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def stop_server(server: Server, keep_dir: bool = False) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    if server.proc.stdout:
        server.proc.stdout.close()
    if not keep_dir:
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    s = start_server()
    try:
        yield s
    finally:
        stop_server(s)


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}:"


@dataclass
class Features:
    publish_lost: bool
    stream_swarm_field: bool


@pytest.fixture(scope="session")
def features(server: Server) -> Features:
    r = server.client()
    probe = f"features:{uuid.uuid4().hex}"
    r.execute_command("SWARM.ROUTE", "ADD", probe, "probe.x", f"stream:{probe}:s")
    reply = r.execute_command("SWARM.PUBLISH", probe, "probe.x", "{}")
    fields = r.xrange(f"{probe}:s")[0][1]
    r.delete(probe, f"{probe}:s")
    return Features(publish_lost=len(reply) >= 4, stream_swarm_field="swarm" in fields)
