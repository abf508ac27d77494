"""Peers for the relay tests, with python3's socket and ssl modules.

Usage: relay_peers.py MODE [ARGS...]

  sink ADDR             listen on ADDR (127.0.0.1:0 or unix:PATH), print "listening on X",
                        take one client, read to its end, print "N bytes sha256 HEX"
  source ADDR FILE      listen on ADDR, take one client, send FILE, close
  echo                  listen on 127.0.0.1:0, echo every client (threads), forever
  send PORT FILE [tls]  connect to 127.0.0.1:PORT (over TLS, unverified, with "tls"), send
                        FILE, half-close, read to the end, print "sent N"
  recv PORT [tls]       connect, read to the end, print "N bytes sha256 HEX"
  chat PORT NAME N      connect, N times send "NAME i\\n" and read the echo back, print
                        "NAME ok" (or fail)
  udp-echo              bind 127.0.0.1:0, print "listening on X", echo datagrams forever,
                        printing "got N" for each
  udp-send PORT N       send N datagrams of varying sizes to 127.0.0.1:PORT, one at a time,
                        each echoed back exactly; print "udp ok N"
  udp-blast PORT N      send N datagrams without waiting for answers; print "sent N"
"""
import hashlib
import socket
import ssl
import sys
import threading


def listen(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(addr[5:])
        shown = addr
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
        shown = "%s:%d" % s.getsockname()
    s.listen(16)
    print("listening on %s" % shown, flush=True)
    return s


def connect(port, tls):
    c = socket.create_connection(("127.0.0.1", port))
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = ctx.wrap_socket(c, server_hostname="localhost")
    return c


def digest_all(c):
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    return "%d bytes sha256 %s" % (n, h.hexdigest())


def datagram(i):
    """Datagram i: its number, then a size that varies from 1 to about 1400 bytes."""
    head = b"%d:" % i
    return head + bytes((i * 7 + k) % 256 for k in range((i * 37) % 1400))


mode = sys.argv[1]
if mode == "sink":
    srv = listen(sys.argv[2])
    c, _ = srv.accept()
    print(digest_all(c), flush=True)
elif mode == "source":
    srv = listen(sys.argv[2])
    c, _ = srv.accept()
    with open(sys.argv[3], "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
elif mode == "echo":
    srv = listen("127.0.0.1:0")

    def serve(c):
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
elif mode == "send":
    c = connect(int(sys.argv[2]), sys.argv[4:] == ["tls"])
    n = 0
    with open(sys.argv[3], "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            c.sendall(b)
            n += len(b)
    if isinstance(c, ssl.SSLSocket):
        c = c.unwrap()
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    print("sent %d" % n, flush=True)
elif mode == "recv":
    c = connect(int(sys.argv[2]), sys.argv[3:] == ["tls"])
    print(digest_all(c), flush=True)
elif mode == "chat":
    c = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    c.settimeout(30)
    name = sys.argv[3]
    for i in range(int(sys.argv[4])):
        line = ("%s %d\n" % (name, i)).encode()
        c.sendall(line)
        got = b""
        while len(got) < len(line):
            b = c.recv(len(line) - len(got))
            if not b:
                sys.exit("%s: closed early" % name)
            got += b
        if got != line:
            sys.exit("%s: sent %r, got back %r" % (name, line, got))
    c.close()
    print("%s ok" % name, flush=True)
elif mode == "udp-echo":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
    while True:
        d, a = s.recvfrom(65536)
        print("got %d" % len(d), flush=True)
        s.sendto(d, a)
elif mode == "udp-send":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(30)
    n = int(sys.argv[3])
    for i in range(n):
        d = datagram(i)
        s.sendto(d, ("127.0.0.1", int(sys.argv[2])))
        got, _ = s.recvfrom(65536)
        if got != d:
            sys.exit("datagram %d: sent %d bytes, got back %d different ones" % (i, len(d), len(got)))
    print("udp ok %d" % n, flush=True)
elif mode == "udp-blast":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = int(sys.argv[3])
    for i in range(n):
        s.sendto(datagram(i), ("127.0.0.1", int(sys.argv[2])))
    print("sent %d" % n, flush=True)
else:
    sys.exit("unknown mode " + mode)
