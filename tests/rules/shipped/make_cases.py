#!/usr/bin/env python3
"""make_cases.py - writes the shipped-rule test cases in this directory.

    python3 tests/rules/shipped/make_cases.py      # rewrites *.jsonl and *.expect

The cases are data (see README.md); this script only keeps them consistent
and easy to extend. Standard library only."""
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = datetime.datetime(2026, 1, 15, 10, 0, 0, tzinfo=datetime.timezone.utc)

# Addresses. Servers are inside home_nets (10.0.0.0/8); 10.9.9.9 is the trusted
# client; outside clients are documentation ranges; scanners come from the
# committed rules/lists/scanners.cidr (Censys).
ES, ES2, ES3, ES4, ES5 = "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4", "10.0.1.5"
KIBANA, MONGO, MONGO2, REDIS = "10.0.4.1", "10.0.2.1", "10.0.2.2", "10.0.3.1"
REDIS2, MEMCACHED, CASSANDRA = "10.0.3.2", "10.0.5.1", "10.0.6.1"
TRUSTED, INSIDE = "10.9.9.9", "10.5.5.5"
CENSYS, CENSYS_B, CENSYS6 = "162.142.125.10", "162.142.125.11", "2602:80d:1000:b0cc:e::10"
PORTS = {"elasticsearch": 9200, "opensearch": 9200, "kibana": 5601, "mongodb": 27017, "redis": 6379, "memcached": 11211,
         "couchdb": 5984, "solr": 8983, "cassandra": 9042}
COUCH, SOLR = "10.0.6.1", "10.0.7.1"

UA_CENSYS = "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)"
UA_ZGRAB = "Mozilla/5.0 zgrab/0.x"
UA_CURL = "curl/7.88.1"
UA_REQ = "python-requests/2.31.0"


def ts(sec):
    t = T0 + datetime.timedelta(seconds=sec)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def community_id(src, sport, dst, dport, proto=6):
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if (a, sport) > (b, dport):
        a, b, sport, dport = b, a, dport, sport
    h = hashlib.sha1(struct.pack("!H", 0) + a + b + struct.pack("!BBHH", proto, 0, sport, dport))
    return "1:" + base64.b64encode(h.digest()).decode()


_port = [40000]


def op(t, src, dst, name, cls, app="elasticsearch", target="", status="ok", code=None,
       auth="no", client=UA_CURL, items=None, total=None, page_size=None, flags=(),
       req_bytes=200, resp_bytes=800, method=None, uri=None, dport=None, sport=None,
       chain=None, continuation=None, auth_result=None):
    """One op event, in the sensor's JSON schema (sensor/event_json.c)."""
    if sport is None:
        _port[0] += 1
        sport = _port[0]
    dport = dport or PORTS[app]
    if code is None:
        code = {"ok": 200, "denied": 401, "error": 400, "unknown": 0}[status]
        if app in ("mongodb", "redis", "memcached"):
            code = {"ok": 0, "denied": 13, "error": 2, "unknown": 0}[status]
        if app == "cassandra":
            code = {"ok": 0, "denied": 0x2100, "error": 0x2200, "unknown": 0}[status]
    o = {"app": app, "name": name, "class": cls, "target": target, "status": status}
    if code:
        o["status_code"] = code
    o["authenticated"] = auth
    if client:
        o["client"] = client
    if continuation:
        o["continuation"] = continuation
    o["request_bytes"] = req_bytes
    o["response_bytes"] = resp_bytes
    for k, v in (("items", items), ("total", total), ("page_size", page_size)):
        if v is not None:
            o[k] = v
    o["request_time"] = ts(t - 0.004)
    o["response_time"] = ts(t)
    o["flags"] = list(flags)
    if app in ("elasticsearch", "opensearch", "kibana"):
        o["http"] = {"method": method or "GET", "uri": uri or "/", "status_code": code}
    if auth_result:
        o["auth_result"] = auth_result
    fid = int.from_bytes(hashlib.sha1(("%s|%d|%s|%d" % (src, sport, dst, dport)).encode()).digest()[:8],
                         "big") >> 1
    ev = {"timestamp": ts(t), "sensor": "scrapewatch", "event_type": "op", "flow_id": fid,
          "community_id": community_id(src, sport, dst, dport), "src_ip": src, "src_port": sport,
          "dest_ip": dst, "dest_port": dport, "proto": "TCP", "app_proto": app, "op": o}
    if chain:
        ev["chain"] = chain
    return ev


