#!/usr/bin/env python3
"""gen_routes.py -- writes SWARM.ROUTE ADD commands as RESP for `redis-cli --pipe`.

    gen_routes.py subject <key> <n>    n subject routes, 10 per service:
                                         svc<s>.<verb>.*  -> channel:svc<s>.<verb>  (9 verbs)
                                         svc<s>.audit.>   -> stream:<key>:audit<s>
    gen_routes.py regex <key> <n>      n regex routes:
                                         svc<i>\\.(get|put|del)\\.[A-Za-z0-9_-]+ -> channel:rx<i>

Route 0 is always svc0.get.* (subject) and svc0\\.(get|put|del)\\.... (regex), so the type
svc0.get.item (or svc0.get.<anything>) hits exactly one route in every table.
"""
import sys

VERBS = ["get", "put", "del", "list", "watch", "sync", "scan", "lease", "ping"]


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def main():
    kind, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    w = sys.stdout.buffer
    for k in range(n):
        if kind == "subject":
            s = k // 10
            if k % 10 == 9:
                pattern, target = "svc%d.audit.>" % s, "stream:%s:audit%d" % (key, s)
            else:
                verb = VERBS[k % 10]
                pattern, target = "svc%d.%s.*" % (s, verb), "channel:svc%d.%s" % (s, verb)
            w.write(resp("SWARM.ROUTE", "ADD", key, pattern, target))
        elif kind == "regex":
            pattern = "svc%d\\.(get|put|del)\\.[A-Za-z0-9_-]+" % k
            w.write(resp("SWARM.ROUTE", "ADD", key, pattern, "channel:rx%d" % k, "REGEX"))
        else:
            sys.exit("gen_routes.py: kind must be subject or regex")


if __name__ == "__main__":
    main()
