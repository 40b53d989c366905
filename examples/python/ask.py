"""Request/reply between agents: a planner asks an estimator for effort estimates and waits
for each answer (or a timeout). The estimator is any consumer of the request's stream; it
answers with sw.reply(), which goes to the planner's inbox. Publishes carry a msgid, so a
planner that retries after a failover or a lost answer is not estimated twice.
    python3 ask.py"""
import os
import threading
import uuid

import redis

from swarm_redis import RequestTimeoutError, Swarm

p = os.environ.get("SWARM_DEMO", "demo")
url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
table, questions = f"{p}:ask", f"{p}:questions"


def estimator(stop: threading.Event) -> None:
    sw = Swarm(redis.Redis.from_url(url, decode_responses=True))
    with sw.consumer(questions, "estimators", "e1", block_ms=100) as inbox:
        while not stop.is_set():
            for msg in inbox.read():
                hours = 2 * len(msg.payload["task"])  # ... a model call would go here ...
                sw.reply(msg, {"task": msg.payload["task"], "hours": hours}, sender="e1")
                inbox.ack(msg)


planner = Swarm(redis.Redis.from_url(url, decode_responses=True))
planner.route.add(table, "estimate.*", f"stream:{questions}")
stop = threading.Event()
worker = threading.Thread(target=estimator, args=(stop,))
worker.start()
try:
    for task in ["login page", "search", "billing"]:
        answer = planner.request(table, "estimate.effort", {"task": task}, timeout_ms=5000,
                                 msgid=f"estimate-{task}-{uuid.uuid4().hex[:8]}")
        print(f"{answer.payload['task']}: {answer.payload['hours']} h (from {answer.sender})")
    try:  # nobody handles design.* questions
        planner.request(table, "design.review", {"doc": "api.md"}, timeout_ms=200)
    except RequestTimeoutError as e:
        print(f"no answer within {e.timeout_ms} ms")
finally:
    stop.set()
    worker.join()
    planner.close()
print(f"late replies dropped: {planner.late_replies}")