# Shorthands ---------------------------------------------------------------
def banner(t, src, dst=ES, **kw):
    kw.setdefault("resp_bytes", 540)
    return op(t, src, dst, "banner", "handshake", uri="/", **kw)


def search(t, src, dst=ES, index="tickets", size=None, items=None, **kw):
    uri = "/%s/_search" % index + ("?size=%d" % size if size is not None else "")
    flags = kw.pop("flags", ["match_all"])
    return op(t, src, dst, "_search", "read", target=index, page_size=size, items=items,
              total=kw.pop("total", 6000 if items is not None else None), flags=flags,
              method="POST", uri=uri, **kw)


def scroll(t, src, dst=ES, items=1000, n=1, cid="1b884d492563cd62", **kw):
    return op(t, src, dst, "_search/scroll", "read", items=items, total=6000,
              flags=["continues"], method="POST", uri="/_search/scroll", continuation=cid,
              chain={"id": cid, "ops": n + 1, "items": items * (n + 1)}, **kw)


def cat_indices(t, src, dst=ES, **kw):
    return op(t, src, dst, "_cat/indices", "enumerate", items=3, total=7525, uri="/_cat/indices?v", **kw)


def mongo(t, src, name, cls, dst=MONGO, **kw):
    kw.setdefault("client", "")
    return op(t, src, dst, name, cls, app="mongodb", **kw)


def redis(t, src, name, cls, dst=REDIS, **kw):
    kw.setdefault("client", "")
    return op(t, src, dst, name, cls, app="redis", **kw)


def cassandra(t, src, name, cls, dst=CASSANDRA, **kw):
    kw.setdefault("client", "DataStax Python Driver 3.25.0")
    return op(t, src, dst, name, cls, app="cassandra", **kw)


def memcached(t, src, name, cls, dst=MEMCACHED, **kw):
    kw.setdefault("client", "")
    return op(t, src, dst, name, cls, app="memcached", **kw)


def flow(t, src, dst, port, state="open", client="masscan (SYN shape)", sport=None):
    """A payload-less TCP flow as the flow rules read it (sensor/flow_recon.h):
    an op event marked "record":"flow", named open/closed/no_answer, target =
    the server port, client = the SYN shape's tool."""
    app = {v: k for k, v in PORTS.items() if k not in ("opensearch",)}.get(port, "unknown")
    ev = op(t, src, dst, state, "unknown", app=app if app != "unknown" else "elasticsearch",
            target=str(port), status="unknown", code=0, auth="unknown", client=client,
            req_bytes=0, resp_bytes=0, dport=port, sport=sport)
    ev["record"] = "flow"
    ev["app_proto"] = ev["op"]["app"] = app
    ev["op"].pop("http", None)
    return ev


O = ["198.51.100.%d" % i for i in range(10, 60)]   # outside clients
C_OUT = ["198.51.100.%d" % i for i in range(70, 75)]   # outside Cassandra clients
P = ["203.0.113.%d" % i for i in range(10, 60)]


