#!/usr/bin/env python3
"""A small single-node Elasticsearch-compatible test server (standard library only).

    python3 es_server.py [--port 9200] [--bind 127.0.0.1] [--opensearch]
                         [--kibana PORT] [--log FILE] [--seed N]

Written from the documented Elasticsearch REST API response shapes, for recording
the pcaps/es_*.pcap captures with real clients (elasticdump, the official node and
python clients, curl). It is NOT Elasticsearch: one node, one shard per index, all
data in memory, a tiny query language. It answers like an unsecured 8.11 node:

  - every response carries `X-elastic-product: Elasticsearch` and the
    `Warning: 299 Elasticsearch-8.11.0-... "Elasticsearch built-in security features
    are not enabled..."` header (not in --opensearch mode: OpenSearch sends neither);
  - HTTP/1.1 keep-alive, every body framed by Content-Length; the response is
    gzip-compressed when the request accepts gzip and the body exceeds 1 KB;
    gzip-encoded request bodies (Content-Encoding: gzip) are decoded.

Data (deterministic, generated from a seeded PRNG; nothing real):
    tickets     6000 fake support tickets (~150-byte documents), alias "support"
    logs-2024   1500 fake log lines
    secure        25 fake user records; every path under /secure/ answers 401
                  (security_exception, WWW-Authenticate) unless HTTP Basic
                  credentials elastic:changeme are given

Endpoints (index = name, alias, comma list, wildcard, _all, *):
    GET|HEAD /                         banner (tagline "You Know, for Search")
    GET|POST [/index]/_search          size/from (max_result_window 10000), q=, body
                                       query (match_all, match, term, ids), sort
                                       (_doc, _shard_doc, fields), search_after,
                                       scroll=, pit (body), track_total_hits,
                                       rest_total_hits_as_int, filter_path
    GET|POST /_search/scroll           scroll_id in body, query or path
    DELETE   /_search/scroll           clear (body scroll_id string/list/_all)
    POST     /index/_pit?keep_alive=   open a point in time; DELETE /_pit closes
    (--opensearch: POST /index/_search/point_in_time, DELETE /_search/point_in_time)
    GET|POST [/index]/_count
    GET /_cat/indices[/index]          v, h, s, bytes, format=json, help
    GET /_cat/health, /_cat/count, /_cat/aliases
    GET [/index]/_mapping, [/index]/_settings, /_aliases, [/index]/_alias
    GET /_cluster/health, /_nodes, /_cluster/stats (small)
    GET|HEAD|PUT|POST|DELETE /index/_doc/id, POST /index/_doc
    GET|POST [/index]/_mget
    POST|PUT [/index]/_bulk            index/create/update/delete, items counted
    GET|HEAD|PUT|DELETE /index         index info / exists / create / delete
    POST [/index]/_refresh

--kibana PORT starts a second listener that answers Kibana's console proxy,
    POST /api/console/proxy?path=<encoded path>&method=<GET|POST|...>
with the inner Elasticsearch answer (same data), requiring the kbn-xsrf header.
--log FILE appends one JSON line per request: port, method, uri, status and the
number of documents the response carried (ground truth for the capture facts).
"""

import argparse
import base64
import fnmatch
import gzip
import hashlib
import http.server
import json
import os
import random
import re
import socketserver
import sys
import threading
import time
import urllib.parse

ES_VERSION = "8.11.0"
OS_VERSION = "2.11.0"
BUILD_HASH = hashlib.sha1(b"scrapewatch es_server test build").hexdigest()
MAX_RESULT_WINDOW = 10000
GZIP_MIN = 1024
AUTH_USER, AUTH_PASS = "elastic", "changeme"
SECURITY_WARNING = (
    '299 Elasticsearch-%s-%s "Elasticsearch built-in security features are not '
    "enabled. Without authentication, your cluster could be accessible to anyone. "
    "See https://www.elastic.co/guide/en/elasticsearch/reference/8.11/"
    'security-minimal-setup.html to enable security."' % (ES_VERSION, BUILD_HASH))


def dumps(obj, pretty=False):
    if pretty:
        return (json.dumps(obj, indent=2) + "\n").encode()
    return json.dumps(obj, separators=(",", ":")).encode()


class EsError(Exception):
    """An error answered in Elasticsearch's shape: {"error":{...},"status":N}."""

    def __init__(self, status, etype, reason, extra=None, root=None, headers=()):
        super().__init__(reason)
        self.status = status
        cause = {"type": etype, "reason": reason}
        cause.update(extra or {})
        err = dict(cause)
        err["root_cause"] = [dict(root or cause)]
        # root_cause comes first in Elasticsearch's output
        self.body = {"error": {"root_cause": err.pop("root_cause"), **err}, "status": status}
        self.headers = list(headers)


class NoHandler(Exception):
    """No REST handler for this path and method: Elasticsearch answers 400 with a
    plain-string "error"."""


class MethodNotAllowed(Exception):
    """A handler exists for the path but not for the method: 405, Allow header."""

    def __init__(self, path, method, allowed):
        super().__init__(path)
        self.path, self.method, self.allowed = path, method, allowed


def index_not_found(name):
    return EsError(404, "index_not_found_exception", "no such index [%s]" % name,
                   {"resource.type": "index_or_alias", "resource.id": name,
                    "index_uuid": "_na_", "index": name})


def shard_failure(status, etype, reason, index, node_id):
    inner = {"type": etype, "reason": reason}
    return EsError(status, "search_phase_execution_exception", "all shards failed",
                   {"phase": "query", "grouped": True,
                    "failed_shards": [{"shard": 0 if index else -1, "index": index,
                                       "node": node_id, "reason": inner}],
                    "caused_by": inner}, root=inner)


# ----------------------------------------------------------------- data

SUBJECTS = ["printer offline", "cannot log in", "refund request", "password reset",
            "invoice missing", "slow laptop", "vpn drops", "license expired",
            "mailbox full", "screen flicker", "update failed", "account locked"]
PRODUCTS = ["office", "windows", "xbox", "azure", "teams", "outlook", "surface"]
LEVELS = ["INFO"] * 6 + ["WARN"] * 2 + ["ERROR"]
SERVICES = ["api", "auth", "billing", "search", "web"]
PATHS = ["/v1/items", "/v1/login", "/v1/cart", "/v1/orders", "/health"]


def make_tickets(rng, n):
    docs = []
    for i in range(1, n + 1):
        cust = rng.randrange(100000)
        docs.append((str(i), {
            "ticket": "T%06d" % i,
            "customer": "c%05d" % cust,
            "product": rng.choice(PRODUCTS),
            "status": rng.choice(["open", "closed", "pending"]),
            "prio": rng.randrange(1, 5),
            "created": "2019-12-%02dT%02d:%02d:%02dZ" % (
                rng.randrange(1, 29), rng.randrange(24), rng.randrange(60), rng.randrange(60)),
            "subject": rng.choice(SUBJECTS),
        }))
    return docs


