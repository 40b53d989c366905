"""Runs the Python snippets of docs/getting-started.md against the test server: they must exit
on their own, successfully, and print what the text says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest

from conftest import REPO

DOC = (REPO / "docs" / "getting-started.md").read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC, re.S)
EXPECTED = [
    [r"^True task\.done \{'task': 't-17'\}$", r"^audit task\.done", r"^state 1 \{'step': 1\}$",
     r"^bad payload at byte 8$"],
    [r"^job\.new 8 \{'n': 1\}$"],
    [r"^held by 0 replicas, duplicate: True$"],  # a server without replicas
]


def test_snippet_count() -> None:
    assert len(SNIPPETS) == 3


@pytest.mark.parametrize("i", range(len(SNIPPETS)))
def test_snippet_runs(server: Any, i: int) -> None:
    code = SNIPPETS[i].replace("127.0.0.1:6379", f"127.0.0.1:{server.port}")
    env = dict(os.environ, PYTHONPATH=str(REPO / "clients" / "python" / "src"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    for pat in EXPECTED[i]:
        assert re.search(pat, r.stdout, re.M), (pat, r.stdout)
