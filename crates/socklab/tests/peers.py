"""Small real TCP peers for socklab's tests, written with python3's socket module.

Usage: peers.py MODE [ARGS...]. Each listens on 127.0.0.1 at a free port, prints
"listening on 127.0.0.1:PORT" once ready, serves one client, and exits.

  after-eof          read until the client half-closes, then reply "got N bytes\\n"
  probe-eof N        read N bytes, then say whether the client's side is still open
                     ("eof" or "open") after waiting up to 1s for end of stream
  dribble ENC TEXT   send TEXT encoded in ENC one byte per segment, then close
  record             print the hex of everything received until the client closes
  read-close N       read N bytes, print their hex, then close (the rest is never read)
  reset              accept and close at once with an RST (SO_LINGER 0)
  answer-close N     serve N clients in turn: read once, answer "thank you !", close at
                     once (the seed server's manners, as fast as python goes)
"""
import socket
import struct
import sys
import time

mode = sys.argv[1]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
if mode == "answer-close":
    for _ in range(int(sys.argv[2])):
        c, _ = srv.accept()
        c.recv(1024)
        c.sendall(b"thank you !")
        c.close()
    sys.exit(0)
conn, _ = srv.accept()


def read_exactly(want):
    """Up to `want` bytes: fewer only if the client closes first."""
    data = b""
    while len(data) < want:
        chunk = conn.recv(want - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_all():
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk


if mode == "after-eof":
    data = read_all()
    conn.sendall(b"got %d bytes\n" % len(data))
    conn.close()
elif mode == "probe-eof":
    data = read_exactly(int(sys.argv[2]))
    conn.settimeout(1.0)
    try:
        state = b"eof" if conn.recv(1) == b"" else b"more"
    except socket.timeout:
        state = b"open"
    conn.sendall(state + b"\n")
    conn.close()
elif mode == "dribble":
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in sys.argv[3].encode(sys.argv[2]):
        conn.sendall(bytes([b]))
        # Pacing, not synchronisation: it makes each byte its own segment and read.
        time.sleep(0.03)
    conn.close()
elif mode == "record":
    print(read_all().hex(), flush=True)
    conn.close()
elif mode == "read-close":
    print(read_exactly(int(sys.argv[2])).hex(), flush=True)
    conn.close()
elif mode == "reset":
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # Wait for the client's first bytes so it is mid-conversation when the reset comes.
    conn.recv(1)
    conn.close()
else:
    sys.exit("unknown mode " + mode)
