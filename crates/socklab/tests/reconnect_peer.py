"""A TCP server that drops its first client, for socklab's `connect --reconnect` tests.

Usage: reconnect_peer.py

Listens on 127.0.0.1 (a free port) and prints "listening on 127.0.0.1:PORT" when ready.
The first client: reads one line, prints "first got LINE", closes. The second: reads one
line, prints "second got LINE", answers "echo: LINE\\n", then waits for the client to close
and prints "done". Every read waits at most 60 s.
"""
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)

for which in ("first", "second"):
    conn, _ = srv.accept()
    conn.settimeout(60)
    reader = conn.makefile("rb")
    line = reader.readline().rstrip(b"\n")
    print("%s got %s" % (which, line.decode("utf-8", "replace")), flush=True)
    if which == "second":
        conn.sendall(b"echo: " + line + b"\n")
        while reader.read(4096):
            pass
    reader.close()
    conn.close()
print("done", flush=True)
