#!/usr/bin/env python3
"""make_mixed.py OUT [MEGABYTES] [SEED] - the mixed benchmark capture: what a
mirror port in front of a hosting network carries, written byte by byte
(standard library only). Deterministic: the same arguments write the same
file. At least MEGABYTES (default 512; the connections open at that point
are finished), seed 1 by default.

Share of bytes (of packets), seed 1:
  TLS-like on :443   51 % (45 %)  ClientHello with SNI, ServerHello, then
                                  application-data records of random bytes
  HTTP on :80        26 % (24 %)  keep-alive GETs of HTML, JSON and images
  databases          22 % (21 %)  Elasticsearch scroll dumps (:9200, 7 %),
                                  MongoDB find + getMore streams (:27017,
                                  6 %), memcached multi-gets (:11211, 5 %),
                                  Redis pipelines (:6379, 5 %)
  DNS on :53/udp    0.2 % (2 %)   queries and answers
  SYN probes        0.4 % (9 %)   one SYN to a database or admin port from a
                                  scanner, answered by RST
About 40 connections are open at once and their packets interleave. Some
loss (0.2 % of data segments never appear) and reordering (0.5 % of data
segments swap with the next one). TCP segments are at most 1448 bytes.
Checksums are left zero (nothing here verifies them)."""
import random
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from make_kv_stream import memcached_batch, redis_batch  # noqa: E402

MSS = 1448
LOSS, REORDER = 0.002, 0.005
CONCURRENT = 40


class Pool:
    """Seeded pseudo-random bytes, sliced (random bytes per packet would be
    slow to make in Python)."""

    def __init__(self, rng):
        self.data = rng.randbytes(1 << 20)
        self.rng = rng

    def take(self, n):
        off = self.rng.randrange(0, len(self.data) - n) if n < len(self.data) else 0
        return self.data[off:off + n]


def frame_tcp(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0,
                     src, dst)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp + payload


def frame_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0, 0x4000, 64, 17, 0,
                     src, dst)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp + payload


class Conn:
    """One TCP connection as a list of frames: handshake, exchanges, FIN."""

    def __init__(self, rng, client, server, sport, dport):
        self.rng, self.c, self.s, self.sp, self.dp = rng, client, server, sport, dport
        self.cseq, self.sseq = rng.getrandbits(32), rng.getrandbits(32)
        self.frames = []

    def handshake(self):
        self.frames.append(frame_tcp(self.c, self.s, self.sp, self.dp, self.cseq, 0, 0x02, b""))
        self.frames.append(frame_tcp(self.s, self.c, self.dp, self.sp, self.sseq,
                                     self.cseq + 1, 0x12, b""))
        self.cseq += 1
        self.sseq += 1
        self.frames.append(frame_tcp(self.c, self.s, self.sp, self.dp, self.cseq, self.sseq,
                                     0x10, b""))

    def send(self, from_client, data):
        segs = []
        for off in range(0, len(data), MSS):
            part = data[off:off + MSS]
            if from_client:
                segs.append(frame_tcp(self.c, self.s, self.sp, self.dp, self.cseq + off,
                                      self.sseq, 0x18, part))
            else:
                segs.append(frame_tcp(self.s, self.c, self.dp, self.sp, self.sseq + off,
                                      self.cseq, 0x18, part))
        if from_client:
            self.cseq += len(data)
        else:
            self.sseq += len(data)
        self.frames.extend(self.damage(segs))

    def damage(self, segs):
        out = []
        for seg in segs:
            if self.rng.random() < LOSS:
                continue
            out.append(seg)
        for i in range(len(out) - 1):
            if self.rng.random() < REORDER:
                out[i], out[i + 1] = out[i + 1], out[i]
        return out

    def close(self):
        self.frames.append(frame_tcp(self.c, self.s, self.sp, self.dp, self.cseq, self.sseq,
                                     0x11, b""))
        self.frames.append(frame_tcp(self.s, self.c, self.dp, self.sp, self.sseq,
                                     self.cseq + 1, 0x11, b""))
        self.frames.append(frame_tcp(self.c, self.s, self.sp, self.dp, self.cseq + 1,
                                     self.sseq + 1, 0x10, b""))


# ---- protocols ----

def tls_record(kind, body):
    return struct.pack("!BHH", kind, 0x0303, len(body)) + body


def tls_client_hello(rng, sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    groups = struct.pack("!HHHHH", 10, 6, 4, 0x001d, 0x0017)
    alpn = struct.pack("!HHH", 16, 14, 12) + b"\x02h2\x08http/1.1"
    exts = sni_ext + groups + alpn
    suites = struct.pack("!H", 8) + struct.pack("!HHHH", 0x1301, 0x1302, 0xc02f, 0xc030)
    body = (b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) + suites +
            b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    hs = struct.pack("!B", 1) + len(body).to_bytes(3, "big") + body
    return tls_record(22, hs)


def tls_server_hello(rng, pool):
    body = b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) + b"\x13\x01\x00" + \
        struct.pack("!H", 6) + struct.pack("!HHH", 43, 2, 0x0304)
    hs = struct.pack("!B", 2) + len(body).to_bytes(3, "big") + body
    return tls_record(22, hs) + tls_record(20, b"\x01") + tls_record(23, pool.take(2800))