def make_logs(rng, n):
    docs = []
    for i in range(1, n + 1):
        docs.append(("log-%05d" % i, {
            "@timestamp": "2024-01-%02dT%02d:%02d:%02d.%03dZ" % (
                rng.randrange(1, 32), rng.randrange(24), rng.randrange(60),
                rng.randrange(60), rng.randrange(1000)),
            "level": rng.choice(LEVELS),
            "service": rng.choice(SERVICES),
            "msg": "GET %s %d" % (rng.choice(PATHS), rng.choice([200, 200, 200, 404, 500])),
            "ms": rng.randrange(1, 900),
        }))
    return docs


def make_users(rng, n):
    return [(str(i), {"user": "u%03d" % i, "role": rng.choice(["admin", "reader", "ops"]),
                      "mail": "u%03d@example.test" % i}) for i in range(1, n + 1)]


def field_type(value):
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "float"}
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value):
        return {"type": "date"}
    return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


def rand_b64(rng, nbytes, urlsafe=True):
    raw = bytes(rng.randrange(256) for _ in range(nbytes))
    enc = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    return enc.decode().rstrip("=")


class Index:
    def __init__(self, name, docs, rng, created_ms):
        self.name = name
        self.docs = {}                    # id -> source (insertion order = doc order)
        self.seq = 0
        self.uuid = rand_b64(rng, 16)[:22]
        self.created = created_ms
        self.mapping = {}
        for doc_id, src in docs:
            self.put(doc_id, src)

    def put(self, doc_id, src):
        created = doc_id not in self.docs
        self.docs[doc_id] = src
        self.seq += 1
        for k, v in src.items():
            self.mapping.setdefault(k, field_type(v))
        return created

    def store_bytes(self):
        return sum(len(dumps(s)) for s in self.docs.values()) * 11 // 10 + 8000


# ----------------------------------------------------------------- the node

class Response:
    def __init__(self, status, body=b"", ctype="application/json", headers=()):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers)
        self.items = None   # documents carried, for the request log
        self.total = None


def parse_keepalive(value, default=300.0):
    m = re.match(r"^(\d+)(ms|s|m|h|d)?$", str(value or ""))
    if not m:
        return default
    mult = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}[m.group(2)]
    return int(m.group(1)) * mult


def truthy(v):
    return v is not None and str(v).lower() not in ("false", "0", "no", "off")