# The cases: rule id -> (fires ops, quiet ops, {rule: count} that must fire) --
def cases():
    c = {}
    c[1001] = ([banner(0, CENSYS, client=UA_CENSYS, flags=["security_off"])],
               [banner(0, CENSYS, status="denied"),                           # denied: 1002's job
                mongo(1, CENSYS, "hello", "handshake")],                      # Mongo hello proves nothing
               {1001: 1})
    c[1002] = ([banner(0, CENSYS_B, status="denied")],
               [banner(0, CENSYS, client=UA_CENSYS),                          # answered: 1001's job
                banner(1, O[0], status="denied"),                             # not a listed scanner
                http_login_failure(2, CENSYS_B, ES2)],                        # a refused login: 9102
               {1002: 1})
    c[1003] = ([banner(0, P[0], client=UA_CENSYS)],
               [banner(0, CENSYS_B, client=UA_CENSYS),                        # listed address: 1001
                banner(1, P[1], client=UA_CENSYS, status="denied")],          # denied: 1004
               {1003: 1})
    c[1004] = ([banner(0, P[2], client=UA_ZGRAB, status="denied")],
               [banner(0, P[3], client=UA_ZGRAB),                             # answered: 1003
                banner(1, CENSYS, client=UA_ZGRAB, status="denied"),          # listed address: 1002
                http_login_failure(2, P[4], client=UA_ZGRAB)],                # a refused login: 9103
               {1004: 1})
    c[2001] = ([search(0, O[0], size=10, items=10),
                search(1, O[1], size=10, items=10)],                          # same server: one alert
               [search(0, TRUSTED, size=10, items=10),                        # trusted application
                search(1, INSIDE, size=10, items=10),                         # inside client
                search(2, O[2], size=10, items=10, auth="yes", flags=["auth_header"]),
                mongo(3, O[3], "hello", "handshake"),                         # Mongo handshake
                search(4, O[4], status="denied")],
               {2001: 1})
    c[3001] = ([banner(0, O[5], client="elasticdump"),
                search(1, O[5], size=100, items=100, client="elasticdump")],
               [search(0, TRUSTED, size=100, items=100, client="elasticdump"),
                search(1, O[6], size=100, items=100, client="elasticdump", auth="yes",
                       flags=["auth_header", "match_all"])],
               {3001: 1})
    kib = dict(dst=KIBANA, dport=5601, uri="/api/console/proxy?path=%2Ftickets%2F_search&method=POST")
    c[3002] = ([op(0, O[7], name="_search", cls="read", target="tickets", items=5, total=6000,
                   page_size=5, flags=["via_kibana", "match_all"], method="POST", **kib)],
               [op(0, O[8], name="_search", cls="read", target="tickets", items=5, auth="yes",
                   flags=["via_kibana", "match_all"], method="POST", **kib),        # Kibana session
                op(1, INSIDE, name="_search", cls="read", target="tickets", items=5,
                   flags=["via_kibana", "match_all"], method="POST", **kib)],
               {3002: 1})
    c[3003] = ([mongo(0, O[9], "listDatabases", "enumerate", target="admin", items=4,
                      flags=["legacy_opcode"], client="")],
               [mongo(0, O[10], "isMaster", "handshake", target="admin", flags=["legacy_opcode"]),
                mongo(1, O[10], "saslStart", "auth", target="admin", flags=["legacy_opcode"],
                      status="denied")],
               {3003: 1})
    c[3004] = ([mongo(0, O[11], "find", "read", target="shop.customers", items=101,
                      client="mongodump")],
               [mongo(0, O[12], "find", "read", target="shop.customers", items=101,
                      client="mongodump", auth="yes"),
                mongo(1, TRUSTED, "find", "read", target="shop.customers", items=101,
                      client="mongodump")],
               {3004: 1})
    c[4001] = ([cat_indices(0, O[13])],
               [cat_indices(0, O[14], status="denied"),
                cat_indices(1, O[15], auth="yes", flags=["auth_header"])],
               {4001: 1})
    c[4002] = ([cat_indices(i, O[16]) for i in range(20)],
               [cat_indices(i, O[16]) for i in range(19)],
               {4002: 1, 4001: 1})
    mapping = lambda t, src, idx: op(t, src, ES, "_mapping", "enumerate", target=idx,
                                     uri="/%s/_mapping" % idx)
    c[4003] = ([mapping(i, O[17], "idx%d" % i) for i in range(10)],
               [mapping(i, O[17], "idx%d" % (i % 9)) for i in range(12)]
               + [redis(20 + i, O[17], "TYPE", "enumerate", target="user:%d" % i) for i in range(12)],
               {4003: 1})
    c[4004] = ([redis(0, O[18], "KEYS", "enumerate", target="*", items=5210)],
               [redis(0, O[19], "KEYS", "enumerate", target="user:*", items=40),
                redis(1, O[20], "KEYS", "enumerate", target="*", items=5210, auth="yes")],
               {4004: 1})
    dump = lambda src, dst, t0, pages, last=1000: (
        [search(t0, src, dst, size=1000, items=1000, client=UA_REQ,
                chain={"id": "1b884d492563cd62", "ops": 1, "items": 1000})]
        + [scroll(t0 + i, src, dst, items=1000, n=i, client=UA_REQ) for i in range(1, pages - 1)]
        + [scroll(t0 + pages - 1, src, dst, items=last, n=pages - 1, client=UA_REQ)])
    c[5001] = (dump(O[21], ES, 0, 5),                                        # 5 x 1,000 = 5,000
               dump(O[21], ES, 0, 5, last=999),                              # 4,999
               {5001: 1})
    cont = lambda src, t0, n, items: (
        [search(t0, src, ES, size=100, items=100, client=UA_REQ)]
        + [scroll(t0 + i, src, ES, items=items, n=i, client=UA_REQ) for i in range(1, n + 1)])
    c[5002] = (cont(O[22], 0, 10, 100),                                      # 10 pages, 1,000 docs
               cont(O[22], 0, 9, 100),                                       # 9 pages
               {5002: 1})
    c[5003] = ([search(0, O[23], size=10000, items=6000, client=UA_CURL)],
               [search(0, O[24], size=10000, items=999),                     # small index
                search(1, O[25], size=500, items=500),                       # ordinary page
                search(2, O[26], size=10000, items=6000, auth="yes", flags=["auth_header", "match_all"])],
               {5003: 1})
    big = lambda src, t, b: op(t, src, ES, "_search/scroll", "read", flags=["continues", "body_capped"],
                              method="POST", uri="/_search/scroll", resp_bytes=b, client=UA_REQ)
    c[5004] = ([big(O[27], i, 1000000) for i in range(10)],                # 10,000,000 bytes
               [big(O[27], i, 999999) for i in range(10)],                 # 9,999,990
               {5004: 1})
    c[6001] = ([banner(i, P[4], "10.0.1.%d" % (100 + i), status="denied") for i in range(10)],
               [banner(i, P[4], "10.0.1.%d" % (100 + i % 9), status="denied") for i in range(18)],
               {6001: 1})
    delete = lambda t, src, idx, dst=ES, **kw: op(t, src, dst, "delete_index", "destroy", target=idx,
                                                  method="DELETE", uri="/" + idx, **kw)
    # own source ports: the shared counter (and so every later case) stays as it was
    cql_drop = lambda t, src, verb, target, **kw: cassandra(t, src, verb, "destroy", target=target,
                                                            sport=52000 + t, **kw)
    c[7001] = ([delete(0, O[28], "logs-2024"),
                cql_drop(1, C_OUT[0], "DROP TABLE", "shop.users")],
               [delete(0, INSIDE, "logs-2024"),                              # retention job inside
                delete(1, O[29], "logs-2024", status="denied"),
                cql_drop(2, C_OUT[1], "DROP TABLE", "shop.users", status="denied")],
               {7001: 2})
    c[7002] = ([delete(i, O[30], idx) for i, idx in enumerate(["idx-a", "idx-b", "idx-c"])] +
               [cql_drop(10, C_OUT[2], "TRUNCATE", "shop.orders"),
                cql_drop(11, C_OUT[2], "DROP TABLE", "shop.users"),
                cql_drop(12, C_OUT[2], "DROP KEYSPACE", "shop")],
               [delete(i, O[30], idx) for i, idx in enumerate(["idx-a", "idx-b"])] +
               [cql_drop(10, C_OUT[2], "DROP TABLE", "shop.users"),
                cql_drop(11, C_OUT[2], "DROP TABLE", "shop.users"),
                cql_drop(12, C_OUT[2], "DROP TABLE", "shop.users")],         # one table, 3 times
               {7002: 2, 7001: 2})
    dbq = lambda t, src, n: op(t, src, ES, "_delete_by_query", "destroy", target="tickets", items=n,
                               total=n, method="POST", uri="/tickets/_delete_by_query", flags=["match_all"])
    c[7003] = ([dbq(0, O[31], 5000), dbq(1, O[31], 5000)],
               [dbq(0, O[31], 5000), dbq(1, O[31], 4999)],
               {7003: 1})
    c[7004] = ([op(0, O[32], ES, "create_index", "write", target="read_me", method="PUT", uri="/read_me"),
                mongo(1, O[32], "insert", "write", target="Warning.Readme", items=1),
                op(2, O[32], ES2, "create_index", "write", target="gk01juo8o3-meow", method="PUT",
                   uri="/gk01juo8o3-meow")],
               [op(0, O[33], ES, "create_index", "write", target="logs-2026", method="PUT", uri="/logs-2026"),
                search(1, O[33], ES, index="read_me", size=10, items=1)],      # reading a note
               {7004: 3})
    c[7005] = ([redis(0, O[34], "FLUSHALL", "destroy"),
                memcached(1, O[34], "flush_all", "destroy")],
               [redis(0, TRUSTED, "FLUSHALL", "destroy"),
                redis(1, O[35], "FLUSHALL", "destroy", status="denied"),       # NOAUTH
                memcached(2, O[35], "flush_all", "destroy", status="error")],
               {7005: 2})
    c[7006] = ([redis(0, O[36], "CONFIG", "admin", target="SET dir")],
               [redis(0, O[37], "CONFIG", "admin", target="GET dir"),
                redis(1, O[37], "CONFIG", "admin", target="SET maxmemory")],
               {7006: 1})
    c[7007] = ([redis(0, O[38], "SLAVEOF", "admin", target="198.51.100.66 8886")],
               [redis(0, O[39], "REPLICAOF", "admin", target="NO ONE"),
                redis(1, O[39], "SLAVEOF", "admin", target="198.51.100.66 8886", status="denied")],
               {7007: 1})
    c[8001] = ([cat_indices(0, O[40], ES2)] + dump(O[40], ES2, 10, 5) + [delete(20, O[40], "tickets", ES2)],
               dump(O[40], ES2, 0, 5) + [delete(10, O[40], "tickets", ES2), cat_indices(20, O[40], ES2)],
               {8001: 1, 4001: 1, 5001: 1, 7001: 1})
    c[8002] = ([banner(0, CENSYS, ES3, client=UA_CENSYS)] + dump(O[41], ES3, 3600, 5),
               dump(O[41], ES3, 0, 5) + [banner(3600, CENSYS, ES3, client=UA_CENSYS)],
               {8002: 1, 1001: 1, 5001: 1})
    c[9001] = ([sasl_failure(i, O[42]) for i in range(20)],
               [sasl_failure(i, O[42]) for i in range(19)]
               # a login that worked, 20 times; data commands denied to a
               # client that never logged in (no guess: 1002/2001 territory)
               + [mongo(i, O[43], "saslContinue", "auth", target="admin", auth_result="success",
                        flags=["auth_header"], sport=auth_port()) for i in range(20)]
               + [mongo(i, O[44], "find", "read", target="payroll.staff", status="denied",
                        sport=auth_port()) for i in range(20)],
               {9001: 1})
    _port[0] += 59      # the ports the HTTP-only 9001 case took before issue 14: later files unchanged
    kv_cases(c)
    return c


