"""Many clients of a `socklab listen --broker`, in one process.

    broker_peer.py PORT N SENDERS     fan-out check
    broker_peer.py PORT slow          a client that stops reading, and one that talks

Fan-out: connect N clients and print "connected N"; wait for "go" on stdin (the test says
go once socklab has reported every client); clients 0..SENDERS-1 each send one line; every
client must receive each line of the others exactly once, and none of its own. Then client
0 sends END, which every other client reads as the last line: whatever a duplicate or a
stray came with, it arrived before END. Prints "ok LINES" (lines checked in all) or
"FAIL why" and exits 1.

Slow: client A connects and never reads; client B connects; both print "connected 2";
after "go", B sends 16 MiB in 64 KiB pieces (more than socklab queues for A), then prints
"sent"; after "read" A starts reading; after "after" (socklab said A caught up) B sends
"after\\n", and A must get it. Prints "ok BYTES": what A received before the marker.
"""

import selectors
import socket
import sys
import time

DEADLINE = 60


def connect(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    return socks


def fan_out(port, n, senders):
    socks = connect(port, n)
    print(f"connected {n}", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit("expected go")
    for k in range(senders):
        socks[k].sendall(f"hello from {k}\n".encode())
    # Each client's expected lines before END.
    want = {
        i: sorted(f"hello from {k}" for k in range(senders) if k != i)
        for i in range(n)
    }
    got = {i: b"" for i in range(n)}
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    end = time.monotonic() + DEADLINE

    def lines(i):
        return got[i].decode(errors="replace").splitlines()

    def read_until(done):
        while not all(done(i) for i in range(n)):
            if time.monotonic() > end:
                short = [i for i in range(n) if not done(i)]
                print(f"FAIL clients {short[:5]} still waiting; e.g. #{short[0]} has {lines(short[0])[:5]}", flush=True)
                sys.exit(1)
            for key, _ in sel.select(timeout=1):
                chunk = key.fileobj.recv(65536)
                if not chunk:
                    print(f"FAIL client {key.data} was closed", flush=True)
                    sys.exit(1)
                got[key.data] += chunk

    read_until(lambda i: len(lines(i)) >= len(want[i]))
    socks[0].sendall(b"END\n")
    read_until(lambda i: i == 0 or got[i].endswith(b"END\n"))
    checked = 0
    for i in range(n):
        seen = [l for l in lines(i) if l != "END"]
        if sorted(seen) != want[i]:
            print(f"FAIL client {i} got {sorted(seen)[:5]}... ({len(seen)} lines), want {len(want[i])}", flush=True)
            sys.exit(1)
        checked += len(seen)
    print(f"ok {checked}", flush=True)


def slow(port):
    import threading

    a, b = connect(port, 2)
    print("connected 2", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit("expected go")
    piece = b"x" * 65536
    for _ in range(256):
        b.sendall(piece)
    print("sent", flush=True)
    if sys.stdin.readline().strip() != "read":
        sys.exit("expected read")
    have = bytearray()

    def reader():
        a.settimeout(DEADLINE)
        while not have.endswith(b"after\n"):
            chunk = a.recv(1 << 20)
            if not chunk:
                return
            have.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    # The test says "after" once socklab says A has caught up: only then is the marker
    # sure to be queued for A rather than dropped.
    if sys.stdin.readline().strip() != "after":
        sys.exit("expected after")
    b.sendall(b"after\n")
    t.join(DEADLINE)
    if not have.endswith(b"after\n"):
        print(f"FAIL a got {len(have)} bytes and no marker", flush=True)
        sys.exit(1)
    print(f"ok {len(have) - 6}", flush=True)


if __name__ == "__main__":
    port = int(sys.argv[1])
    if sys.argv[2] == "slow":
        slow(port)
    else:
        fan_out(port, int(sys.argv[2]), int(sys.argv[3]))
