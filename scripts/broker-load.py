#!/usr/bin/env python3
"""Load for a chat broker (socklab listen --broker, ncat --broker), for scripts/bench-broker.

    broker-load.py PORT N ROUNDS

Connects N clients to 127.0.0.1:PORT, prints "connected" and waits for "go" on stdin (the
bench says go once the broker has reported all N). Then, ROUNDS times, client 0 sends one
64-byte line and the time until every other client has it whole is measured. Prints one
JSON line: {"clients", "connect_s", "fanout_ms": [...], "median_ms", "max_ms"}. Every loop is
bounded by a deadline.
"""

import json
import resource
import selectors
import socket
import statistics
import sys
import time

DEADLINE = 120


def main():
    port, n, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
    t0 = time.monotonic()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        socks.append(s)
    connect_s = time.monotonic() - t0
    print("connected", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit("expected go")
    sel = selectors.DefaultSelector()
    for s in socks[1:]:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    times = []
    for r in range(rounds):
        line = (f"round {r:06d} " + "x" * 64)[:63].encode() + b"\n"
        pending = {s: len(line) for s in socks[1:]}
        start = time.monotonic()
        socks[0].sendall(line)
        end = start + DEADLINE
        while pending:
            if time.monotonic() > end:
                sys.exit(f"round {r}: {len(pending)} clients still waiting after {DEADLINE}s")
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                got = s.recv(4096)
                if not got:
                    sys.exit(f"round {r}: a client was closed")
                left = pending[s] - len(got)
                if left <= 0:
                    del pending[s]
                else:
                    pending[s] = left
        times.append((time.monotonic() - start) * 1000)
    print(json.dumps({
        "clients": n,
        "connect_s": round(connect_s, 3),
        "fanout_ms": [round(t, 2) for t in times],
        "median_ms": round(statistics.median(times), 2),
        "max_ms": round(max(times), 2),
    }), flush=True)


if __name__ == "__main__":
    main()