def tls_app(pool, n):
    out = b""
    while n > 0:
        k = min(n, 16384)
        out += tls_record(23, pool.take(k))
        n -= k
    return out


def tls_conn(rng, pool, conn):
    conn.handshake()
    host = "cdn%d.example%d.com" % (rng.randrange(50), rng.randrange(20))
    conn.send(True, tls_client_hello(rng, host))
    conn.send(False, tls_server_hello(rng, pool))
    for _ in range(rng.randrange(1, 8)):
        conn.send(True, tls_app(pool, rng.randrange(100, 900)))
        conn.send(False, tls_app(pool, int(rng.expovariate(1 / 60000)) + 200))
    conn.close()


def http_conn(rng, pool, conn):
    conn.handshake()
    host = b"www.site%d.example" % rng.randrange(100)
    for _ in range(rng.randrange(1, 10)):
        kind = rng.randrange(3)
        path = b"/page/%d" % rng.randrange(10000)
        req = (b"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
               b"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"
               % (path, host))
        n = int(rng.expovariate(1 / 30000)) + 100
        if kind == 0:
            ctype = b"text/html; charset=utf-8"
            body = (b"<p>lorem ipsum dolor sit amet</p>\n" * (n // 33 + 1))[:n]
        elif kind == 1:
            ctype = b"application/json"
            items = b",".join(b'{"id":%d,"title":"item %d","tags":["a","b"],"price":%d.5}'
                              % (i, i, i) for i in range(n // 50 + 1))
            body = b'{"items":[' + items + b']}'
        else:
            ctype, body = b"image/jpeg", pool.take(n)
        rep = (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
               b"Cache-Control: max-age=60\r\n\r\n" % (ctype, len(body))) + body
        conn.send(True, req)
        conn.send(False, rep)
    conn.close()


def es_hit(i):
    return (b'{"_index":"customers","_type":"_doc","_id":"%d","_score":null,"_source":'
            b'{"name":"user %d","email":"user%d@mail.example","city":"Springfield",'
            b'"created":"2024-01-%02dT10:00:00Z","orders":%d,"active":true},"sort":[%d]}'
            % (i, i, i, i % 28 + 1, i % 17, i))


def es_conn(rng, pool, conn):
    """An elasticdump-style scroll: open a scroll, then pages of 100 hits."""
    conn.handshake()
    sid = b"DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAA" + b"%08d" % rng.randrange(10 ** 8)
    total = 100 * 40
    pages = rng.randrange(5, 30)
    for p in range(pages):
        if p == 0:
            body = b'{"size":100,"query":{"match_all":{}},"sort":["_doc"]}'
            line = b"POST /customers/_search?scroll=10m HTTP/1.1"
        else:
            body = b'{"scroll":"10m","scroll_id":"%s"}' % sid
            line = b"POST /_search/scroll HTTP/1.1"
        req = (line + b"\r\nHost: 10.0.9.2:9200\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % len(body)) + body
        hits = b",".join(es_hit(p * 100 + i) for i in range(100))
        rep_body = (b'{"_scroll_id":"%s","took":3,"timed_out":false,"_shards":{"total":1,'
                    b'"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":%d,'
                    b'"relation":"eq"},"max_score":null,"hits":[%s]}}' % (sid, total, hits))
        rep = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n"
               b"content-length: %d\r\n\r\n" % len(rep_body)) + rep_body
        conn.send(True, req)
        conn.send(False, rep)
    conn.close()


def bson_elem(name, v):
    n = name.encode() + b"\0"
    if isinstance(v, bool):
        return b"\x08" + n + (b"\x01" if v else b"\x00")
    if isinstance(v, float):
        return b"\x01" + n + struct.pack("<d", v)
    if isinstance(v, int):
        if -2 ** 31 <= v < 2 ** 31:
            return b"\x10" + n + struct.pack("<i", v)
        return b"\x12" + n + struct.pack("<q", v)
    if isinstance(v, str):
        s = v.encode() + b"\0"
        return b"\x02" + n + struct.pack("<i", len(s)) + s
    if isinstance(v, list):
        return b"\x04" + n + bson_doc([(str(i), x) for i, x in enumerate(v)])
    if isinstance(v, bytes):   # an already encoded document
        return b"\x03" + n + v
    return b"\x03" + n + bson_doc(v)


def bson_doc(items):
    body = b"".join(bson_elem(k, v) for k, v in items)
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def op_msg(req_id, resp_to, doc):
    body = struct.pack("<I", 0) + b"\0" + doc
    return struct.pack("<iiii", 16 + len(body), req_id, resp_to, 2013) + body


def mongo_doc(i):
    return bson_doc([("_id", i), ("name", "user %d" % i), ("email", "user%d@mail.example" % i),
                     ("age", 20 + i % 50), ("score", i * 1.5), ("active", i % 2 == 0)])


def mongo_conn(rng, pool, conn):
    """A driver reading a whole collection: find, then getMore until done."""
    conn.handshake()
    cursor = rng.getrandbits(62) | 1
    rid = 1
    batches = rng.randrange(5, 30)
    for b in range(batches):
        if b == 0:
            req = bson_doc([("find", "users"), ("filter", []), ("batchSize", 200),
                            ("$db", "app")])
            key = "firstBatch"
        else:
            req = bson_doc([("getMore", cursor), ("collection", "users"), ("batchSize", 200),
                            ("$db", "app")])
            key = "nextBatch"
        docs = [mongo_doc(b * 200 + i) for i in range(200)]
        cid = 0 if b == batches - 1 else cursor
        rep = bson_doc([("cursor", bson_doc([(key, docs), ("id", cid), ("ns", "app.users")])),
                        ("ok", 1.0)])
        conn.send(True, op_msg(rid, 0, req))
        conn.send(False, op_msg(rid + 1000000, rid, rep))
        rid += 1
    conn.close()


def kv_conn(batch):
    def run(rng, pool, conn):
        conn.handshake()
        n = rng.randrange(1000)
        for b in range(rng.randrange(5, 25)):
            req, rep = batch(n, b)
            conn.send(True, req)
            conn.send(False, rep)
        conn.close()
    return run


def dns_name(name):
    return b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0"


def dns_frames(rng):
    client = bytes([10, 20, rng.randrange(256), rng.randrange(1, 255)])
    resolver = bytes([10, 0, 0, 53])
    sport, qid = rng.randrange(1024, 65535), rng.randrange(65536)
    name = b"host%d.domain%d.example" % (rng.randrange(1000), rng.randrange(50))
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + b"\0\x01\0\x01"
    a = (struct.pack("!HHHHHH", qid, 0x8180, 1, 2, 0, 0) + dns_name(name) + b"\0\x01\0\x01" +
         (b"\xc0\x0c\0\x01\0\x01\0\0\x01\x2c\0\x04" + bytes([93, 184, rng.randrange(256), 1])) * 2)
    return [frame_udp(client, resolver, sport, 53, q), frame_udp(resolver, client, 53, sport, a)]


def syn_probe(rng):
    scanner = bytes([45, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)])
    target = bytes([10, 0, rng.randrange(16), rng.randrange(1, 255)])
    port = rng.choice([9200, 27017, 6379, 11211, 5984, 8983, 9042, 22, 3389, 3306, 5432, 23])
    sport = rng.randrange(1024, 65535)
    return [frame_tcp(scanner, target, sport, port, rng.getrandbits(32), 0, 0x02, b""),
            frame_tcp(target, scanner, port, sport, 0, 0, 0x14, b"")]


# (weight by connection count, maker, server port); weights tuned for the
# byte shares in the docstring.
KINDS = [
    (60, tls_conn, 443),
    (45, http_conn, 80),
    (5, es_conn, 9200),
    (4, mongo_conn, 27017),
    (6, kv_conn(redis_batch), 6379),
    (2, kv_conn(memcached_batch), 11211),
]


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.us = 1_700_000_000 * 1_000_000
        self.bytes = 24
        self.packets = 0

    def write(self, frame):
        self.us += 7
        self.f.write(struct.pack("<IIII", self.us // 1_000_000, self.us % 1_000_000,
                                 len(frame), len(frame)) + frame)
        self.bytes += 16 + len(frame)
        self.packets += 1


def new_conn(rng, pool, serial):
    weights = [k[0] for k in KINDS]
    _, make, port = rng.choices(KINDS, weights)[0]
    client = bytes([10, 1 + serial // 60000 % 200, rng.randrange(256), rng.randrange(1, 255)])
    server = bytes([10, 0, 9, 1 + port % 200])
    conn = Conn(rng, client, server, 32768 + serial % 28000, port)
    make(rng, pool, conn)
    return conn.frames


def main():
    out = sys.argv[1]
    megabytes = int(sys.argv[2]) if len(sys.argv) > 2 else 512
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    pool = Pool(rng)
    w = Writer(out)
    active, serial = [], 0
    while w.bytes < megabytes * 1_000_000:
        while len(active) < CONCURRENT:
            active.append([new_conn(rng, pool, serial), 0])
            serial += 1
        i = rng.randrange(len(active))
        frames, pos = active[i]
        burst = rng.randrange(1, 6)
        for frame in frames[pos:pos + burst]:
            w.write(frame)
        active[i][1] = pos + burst
        if active[i][1] >= len(frames):
            active.pop(i)
        r = rng.random()
        if r < 0.15:
            for frame in syn_probe(rng):
                w.write(frame)
        elif r < 0.19:
            for frame in dns_frames(rng):
                w.write(frame)
    for frames, pos in active:   # finish the open connections
        for frame in frames[pos:]:
            w.write(frame)
    w.f.close()
    print(f"{out}: {w.packets} packets, {w.bytes / 1e6:.0f} MB, {serial} connections")


if __name__ == "__main__":
    main()
