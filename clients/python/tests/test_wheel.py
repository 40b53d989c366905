"""The package as a user installs it: a wheel built offline (no build isolation, no index)
from a copy of clients/python, installed into a fresh venv outside the repository
(--system-site-packages, for Debian's python3-redis), then used there against the test
server; it carries its type information (py.typed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any, List

from conftest import REPO

PACKAGE = REPO / "clients" / "python"

SCRIPT = textwrap.dedent('''
    import os
    import sys
    import redis
    import swarm_redis
    from swarm_redis import PublishResult, Swarm
    from swarm_redis.aio import AsyncSwarm

    assert "site-packages" in swarm_redis.__file__, swarm_redis.__file__
    assert os.path.exists(os.path.join(os.path.dirname(swarm_redis.__file__), "py.typed"))
    r = swarm_redis.Redis(port=int(sys.argv[1]), decode_responses=True)
    sw = r.swarm()
    sw.route.add("wheel:swarm", "a.>", "stream:wheel:s")
    res: PublishResult = sw.publish("wheel:swarm", "a.b", {"ok": True})
    pipe = r.pipeline()
    pipe.swarm().snapshot.save("wheel:doc", {"n": 1})
    [version] = pipe.execute()
    print("installed", swarm_redis.__version__, res.delivered, version)
    r.close()
''')


def run(cmd: List[str], cwd: Path) -> str:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"{cmd}:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def test_wheel_installs_and_works(server: Any) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="swarm-py-wheel-"))
    try:
        src = tmp / "src"
        shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns(
            "__pycache__", "build", "*.egg-info", ".pytest_cache", ".mypy_cache"))
        run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
             "--no-index", "--quiet", "-w", str(tmp / "dist"), str(src)], tmp)
        [wheel] = list((tmp / "dist").glob("swarm_redis-*.whl"))
        venv = tmp / "venv"
        run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
             str(venv)], tmp)
        py = str(venv / "bin" / "python")
        run([sys.executable, "-m", "pip", "--python", py, "install", "--no-index",
             "--no-deps", "--quiet", str(wheel)], tmp)
        (tmp / "use.py").write_text(SCRIPT)
        out = run([py, "use.py", str(server.port)], tmp)
        assert "installed 0.2.0 ['stream:wheel:s'] 1" in out, out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
