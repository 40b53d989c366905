"""Coordinator: sets up the routes, waits for three workers, hands out 9 tasks and waits until
the shared progress snapshot shows all of them done. Run it with the workers:
    python3 researcher.py & python3 stream_worker.py coder code &
    python3 stream_worker.py reviewer review & python3 coordinator.py
(/usr/bin/python3 on Debian, with python3-redis; PYTHONPATH=clients/python/src.)"""
import os
import time

import redis

from swarm_redis import Swarm

p = os.environ.get("SWARM_DEMO", "demo")
r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
                         decode_responses=True)
sw = Swarm(r)
swarm = f"{p}:swarm"
progress = sw.state(f"{p}:progress")

sw.route.add(swarm, "task.research", f"channel:{p}:research")
sw.route.add(swarm, "control.>", f"channel:{p}:control")
sw.route.add(swarm, "task.code", f"stream:{p}:code")
sw.route.add(swarm, "task.review", f"stream:{p}:review")
sw.route.set_default(swarm, f"stream:{p}:dead")

tasks = [{"id": f"{kind}-{n}", "kind": kind}
         for kind in ("research", "code", "review") for n in (1, 2, 3)]
progress.update(lambda doc, v: {"ready": [], **(doc or {}), "total": len(tasks), "done": {}})


def until(test, what):
    for _ in range(600):
        doc = progress.get().doc
        if test(doc):
            return doc
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


until(lambda doc: len(doc["ready"]) == 3, "three workers")
for t in tasks:
    res = sw.publish(swarm, f"task.{t['kind']}", t, sender="coordinator", priority=8)
    if any(target.endswith(":dead") for target in res.delivered):
        raise RuntimeError(f"{t['id']} was dead-lettered")
doc = until(lambda d: len(d["done"]) == len(tasks), "all tasks")
sw.publish(swarm, "control.stop", {}, sender="coordinator", priority=9)
print(f"coordinator: {len(doc['done'])} tasks done", doc["done"])
