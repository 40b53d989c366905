"""Runs examples/python (coordinator, researcher, two stream workers) against the test server
and checks the final state: every task done once by the right worker, nothing pending,
nothing dead-lettered."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

from conftest import REPO
from swarm_redis import Swarm

EXAMPLES = REPO / "examples" / "python"
SRC = REPO / "clients" / "python" / "src"


def test_example_files_are_short() -> None:
    for f in EXAMPLES.glob("*.py"):
        assert len(f.read_text().splitlines()) < 80, f


def test_examples_run(server: Any) -> None:
    demo = f"demo{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{server.port}", SWARM_DEMO=demo,
               PYTHONPATH=str(SRC))
    cmds = [["researcher.py"], ["stream_worker.py", "coder", "code"],
            ["stream_worker.py", "reviewer", "review"], ["coordinator.py"]]
    procs = [subprocess.Popen([sys.executable, *c], cwd=EXAMPLES, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for c in cmds]
    outputs = []
    try:
        for proc in procs:
            raw, _ = proc.communicate(timeout=60)
            outputs.append(raw.decode())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for c, proc, out in zip(cmds, procs, outputs):
        assert proc.returncode == 0, f"{c}: {out}"
    assert "coordinator: 9 tasks done" in outputs[3]

    sw = Swarm(server.client())
    doc = sw.state(f"{demo}:progress").get().doc
    assert doc["total"] == 9
    assert sorted(doc["ready"]) == ["coder", "researcher", "reviewer"]
    want = {f"{k}-{n}": w for k, w in (("research", "researcher"), ("code", "coder"),
                                       ("review", "reviewer")) for n in (1, 2, 3)}
    assert doc["done"] == want
    for kind in ("code", "review"):
        assert sw.consumer(f"{demo}:{kind}", f"{kind}rs", "check").pending() == 0
        assert sw.redis.xlen(f"{demo}:{kind}") == 4  # 3 tasks and control.stop
    assert sw.redis.exists(f"{demo}:dead") == 0
    stats = sw.route.stats(f"{demo}:swarm")
    assert (stats.published, stats.deadlettered) == (10, 0)


def test_ask_example(server: Any) -> None:
    demo = f"ask{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{server.port}", SWARM_DEMO=demo,
               PYTHONPATH=str(SRC))
    r = subprocess.run([sys.executable, "ask.py"], cwd=EXAMPLES, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines == ["login page: 20 h (from e1)", "search: 12 h (from e1)",
                         "billing: 14 h (from e1)", "no answer within 200 ms",
                         "late replies dropped: 0"]
