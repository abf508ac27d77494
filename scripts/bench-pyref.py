"""The issue's reference point: a small Python program that sends a file with sendfile(2)
and receives with 128 KiB reads, written to stdout like the other receivers.

  bench-pyref.py recv PORT          listen on 127.0.0.1:PORT, print "listening on" to
                                    stderr, copy one connection to stdout
  bench-pyref.py send PORT FILE     connect and sendfile FILE
"""
import os
import socket
import sys

mode, port = sys.argv[1], int(sys.argv[2])
if mode == "recv":
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    print("listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    conn, _ = srv.accept()
    buf = bytearray(128 * 1024)
    view = memoryview(buf)
    while True:
        n = conn.recv_into(buf)
        if not n:
            break
        done = 0
        while done < n:
            done += os.write(1, view[done:n])
else:
    conn = socket.create_connection(("127.0.0.1", port))
    with open(sys.argv[3], "rb") as f:
        size = os.fstat(f.fileno()).st_size
        offset = 0
        while offset < size:
            offset += os.sendfile(conn.fileno(), f.fileno(), offset, size - offset)
    conn.close()