# Source ports of the issue-14 login cases come from their own counter, so
# that adding them leaves every other case file as it was.
_auth_port = [50000]


def auth_port():
    _auth_port[0] += 1
    return _auth_port[0]


# A refused SCRAM conversation's last step (issue 14): the op is denied with
# code 18, carries the mechanism, but the session is not authenticated ("no").
def sasl_failure(t, src, dst=MONGO, **kw):
    kw.setdefault("sport", auth_port())
    return mongo(t, src, "saslContinue", "auth", dst=dst, target="admin", status="denied", code=18,
                 auth_result="failure", **kw)


# The same with credentials refused over HTTP (401 to a request that carried
# an Authorization header).
def http_login_failure(t, src, dst=ES, **kw):
    kw.setdefault("sport", auth_port())
    return search(t, src, dst, status="denied", auth="yes", auth_result="failure",
                  flags=["auth_header", "match_all"], **kw)


def kv_cases(c):
    """Rules written for the Redis and Memcached decoders."""
    c[1005] = ([redis(0, O[44], "INFO", "handshake", status="error", flags=["probe"],
                      client="Nmap NSE redis-info")],
               [redis(0, O[45], "INFO", "handshake", status="error"),           # no probe shape
                redis(1, CENSYS, "HTTP", "handshake", status="error", flags=["probe"])],  # 1001/1002's
               {1005: 1})
    c[4005] = ([memcached(0, O[46], "stats cachedump", "enumerate", target="1 0", items=120)],
               [memcached(0, O[47], "stats items", "enumerate", items=30),
                memcached(1, TRUSTED, "stats cachedump", "enumerate", target="1 0", items=120)],
               {4005: 1, 4001: 1})
    scan = lambda t, src, n: redis(t, src, "SCAN", "enumerate", target="*", items=n, page_size=10,
                                   flags=["continues"] if t else [])
    c[4006] = ([scan(i, O[48], 10) for i in range(50)],                   # 500 key names
               [scan(i, O[48], 10) for i in range(49)],                   # 490
               {4006: 1, 4001: 1})
    mget = lambda t, src, hits, dst=REDIS: redis(t, src, "MGET", "read", target="user:%d" % t,
                                                 items=hits, page_size=5, dst=dst)
    c[5005] = ([mget(i, O[49], 5) for i in range(100)],                   # 500 values
               [mget(i, O[49], 5) for i in range(99)] + [mget(99, O[49], 4)],
               {5005: 1})
    sync = lambda t, src, **kw: redis(t, src, "SYNC", "read", items=500, resp_bytes=48213, **kw)
    c[5006] = ([sync(0, O[50 - 10])],
               [sync(0, INSIDE), sync(1, O[41], status="error")],
               {5006: 1})
    amp = lambda t, victim: memcached(t, victim, "stats", "handshake", items=60, req_bytes=15,
                                      resp_bytes=2400, flags=["amplified"], dport=11211)
    c[6002] = ([amp(i * 0.5, P[5]) for i in range(10)],
               [amp(i * 0.5, P[6]) for i in range(9)] + [amp(40 + i * 10, P[7]) for i in range(10)],
               {6002: 1})
    c[7008] = ([redis(0, O[12], "MODULE LOAD", "destroy", target="/tmp/exp.so"),
                redis(1, O[12], "SHUTDOWN", "destroy", status="unknown", dst=REDIS2,
                      flags=["no_response"])],
               [redis(0, O[13], "MODULE LOAD", "destroy", target="/tmp/exp.so", status="error"),
                redis(1, TRUSTED, "SHUTDOWN", "destroy", status="unknown")],
               {7008: 2})
    info = lambda t, src: redis(t, src, "INFO", "enumerate", target="keyspace", total=500, dst=REDIS2)
    flush = lambda t, src: redis(t, src, "FLUSHALL", "destroy", dst=REDIS2)
    c[8003] = ([info(0, O[14])] + [mget(1 + i, O[14], 5, REDIS2) for i in range(100)] + [flush(200, O[14])],
               [flush(0, O[15])] + [mget(1 + i, O[15], 5, REDIS2) for i in range(100)] + [info(200, O[15])],
               {8003: 1, 4001: 1, 5005: 1, 7005: 1})


