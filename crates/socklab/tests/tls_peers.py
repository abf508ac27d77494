"""TLS peers for socklab's tests, written with python3's ssl module (OpenSSL underneath).

Usage: tls_peers.py MODE [ARGS...]

  server CERT KEY    listen on 127.0.0.1 at a free port, print "listening on
                     127.0.0.1:PORT" once ready, serve one client: read until it ends
                     the stream, then print "received N bytes sha256 HEX close_notify
                     yes|no" and close
  client PORT FILE   connect to 127.0.0.1:PORT without verifying the certificate, print
                     "peer sha256 AB:CD:..." (of the DER certificate), send FILE, send
                     close_notify, print "sent N bytes sha256 HEX", read until the server
                     closes, exit
  sha256 FILE        print "N bytes sha256 HEX"
"""
import hashlib
import socket
import ssl
import sys

CHUNK = 1 << 16


def colons(digest):
    return ":".join("%02X" % b for b in digest)


def file_digest(path):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return n, h.hexdigest()
            n += len(chunk)
            h.update(chunk)


def server(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    # A TCP close without close_notify raises instead of looking like a clean end.
    tls = ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
    h = hashlib.sha256()
    n = 0
    notify = "yes"
    while True:
        try:
            chunk = tls.recv(CHUNK)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as e:
            notify = "yes" if isinstance(e, ssl.SSLZeroReturnError) else "no"
            break
        if not chunk:
            break
        n += len(chunk)
        h.update(chunk)
    print("received %d bytes sha256 %s close_notify %s" % (n, h.hexdigest(), notify), flush=True)
    tls.close()


def client(port, path):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", int(port)))
    tls = ctx.wrap_socket(raw, server_hostname=None)
    der = tls.getpeercert(binary_form=True)
    print("peer sha256 %s" % colons(hashlib.sha256(der).digest()), flush=True)
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            tls.sendall(chunk)
            n += len(chunk)
            h.update(chunk)
    # close_notify, then wait for the server's: nothing is left unread when we close.
    try:
        raw = tls.unwrap()
    except (ssl.SSLError, OSError):
        pass
    print("sent %d bytes sha256 %s" % (n, h.hexdigest()), flush=True)
    raw.close()


mode = sys.argv[1]
if mode == "server":
    server(sys.argv[2], sys.argv[3])
elif mode == "client":
    client(sys.argv[2], sys.argv[3])
elif mode == "sha256":
    print("%d bytes sha256 %s" % file_digest(sys.argv[2]), flush=True)
else:
    sys.exit("unknown mode %r" % mode)
