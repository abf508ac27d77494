"""An HTTP/1.1 server for `socklab trace` tests, on python3's http.server.

Usage: http_peer.py [--tls CERT KEY]

Listens on 127.0.0.1 at a free port and prints "listening on 127.0.0.1:PORT" once ready
(with --tls: HTTPS with that certificate). Routes, for any method:

  /echo             200, a JSON body: method, path, the request headers as received
                    ([name, value] in order and case) and the request body as text
  /status/N         status N, a small text body
  /chain/N          N > 0: 302 to the relative "/chain/N-1"; 0: 200 "end of chain"
  /abs/N            N > 0: 301 to the absolute "http://HOST/abs/N-1" (HOST as the client
                    sent it); 0: 200 "end of chain"
  /to?url=U&code=C  redirect with status C (default 302) to U, as given
  /loop             302 to /loop, for ever
  /stall-head?s=S   read the request, then say nothing for S seconds
  /stall-body?s=S   headers with Content-Length 100, 10 bytes, then nothing for S seconds
  /bytes/N          200 with N bytes of 'x' (Content-Length)
  /chunked/N        200 with N bytes of 'y' in chunks of at most 1000
"""
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "http_peer/1"

    def log_message(self, fmt, *args):
        pass

    def send_text(self, code, text, headers=()):
        body = text.encode()
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, code, location):
        self.send_text(code, "moved to %s\n" % location, [("Location", location)])

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        body = self.read_body()
        route = parts[0]
        if route == "echo":
            doc = {
                "method": self.command,
                "path": self.path,
                "version": self.request_version,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
            }
            out = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.send_header("X-Echo-Case", "kept")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out)
        elif route == "status":
            self.send_text(int(parts[1]), "status %s\n" % parts[1])
        elif route == "chain":
            n = int(parts[1])
            if n > 0:
                self.redirect(302, "/chain/%d" % (n - 1))
            else:
                self.send_text(200, "end of chain\n")
        elif route == "abs":
            n = int(parts[1])
            if n > 0:
                host = self.headers.get("Host")
                self.redirect(301, "http://%s/abs/%d" % (host, n - 1))
            else:
                self.send_text(200, "end of chain\n")
        elif route == "to":
            self.redirect(int(query.get("code", ["302"])[0]), query["url"][0])
        elif route == "loop":
            self.redirect(302, "/loop")
        elif route == "stall-head":
            time.sleep(float(query.get("s", ["30"])[0]))
            self.send_text(200, "too late\n")
        elif route == "stall-body":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            time.sleep(float(query.get("s", ["30"])[0]))
            self.close_connection = True
        elif route == "bytes":
            n = int(parts[1])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            self.wfile.write(b"x" * n)
        elif route == "chunked":
            n = int(parts[1])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while n > 0:
                k = min(n, 1000)
                self.wfile.write(b"%x\r\n%s\r\n" % (k, b"y" * k))
                n -= k
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_text(404, "no route %s\n" % url.path)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

    def __getattr__(self, name):
        # Any other method (PROPFIND, PURGE ...) is served like the rest.
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (a trace that timed out, or refused the certificate) is
        # what several tests do on purpose; anything else is worth a traceback.
        err = sys.exc_info()[1]
        if isinstance(err, (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        ctx.set_alpn_protocols(["http/1.1"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