def couch_solr_cases():
    """The generic rules on CouchDB and Solr ops: name -> (fires, quiet, expect)."""
    couch = lambda t, src, name, cls, **kw: op(t, src, COUCH, name, cls, app="couchdb", **kw)
    solr = lambda t, src, name, cls, **kw: op(t, src, SOLR, name, cls, app="solr", **kw)
    c = {}
    c["4001-couchdb"] = ([couch(0, P[20], "_all_dbs", "enumerate", items=4, uri="/_all_dbs")],
                         [couch(0, P[21], "_all_dbs", "enumerate", items=4, uri="/_all_dbs",
                                auth="yes", flags=["auth_header"])],
                         {4001: 1})
    alldocs = lambda t, src, n: couch(t, src, "_all_docs", "read", target="customers", items=n,
                                      total=6000, flags=["match_all"],
                                      uri="/customers/_all_docs?include_docs=true")
    c["5001-couchdb"] = ([alldocs(0, P[22], 6000)],                        # one unbounded page
                         [alldocs(0, P[22], 4999)],
                         {5001: 1})
    page = lambda t, src, i: solr(t, src, "select", "read", target="products", items=100,
                                  total=5000, page_size=100, flags=["match_all", "continues"],
                                  uri="/solr/products/select?q=*:*&rows=100&sort=id+asc&cursorMark=AoE%d" % i,
                                  continuation="%016x" % i)
    c["5002-solr"] = ([page(i, P[23], i) for i in range(10)],             # 10 pages, 1,000 docs
                      [page(i, P[23], i) for i in range(9)],
                      {5002: 1})
    c["7001-couchdb"] = ([couch(0, P[24], "delete_db", "destroy", target="customers",
                                method="DELETE", uri="/customers")],
                         [couch(0, INSIDE, "delete_db", "destroy", target="customers",
                                method="DELETE", uri="/customers"),
                          couch(1, P[25], "delete_db", "destroy", target="customers", status="denied",
                                method="DELETE", uri="/customers")],
                         {7001: 1})
    drop = lambda t, src, name: solr(t, src, "delete_collection", "destroy", target=name,
                                     uri="/solr/admin/collections?action=DELETE&name=" + name)
    c["7002-solr"] = ([drop(i, P[26], n) for i, n in enumerate(["a", "b", "c"])],
                      [drop(i, P[26], n) for i, n in enumerate(["a", "b"])],
                      {7002: 1, 7001: 1})
    # issue 14, point 6: flow records (own source ports: the shared counter stays)
    db_ports = [9200, 27017, 6379, 11211]
    c["6101"] = ([flow(i, P[29], "10.0.8.%d" % i, 27017, sport=50000 + i) for i in range(8)],
               # 7 servers on database ports; the 8th only on ssh; and 8 servers
               # reached by ops (requests), not flow records
               [flow(i, P[30], "10.0.8.%d" % i, 27017, sport=50100 + i) for i in range(7)]
               + [flow(7, P[30], "10.0.8.7", 22, sport=50107)]
               + [dict(flow(8 + i, P[30], "10.0.9.%d" % i, 9200, sport=50110 + i), record="op")
                  for i in range(8)],
               {6101: 1})
    c["6102"] = ([flow(i, P[31], "10.0.8.50", p, state="closed", client="", sport=50200 + i)
                for i, p in enumerate(db_ports)],
               [flow(i, P[32], "10.0.8.51", p, state="closed", client="", sport=50300 + i)
                for i, p in enumerate(db_ports[:3] + [22])],
               {6102: 1})
    c["1005-solr"] = ([solr(0, P[27], "config", "admin", target="products", flags=["probe"],
                            method="POST", uri="/solr/products/config")],
                      [solr(0, P[28], "config", "admin", target="products", method="POST",
                            uri="/solr/products/config")],
                      {1005: 1})
    return c


