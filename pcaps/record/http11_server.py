#!/usr/bin/env python3
"""A tiny HTTP/1.1 keep-alive server for recording pcaps/http_keepalive.pcap.

    python3 http11_server.py DIR [PORT] [BIND]       (defaults: 9200 127.0.0.1)

Unlike `python3 -m http.server` (HTTP/1.0, one request per connection, and
send_error() always closes), every answer here carries Content-Length or
chunked framing and the connection stays open, so a real curl reusing one
connection exercises the sensor's HTTP/1.1 framing:

    GET/HEAD /<file>        200, the file from DIR, Content-Length
    GET /_chunked           200, Transfer-Encoding: chunked (3 chunks)
    GET /secure/<file>      401 unless "Authorization: Basic user:secret"
    POST /<anything>        200, JSON saying how many body bytes arrived
    anything else           404, small JSON body, connection kept open
"""

import base64
import http.server
import json
import os
import sys

EXPECTED_AUTH = "Basic " + base64.b64encode(b"user:secret").decode()


class KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sw-http11/1"
    root = "."

    def send_body(self, status, body, content_type="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        self.send_body(status, (json.dumps(obj) + "\n").encode(), extra=extra)

    def local_file(self):
        """The file under root that the path names, or None (no '..' escapes)."""
        path = self.path.split("?", 1)[0]
        if path.startswith("/secure/"):
            path = path[len("/secure"):]
        relative = os.path.normpath(path.lstrip("/"))
        if relative.startswith("..") or relative == ".":
            return None
        full = os.path.join(self.root, relative)
        return full if os.path.isfile(full) else None

    def do_GET(self):
        if self.path == "/_chunked":
            self.send_chunked()
            return
        if self.path.startswith("/secure/") and self.headers.get("Authorization") != EXPECTED_AUTH:
            self.send_json(401, {"error": "authentication required"},
                           extra=[("WWW-Authenticate", 'Basic realm="sw"')])
            return
        full = self.local_file()
        if full is None:
            self.send_json(404, {"error": "not found", "path": self.path})
            return
        with open(full, "rb") as f:
            body = f.read()
        kind = "application/json" if full.endswith(".json") else "text/html"
        self.send_body(200, body, kind)

    do_HEAD = do_GET

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length)
        self.send_json(200, {"took": 1, "received_bytes": len(received)})

    def send_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (b'{"hits":[', b'{"_id":"1"},{"_id":"2"}', b"]}\n"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: http11_server.py DIR [PORT] [BIND]")
    KeepAliveHandler.root = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 9200
    bind = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    server = http.server.ThreadingHTTPServer((bind, port), KeepAliveHandler)
    server.serve_forever()


if __name__ == "__main__":
    main()
