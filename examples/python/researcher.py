"""Researcher: a pub/sub worker on the asyncio API. Subscribes to the research and control
channels, registers as ready in the shared progress snapshot, records each research task
as done, and stops on control.stop."""
import asyncio
import os

import redis.asyncio as aioredis

from swarm_redis.aio import AsyncSwarm

p = os.environ.get("SWARM_DEMO", "demo")


async def main() -> None:
    r = aioredis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
                                decode_responses=True)
    sw = AsyncSwarm(r)
    progress = sw.state(f"{p}:progress")
    # The coordinator may not have added the routes yet: name the channels directly.
    async with await sw.subscribe(f"{p}:swarm",
                                  channels=[f"{p}:research", f"{p}:control"]) as sub:
        await progress.update(lambda doc, v: {**(doc or {}),
                                              "ready": (doc or {}).get("ready", []) + ["researcher"]})
        async for msg in sub:
            if msg.type == "control.stop":
                break
            task = msg.payload
            # ... the research itself would happen here ...
            await progress.update(lambda doc, v: {**doc, "done": {**doc["done"], task["id"]: "researcher"}})
    await r.close()


asyncio.run(main())
