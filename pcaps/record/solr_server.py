#!/usr/bin/env python3
"""A small Solr-compatible test server (standard library only).

    python3 solr_server.py [--port 8983] [--bind 127.0.0.1] [--log FILE]

Written from Solr's documented JSON and XML response formats (the Solr
Reference Guide: "Response Writers", "Common Query Parameters",
"Pagination of Results", "CoreAdmin API", "Collections API", "Realtime Get",
"Indexing with Update Handlers") for recording the pcaps/solr_*.pcap
captures with real clients (Debian's python3-pysolr, curl). It is NOT Solr:
one node, all data in memory, a tiny query language (*:*, field:value).

Cores (deterministic data, nothing real):
    products    5000 fake products
    customers   1200 fake customers

Endpoints (under /solr):
    GET  /admin/info/system                 node facts (solr-spec-version 8.11.2)
    GET  /admin/cores?action=STATUS         every core's status
    GET  /admin/collections?action=LIST     the cores as collections; action=DELETE
    GET|POST /<core>/select                 q, rows (default 10), start, sort, fl,
                                            cursorMark (needs a sort on id), wt=json|xml|csv
                                            (form-encoded POST bodies read too)
    GET  /<core>/get?id=                    realtime get
    GET  /<core>/admin/ping
    POST /<core>/update[?commit=true]       JSON or XML: add documents, delete by id
                                            or query
    POST /<core>/config                     accepted (the Velocity probe target)
    GET|POST /<core>/dataimport             404 (no DataImportHandler configured)

HTTP/1.1 keep-alive, Content-Length framing. --log FILE appends one JSON
line per request: port, method, uri, status, and the documents the response
carried (items) and numFound (total): the ground truth for the facts.
"""

import argparse
import base64
import json
import threading
import urllib.parse
import xml.sax.saxutils as saxutils
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def make_products(n):
    cats = ["tools", "garden", "kitchen", "toys", "books"]
    return [{"id": "p%05d" % i, "name": "Product %d" % i, "category": cats[i % 5],
             "price": round((i * 37) % 1000 + 0.99, 2), "stock": (i * 13) % 200}
            for i in range(n)]


def make_customers(n):
    return [{"id": "c%05d" % i, "name": "Customer %d" % i, "city": "City %d" % (i % 40),
             "email": "user%d@example.com" % i} for i in range(n)]


CORES = {"products": make_products(5000), "customers": make_customers(1200)}


def cursor_encode(doc_id):
    return "AoE" + base64.b64encode(doc_id.encode()).decode().rstrip("=")


def cursor_decode(mark):
    s = mark[3:]
    return base64.b64decode(s + "=" * (-len(s) % 4)).decode()