class EsNode:
    def __init__(self, opensearch=False, seed=1, extra=()):
        self.opensearch = opensearch
        self.lock = threading.RLock()
        rng = random.Random(seed + (1000 if opensearch else 0))
        self.rng = rng
        self.node_id = rand_b64(rng, 16)[:22]
        self.cluster_uuid = rand_b64(rng, 16)[:22]
        self.node_name = "os-node-1" if opensearch else "es-node-1"
        self.cluster_name = "sw-opensearch" if opensearch else "sw-es-test"
        base = 1704067200000  # 2024-01-01T00:00:00Z
        self.indices = {
            "tickets": Index("tickets", make_tickets(random.Random(seed * 100 + 1), 6000), rng, base),
            "logs-2024": Index("logs-2024", make_logs(random.Random(seed * 100 + 2), 1500), rng, base + 1000),
            "secure": Index("secure", make_users(random.Random(seed * 100 + 3), 25), rng, base + 2000),
        }
        # --extra-index NAME=COUNT: more ticket-shaped indices (the whole-dataset
        # scenarios need one of a size no absolute threshold reaches)
        for i, (name, count) in enumerate(extra):
            self.indices[name] = Index(name, make_tickets(random.Random(seed * 100 + 10 + i), count),
                                       rng, base + 3000 + 1000 * i)
        self.aliases = {"support": ["tickets"]}
        self.scrolls = {}   # id -> dict(hits, pos, size, expires, total)
        self.pits = {}      # id -> dict(snapshot, expires)
        self.id_rng = random.Random(seed * 7919)

    # ---------------- ids

    def _ctx_id(self, kind, n_bytes):
        """Opaque base64 ids built like the real ones: a small binary header
        naming the context type, the node and a random context id."""
        with self.lock:
            rnd = bytes(self.id_rng.randrange(256) for _ in range(n_bytes))
        label = kind.encode()
        node = self.node_id.encode()
        blob = (bytes([len(b"include_context_uuid")]) + b"include_context_uuid" +
                bytes([len(label)]) + label + b"\x01" +
                bytes([len(node)]) + node + rnd)
        return base64.b64encode(blob).decode()

    # ---------------- index resolution

    def resolve(self, expr, allow_missing=False):
        """Index expression -> list of concrete index names (ordered)."""
        names = []
        for part in (expr or "_all").split(","):
            part = part.strip()
            if not part:
                continue
            if part in ("_all", "*"):
                names += [n for n in self.indices]
            elif "*" in part or "?" in part:
                names += [n for n in self.indices if fnmatch.fnmatchcase(n, part)]
                for alias, targets in self.aliases.items():
                    if fnmatch.fnmatchcase(alias, part):
                        names += [t for t in targets if t in self.indices]
            elif part in self.indices:
                names.append(part)
            elif part in self.aliases:
                names += [t for t in self.aliases[part] if t in self.indices]
            elif not allow_missing:
                raise index_not_found(part)
        out = []
        for n in names:
            if n not in out:
                out.append(n)
        return out

    # ---------------- entry point

    def handle(self, method, raw_uri, headers, body, authorized):
        """Answer one request: returns a Response."""
        parsed = urllib.parse.urlsplit(raw_uri)
        path = urllib.parse.unquote(parsed.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        parts = [p for p in path.split("/") if p]
        extra = []
        if not self.opensearch:
            extra.append(("X-elastic-product", "Elasticsearch"))
        try:
            if parts and parts[0] == "secure" and not authorized[0]:
                return self._unauthorized(path, authorized[1])
            if not (parts and parts[0] == "secure"):
                if not self.opensearch:
                    extra.append(("Warning", SECURITY_WARNING))
            jbody = None
            if body:
                ctype = headers.get("content-type", "")
                if "ndjson" not in ctype and not path.rstrip("/").endswith("_bulk"):
                    try:
                        jbody = json.loads(body.decode("utf-8"))
                    except (ValueError, UnicodeDecodeError):
                        # real ES: a body that is not JSON, e.g. a raw scroll id
                        jbody = body.decode("utf-8", "replace").strip()
            resp = self.route(method, parts, query, headers, body, jbody)
        except EsError as e:
            resp = Response(e.status, dumps(e.body), headers=e.headers)
        except MethodNotAllowed as e:
            resp = Response(405, dumps({"error": "Incorrect HTTP method for uri [%s] and method [%s], "
                                        "allowed: [%s]" % (e.path, e.method, e.allowed), "status": 405}),
                            headers=[("Allow", e.allowed.replace(" ", ""))])
        except NoHandler:
            resp = Response(400, dumps({"error": "no handler found for uri [%s] and method [%s]"
                                        % (path, method), "status": 400}))
        resp.headers = extra + resp.headers
        if resp.ctype == "application/json":
            accept = headers.get("accept", "")
            if "application/vnd.elasticsearch+json" in accept and not self.opensearch:
                m = re.search(r"compatible-with=(\d+)", accept)
                resp.ctype = "application/vnd.elasticsearch+json;compatible-with=%s" % (
                    m.group(1) if m else "8")
            elif not self.opensearch:
                resp.ctype = "application/json"
            else:
                resp.ctype = "application/json; charset=UTF-8"
        return resp

    def _unauthorized(self, path, had_credentials):
        challenge = 'Basic realm="security" charset="UTF-8"'
        if had_credentials:
            reason = "unable to authenticate user [%s] for REST request [%s]" % (had_credentials, path)
        else:
            reason = "missing authentication credentials for REST request [%s]" % path
        raise EsError(401, "security_exception", reason,
                      {"header": {"WWW-Authenticate": [challenge, "ApiKey"]}},
                      headers=[("WWW-Authenticate", challenge), ("WWW-Authenticate", "ApiKey")])

    def json(self, obj, query, status=200):
        if "filter_path" in query:
            obj = filter_path(obj, query["filter_path"])
            if obj is None:
                obj = {}
        return Response(status, dumps(obj, pretty=truthy(query.get("pretty"))))

    # ---------------- routing

    def route(self, method, parts, query, headers, raw, body):
        n = len(parts)
        first = parts[0] if parts else ""
        if n == 0:
            if method in ("GET", "HEAD"):
                return self.banner(query, method)
            raise self.bad_method("/", method, "GET, HEAD")
        # cluster-level endpoints
        if first == "_search" and n == 1:
            return self.search(None, method, query, body)
        if first == "_search" and n >= 2 and parts[1] == "scroll":
            sid = parts[2] if n > 2 else None
            if method == "DELETE":
                return self.clear_scroll(query, body, sid)
            return self.scroll(query, body, sid)
        if first == "_search" and n == 2 and parts[1] == "point_in_time" and self.opensearch:
            if method == "DELETE":
                return self.os_close_pit(query, body)
        if first == "_pit" and n == 1 and method == "DELETE" and not self.opensearch:
            return self.close_pit(query, body)
        if first == "_count" and n == 1:
            return self.count(None, query, body)
        if first == "_cat":
            return self.cat(parts[1:], query, headers)
        if first == "_mapping" and n == 1:
            return self.mapping(None, query)
        if first == "_settings" and n == 1:
            return self.settings(None, query)
        if first in ("_aliases", "_alias") and n == 1:
            return self.get_aliases(None, query)
        if first == "_cluster" and n >= 2 and parts[1] == "health":
            return self.cluster_health(query)
        if first == "_cluster" and n >= 2 and parts[1] == "stats":
            return self.cluster_stats(query)
        if first == "_nodes":
            return self.nodes(query)
        if first == "_mget" and n == 1:
            return self.mget(None, query, body)
        if first == "_bulk" and n == 1:
            return self.bulk(None, query, raw)
        if first == "_msearch" and n == 1:
            return self.msearch(None, query, raw)
        if first == "_refresh" and n == 1:
            return self.json({"_shards": {"total": 6, "successful": 3, "failed": 0}}, query)
        if first.startswith("_"):
            raise NoHandler()
        # index-level endpoints
        index = first
        if n == 1:
            return self.index_op(index, method, query, body)
        sub = parts[1]
        if sub == "_search" and n == 2:
            return self.search(index, method, query, body)
        if sub == "_search" and n == 3 and parts[2] == "point_in_time" and self.opensearch:
            return self.open_pit(index, query)
        if sub == "_pit" and n == 2 and not self.opensearch:
            if method != "POST":
                # closing is DELETE /_pit: there is no DELETE /<index>/_pit
                raise self.bad_method("/%s/_pit" % index, method, "POST")
            return self.open_pit(index, query)
        if sub == "_count" and n == 2:
            return self.count(index, query, body)
        if sub == "_mapping" and n == 2:
            return self.mapping(index, query)
        if sub == "_settings" and n == 2:
            return self.settings(index, query)
        if sub in ("_alias", "_aliases") and n == 2:
            return self.get_aliases(index, query)
        if sub == "_mget" and n == 2:
            return self.mget(index, query, body)
        if sub == "_bulk" and n == 2:
            return self.bulk(index, query, raw)
        if sub == "_refresh" and n == 2:
            self.resolve(index)
            return self.json({"_shards": {"total": 2, "successful": 1, "failed": 0}}, query)
        if sub in ("_doc", "_create") and n == 3:
            return self.doc_op(index, parts[2], method, query, body)
        if sub == "_doc" and n == 2 and method == "POST":
            return self.doc_op(index, None, method, query, body)
        raise NoHandler()

    def bad_method(self, path, method, allowed):
        return MethodNotAllowed(path, method, allowed)

    # ---------------- banner

    def banner(self, query, method):
        if self.opensearch:
            version = {
                "distribution": "opensearch", "number": OS_VERSION, "build_type": "tar",
                "build_hash": BUILD_HASH, "build_date": "2023-10-13T02:55:55.511945994Z",
                "build_snapshot": False, "lucene_version": "9.7.0",
                "minimum_wire_compatibility_version": "7.10.0",
                "minimum_index_compatibility_version": "7.0.0"}
            tagline = "The OpenSearch Project: https://opensearch.org/"
        else:
            version = {
                "number": ES_VERSION, "build_flavor": "default", "build_type": "tar",
                "build_hash": BUILD_HASH, "build_date": "2023-11-04T10:04:57.184859352Z",
                "build_snapshot": False, "lucene_version": "9.8.0",
                "minimum_wire_compatibility_version": "7.17.0",
                "minimum_index_compatibility_version": "7.0.0"}
            tagline = "You Know, for Search"
        resp = self.json({"name": self.node_name, "cluster_name": self.cluster_name,
                          "cluster_uuid": self.cluster_uuid, "version": version,
                          "tagline": tagline}, query)
        if method == "HEAD":
            resp.body = b""
        return resp

    # ---------------- search

    def _docs(self, names):
        out = []
        for shard, name in enumerate(names):
            idx = self.indices.get(name)
            if idx is None:
                continue
            for pos, (doc_id, src) in enumerate(idx.docs.items()):
                out.append((name, doc_id, src, shard, pos))
        return out

    def _match(self, src, doc_id, q):
        """Tiny query language: match_all, match, term, ids, bool.must/filter,
        query_string *:* / field:value. Unknown queries match everything."""
        if not q or not isinstance(q, dict):
            return True
        for kind, spec in q.items():
            if kind == "match_all":
                continue
            if kind == "match_none":
                return False
            if kind in ("match", "term", "match_phrase") and isinstance(spec, dict):
                for field, val in spec.items():
                    if isinstance(val, dict):
                        val = val.get("query", val.get("value"))
                    field = field[:-8] if field.endswith(".keyword") else field
                    have = src.get(field)
                    if have is None or str(have).lower() != str(val).lower():
                        return False
            elif kind == "ids" and isinstance(spec, dict):
                if doc_id not in spec.get("values", []):
                    return False
            elif kind == "bool" and isinstance(spec, dict):
                for clause in ("must", "filter"):
                    subs = spec.get(clause, [])
                    subs = subs if isinstance(subs, list) else [subs]
                    if not all(self._match(src, doc_id, s) for s in subs):
                        return False
                nots = spec.get("must_not", [])
                nots = nots if isinstance(nots, list) else [nots]
                if any(self._match(src, doc_id, s) for s in nots):
                    return False
            elif kind == "query_string" and isinstance(spec, dict):
                if not self._match_q(src, spec.get("query", "*")):
                    return False
        return True

    @staticmethod
    def _match_q(src, q):
        q = (q or "").strip()
        if q in ("", "*", "*:*"):
            return True
        if ":" in q:
            field, val = q.split(":", 1)
            val = val.strip('"')
            if val == "*":
                return field in src
            return str(src.get(field, "")).lower() == val.lower()
        return any(q.lower() in str(v).lower() for v in src.values())

    @staticmethod
    def _parse_sort(sort):
        """-> list of (field, desc)."""
        if sort is None:
            return []
        if isinstance(sort, str):
            sort = [s for s in sort.split(",") if s]
        if not isinstance(sort, list):
            sort = [sort]
        out = []
        for s in sort:
            if isinstance(s, str):
                field, _, order = s.partition(":")
                desc = order == "desc" or (not order and field == "_score")
                out.append((field, desc))
            elif isinstance(s, dict):
                for field, spec in s.items():
                    order = spec.get("order") if isinstance(spec, dict) else spec
                    out.append((field, order == "desc" or (order is None and field == "_score")))
        return out

    def _sort_value(self, field, d):
        name, doc_id, src, shard, pos = d
        if field == "_doc":
            return pos
        if field == "_shard_doc":
            return (shard << 32) | pos
        if field == "_score":
            return 1.0
        if field == "_id":
            return doc_id
        field = field[:-8] if field.endswith(".keyword") else field
        return src.get(field)

    def _sorted(self, docs, sort):
        if not sort or all(f in ("_doc", "_shard_doc", "_score") and (not desc or f == "_score")
                           for f, desc in sort):
            return docs
        keyed = list(docs)
        for field, desc in reversed(sort):
            keyed.sort(key=lambda d: (self._sort_value(field, d) is None,
                                      self._sort_value(field, d) if self._sort_value(field, d)
                                      is not None else 0), reverse=desc)
        return keyed

    def _after(self, docs, sort, after):
        """Documents strictly after the search_after values, in sort order."""
        def key(d):
            return [self._sort_value(f, d) for f, _ in sort]
        out = []
        for d in docs:
            k = key(d)
            for (f, desc), a, b in zip(sort, k, after):
                if a == b:
                    continue
                try:
                    bigger = a > b
                except TypeError:
                    bigger = str(a) > str(b)
                if bigger != desc:
                    out.append(d)
                break
        return out

    def _total(self, n, query, body):
        tth = body.get("track_total_hits") if isinstance(body, dict) else None
        if "track_total_hits" in query:
            tth = query["track_total_hits"]
        if tth in (False, "false"):
            return None
        limit = MAX_RESULT_WINDOW
        if tth in (True, "true"):
            limit = None
        elif isinstance(tth, int) or (isinstance(tth, str) and tth.isdigit()):
            limit = int(tth)
        if limit is not None and n > limit:
            total = {"value": limit, "relation": "gte"}
        else:
            total = {"value": n, "relation": "eq"}
        if truthy(query.get("rest_total_hits_as_int")):
            return total["value"]
        return total

    def _hit(self, d, sort, scored, source_filter):
        name, doc_id, src, shard, pos = d
        hit = {"_index": name, "_id": doc_id, "_score": 1.0 if scored else None}
        if source_filter is not False:
            if isinstance(source_filter, list):
                hit["_source"] = {k: v for k, v in src.items() if k in source_filter}
            else:
                hit["_source"] = src
        if sort:
            hit["sort"] = [self._sort_value(f, d) for f, _ in sort]
        return hit

    def search(self, index, method, query, body):
        if method not in ("GET", "POST"):
            raise self.bad_method("/%s_search" % (index + "/" if index else ""), method, "GET, POST")
        body = body if isinstance(body, dict) else {}
        t0 = time.monotonic()
        pit = body.get("pit")
        pit_id = None
        if pit:
            if index:
                raise EsError(400, "action_request_validation_exception",
                              "Validation Failed: 1: [indices] cannot be used with point in time. "
                              "Do not specify any index with point in time.;")
            if "scroll" in query:
                raise EsError(400, "action_request_validation_exception",
                              "Validation Failed: 1: using [point in time] is not allowed in a scroll context;")
            pit_id = pit.get("id")
            with self.lock:
                ctx = self.pits.get(pit_id)
                if ctx is None or ctx["expires"] < time.time():
                    raise EsError(404, "search_context_missing_exception",
                                  "No search context found for id [%d]" % (len(pit_id or "") % 97))
                if pit.get("keep_alive"):
                    ctx["expires"] = time.time() + parse_keepalive(pit["keep_alive"])
                docs = list(ctx["snapshot"])
                names = ctx["names"]
        else:
            visible = None
            if index is None:
                visible = [n for n in self.indices if n != "secure"]
            names = visible if visible is not None else self.resolve(index)
            with self.lock:
                docs = self._docs(names)
        size = int(query.get("size", body.get("size", 10)))
        from_ = int(query.get("from", body.get("from", 0)))
        scroll = query.get("scroll") or body.get("scroll")
        first = names[0] if names else "_na_"
        if size < 0 or from_ < 0:
            raise EsError(400, "illegal_argument_exception",
                          "[from] parameter cannot be negative" if from_ < 0 else
                          "[size] parameter cannot be negative, found [%d]" % size)
        if scroll and size > MAX_RESULT_WINDOW:
            raise shard_failure(400, "illegal_argument_exception",
                                "Batch size is too large, size must be less than or equal to: "
                                "[%d] but was [%d]. Scroll batch sizes cost as much memory as result "
                                "windows so they are controlled by the [index.max_result_window] "
                                "index level setting." % (MAX_RESULT_WINDOW, size), first, self.node_id)
        if not scroll and from_ + size > MAX_RESULT_WINDOW:
            raise shard_failure(400, "illegal_argument_exception",
                                "Result window is too large, from + size must be less than or equal "
                                "to: [%d] but was [%d]. See the scroll api for a more efficient way to "
                                "request large data sets. This limit can be set by changing the "
                                "[index.max_result_window] index level setting."
                                % (MAX_RESULT_WINDOW, from_ + size), first, self.node_id)
        q = body.get("query")
        qs = query.get("q")
        docs = [d for d in docs if self._match(d[2], d[1], q) and (qs is None or self._match_q(d[2], qs))]
        sort = self._parse_sort(query.get("sort", body.get("sort")))
        if pit and not any(f == "_shard_doc" for f, _ in sort):
            # a PIT search gets an implicit _shard_doc tiebreaker
            sort = (sort or [("_score", True)]) + [("_shard_doc", False)]
        docs = self._sorted(docs, sort)
        total_n = len(docs)             # hits.total counts all matches, search_after or not
        scored = not sort or any(f == "_score" for f, _ in sort)
        after = body.get("search_after")
        if after is not None:
            if not sort:
                raise EsError(400, "illegal_argument_exception",
                              "[search_after] cannot be used without a sort")
            docs = self._after(docs, sort, after)
        src_filter = body.get("_source", query.get("_source", True))
        if src_filter in ("false", False):
            src_filter = False
        elif isinstance(src_filter, str) and src_filter != "true":
            src_filter = src_filter.split(",")
        elif isinstance(src_filter, dict):
            src_filter = src_filter.get("includes", True) or True
        page = docs[from_:from_ + size]
        hits = [self._hit(d, sort if (sort and (sort != [("_score", True)])) else None,
                          scored, src_filter) for d in page]
        out = {}
        if scroll:
            sid = self._ctx_id("queryAndFetch", 40)
            with self.lock:
                self.scrolls[sid] = {"docs": docs, "pos": from_ + size, "size": size,
                                     "expires": time.time() + parse_keepalive(scroll),
                                     "total": total_n, "sort": sort, "scored": scored,
                                     "src": src_filter, "names": names,
                                     "rest_int": truthy(query.get("rest_total_hits_as_int"))}
            out["_scroll_id"] = sid
        if pit_id:
            out["pit_id"] = pit_id
        out["took"] = max(1, int((time.monotonic() - t0) * 1000))
        out["timed_out"] = False
        out["_shards"] = {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0}
        total = self._total(total_n, query, body)
        h = {}
        if total is not None:
            h["total"] = total
        h["max_score"] = 1.0 if (scored and hits) else None
        h["hits"] = hits
        out["hits"] = h
        resp = self.json(out, query)
        resp.items, resp.total = len(hits), (total_n if total is not None else None)
        return resp

    def _scroll_id_from(self, query, body, sid):
        if isinstance(body, dict):
            sid = body.get("scroll_id", sid)
        elif isinstance(body, str) and body:
            sid = body
        return query.get("scroll_id", sid)

    def scroll(self, query, body, sid):
        t0 = time.monotonic()
        sid = self._scroll_id_from(query, body, sid)
        keep = query.get("scroll") or (body.get("scroll") if isinstance(body, dict) else None)
        if not sid or not isinstance(sid, str):
            raise EsError(400, "action_request_validation_exception",
                          "Validation Failed: 1: scrollId is missing;")
        try:
            base64.b64decode(sid + "=" * (-len(sid) % 4), validate=False)
        except ValueError:
            raise EsError(400, "illegal_argument_exception", "Cannot parse scroll id")
        with self.lock:
            ctx = self.scrolls.get(sid)
            if ctx is None or ctx["expires"] < time.time():
                self.scrolls.pop(sid, None)
                raise shard_failure(404, "search_context_missing_exception",
                                    "No search context found for id [%d]" % (sum(sid.encode()) % 1000),
                                    None, self.node_id)
            if keep:
                ctx["expires"] = time.time() + parse_keepalive(keep)
            page = ctx["docs"][ctx["pos"]:ctx["pos"] + ctx["size"]]
            ctx["pos"] += len(page)
        sort = ctx["sort"]
        hits = [self._hit(d, sort if (sort and sort != [("_score", True)]) else None,
                          ctx["scored"], ctx["src"]) for d in page]
        total = {"value": ctx["total"], "relation": "eq"}
        if ctx["rest_int"] or truthy(query.get("rest_total_hits_as_int")):
            total = ctx["total"]
        out = {"_scroll_id": sid, "took": max(1, int((time.monotonic() - t0) * 1000)),
               "timed_out": False,
               "_shards": {"total": len(ctx["names"]), "successful": len(ctx["names"]),
                           "skipped": 0, "failed": 0},
               "hits": {"total": total, "max_score": 1.0 if (ctx["scored"] and hits) else None,
                        "hits": hits}}
        resp = self.json(out, query)
        resp.items, resp.total = len(hits), ctx["total"]
        return resp

    def clear_scroll(self, query, body, sid):
        sid = self._scroll_id_from(query, body, sid)
        ids = sid if isinstance(sid, list) else ([] if sid is None else str(sid).split(","))
        if not ids:
            raise EsError(400, "action_request_validation_exception",
                          "Validation Failed: 1: no scroll ids specified;")
        freed = 0
        with self.lock:
            if "_all" in ids:
                freed = len(self.scrolls)
                self.scrolls.clear()
            else:
                for i in ids:
                    if self.scrolls.pop(i, None) is not None:
                        freed += 1
        return self.json({"succeeded": True, "num_freed": freed}, query, 200 if freed else 404)

    def open_pit(self, index, query):
        if not self.opensearch and "keep_alive" not in query:
            raise EsError(400, "action_request_validation_exception",
                          "Validation Failed: 1: [keep_alive] is not specified;")
        names = self.resolve(index)
        with self.lock:
            snapshot = self._docs(names)
        pid = self._ctx_id("pit", 60)
        with self.lock:
            self.pits[pid] = {"snapshot": snapshot, "names": names,
                              "expires": time.time() + parse_keepalive(query.get("keep_alive", "5m"))}
        if self.opensearch:
            return self.json({"pit_id": pid,
                              "_shards": {"total": len(names), "successful": len(names),
                                          "skipped": 0, "failed": 0},
                              "creation_time": int(time.time() * 1000)}, query)
        return self.json({"id": pid}, query)

    def close_pit(self, query, body):
        pid = body.get("id") if isinstance(body, dict) else None
        if not pid:
            raise EsError(400, "action_request_validation_exception",
                          "Validation Failed: 1: [id] is not specified;")
        with self.lock:
            freed = 1 if self.pits.pop(pid, None) is not None else 0
        return self.json({"succeeded": True, "num_freed": freed}, query, 200 if freed else 404)

    def os_close_pit(self, query, body):
        ids = body.get("pit_id", []) if isinstance(body, dict) else []
        ids = ids if isinstance(ids, list) else [ids]
        out = []
        with self.lock:
            for pid in ids:
                out.append({"successful": self.pits.pop(pid, None) is not None, "pit_id": pid})
        return self.json({"pits": out}, query)

    def count(self, index, query, body):
        names = self.resolve(index) if index else [n for n in self.indices if n != "secure"]
        body = body if isinstance(body, dict) else {}
        with self.lock:
            docs = self._docs(names)
        q, qs = body.get("query"), query.get("q")
        n = sum(1 for d in docs if self._match(d[2], d[1], q) and (qs is None or self._match_q(d[2], qs)))
        resp = self.json({"count": n, "_shards": {"total": len(names), "successful": len(names),
                                                   "skipped": 0, "failed": 0}}, query)
        resp.total = n
        return resp

    # ---------------- cat

    CAT_COLUMNS = ["health", "status", "index", "uuid", "pri", "rep", "docs.count",
                   "docs.deleted", "store.size", "pri.store.size", "dataset.size"]
    CAT_ALIASES = {"h": "health", "s": "status", "i": "index", "idx": "index", "id": "uuid",
                   "p": "pri", "shards.primary": "pri", "r": "rep", "shards.replica": "rep",
                   "dc": "docs.count", "docsCount": "docs.count", "dd": "docs.deleted",
                   "docsDeleted": "docs.deleted", "ss": "store.size", "storeSize": "store.size"}

    @staticmethod
    def human_bytes(n, unit=None):
        units = [("pb", 1 << 50), ("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)]
        if unit:
            unit = unit.lower()
            div = dict(units + [("b", 1)]).get(unit, 1)
            return str(n // div)
        for name, div in units:
            if n >= div:
                v = n / div
                return ("%.1f%s" % (v, name)).replace(".0" + name, name) if v < 100 else "%d%s" % (v, name)
        return "%db" % n

    def cat(self, rest, query, headers):
        what = rest[0] if rest else ""
        fmt = query.get("format", "")
        accept = headers.get("accept", "")
        as_json = fmt == "json" or (not fmt and "json" in accept and "text/plain" not in accept.split(",")[0])
        if what == "indices":
            names = self.resolve(rest[1]) if len(rest) > 1 else list(self.indices)
            rows = []
            for name in names:
                idx = self.indices[name]
                size = idx.store_bytes()
                rows.append({"health": "yellow", "status": "open", "index": name,
                             "uuid": idx.uuid, "pri": "1", "rep": "1",
                             "docs.count": str(len(idx.docs)), "docs.deleted": "0",
                             "store.size": self.human_bytes(size, query.get("bytes")),
                             "pri.store.size": self.human_bytes(size, query.get("bytes")),
                             "dataset.size": self.human_bytes(size, query.get("bytes"))})
            cols = self.CAT_COLUMNS
            resp = self._cat_out(rows, cols, query, as_json)
            resp.items = len(rows)
            resp.total = sum(len(self.indices[n].docs) for n in names)
            return resp
        if what == "health":
            rows = [{"epoch": str(int(time.time())), "timestamp": time.strftime("%H:%M:%S", time.gmtime()),
                     "cluster": self.cluster_name, "status": "yellow", "node.total": "1",
                     "node.data": "1", "shards": str(len(self.indices)), "pri": str(len(self.indices)),
                     "relo": "0", "init": "0", "unassign": str(len(self.indices)),
                     "pending_tasks": "0", "max_task_wait_time": "-", "active_shards_percent": "50.0%"}]
            return self._cat_out(rows, list(rows[0]), query, as_json)
        if what == "count":
            names = self.resolve(rest[1]) if len(rest) > 1 else list(self.indices)
            n = sum(len(self.indices[x].docs) for x in names)
            rows = [{"epoch": str(int(time.time())),
                     "timestamp": time.strftime("%H:%M:%S", time.gmtime()), "count": str(n)}]
            resp = self._cat_out(rows, list(rows[0]), query, as_json)
            resp.total = n
            return resp
        if what == "aliases":
            rows = [{"alias": a, "index": t, "filter": "-", "routing.index": "-",
                     "routing.search": "-", "is_write_index": "-"}
                    for a, ts in self.aliases.items() for t in ts]
            return self._cat_out(rows, ["alias", "index", "filter", "routing.index",
                                        "routing.search", "is_write_index"], query, as_json)
        if what == "":
            text = "=^.^=\n/_cat/indices\n/_cat/indices/{index}\n/_cat/health\n/_cat/count\n/_cat/aliases\n"
            return Response(200, text.encode(), "text/plain; charset=UTF-8")
        raise NoHandler()

    def _cat_out(self, rows, cols, query, as_json):
        if "h" in query:
            cols = [self.CAT_ALIASES.get(c, c) for c in query["h"].split(",") if c]
        if "s" in query:
            for key in reversed(query["s"].split(",")):
                field, _, order = key.partition(":")
                field = self.CAT_ALIASES.get(field, field)
                num = all(r.get(field, "").isdigit() for r in rows)
                rows.sort(key=lambda r: int(r.get(field, "0")) if num else r.get(field, ""),
                          reverse=order == "desc")
        if as_json:
            return self.json([{c: r.get(c) for c in cols} for r in rows], query)
        table = [[r.get(c, "") or "" for c in cols] for r in rows]
        if truthy(query.get("v")) or query.get("v") == "":
            table.insert(0, cols)
        widths = [max([len(row[i]) for row in table] + [0]) for i in range(len(cols))]
        lines = []
        for row in table:
            cells = []
            for i, cell in enumerate(row):
                numeric = cell.replace(".", "").isdigit() and i > 0
                cells.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
            lines.append(" ".join(cells).rstrip() + "\n")
        return Response(200, "".join(lines).encode(), "text/plain; charset=UTF-8")

    # ---------------- metadata

    def _settings_of(self, idx):
        return {"index": {"routing": {"allocation": {"include": {"_tier_preference": "data_content"}}},
                          "number_of_shards": "1", "provided_name": idx.name,
                          "creation_date": str(idx.created), "number_of_replicas": "1",
                          "uuid": idx.uuid, "version": {"created": "8500003"}}}

    def mapping(self, index, query):
        names = self.resolve(index) if index else list(self.indices)
        return self.json({n: {"mappings": {"properties": dict(self.indices[n].mapping)}}
                          for n in names}, query)

    def settings(self, index, query):
        names = self.resolve(index) if index else list(self.indices)
        return self.json({n: {"settings": self._settings_of(self.indices[n])} for n in names}, query)

    def get_aliases(self, index, query):
        names = self.resolve(index) if index else list(self.indices)
        out = {}
        for n in names:
            out[n] = {"aliases": {a: {} for a, ts in self.aliases.items() if n in ts}}
        return self.json(out, query)

    def cluster_health(self, query):
        k = len(self.indices)
        return self.json({"cluster_name": self.cluster_name, "status": "yellow", "timed_out": False,
                          "number_of_nodes": 1, "number_of_data_nodes": 1,
                          "active_primary_shards": k, "active_shards": k, "relocating_shards": 0,
                          "initializing_shards": 0, "unassigned_shards": k,
                          "delayed_unassigned_shards": 0, "number_of_pending_tasks": 0,
                          "number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
                          "active_shards_percent_as_number": 50.0}, query)

    def cluster_stats(self, query):
        docs = sum(len(i.docs) for i in self.indices.values())
        return self.json({"_nodes": {"total": 1, "successful": 1, "failed": 0},
                          "cluster_name": self.cluster_name, "cluster_uuid": self.cluster_uuid,
                          "timestamp": int(time.time() * 1000), "status": "yellow",
                          "indices": {"count": len(self.indices), "docs": {"count": docs, "deleted": 0}},
                          "nodes": {"count": {"total": 1}, "versions": [ES_VERSION]}}, query)

    def nodes(self, query):
        version = OS_VERSION if self.opensearch else ES_VERSION
        node = {"name": self.node_name, "transport_address": "127.0.0.1:9300", "host": "127.0.0.1",
                "ip": "127.0.0.1", "version": version, "build_type": "tar", "build_hash": BUILD_HASH,
                "roles": ["data", "ingest", "master", "remote_cluster_client"], "attributes": {},
                "http": {"bound_address": ["127.0.0.1:9200"], "publish_address": "127.0.0.1:9200",
                         "max_content_length_in_bytes": 104857600}}
        if not self.opensearch:
            node["build_flavor"] = "default"
        return self.json({"_nodes": {"total": 1, "successful": 1, "failed": 0},
                          "cluster_name": self.cluster_name, "nodes": {self.node_id: node}}, query)

    # ---------------- documents

    def _doc_meta(self, idx, doc_id):
        seq = list(idx.docs).index(doc_id)
        return {"_index": idx.name, "_id": doc_id, "_version": 1, "_seq_no": seq, "_primary_term": 1}

    def doc_op(self, index, doc_id, method, query, body):
        if method in ("PUT", "POST"):
            with self.lock:
                idx = self.indices.get(index)
                if idx is None:
                    idx = self.indices[index] = Index(index, [], self.rng, int(time.time() * 1000))
                if doc_id is None:
                    doc_id = rand_b64(self.id_rng, 15)[:20]
                created = idx.put(doc_id, body if isinstance(body, dict) else {})
                meta = self._doc_meta(idx, doc_id)
            out = dict(meta, result="created" if created else "updated",
                       _shards={"total": 2, "successful": 1, "failed": 0})
            return self.json(out, query, 201 if created else 200)
        names = self.resolve(index)
        idx = self.indices[names[0]]
        if method == "DELETE":
            with self.lock:
                found = idx.docs.pop(doc_id, None) is not None
            out = {"_index": idx.name, "_id": doc_id, "_version": 2,
                   "result": "deleted" if found else "not_found",
                   "_shards": {"total": 2, "successful": 1, "failed": 0},
                   "_seq_no": idx.seq, "_primary_term": 1}
            return self.json(out, query, 200 if found else 404)
        if method not in ("GET", "HEAD"):
            raise self.bad_method("/%s/_doc/%s" % (index, doc_id), method, "GET, HEAD, PUT, POST, DELETE")
        with self.lock:
            src = idx.docs.get(doc_id)
            meta = self._doc_meta(idx, doc_id) if src is not None else None
        if method == "HEAD":
            return Response(200 if src is not None else 404, b"", "text/plain; charset=UTF-8")
        if src is None:
            resp = self.json({"_index": idx.name, "_id": doc_id, "found": False}, query, 404)
            resp.items = 0
            return resp
        resp = self.json(dict(meta, found=True, _source=src), query)
        resp.items = 1
        return resp

    def mget(self, index, query, body):
        body = body if isinstance(body, dict) else {}
        reqs = []
        if "docs" in body:
            for d in body["docs"]:
                reqs.append((d.get("_index", index), str(d.get("_id"))))
        for i in body.get("ids", []):
            reqs.append((index, str(i)))
        if not reqs:
            raise EsError(400, "action_request_validation_exception",
                          "Validation Failed: 1: no documents to get;")
        docs = []
        found = 0
        for name, doc_id in reqs:
            idx = self.indices.get(name) if name else None
            if idx is None:
                e = index_not_found(name or "_na_")
                docs.append({"_index": name, "_id": doc_id, "error": e.body["error"]["root_cause"][0]})
                continue
            src = idx.docs.get(doc_id)
            if src is None:
                docs.append({"_index": name, "_id": doc_id, "found": False})
            else:
                found += 1
                docs.append(dict(self._doc_meta(idx, doc_id), found=True, _source=src))
        resp = self.json({"docs": docs}, query)
        resp.items = found
        return resp

    def msearch(self, index, query, raw):
        """NDJSON header/body pairs; each search answered as _search would,
        errors in place (status per response), as Elasticsearch does."""
        lines = [ln for ln in raw.decode("utf-8", "replace").split("\n") if ln.strip()]
        responses, items = [], 0
        for i in range(0, len(lines) - 1, 2):
            header, body = json.loads(lines[i]), json.loads(lines[i + 1])
            target = header.get("index", index)
            if isinstance(target, list):
                target = ",".join(target)
            try:
                r = self.search(target, "POST", {}, body)
                one = json.loads(r.body)
                one["status"] = r.status
                items += r.items or 0
            except EsError as e:
                one = dict(e.body)
            responses.append(one)
        resp = self.json({"took": 1, "responses": responses}, query)
        resp.items = items
        return resp

    def bulk(self, index, query, raw):
        t0 = time.monotonic()
        lines = [ln for ln in raw.decode("utf-8", "replace").split("\n") if ln.strip()]
        items, errors, i = [], False, 0
        while i < len(lines):
            try:
                action = json.loads(lines[i])
                (op, meta), = action.items()
            except (ValueError, AttributeError):
                raise EsError(400, "illegal_argument_exception",
                              "Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]" % (i + 1))
            i += 1
            name = meta.get("_index", index)
            doc_id = meta.get("_id")
            src = None
            if op in ("index", "create", "update"):
                if i >= len(lines):
                    raise EsError(400, "illegal_argument_exception",
                                  "The bulk request must be terminated by a newline [\\n]")
                src = json.loads(lines[i])
                i += 1
                if op == "update":
                    src = src.get("doc", {})
            with self.lock:
                idx = self.indices.get(name)
                if idx is None and op != "delete":
                    idx = self.indices[name] = Index(name, [], self.rng, int(time.time() * 1000))
                if doc_id is None:
                    doc_id = rand_b64(self.id_rng, 15)[:20]
                item = {"_index": name, "_id": doc_id}
                if op == "delete":
                    found = idx is not None and idx.docs.pop(doc_id, None) is not None
                    item.update(_version=2, result="deleted" if found else "not_found",
                                status=200 if found else 404)
                elif op == "create" and doc_id in idx.docs:
                    errors = True
                    item.update(status=409, error={
                        "type": "version_conflict_engine_exception",
                        "reason": "[%s]: version conflict, document already exists (current version [1])" % doc_id,
                        "index_uuid": idx.uuid, "shard": "0", "index": name})
                elif op == "update" and doc_id not in idx.docs:
                    errors = True
                    item.update(status=404, error={
                        "type": "document_missing_exception",
                        "reason": "[%s]: document missing" % doc_id,
                        "index_uuid": idx.uuid, "shard": "0", "index": name})
                else:
                    created = idx.put(doc_id, src if op != "update" else dict(idx.docs[doc_id], **src))
                    item.update(_version=1 if created else 2,
                                result="created" if created else "updated",
                                _shards={"total": 2, "successful": 1, "failed": 0},
                                _seq_no=idx.seq - 1, _primary_term=1,
                                status=201 if created else 200)
            items.append({op: item})
        resp = self.json({"errors": errors, "took": max(1, int((time.monotonic() - t0) * 1000)),
                          "items": items}, query)
        resp.items = len(items)
        return resp

    def index_op(self, index, method, query, body):
        if method == "PUT":
            with self.lock:
                if index in self.indices:
                    raise EsError(400, "resource_already_exists_exception",
                                  "index [%s/%s] already exists" % (index, self.indices[index].uuid),
                                  {"index_uuid": self.indices[index].uuid, "index": index})
                self.indices[index] = Index(index, [], self.rng, int(time.time() * 1000))
            return self.json({"acknowledged": True, "shards_acknowledged": True, "index": index}, query)
        if method == "HEAD":
            try:
                self.resolve(index)
                return Response(200, b"", "text/plain; charset=UTF-8")
            except EsError:
                return Response(404, b"", "text/plain; charset=UTF-8")
        names = self.resolve(index)
        if method == "DELETE":
            if "*" in index or index == "_all":
                raise EsError(400, "illegal_argument_exception",
                              "Wildcard expressions or all indices are not allowed")
            with self.lock:
                for n in names:
                    self.indices.pop(n, None)
                    for a in list(self.aliases):
                        self.aliases[a] = [t for t in self.aliases[a] if t != n]
                        if not self.aliases[a]:
                            del self.aliases[a]
            resp = self.json({"acknowledged": True}, query)
            return resp
        if method != "GET":
            raise self.bad_method("/" + index, method, "GET, HEAD, PUT, DELETE")
        out = {}
        for n in names:
            idx = self.indices[n]
            out[n] = {"aliases": {a: {} for a, ts in self.aliases.items() if n in ts},
                      "mappings": {"properties": dict(idx.mapping)},
                      "settings": self._settings_of(idx)}
        return self.json(out, query)


def filter_path(obj, spec):
    """Minimal filter_path: comma-separated dotted paths, `*` wildcards inside a
    segment, `**` for any depth; arrays are filtered element by element; empty
    objects are dropped like Elasticsearch does."""
    pats = [p.split(".") for p in spec.split(",") if p and not p.startswith("-")]
    if not pats:
        return obj

    def walk(o, pats):
        if isinstance(o, list):
            out = [walk(x, pats) for x in o]
            out = [x for x in out if x is not None]
            return out or None
        if not isinstance(o, dict):
            return None
        out = {}
        for k, v in o.items():
            full = False
            sub = []
            for p in pats:
                if p[0] == "**":
                    sub.append(p)            # ** may match more levels
                    if len(p) > 1 and fnmatch.fnmatchcase(k, p[1]):
                        if len(p) == 2:
                            full = True
                        else:
                            sub.append(p[2:])
                elif fnmatch.fnmatchcase(k, p[0]):
                    if len(p) == 1:
                        full = True
                    else:
                        sub.append(p[1:])
            if full:
                out[k] = v
            elif sub:
                r = walk(v, sub)
                if r is not None:
                    out[k] = r
        return out or None
    return walk(obj, pats)


# ----------------------------------------------------------------- HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    node = None          # EsNode
    kibana = False       # answer Kibana's console proxy instead of ES
    log_file = None
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() in ("gzip", "x-gzip") and body:
            body = gzip.decompress(body)
        return body

    def auth(self):
        """-> (authorized, user or None)."""
        value = self.headers.get("Authorization", "")
        if not value.lower().startswith("basic "):
            return (False, None)
        try:
            user, _, pw = base64.b64decode(value[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return (False, "?")
        return ((user, pw) == (AUTH_USER, AUTH_PASS), user)

    def send(self, resp):
        body = resp.body
        ae = self.headers.get("Accept-Encoding", "")
        gz = self.command != "HEAD" and len(body) > GZIP_MIN and "gzip" in ae.lower()
        if gz:
            body = gzip.compress(body, 6, mtime=0)
        self.send_response_only(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header("content-type", resp.ctype)
        if gz:
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        return gz

    def record(self, resp, uri, gz, extra=None):
        if not self.log_file:
            return
        line = {"port": self.server.server_address[1], "method": self.command,
                "uri": uri, "status": resp.status,
                "client": self.headers.get("User-Agent", ""),
                "auth": "Authorization" in self.headers, "gzip": gz,
                "response_body_bytes": len(resp.body)}
        if resp.items is not None:
            line["items"] = resp.items
        if resp.total is not None:
            line["total"] = resp.total
        if extra:
            line.update(extra)
        with self.log_lock, open(self.log_file, "a") as f:
            f.write(json.dumps(line) + "\n")

    def handle_any(self):
        try:
            body = self.read_body()
        except (ValueError, OSError) as e:
            resp = Response(400, dumps({"error": "bad request body: %s" % e, "status": 400}))
            self.close_connection = True
            self.record(resp, self.path, self.send(resp))
            return
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        if self.kibana:
            resp, extra = self.kibana_proxy(hdrs, body)
            gz = self.send(resp)
            self.record(resp, self.path, gz, extra=extra)
            return
        resp = self.node.handle(self.command, self.path, hdrs, body, self.auth())
        gz = self.send(resp)
        self.record(resp, self.path, gz)

    def kibana_proxy(self, hdrs, body):
        kbn = [("kbn-name", "kibana"), ("kbn-license-sig", hashlib.sha256(b"basic").hexdigest()),
               ("x-content-type-options", "nosniff"),
               ("referrer-policy", "strict-origin-when-cross-origin"),
               ("cache-control", "private, no-cache, no-store, must-revalidate")]
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))

        def err(status, error, message):
            return Response(status, dumps({"statusCode": status, "error": error, "message": message}),
                            "application/json; charset=utf-8", kbn), None
        if parsed.path == "/api/status" and self.command == "GET":
            return Response(200, dumps({"name": "kibana", "version": {"number": ES_VERSION},
                                        "status": {"overall": {"level": "available"}}}),
                            "application/json; charset=utf-8", kbn), None
        if parsed.path != "/api/console/proxy":
            return err(404, "Not Found", "Not Found")
        if self.command != "POST":
            return err(404, "Not Found", "Not Found")
        if "kbn-xsrf" not in hdrs:
            return err(400, "Bad Request", "Request must contain a kbn-xsrf header.")
        inner_path, inner_method = query.get("path"), query.get("method", "").upper()
        if not inner_path or inner_method not in ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"):
            return err(400, "Bad Request",
                       '[request query.method]: expected value to equal one of [HEAD, GET, POST, PUT, DELETE, PATCH]')
        if not inner_path.startswith("/"):
            inner_path = "/" + inner_path
        inner_hdrs = {"content-type": hdrs.get("content-type", "application/json")}
        resp = self.node.handle(inner_method, inner_path, inner_hdrs, body, self.auth())
        # Kibana passes the status, body and warning header through, not the product header
        passed = [(k, v) for k, v in resp.headers if k.lower() == "warning"]
        ctype = resp.ctype if resp.ctype.startswith("text/") else "application/json; charset=utf-8"
        out = Response(resp.status, resp.body, ctype, passed + kbn)
        out.items, out.total = resp.items, resp.total
        return out, {"inner_method": inner_method, "inner_path": inner_path}

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(node, port, bind, kibana, log_file):
    handler = type("H", (Handler,), {"node": node, "kibana": kibana, "log_file": log_file})
    srv = Server((bind, port), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv, t


def parse_extra(specs):
    out = []
    for spec in specs:
        name, _, count = spec.partition("=")
        if not name or not count.isdigit():
            sys.exit("es_server: --extra-index wants NAME=COUNT, got %r" % spec)
        out.append((name, int(count)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9200)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--opensearch", action="store_true", help="answer as OpenSearch 2.11")
    ap.add_argument("--kibana", type=int, metavar="PORT", help="also serve Kibana's console proxy")
    ap.add_argument("--log", metavar="FILE", help="append one JSON line per request")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--extra-index", action="append", default=[], metavar="NAME=COUNT",
                    help="add an index of COUNT fake tickets (repeatable)")
    args = ap.parse_args()
    node = EsNode(opensearch=args.opensearch, seed=args.seed, extra=parse_extra(args.extra_index))
    servers = [serve(node, args.port, args.bind, False, args.log)]
    if args.kibana:
        servers.append(serve(node, args.kibana, args.bind, True, args.log))
    sys.stderr.write("es_server: %s on %s:%d%s\n" % (
        "opensearch" if args.opensearch else "elasticsearch", args.bind, args.port,
        " kibana on %d" % args.kibana if args.kibana else ""))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    main()
