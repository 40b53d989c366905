"""Test harness: a real redis-server with the swarm module on a free 127.0.0.1 port, one per
test session, stopped by pid in the fixture's finalizer even when tests fail."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

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
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(extra: List[str] = []) -> Server:
    d = tempfile.mkdtemp(prefix="swarm-py-test-")
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", d, "--loadmodule", MODULE, *extra],
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
    edit: bool
    wait: bool
    withversion: bool
    noswarm: bool
    publish_lost: bool
    stream_swarm_field: bool


@pytest.fixture(scope="session")
def features(server: Server) -> Features:
    r = server.client()
    # redis-py parses COMMAND INFO replies itself (and fails on nil), so read HELP instead.
    help_lines = [str(x) for x in r.execute_command("SWARM.SNAPSHOT", "HELP")]

    def has(name: str) -> bool:
        return any(line.startswith(name.split("|")[1].upper() + " ") for line in help_lines)
    probe = f"features:{uuid.uuid4().hex}"
    try:
        r.execute_command("SWARM.PUBLISH", probe, "probe.x", "{}")
        noswarm = False
    except redis.ResponseError as e:
        noswarm = str(e).startswith("NOSWARM")
    r.execute_command("SWARM.ROUTE", "ADD", probe, "probe.x", f"stream:{probe}:s")
    reply = r.execute_command("SWARM.PUBLISH", probe, "probe.x", "{}")
    fields = r.xrange(f"{probe}:s")[0][1]
    try:
        r.execute_command("SWARM.SNAPSHOT", "GET", probe + ":none", "WITHVERSION")
        withversion = True
    except redis.ResponseError:
        withversion = False
    r.delete(probe, f"{probe}:s")
    return Features(edit=has("swarm.snapshot|edit"), wait=has("swarm.snapshot|wait"),
                    withversion=withversion, noswarm=noswarm, publish_lost=len(reply) >= 4,
                    stream_swarm_field="swarm" in fields)
