"""Coordinator: sets up the routes, waits for three workers, hands out 9 tasks and waits until
the shared progress snapshot shows all of them done (SWARM.SNAPSHOT WAIT: no polling). Run it
with the workers:
    python3 researcher.py & python3 stream_worker.py coder code &
    python3 stream_worker.py reviewer review & python3 coordinator.py
(/usr/bin/python3 on Debian, with python3-redis; PYTHONPATH=clients/python/src.)"""
import os
from typing import Any, Callable

import redis

from swarm_redis import Swarm

p = os.environ.get("SWARM_DEMO", "demo")
r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
                         decode_responses=True)
sw = Swarm(r)
swarm = f"{p}:swarm"
progress = sw.state(f"{p}:progress")

sw.route.add(swarm, "task.research", f"channel:{p}:research")
sw.route.add(swarm, "task.code", f"stream:{p}:code")
sw.route.add(swarm, "task.review", f"stream:{p}:review")
for target in (f"channel:{p}:control", f"stream:{p}:code", f"stream:{p}:review"):
    sw.route.add(swarm, "control.>", target)
sw.route.set_default(swarm, f"stream:{p}:dead")

tasks = [{"id": f"{kind}-{n}", "kind": kind}
         for kind in ("research", "code", "review") for n in (1, 2, 3)]
progress.update(lambda doc, v: {"ready": [], **(doc or {}), "total": len(tasks), "done": {}})


def until(test: Callable[[Any], bool], what: str) -> Any:
    """Reads the progress document, and WAITs for its next version until ``test`` holds."""
    while True:
        cur = progress.get()
        if test(cur.doc):
            return cur.doc
        if sw.snapshot.wait(progress.key, cur.version, 30000) is None:
            raise TimeoutError(f"no progress in 30 s waiting for {what}")


until(lambda doc: len(doc["ready"]) == 3, "three workers")
for t in tasks:
    res = sw.publish(swarm, f"task.{t['kind']}", t, sender="coordinator", priority=8)
    if any(target.endswith(":dead") for target in res.delivered):
        raise RuntimeError(f"{t['id']} was dead-lettered")
doc = until(lambda d: len(d["done"]) == len(tasks), "all tasks")
sw.publish(swarm, "control.stop", {}, sender="coordinator", priority=9)
print(f"coordinator: {len(doc['done'])} tasks done", doc["done"])