def matches(doc, q):
    if q in ("*:*", "*", ""):
        return True
    if ":" in q:
        field, value = q.split(":", 1)
        return str(doc.get(field, "")) == value.strip('"')
    return any(q.lower() in str(v).lower() for v in doc.values())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Jetty(9.4.48.v20220622)"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def params(self, body=b""):
        url = urllib.parse.urlsplit(self.path)
        p = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "")
        if body and "x-www-form-urlencoded" in ctype:
            p.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        return url.path, p

    def reply(self, status, body, ctype, items=None, total=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        if self.server.log:
            entry = {"port": self.server.server_address[1], "method": self.command,
                     "uri": self.path, "status": status}
            if items is not None:
                entry["items"] = items
            if total is not None:
                entry["total"] = total
            with LOCK, open(self.server.log, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def header(self, params, qtime=1):
        return {"status": 0, "QTime": qtime, "params": params}

    def json_reply(self, obj, status=200, items=None, total=None):
        text = json.dumps(obj, indent=2) + "\n"
        self.reply(status, text, "application/json;charset=utf-8", items, total)

    def error(self, status, msg, params):
        cls = "org.apache.solr.common.SolrException"
        self.json_reply({"responseHeader": {"status": status, "QTime": 0, "params": params},
                         "error": {"metadata": ["error-class", cls, "root-error-class", cls],
                                   "msg": msg, "code": status}}, status)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.route(self.body())

    def do_POST(self):
        self.route(self.body())

    def do_HEAD(self):
        self.route(b"")

    def route(self, body):
        path, p = self.params(body)
        parts = [x for x in path.split("/") if x]
        if parts[:1] == ["solr"]:
            parts = parts[1:]
        if parts[:3] == ["admin", "info", "system"]:
            return self.json_reply({"responseHeader": self.header(p), "mode": "std",
                                    "solr_home": "/var/solr/data",
                                    "lucene": {"solr-spec-version": "8.11.2",
                                               "lucene-spec-version": "8.11.2"},
                                    "jvm": {"version": "11.0.16"}})
        if parts[:2] == ["admin", "cores"]:
            return self.cores(p)
        if parts[:2] == ["admin", "collections"]:
            return self.collections(p)
        if len(parts) >= 2 and parts[0] in CORES:
            core, handler = parts[0], "/".join(parts[1:])
            if handler in ("select", "query"):
                return self.select(core, p)
            if handler == "get":
                doc = next((d for d in CORES[core] if d["id"] == p.get("id")), None)
                return self.json_reply({"doc": doc}, items=1 if doc else 0)
            if handler == "admin/ping":
                return self.json_reply({"responseHeader": self.header(p), "status": "OK"})
            if handler.startswith("update"):
                return self.update(core, p, body)
            if handler == "config":
                return self.json_reply({"responseHeader": self.header(p)})
        return self.error(404, "Not Found: " + path, p)

    def cores(self, p):
        action = p.get("action", "STATUS").upper()
        if action != "STATUS":
            return self.error(400, "Unsupported operation: " + action, p)
        status = {name: {"name": name, "instanceDir": "/var/solr/data/" + name,
                         "index": {"numDocs": len(docs), "maxDoc": len(docs)}}
                  for name, docs in CORES.items()}
        if p.get("wt") == "xml":
            return self.xml_admin(p, '<lst name="initFailures"/>\n<lst name="status">\n%s</lst>\n' % "".join(
                '  <lst name="%s">\n    <str name="name">%s</str>\n    <str name="instanceDir">%s</str>\n'
                '    <lst name="index">\n      <int name="numDocs">%d</int>\n      <int name="maxDoc">%d</int>\n'
                '    </lst>\n  </lst>\n' % (n, n, s["instanceDir"], s["index"]["numDocs"], s["index"]["maxDoc"])
                for n, s in status.items()), len(status))
        self.json_reply({"responseHeader": self.header(p), "initFailures": {},
                         "status": status}, items=len(status))

    def collections(self, p):
        action = p.get("action", "LIST").upper()
        if action == "LIST" and p.get("wt") == "xml":
            return self.xml_admin(p, '<arr name="collections">\n%s</arr>\n' % "".join(
                "  <str>%s</str>\n" % n for n in sorted(CORES)), len(CORES))
        if action == "LIST":
            return self.json_reply({"responseHeader": self.header(p),
                                    "collections": sorted(CORES)}, items=len(CORES))
        if action == "DELETE" and p.get("name") in CORES:
            with LOCK:
                del CORES[p["name"]]
            return self.json_reply({"responseHeader": self.header(p), "success": {}})
        return self.error(400, "Unsupported action: " + action, p)

    def select(self, core, p):
        docs = [d for d in CORES[core] if matches(d, p.get("q", "*:*"))]
        rows = int(p.get("rows", 10))
        start = int(p.get("start", 0))
        mark = p.get("cursorMark")
        next_mark = None
        if mark is not None:
            if "id" not in p.get("sort", ""):
                return self.error(400, "Cursor functionality requires a sort containing "
                                       "a uniqueKey field tie breaker", p)
            docs.sort(key=lambda d: d["id"])
            after = None if mark == "*" else cursor_decode(mark)
            page = [d for d in docs if after is None or d["id"] > after][:rows]
            next_mark = cursor_encode(page[-1]["id"]) if page else mark
        else:
            page = docs[start:start + rows]
        fl = p.get("fl")
        if fl and fl != "*":
            keep = [f.strip() for f in fl.split(",")]
            page = [{k: v for k, v in d.items() if k in keep} for d in page]
        wt = p.get("wt", "json")
        if wt == "xml":
            return self.reply(200, self.xml(p, docs, start, page, next_mark),
                              "application/xml; charset=UTF-8", len(page), len(docs))
        if wt == "csv":
            fields = list(page[0]) if page else ["id"]
            lines = [",".join(fields)] + [",".join(str(d.get(f, "")) for f in fields) for d in page]
            return self.reply(200, "\n".join(lines) + "\n", "text/plain;charset=utf-8",
                              len(page), len(docs))
        out = {"responseHeader": self.header(p),
               "response": {"numFound": len(docs), "start": start, "numFoundExact": True,
                            "docs": page}}
        if next_mark is not None:
            out["nextCursorMark"] = next_mark
        self.json_reply(out, items=len(page), total=len(docs))

    def xml_admin(self, p, inner, items):
        """An admin answer in Solr's XML response writer format."""
        esc = saxutils.escape
        head = ['<?xml version="1.0" encoding="UTF-8"?>\n<response>\n\n<lst name="responseHeader">\n'
                '  <int name="status">0</int>\n  <int name="QTime">1</int>\n  <lst name="params">\n']
        head += ['    <str name="%s">%s</str>\n' % (esc(k), esc(v)) for k, v in p.items()]
        head.append("  </lst>\n</lst>\n")
        self.reply(200, "".join(head) + inner + "</response>\n", "application/xml; charset=UTF-8", items)

    def xml(self, p, docs, start, page, next_mark):
        esc = saxutils.escape
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<response>\n\n<lst name="responseHeader">\n'
               '  <int name="status">0</int>\n  <int name="QTime">1</int>\n  <lst name="params">\n']
        for k, v in p.items():
            out.append('    <str name="%s">%s</str>\n' % (esc(k), esc(v)))
        out.append('  </lst>\n</lst>\n<result name="response" numFound="%d" start="%d" '
                   'numFoundExact="true">\n' % (len(docs), start))
        for d in page:
            out.append("  <doc>\n")
            for k, v in d.items():
                tag = "float" if isinstance(v, float) else "int" if isinstance(v, int) else "str"
                out.append('    <%s name="%s">%s</%s>\n' % (tag, esc(k), esc(str(v)), tag))
            out.append("  </doc>\n")
        out.append("</result>\n")
        if next_mark is not None:
            out.append('<str name="nextCursorMark">%s</str>\n' % esc(next_mark))
        out.append("</response>\n")
        return "".join(out)

    def update(self, core, p, body):
        ctype = self.headers.get("Content-Type", "")
        deleted = 0
        with LOCK:
            docs = CORES[core]
            if "json" in ctype:
                cmd = json.loads(body or b"{}")
                if isinstance(cmd, list):
                    docs.extend(cmd)
                elif "delete" in cmd:
                    d = cmd["delete"]
                    q = d.get("query") if isinstance(d, dict) else None
                    before = len(docs)
                    docs[:] = [x for x in docs if not (matches(x, q) if q else x["id"] == d)]
                    deleted = before - len(docs)
            elif b"<delete>" in body:
                text = body.decode()
                q = text.split("<query>")[1].split("</query>")[0] if "<query>" in text else None
                before = len(docs)
                docs[:] = [x for x in docs if not matches(x, q or "")] if q else docs
                deleted = before - len(docs)
        self.json_reply({"responseHeader": {"status": 0, "QTime": 2}}, items=deleted)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8983)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--log")
    a = ap.parse_args()
    srv = ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.log = a.log
    srv.serve_forever()


if __name__ == "__main__":
    main()
