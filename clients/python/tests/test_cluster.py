"""CROSSSLOT from a real single-node cluster (all slots assigned to it)."""

from __future__ import annotations

import time

import pytest

from conftest import start_server, stop_server
from swarm_redis import CrossSlotError, Swarm


def test_crossslot() -> None:
    s = start_server(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"])
    try:
        r = s.client()
        r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        for _ in range(200):
            if "cluster_state:ok" in r.execute_command("CLUSTER", "INFO"):
                break
            time.sleep(0.05)
        sw = Swarm(r)
        assert sw.route.add("swarm:{ops}", "a.>", "stream:swarm:{ops}:log") == 1
        with pytest.raises(CrossSlotError) as info:
            sw.route.add("swarm:{ops}", "a.>", "stream:elsewhere")
        assert info.value.code == "CROSSSLOT"
        r.close()
    finally:
        stop_server(s)
