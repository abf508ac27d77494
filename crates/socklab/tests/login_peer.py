"""A TCP server with a login handshake, for socklab's `connect --script` tests.

Usage: login_peer.py MODE

Listens on 127.0.0.1 (a free port) and prints "listening on 127.0.0.1:PORT" when ready.
Takes one client, greets it with "WELCOME socklab\\r\\n", reads one line, and then:

  good     answers "OK\\r\\n" to "LOGIN admin secret", "DENIED\\r\\n" to anything else,
           then echoes every line back as "echo: LINE\\r\\n" until the client closes
  silent   answers nothing and waits for the client to close
  close    closes the connection without answering

Prints "got LINE" for each line read and "done" after the client is gone. Every read
waits at most 60 s, so a test that goes wrong cannot hang on this peer.
"""
import socket
import sys

mode = sys.argv[1]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.settimeout(60)
reader = conn.makefile("rb")


def line():
    got = reader.readline()
    if got:
        print("got %s" % got.rstrip(b"\r\n").decode("utf-8", "replace"), flush=True)
    return got


conn.sendall(b"WELCOME socklab\r\n")
login = line()
if mode == "good":
    if login.rstrip(b"\r\n") == b"LOGIN admin secret":
        conn.sendall(b"OK\r\n")
    else:
        conn.sendall(b"DENIED\r\n")
    while True:
        got = line()
        if not got:
            break
        conn.sendall(b"echo: " + got.rstrip(b"\r\n") + b"\r\n")
elif mode == "silent":
    while line():
        pass
conn.close()
print("done", flush=True)