def auth_cases():
    """Login outcomes (issue 14, point 3): name -> (fires, quiet, expect)."""
    c = {}
    c["9001-http"] = ([http_login_failure(i, O[45], ES4) for i in range(20)],
                      [http_login_failure(i, O[45], ES4) for i in range(19)]
                      # credentials accepted, the action forbidden: no login failed
                      + [search(i, O[46], ES5, status="denied", code=403, auth="yes",
                                auth_result="success", flags=["auth_header", "match_all"])
                         for i in range(20)],
                      {9001: 1})
    redis_fail = lambda t, src, dst: redis(t, src, "AUTH", "auth", dst=dst, status="denied",
                                           auth_result="failure", flags=["auth_header"])
    servers = [MONGO, MONGO2, REDIS, REDIS2, ES5]
    c["9101"] = ([sasl_failure(i, P[30], servers[i]) if i < 2 else
                redis_fail(i, P[30], servers[i]) if i < 4 else
                http_login_failure(i, P[30], servers[i]) for i in range(5)],
               [sasl_failure(i, P[31], servers[i % 4]) for i in range(8)]     # 4 servers only
               + [redis_fail(i, TRUSTED, servers[i]) for i in range(2, 4)],   # trusted: never
               {9101: 1})
    c["9102"] = ([http_login_failure(0, CENSYS, ES3)],
               [banner(0, CENSYS_B, ES3, status="denied"),                    # anonymous: 1002
                search(1, CENSYS_B, ES3, status="ok", auth="yes", auth_result="success",
                       flags=["auth_header"])],
               {9102: 1})
    c["9103"] = ([http_login_failure(0, P[32], client=UA_ZGRAB)],
               [banner(0, P[33], client=UA_ZGRAB, status="denied"),           # anonymous: 1004
                http_login_failure(1, CENSYS, client=UA_ZGRAB)],              # listed address: 9102
               {9103: 1})
    # Issue 14, point 4: a flow picked up mid-session ("unknown") is not
    # "without authentication"; the same ops on a flow seen from its start are.
    mfind = lambda t, src, auth, flags: mongo(t, src, "find", "read", dst=MONGO2, target="shop.orders",
                                              items=1000, page_size=1000, auth=auth, flags=flags,
                                              sport=auth_port())
    mlist = lambda t, src, auth, flags: mongo(t, src, "listCollections", "enumerate", dst=MONGO2,
                                              target="shop", items=4, auth=auth, flags=flags,
                                              sport=auth_port())
    c["5001-midstream"] = ([mfind(i, P[34], "no", []) for i in range(5)],
                           [mfind(i, P[35], "unknown", ["midstream"]) for i in range(6)],
                           {5001: 1})
    c["4001-midstream"] = ([mlist(0, P[36], "no", [])],
                           [mlist(0, P[37], "unknown", ["midstream"])],
                           {4001: 1})
