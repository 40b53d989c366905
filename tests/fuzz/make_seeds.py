#!/usr/bin/python3
"""Regenerates the seed corpora of the codec fuzz targets from a real server.

Starts redis-server with the built module (rdbcompression off, so DUMP carries the module's
bytes as they are), builds routing tables and snapshot histories with ordinary commands,
DUMPs them and strips the RDB framing to keep the module's serialized form:

    0x07 (module type) | module id | 0x05 (string opcode) | <len> <bytes> | 0x00 (EOF)
    | RDB version (2 bytes) | CRC64 (8 bytes)

The publish deltas are the SWARM.APPLY ... ROUTE <delta> commands of the AOF, each prefixed
with the table they apply to (fuzz_delta.c's input format).

    /usr/bin/python3 tests/fuzz/make_seeds.py build/swarm.so tests/fuzz/corpus  (Debian python3-redis)
"""
import glob
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_len(b, i):
    t = b[i] >> 6
    if t == 0:
        return b[i] & 0x3F, i + 1
    if t == 1:
        return ((b[i] & 0x3F) << 8) | b[i + 1], i + 2
    if b[i] == 0x80:
        return struct.unpack(">I", b[i + 1:i + 5])[0], i + 5
    if b[i] == 0x81:
        return struct.unpack(">Q", b[i + 1:i + 9])[0], i + 9
    raise ValueError("encoded string in a module value (rdbcompression must be off)")


def strip_dump(d):
    assert d[0] == 7, "not a module value"
    _, i = read_len(d, 1)  # module id and encoding version
    op, i = read_len(d, i)
    assert op == 5, "expected a string opcode"
    n, i = read_len(d, i)
    body = d[i:i + n]
    assert d[i + n] == 0 and len(d) == i + n + 1 + 10, "trailing data"
    return body


def aof_commands(path):
    data = open(path, "rb").read()
    i, out = 0, []
    while i < len(data):
        assert data[i:i + 1] == b"*", data[i:i + 20]
        j = data.index(b"\r\n", i)
        n = int(data[i + 1:j])
        i, args = j + 2, []
        for _ in range(n):
            j = data.index(b"\r\n", i)
            ln = int(data[i + 1:j])
            args.append(data[j + 2:j + 2 + ln])
            i = j + 2 + ln + 2
        out.append(args)
    return out


def main():
    module, outdir = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="swarm-seeds-")
    port = free_port()
    srv = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", work,
         "--save", "", "--appendonly", "yes", "--appendfsync", "always",
         "--rdbcompression", "no", "--loadmodule", os.path.abspath(module)],
        stdout=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        c = r.execute_command
        c("SWARM.ROUTE", "ADD", "t:small", "task.*", "channel:tasks")
        c("SWARM.ROUTE", "ADD", "t:mixed", "task.*", "channel:tasks")
        c("SWARM.ROUTE", "ADD", "t:mixed", "task.>", "stream:log", "PRIORITY", "5", "9")
        c("SWARM.ROUTE", "ADD", "t:mixed", "agent\\.[a-z0-9-]+\\.beat", "stream:beats", "REGEX")
        c("SWARM.ROUTE", "ADD", "t:mixed", ">", "channel:all", "PRIORITY", "8", "9")
        c("SWARM.ROUTE", "ALLOW", "t:mixed", "(task|agent)\\..*")
        c("SWARM.ROUTE", "DENY", "t:mixed", "task\\.secret(\\..*)?")
        c("SWARM.ROUTE", "DEFAULT", "t:mixed", "stream:dead")
        for k in range(7):  # channel:tasks has no subscriber: its breaker opens
            c("SWARM.PUBLISH", "t:mixed", "task.done", '{"n":%d}' % k, "SENDER", "seed")
        c("SWARM.PUBLISH", "t:mixed", "agent.a-1.beat", "{}", "PRIORITY", "9")
        try:
            c("SWARM.PUBLISH", "t:mixed", "task.secret", "{}")
        except redis.ResponseError:
            pass
        c("SWARM.ROUTE", "ADD", "t:deep", ".".join(["a"] * 40 + ["*", ">"]), "channel:deep")
        c("SWARM.ROUTE", "ADD", "t:regex", "(x|y)+\\.z{1,3}", "channel:r", "REGEX")
        c("SWARM.ROUTE", "DENY", "t:regex", "x\\.zzz")
        c("SWARM.PUBLISH", "t:regex", "xy.zz", "[1,2]")
        c("SWARM.SNAPSHOT", "SAVE", "s:one", '{"a":1}')
        for k in range(6):
            c("SWARM.SNAPSHOT", "SAVE", "s:many", '{"step":%d,"tags":["x","y"]}' % k, "KEEP", "3")
        c("SWARM.SNAPSHOT", "PATCH", "s:many", '{"done":true}')
        c("SWARM.SNAPSHOT", "SAVE", "s:text", '"caf\u00e9 \\u00e9"')
        dumps = {k.decode(): strip_dump(r.dump(k)) for k in r.keys("[ts]:*")}
        for d in ("table", "snapshot", "delta"):
            os.makedirs(os.path.join(outdir, d), exist_ok=True)
        for key, body in dumps.items():
            kind = "table" if key.startswith("t:") else "snapshot"
            open(os.path.join(outdir, kind, key.replace(":", "-") + ".bin"), "wb").write(body)
        aof = sorted(glob.glob(os.path.join(work, "appendonlydir", "*.incr.aof")))[-1]
        n = 0
        for args in aof_commands(aof):
            if args[0].upper() == b"SWARM.APPLY" and args[2] == b"ROUTE":
                table = dumps[args[1].decode()]
                seed = struct.pack("<I", len(table)) + table + args[3]
                n += 1
                name = "%s-%02d.bin" % (args[1].decode().replace(":", "-"), n)
                open(os.path.join(outdir, "delta", name), "wb").write(seed)
        print("%d tables and histories, %d deltas" % (len(dumps), n))
    finally:
        srv.terminate()
        srv.wait()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
