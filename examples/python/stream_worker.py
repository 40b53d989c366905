"""Stream worker: reads its tasks from a stream target through a consumer group (blocking
until one comes), first taking over entries a crashed worker left pending, records each task
in the shared progress snapshot, acknowledges it, and exits on control.stop.
    python3 stream_worker.py <name> <code|review>"""
import os
import sys

import redis

from swarm_redis import Message, Swarm

name = sys.argv[1] if len(sys.argv) > 1 else "coder"
kind = sys.argv[2] if len(sys.argv) > 2 else "code"
p = os.environ.get("SWARM_DEMO", "demo")
r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
                         decode_responses=True)
sw = Swarm(r)
progress = sw.state(f"{p}:progress")
tasks = sw.consumer(f"{p}:{kind}", f"{kind}rs", name, block_ms=0)  # 0: wait as long as it takes

tasks.ensure_group()  # before registering: nothing published later can be skipped
progress.update(lambda doc, v: {**(doc or {}), "ready": (doc or {}).get("ready", []) + [name]})


def handle(msg: Message) -> None:
    task = msg.payload
    # ... the work itself would happen here ...
    progress.update(lambda doc, v: {**doc, "done": {**doc["done"], task["id"]: name}})
    tasks.ack(msg)


stale, _ = tasks.reclaim(min_idle_ms=60000)
for msg in stale:
    handle(msg)

with tasks:
    for msg in tasks:
        if msg.type == "control.stop":
            tasks.ack(msg)
            break
        handle(msg)