# Issue 14 points 1 and 2: whole-dataset reads. The chain block carries what
# the detect thread's chain table knows (sensor/chain.c) and the op event does
# not print: the total reported for the chain, whether the cursor ran out,
# and whether a whole-index query opened it.
def walk(src, t0, pages, per, total=2500, dst=ES, auth="no", cid="2c00000000000001",
         match_all=True, exhausted_at=None, relation="eq", clear=False):
    """An Elasticsearch scroll walk: search + (pages - 1) scrolls of `per`
    documents, each op carrying its chain as it stands after it."""
    flags = ["auth_header"] if auth == "yes" else []
    out = []
    for i in range(pages):
        ch = {"id": cid, "ops": i + 1, "items": per * (i + 1), "total": total,
              "total_relation": relation, "target": "archive"}
        if match_all:
            ch["match_all"] = True
        if exhausted_at is not None and i >= exhausted_at:
            ch["exhausted"] = True
        items = 0 if exhausted_at is not None and i >= exhausted_at else per
        if i == 0:
            out.append(search(t0, src, dst, index="archive", size=per, items=per, total=total,
                              client=UA_REQ, auth=auth, chain=ch,
                              flags=flags + (["match_all"] if match_all else [])))
        else:
            out.append(op(t0 + i, src, dst, "_search/scroll", "read", items=items, total=total,
                          flags=flags + ["continues"], method="POST", uri="/_search/scroll",
                          continuation=cid, chain=ch, client=UA_REQ, auth=auth))
    if clear:
        last = dict(out[-1]["chain"])
        last["ops"] += 1
        out.append(op(t0 + pages, src, dst, "_search/scroll:clear", "read", flags=flags,
                      method="DELETE", uri="/_search/scroll", continuation=cid, chain=last,
                      client=UA_REQ, auth=auth))
    return out


