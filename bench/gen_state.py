#!/usr/bin/env python3
"""gen_state.py -- the swarm state document of bench/run.sh's snapshot phase.

    gen_state.py [VARIANT]     prints the document (compact JSON, no newline) on stdout

200 agents and 1,500 tasks, 90,018 bytes (88 KB), deterministic (no random module, no
clock), ASCII only:

    {"swarm":"bench","rev":1000,"updated":1767225600000,
     "agents":{"a-0":{"role":"coder","state":"idle","load":0.0}, ...,
               "a-2":{"role":"planner","state":"busy","load":0.74,"task":"t-26"}, ...},
     "tasks":{"t-0":{"status":"busy","owner":"a-0","prio":0}, ...,
              "t-12":{"status":"busy","owner":"a-132","prio":1,"deps":["t-0"]}, ...}}

Agents and tasks are objects keyed by id, so a one-field merge patch such as
{"tasks":{"t-42":{"status":"done"}}} addresses one member (t-42 is "held" in variant 0, so
that patch changes it), and /tasks/t-42/status is a JSON Pointer to one field.

VARIANT (default 0) makes slightly different versions of the same document, all of the same
length: it sets "rev" and "updated", and moves the status of task t-<VARIANT> one step in a
cycle of equal-length words.
"""
import json
import sys

AGENTS = 200
TASKS = 1500
ROLES = ["coder", "tester", "planner", "reviewer", "scout"]
AGENT_STATES = ["idle", "busy", "busy", "away"]
# Four-letter words so every variant has the same length.
CYCLE = ["open", "busy", "done", "held"]


def document(variant):
    agents = {}
    for i in range(AGENTS):
        a = {
            "role": ROLES[i % len(ROLES)],
            "state": AGENT_STATES[(i * 7) % len(AGENT_STATES)],
            "load": round(((i * 37) % 100) / 100, 2),
        }
        if a["state"] == "busy":
            a["task"] = "t-%d" % ((i * 13) % TASKS)
        agents["a-%d" % i] = a
    tasks = {}
    for i in range(TASKS):
        t = {
            "status": CYCLE[(i * 3 + 1) % len(CYCLE)],
            "owner": "a-%d" % ((i * 11) % AGENTS),
            "prio": (i * 3) % 5,
        }
        if i % 12 == 0 and i > 0:
            t["deps"] = ["t-%d" % ((i * 17) % i)]
        tasks["t-%d" % i] = t
    if variant:
        t = tasks["t-%d" % (variant % TASKS)]
        t["status"] = CYCLE[(CYCLE.index(t["status"]) + 1) % len(CYCLE)]
    doc = {
        "swarm": "bench",
        "rev": 1000 + variant,
        "updated": 1767225600000 + variant * 1000,
        "agents": agents,
        "tasks": tasks,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True)


def main():
    variant = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if not 0 <= variant < 9000:
        sys.exit("gen_state.py: VARIANT must be 0..8999")
    sys.stdout.write(document(variant))


if __name__ == "__main__":
    main()
