#!/usr/bin/env python3
"""A tiny HTTP/1.1 server for HTTPClientTests: custom statuses, slow answers, big bodies, TLS.

Usage: fake_server.py [--tls CERT KEY]. Listens on 127.0.0.1 on a free port and prints
"PORT <n>" on the first line of stdout once it accepts connections.

Paths:
  /echo               200, JSON {method, path, query, headers (names lowercased), body};
                      also sends X-MBX-USED-WEIGHT-1M: 12
  /status/<code>      that status; ?retry_after=N adds Retry-After: N
  /slow?seconds=S     answers after S seconds
  /bytes?n=N          N bytes of "x" with Content-Length; &chunked=1 without it (chunked)
  /gzip?n=N           N bytes of "x", gzip-compressed (Content-Encoding: gzip)
  /stall              announces a 100-byte body, then sends nothing for 30 seconds
  /redirect           302 to /echo
  /connection         200, body: the client's source port (same port = same connection)
"""
import gzip
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client can reuse its connection

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/echo":
            doc = {
                "method": self.command,
                "path": url.path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            self.answer(200, json.dumps(doc).encode(),
                        [("Content-Type", "application/json"), ("X-MBX-USED-WEIGHT-1M", "12")])
        elif url.path.startswith("/status/"):
            extra = [("Retry-After", query["retry_after"])] if "retry_after" in query else []
            self.answer(int(url.path.split("/")[2]), b'{"code":-1003,"msg":"Too many requests."}', extra)
        elif url.path == "/slow":
            time.sleep(float(query.get("seconds", "5")))
            self.answer(200, b"late")
        elif url.path == "/bytes":
            n = int(query["n"])
            if query.get("chunked") == "1":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 1024
                left = n
                while left > 0:
                    part = chunk[: min(left, len(chunk))]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    left -= len(part)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.answer(200, b"x" * n)
        elif url.path == "/gzip":
            self.answer(200, gzip.compress(b"x" * int(query["n"])), [("Content-Encoding", "gzip")])
        elif url.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(30)
        elif url.path == "/redirect":
            self.answer(302, b"", [("Location", "/echo")])
        elif url.path == "/connection":
            self.answer(200, str(self.client_address[1]).encode())
        else:
            self.answer(404, b"not found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gives up (a timeout, a refused body) closes mid-answer: not worth a trace.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