def scan_walk(src, t0, pages, per, cid, last_exhausted=True, target="*"):
    """A Redis SCAN walk: `pages` SCAN calls of `per` key names, the last
    answered with cursor 0 when last_exhausted."""
    out = []
    for i in range(pages):
        ch = {"id": cid, "ops": i + 1, "items": per * (i + 1)}
        if last_exhausted and i == pages - 1:
            ch["exhausted"] = True
        out.append(redis(t0 + i, src, "SCAN", "enumerate", target=target, items=per,
                         page_size=per, flags=["continues"] if i else [],
                         continuation=cid if i else None, chain=ch))
    return out


def dataset_cases():
    c = {}
    c["5101"] = (walk(O[40], 0, 5, 500),                                  # 2,500 of 2,500
                 walk(O[41], 0, 2, 500, clear=True)                       # 1,000 of 2,500, cleared
                 + walk(O[42], 10, 4, 22, total=88, cid="2c00000000000002",
                        exhausted_at=3)                                   # whole, below the floor
                 + walk(O[43], 20, 5, 500, match_all=False, cid="2c00000000000003",
                        exhausted_at=4)                                   # a filtered query's end
                 + walk(O[44], 30, 10, 1000, total=10000, relation="gte",
                        cid="2c00000000000004")                           # 100 % of a lower bound
                 + walk(O[45], 50, 5, 500, auth="yes", cid="2c00000000000005")
                 + walk(TRUSTED, 60, 5, 500, cid="2c00000000000006"),
                 {5101: 1})
    c["5101-exhausted"] = (walk(O[46], 0, 3, 500, total=-1, cid="2c00000000000007",
                                exhausted_at=2),                          # no total, cursor ran out
                           walk(O[46], 0, 3, 500, total=-1, cid="2c00000000000007"),
                           {5101: 1})
    c["5102"] = (scan_walk(O[47], 0, 6, 100, "2c00000000000008"),          # 600 keys, cursor 0
                 scan_walk(O[48], 0, 6, 100, "2c00000000000009", last_exhausted=False)
                 + scan_walk(O[48], 10, 6, 100, "2c0000000000000a", target="session:*")
                 + scan_walk(O[48], 20, 1, 90, "2c0000000000000b"),          # 90 keys: floor
                 {5102: 1})
    reads = lambda src, n, per, auth="yes": [
        search(i, src, ES, size=per, items=per, client=UA_REQ, auth=auth,
               flags=["auth_header"] if auth == "yes" else ["match_all"]) for i in range(n)]
    c["5110"] = (reads(O[49], 50, 1000),                                   # 50,000 authenticated
                 reads(O[49], 49, 1000)                                   # 49,000
                 + reads(TRUSTED, 60, 1000),                              # trusted client
                 {5110: 1})
    c["5111"] = (walk(O[44], 0, 5, 500, auth="yes", cid="2c0000000000000c"),
                 walk(O[44], 0, 4, 225, total=900, auth="yes", cid="2c0000000000000d")  # 900 < 1,000
                 + walk(TRUSTED, 10, 5, 500, auth="yes", cid="2c0000000000000e")
                 + walk(O[45], 20, 5, 500, cid="2c0000000000000f"),  # no credentials: 5101's
                 {5111: 1})
    return c


def main():
    named = {"%d" % rid: case for rid, case in cases().items()}
    named.update(couch_solr_cases())
    named.update(auth_cases())
    named.update(dataset_cases())
    for rid, (fires, quiet, expect) in sorted(named.items()):
        for kind, ops in (("fires", fires), ("quiet", quiet)):
            with open(os.path.join(HERE, "%s-%s.jsonl" % (rid, kind)), "w") as f:
                for ev in sorted(ops, key=lambda e: e["timestamp"]):
                    f.write(json.dumps(ev, separators=(",", ":")) + "\n")
        with open(os.path.join(HERE, "%s-fires.expect" % rid), "w") as f:
            f.write("# rule-id count: alerts with update == 0 this file must raise\n")
            for k in sorted(expect, key=lambda k: (k != int(rid.split("-")[0]), k)):
                f.write("%d %d\n" % (k, expect[k]))


if __name__ == "__main__":
    main()
