"""A client for socklab's auto-reply tests (--reply, --rules), over TCP or UDP.

Usage: reply_client.py tcp|udp PORT STEP [STEP...]

Talks to 127.0.0.1:PORT and runs each STEP in turn:

  send:HEX     send these bytes (over UDP: one datagram)
  expect:HEX   TCP: read exactly that many bytes; UDP: receive one datagram. Prints
               "got HEX" and exits 1 if it is not HEX.

Every read waits at most 60 s. Prints "done" at the end, after closing.
"""
import socket
import sys

kind, port = sys.argv[1], int(sys.argv[2])
if kind == "tcp":
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
else:
    conn = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    conn.settimeout(60)
    conn.connect(("127.0.0.1", port))


def receive(n):
    if kind == "udp":
        return conn.recv(65536)
    got = b""
    while len(got) < n:
        chunk = conn.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


for step in sys.argv[3:]:
    op, _, arg = step.partition(":")
    data = bytes.fromhex(arg)
    if op == "send":
        conn.send(data)
    elif op == "expect":
        got = receive(len(data))
        print("got " + got.hex(), flush=True)
        if got != data:
            print("wanted " + data.hex(), flush=True)
            sys.exit(1)
    else:
        sys.exit("unknown step " + step)
conn.close()
print("done", flush=True)
