#!/usr/bin/env python3
"""A small MongoDB test server, written from the MongoDB wire protocol and
BSON specifications, for recording real client traffic. Not a database.

    mongo_server.py [--port 27017] [--host 127.0.0.1] [--log FILE] [--cluster-time-key ID]

Speaks: the message header; OP_MSG (flag bits checksumPresent, moreToCome,
exhaustAllowed; section kinds 0 and 1); OP_QUERY on <db>.$cmd answered with
OP_REPLY; OP_COMPRESSED with noop, zlib (python's zlib), snappy and zstd
(Debian's libsnappy1v5 and libzstd1 through ctypes), answering compressed
requests with the same compressor. Commands: hello/isMaster (with
compression negotiation, saslSupportedMechs, speculativeAuthenticate and
the streaming "awaitable hello": exhaustAllowed gives a reply with
moreToCome every maxAwaitTimeMS), buildInfo, ping, serverStatus,
listDatabases, listCollections, find (batchSize, limit, skip; the filter is
ignored), getMore, killCursors, count, insert, drop, endSessions,
saslStart/saslContinue (SCRAM-SHA-256, RFC 5802/7677: user alice, password
s3cret, in admin). Database "secure" needs authentication: anything on it
before a successful SASL conversation gets code 13 Unauthorized.

With --cluster-time-key ID (issue 14) every command reply carries
$clusterTime {clusterTime: Timestamp, signature: {hash, keyId: ID}} as a
replica-set member running with access control does (its keys sign the
cluster time: keyId is the key's id, non-zero; the hash here is an
HMAC-SHA1 under a fixed test key). Without it, no $clusterTime, as a
standalone server.

Data are generated deterministically: shop.customers (6000 documents),
shop.orders (50), secure.payroll (100); `--extra DB.COLL=N` adds a
collection of N customer-shaped documents. `--bind` (default 127.0.0.1).

The log (JSON lines) has one record per reply sent: connection, request
opcode and requestID, reply requestID/responseTo, command, db, collection,
compressor, documents in the reply (cursor batch, databases), ok and code.
"""

import argparse
import base64
import ctypes
import datetime
import hashlib
import hmac
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

OP_REPLY, OP_QUERY, OP_COMPRESSED, OP_MSG = 1, 2004, 2012, 2013
COMPRESSORS = {"noop": 0, "snappy": 1, "zlib": 2, "zstd": 3}
NOT_COMPRESSED = {"hello", "ismaster", "saslstart", "saslcontinue", "getnonce", "authenticate",
                  "createuser", "updateuser", "copydbsaslstart", "copydbgetnonce", "copydb"}

# ------------------------------------------------------------------ BSON


class Int64(int):
    """An int encoded as BSON int64."""


class Timestamp(int):
    """A BSON timestamp: seconds << 32 | increment."""


class Binary(bytes):
    subtype = 0


class ObjectId(bytes):
    pass


def _cstring(s):
    b = s.encode()
    assert b"\0" not in b
    return b + b"\0"


def encode(doc):
    out = bytearray()
    items = doc.items() if isinstance(doc, dict) else ((str(i), v) for i, v in enumerate(doc))
    for k, v in items:
        key = _cstring(k)
        if isinstance(v, bool):
            out += b"\x08" + key + (b"\x01" if v else b"\x00")
        elif isinstance(v, Timestamp):
            out += b"\x11" + key + struct.pack("<Q", v)
        elif isinstance(v, Int64):
            out += b"\x12" + key + struct.pack("<q", v)
        elif isinstance(v, int):
            if -2**31 <= v < 2**31:
                out += b"\x10" + key + struct.pack("<i", v)
            else:
                out += b"\x12" + key + struct.pack("<q", v)
        elif isinstance(v, float):
            out += b"\x01" + key + struct.pack("<d", v)
        elif isinstance(v, str):
            b = v.encode()
            out += b"\x02" + key + struct.pack("<i", len(b) + 1) + b + b"\0"
        elif isinstance(v, dict):
            out += b"\x03" + key + encode(v)
        elif isinstance(v, (list, tuple)):
            out += b"\x04" + key + encode(list(v))
        elif isinstance(v, ObjectId):
            out += b"\x07" + key + bytes(v)
        elif isinstance(v, Binary):
            out += b"\x05" + key + struct.pack("<iB", len(v), v.subtype) + bytes(v)
        elif isinstance(v, datetime.datetime):
            ms = int(v.timestamp() * 1000)
            out += b"\x09" + key + struct.pack("<q", ms)
        elif v is None:
            out += b"\x0a" + key
        else:
            raise TypeError("cannot encode %r" % (v,))
    return struct.pack("<i", len(out) + 5) + bytes(out) + b"\0"


def decode(buf, offset=0, array=False):
    """-> (dict or list, end offset)."""
    (length,) = struct.unpack_from("<i", buf, offset)
    end = offset + length
    if length < 5 or end > len(buf) or buf[end - 1] != 0:
        raise ValueError("bad document length")
    pos = offset + 4
    out = {}
    while pos < end - 1:
        t = buf[pos]
        pos += 1
        nul = buf.index(b"\0", pos)
        key = buf[pos:nul].decode()
        pos = nul + 1
        if t == 0x01:
            v = struct.unpack_from("<d", buf, pos)[0]; pos += 8
        elif t in (0x02, 0x0D, 0x0E):
            (n,) = struct.unpack_from("<i", buf, pos)
            v = buf[pos + 4:pos + 4 + n - 1].decode("utf-8", "replace"); pos += 4 + n
        elif t in (0x03, 0x04):
            v, pos = decode(buf, pos, t == 0x04)
        elif t == 0x05:
            n, sub = struct.unpack_from("<iB", buf, pos)
            v = Binary(buf[pos + 5:pos + 5 + n]); v.subtype = sub; pos += 5 + n
        elif t == 0x07:
            v = ObjectId(buf[pos:pos + 12]); pos += 12
        elif t == 0x08:
            v = buf[pos] != 0; pos += 1
        elif t in (0x09, 0x11):
            v = struct.unpack_from("<q", buf, pos)[0]; pos += 8
        elif t == 0x0A or t in (0x06, 0xFF, 0x7F):
            v = None
        elif t == 0x10:
            v = struct.unpack_from("<i", buf, pos)[0]; pos += 4
        elif t == 0x12:
            v = Int64(struct.unpack_from("<q", buf, pos)[0]); pos += 8
        elif t == 0x13:
            v = None; pos += 16
        elif t == 0x0B:
            a = buf.index(b"\0", pos); b = buf.index(b"\0", a + 1); v = None; pos = b + 1
        else:
            raise ValueError("unknown BSON type 0x%02x" % t)
        out[key] = v
    if array:
        return [out[k] for k in out], end
    return out, end


# ------------------------------------------------------------------ compression


class Native:
    """zstd and snappy from Debian's shared libraries (ctypes)."""

    def __init__(self):
        self.zstd = ctypes.CDLL("libzstd.so.1")
        self.zstd.ZSTD_compressBound.restype = ctypes.c_size_t
        self.zstd.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
        self.zstd.ZSTD_compress.restype = ctypes.c_size_t
        self.zstd.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                            ctypes.c_size_t, ctypes.c_int]
        self.zstd.ZSTD_decompress.restype = ctypes.c_size_t
        self.zstd.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                              ctypes.c_size_t]
        self.zstd.ZSTD_isError.restype = ctypes.c_uint
        self.zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
        self.snappy = ctypes.CDLL("libsnappy.so.1")
        self.snappy.snappy_max_compressed_length.restype = ctypes.c_size_t
        self.snappy.snappy_max_compressed_length.argtypes = [ctypes.c_size_t]

    def zstd_compress(self, data):
        cap = self.zstd.ZSTD_compressBound(len(data))
        out = ctypes.create_string_buffer(cap)
        n = self.zstd.ZSTD_compress(out, cap, data, len(data), 3)
        if self.zstd.ZSTD_isError(n):
            raise ValueError("zstd compress failed")
        return out.raw[:n]

    def zstd_decompress(self, data, size):
        out = ctypes.create_string_buffer(max(size, 1))
        n = self.zstd.ZSTD_decompress(out, size, data, len(data))
        if self.zstd.ZSTD_isError(n) or n != size:
            raise ValueError("zstd decompress failed")
        return out.raw[:n]

    def snappy_compress(self, data):
        cap = self.snappy.snappy_max_compressed_length(len(data))
        out = ctypes.create_string_buffer(cap)
        n = ctypes.c_size_t(cap)
        if self.snappy.snappy_compress(data, ctypes.c_size_t(len(data)), out, ctypes.byref(n)) != 0:
            raise ValueError("snappy compress failed")
        return out.raw[:n.value]

    def snappy_decompress(self, data, size):
        out = ctypes.create_string_buffer(max(size, 1))
        n = ctypes.c_size_t(size)
        if self.snappy.snappy_uncompress(data, ctypes.c_size_t(len(data)), out, ctypes.byref(n)) != 0 \
                or n.value != size:
            raise ValueError("snappy decompress failed")
        return out.raw[:n.value]


NATIVE = Native()


def compress(cid, data):
    if cid == 0:
        return data
    if cid == 1:
        return NATIVE.snappy_compress(data)
    if cid == 2:
        return zlib.compress(data)
    if cid == 3:
        return NATIVE.zstd_compress(data)
    raise ValueError("compressor %d" % cid)


def decompress(cid, data, size):
    if cid == 0:
        return data
    if cid == 1:
        return NATIVE.snappy_decompress(data, size)
    if cid == 2:
        out = zlib.decompress(data)
        if len(out) != size:
            raise ValueError("zlib size")
        return out
    if cid == 3:
        return NATIVE.zstd_decompress(data, size)
    raise ValueError("compressor %d" % cid)


# ------------------------------------------------------------------ data

def make_customers(n):
    return [
        {"_id": i, "name": "customer-%05d" % i, "email": "c%05d@example.test" % i,
         "balance": float((i * 7919) % 100000) / 100.0, "tags": ["t%d" % (i % 7), "t%d" % (i % 11)],
         "address": {"city": "city-%d" % (i % 50), "zip": "%05d" % ((i * 31) % 100000)}}
        for i in range(n)]


def make_data():
    data = {"shop": {}, "secure": {}, "admin": {}}
    data["shop"]["customers"] = make_customers(6000)
    data["shop"]["orders"] = [{"_id": i, "customer": i * 3, "total": float(i) * 1.5} for i in range(50)]
    data["secure"]["payroll"] = [{"_id": i, "employee": "e%04d" % i, "salary": 50000 + i * 10}
                                 for i in range(100)]
    return data


# ------------------------------------------------------------------ SCRAM-SHA-256

USERS = {("admin", "alice"): "s3cret"}
SALT = b"scrapewatch-salt"
ITERATIONS = 15000


def scram_keys(password):
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), SALT, ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest(), server_key


def parse_scram(msg):
    out = {}
    for part in msg.split(","):
        if len(part) >= 2 and part[1] == "=":
            out[part[0]] = part[2:]
    return out


# ------------------------------------------------------------------ server

class State:
    lock = threading.Lock()
    next_request_id = 1000
    next_cursor = 7340001234567
    next_conn = 1
    cursors = {}
    log = None
    data = make_data()
    process_id = ObjectId(b"scrapewatch!")
    cluster_time_key = 0      # --cluster-time-key: sign replies' $clusterTime with this keyId
    cluster_time_inc = 0


def cluster_time():
    """$clusterTime as a member with access control sends it."""
    with State.lock:
        State.cluster_time_inc += 1
        ts = Timestamp((int(time.time()) << 32) | State.cluster_time_inc)
    mac = hmac.new(b"scrapewatch test cluster key", struct.pack("<Q", ts), hashlib.sha1).digest()
    return {"clusterTime": ts, "signature": {"hash": Binary(mac), "keyId": Int64(State.cluster_time_key)}}


def new_request_id():
    with State.lock:
        State.next_request_id += 1
        return State.next_request_id


def log(record):
    if State.log:
        with State.lock:
            State.log.write(json.dumps(record) + "\n")
            State.log.flush()


def err(code, name, msg):
    return {"ok": 0.0, "errmsg": msg, "code": code, "codeName": name}


class Handler(socketserver.BaseRequestHandler):

    def setup(self):
        with State.lock:
            self.conn_id = State.next_conn
            State.next_conn += 1
        self.compressor = None      # negotiated name
        self.authenticated = False
        self.sasl = None
        self.peer = "%s:%d" % self.client_address[:2]

    # -------------------------------------------------------------- I/O
    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def send_message(self, opcode, body, response_to, compressor_id=None, flags_more=False):
        rid = new_request_id()
        if compressor_id is not None:
            inner = body
            body = struct.pack("<iiB", opcode, len(inner), compressor_id) + compress(compressor_id, inner)
            opcode = OP_COMPRESSED
        header = struct.pack("<iiii", 16 + len(body), rid, response_to, opcode)
        self.request.sendall(header + body)
        return rid

    def handle(self):
        try:
            while True:
                header = self.recv_exact(16)
                length, rid, _, opcode = struct.unpack("<iiii", header)
                body = self.recv_exact(length - 16)
                cid = None
                if opcode == OP_COMPRESSED:
                    orig, size, cid = struct.unpack_from("<iiB", body)
                    body = decompress(cid, body[9:], size)
                    opcode = orig
                if opcode == OP_MSG:
                    self.on_msg(rid, body, cid)
                elif opcode == OP_QUERY:
                    self.on_query(rid, body, cid)
                else:
                    print("server: opcode %d not handled" % opcode, file=sys.stderr)
        except (EOFError, ConnectionError, OSError):
            return

    # -------------------------------------------------------------- opcodes
    def on_msg(self, rid, body, cid):
        (flags,) = struct.unpack_from("<I", body)
        end = len(body) - (4 if flags & 1 else 0)
        pos = 4
        cmd = None
        while pos < end:
            kind = body[pos]
            pos += 1
            if kind == 0:
                cmd, pos = decode(body, pos)
            elif kind == 1:
                (size,) = struct.unpack_from("<i", body, pos)
                sec_end = pos + size
                nul = body.index(b"\0", pos + 4)
                ident = body[pos + 4:nul].decode()
                p = nul + 1
                docs = []
                while p < sec_end:
                    d, p = decode(body, p)
                    docs.append(d)
                pos = sec_end
                seq = cmd.setdefault("__seq", {}) if cmd is not None else None
                if seq is not None:
                    seq[ident] = docs
            else:
                raise ValueError("section kind %d" % kind)
        for ident, docs in (cmd.pop("__seq", {}) or {}).items():
            cmd[ident] = docs
        reply, name, db, coll = self.run(cmd)
        more_to_come = bool(flags & 2)
        if more_to_come:
            log({"conn": self.conn_id, "peer": self.peer, "opcode": "OP_MSG", "request_id": rid,
                 "command": name, "db": db, "collection": coll, "more_to_come": True,
                 "compressor": cid, "reply": None})
            return
        out_cid = cid if cid is not None and name.lower() not in NOT_COMPRESSED else None
        exhaust = bool(flags & 0x10000) and name.lower() in ("hello", "ismaster") and "maxAwaitTimeMS" in cmd
        if exhaust:
            self.stream_hello(rid, cmd, out_cid, name, db)
            return
        reply_id = self.send_message(OP_MSG, struct.pack("<I", 0) + b"\0" + encode(reply), rid, out_cid)
        self.log_reply("OP_MSG", rid, reply_id, rid, name, db, coll, out_cid, reply)

    def stream_hello(self, rid, cmd, out_cid, name, db):
        """Awaitable hello with exhaustAllowed: after maxAwaitTimeMS a reply
        with moreToCome, then another every maxAwaitTimeMS, each answering the
        previous one, until the client goes away."""
        wait = min(int(cmd.get("maxAwaitTimeMS", 1000)), 10000) / 1000.0
        previous = rid
        while True:
            time.sleep(wait)
            reply = self.hello_reply(cmd, first=False)
            body = struct.pack("<I", 2) + b"\0" + encode(reply)
            try:
                reply_id = self.send_message(OP_MSG, body, previous, out_cid)
            except OSError:
                return
            self.log_reply("OP_MSG", rid, reply_id, previous, name, db, None, out_cid, reply,
                           more_to_come=True)
            previous = reply_id

    def on_query(self, rid, body, cid):
        (flags,) = struct.unpack_from("<i", body)
        nul = body.index(b"\0", 4)
        ns = body[4:nul].decode()
        skip, nret = struct.unpack_from("<ii", body, nul + 1)
        query, _ = decode(body, nul + 9)
        db = ns.split(".", 1)[0]
        if not ns.endswith(".$cmd"):
            reply = err(2, "BadValue", "legacy queries are not supported")
            name = "legacy-query"
            coll = ns.split(".", 1)[1]
        else:
            if "$query" in query:
                query = query["$query"]
            query.setdefault("$db", db)
            reply, name, db, coll = self.run(query)
        out_cid = cid if cid is not None and name.lower() not in NOT_COMPRESSED else None
        body = struct.pack("<iqii", 0, 0, 0, 1) + encode(reply)
        reply_id = self.send_message(OP_REPLY, body, rid, out_cid)
        self.log_reply("OP_QUERY", rid, reply_id, rid, name, db, coll, out_cid, reply)

    def log_reply(self, opcode, rid, reply_id, response_to, name, db, coll, cid, reply, more_to_come=False):
        docs = None
        if isinstance(reply.get("cursor"), dict):
            c = reply["cursor"]
            docs = len(c.get("firstBatch", c.get("nextBatch", [])))
        elif name == "listDatabases" and "databases" in reply:
            docs = len(reply["databases"])
        log({"conn": self.conn_id, "peer": self.peer, "opcode": opcode, "request_id": rid,
             "reply_id": reply_id, "response_to": response_to, "command": name, "db": db,
             "collection": coll, "compressor": cid, "documents": docs,
             "ok": reply.get("ok"), "code": reply.get("code"), "codeName": reply.get("codeName"),
             "more_to_come": more_to_come})

    # -------------------------------------------------------------- commands
    def run(self, cmd):
        reply, name, db, coll = self.run_command(cmd)
        if State.cluster_time_key:
            reply["$clusterTime"] = cluster_time()
        return reply, name, db, coll

    def run_command(self, cmd):
        name = next(iter(cmd)) if cmd else ""
        db = cmd.get("$db", "admin")
        coll = cmd[name] if isinstance(cmd.get(name), str) else None
        lname = name.lower()
        try:
            if lname in ("hello", "ismaster"):
                return self.hello_reply(cmd, first=True), name, db, coll
            if db == "secure" and not self.authenticated:
                return err(13, "Unauthorized", "command %s requires authentication" % name), name, db, coll
            handler = getattr(self, "cmd_" + lname, None)
            if handler is None:
                return err(59, "CommandNotFound", "no such command: '%s'" % name), name, db, coll
            reply, coll2 = handler(cmd, db)
            return reply, name, db, coll2 if coll2 is not None else coll
        except Exception as e:   # a bug of this test server: say so, keep serving
            print("server: %s failed: %r" % (name, e), file=sys.stderr)
            return err(1, "InternalError", str(e)), name, db, coll

    def hello_reply(self, cmd, first):
        reply = {"helloOk": True, "isWritablePrimary": True, "ismaster": True,
                 "topologyVersion": {"processId": State.process_id, "counter": Int64(0)},
                 "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
                 "maxWriteBatchSize": 100000, "localTime": datetime.datetime.now(datetime.timezone.utc),
                 "logicalSessionTimeoutMinutes": 30, "connectionId": self.conn_id,
                 "minWireVersion": 0, "maxWireVersion": 17, "readOnly": False}
        if first and isinstance(cmd.get("compression"), list):
            for c in cmd["compression"]:
                if c in COMPRESSORS and c != "noop":
                    self.compressor = c
                    reply["compression"] = [c]
                    break
        if "saslSupportedMechs" in cmd:
            reply["saslSupportedMechs"] = ["SCRAM-SHA-256"]
        spec = cmd.get("speculativeAuthenticate")
        if isinstance(spec, dict) and spec.get("mechanism") == "SCRAM-SHA-256":
            r, _ = self.cmd_saslstart(spec, spec.get("db", "admin"))
            if r.get("ok"):
                reply["speculativeAuthenticate"] = {k: r[k] for k in ("conversationId", "done", "payload")}
        reply["ok"] = 1.0
        return reply

    def cmd_buildinfo(self, cmd, db):
        return {"version": "6.0.0", "gitVersion": "0" * 40, "versionArray": [6, 0, 0, 0],
                "bits": 64, "maxBsonObjectSize": 16777216, "ok": 1.0}, None

    def cmd_ping(self, cmd, db):
        return {"ok": 1.0}, None

    def cmd_serverstatus(self, cmd, db):
        return {"host": "scrapewatch-test", "version": "6.0.0", "process": "mongod", "pid": Int64(os.getpid()),
                "uptime": 42.0, "connections": {"current": 1, "available": 100}, "ok": 1.0}, None

    def cmd_listdatabases(self, cmd, db):
        dbs = [{"name": n, "sizeOnDisk": Int64(8192 * (1 + len(c))), "empty": not c}
               for n, c in sorted(State.data.items())]
        if cmd.get("nameOnly"):
            dbs = [{"name": d["name"]} for d in dbs]
        return {"databases": dbs, "totalSize": Int64(sum(d.get("sizeOnDisk", 0) for d in dbs)), "ok": 1.0}, None

    def cmd_listcollections(self, cmd, db):
        colls = [{"name": n, "type": "collection", "options": {}, "info": {"readOnly": False}}
                 for n in sorted(State.data.get(db, {}))]
        return {"cursor": {"firstBatch": colls, "id": Int64(0), "ns": db + ".$cmd.listCollections"},
                "ok": 1.0}, None

    def cmd_count(self, cmd, db):
        coll = cmd["count"]
        return {"n": len(State.data.get(db, {}).get(coll, [])), "ok": 1.0}, coll

    def cmd_find(self, cmd, db):
        coll = cmd["find"]
        docs = State.data.get(db, {}).get(coll, [])
        skip = int(cmd.get("skip", 0) or 0)
        limit = int(cmd.get("limit", 0) or 0)
        docs = docs[skip:]
        if limit:
            docs = docs[:abs(limit)]
        batch = int(cmd.get("batchSize", 101) or 101)
        if cmd.get("singleBatch"):
            batch = len(docs)
        first, rest = docs[:batch], docs[batch:]
        cursor_id = 0
        if rest:
            with State.lock:
                State.next_cursor += 7919
                cursor_id = State.next_cursor
                State.cursors[cursor_id] = (db, coll, rest)
        return {"cursor": {"firstBatch": first, "id": Int64(cursor_id), "ns": "%s.%s" % (db, coll)},
                "ok": 1.0}, coll

    def cmd_getmore(self, cmd, db):
        cursor_id = int(cmd["getMore"])
        coll = cmd.get("collection")
        with State.lock:
            entry = State.cursors.pop(cursor_id, None)
        if entry is None:
            return err(43, "CursorNotFound", "cursor id %d not found" % cursor_id), coll
        db_, coll, rest = entry
        batch = int(cmd.get("batchSize", 0) or 0) or len(rest)
        first, rest = rest[:batch], rest[batch:]
        next_id = 0
        if rest:
            next_id = cursor_id
            with State.lock:
                State.cursors[cursor_id] = (db_, coll, rest)
        return {"cursor": {"nextBatch": first, "id": Int64(next_id), "ns": "%s.%s" % (db_, coll)},
                "ok": 1.0}, coll

    def cmd_killcursors(self, cmd, db):
        ids = [int(i) for i in cmd.get("cursors", [])]
        with State.lock:
            for i in ids:
                State.cursors.pop(i, None)
        return {"cursorsKilled": [Int64(i) for i in ids], "cursorsNotFound": [], "cursorsAlive": [],
                "cursorsUnknown": [], "ok": 1.0}, cmd.get("killCursors")

    def cmd_insert(self, cmd, db):
        coll = cmd["insert"]
        docs = cmd.get("documents", [])
        State.data.setdefault(db, {}).setdefault(coll, []).extend(docs)
        return {"n": len(docs), "ok": 1.0}, coll

    def cmd_drop(self, cmd, db):
        coll = cmd["drop"]
        State.data.get(db, {}).pop(coll, None)
        return {"ok": 1.0}, coll

    def cmd_endsessions(self, cmd, db):
        return {"ok": 1.0}, None

    # -------------------------------------------------------------- SCRAM-SHA-256
    def cmd_saslstart(self, cmd, db):
        if cmd.get("mechanism") != "SCRAM-SHA-256":
            return err(2, "BadValue", "mechanism not supported"), None
        first = bytes(cmd.get("payload", b"")).decode()
        if not first.startswith("n,,"):
            return err(18, "AuthenticationFailed", "Authentication failed."), None
        bare = first[3:]
        attrs = parse_scram(bare)
        user, cnonce = attrs.get("n", ""), attrs.get("r", "")
        nonce = cnonce + base64.b64encode(os.urandom(18)).decode()
        server_first = "r=%s,s=%s,i=%d" % (nonce, base64.b64encode(SALT).decode(), ITERATIONS)
        skip_empty = bool((cmd.get("options") or {}).get("skipEmptyExchange"))
        self.sasl = {"db": db, "user": user, "bare": bare, "server_first": server_first,
                     "nonce": nonce, "step": 1, "skip_empty": skip_empty}
        return {"conversationId": 1, "done": False, "payload": Binary(server_first.encode()), "ok": 1.0}, None

    def cmd_saslcontinue(self, cmd, db):
        s = self.sasl
        fail = err(18, "AuthenticationFailed", "Authentication failed.")
        if not s:
            return fail, None
        if s["step"] == 2:                  # the empty exchange after server-final
            self.sasl = None
            self.authenticated = True
            return {"conversationId": 1, "done": True, "payload": Binary(b""), "ok": 1.0}, None
        final = bytes(cmd.get("payload", b"")).decode()
        attrs = parse_scram(final)
        without_proof = final[:final.rfind(",p=")]
        password = USERS.get((s["db"], s["user"]))
        if password is None or attrs.get("r") != s["nonce"]:
            self.sasl = None
            return fail, None
        stored_key, server_key = scram_keys(password)
        auth_message = ",".join((s["bare"], s["server_first"], without_proof)).encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = base64.b64decode(attrs.get("p", ""))
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if len(proof) != 32 or hashlib.sha256(client_key).digest() != stored_key:
            self.sasl = None
            return fail, None
        server_sig = base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest()).decode()
        payload = Binary(("v=" + server_sig).encode())
        if s["skip_empty"]:
            self.sasl = None
            self.authenticated = True
            return {"conversationId": 1, "done": True, "payload": payload, "ok": 1.0}, None
        s["step"] = 2
        return {"conversationId": 1, "done": False, "payload": payload, "ok": 1.0}, None


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=27017)
    ap.add_argument("--host", "--bind", dest="host", default="127.0.0.1")
    ap.add_argument("--log")
    ap.add_argument("--cluster-time-key", type=int, default=0)
    ap.add_argument("--extra", action="append", default=[], metavar="DB.COLL=COUNT",
                    help="add a collection of COUNT customer-shaped documents (repeatable)")
    args = ap.parse_args()
    for spec in args.extra:
        ns, _, count = spec.partition("=")
        db, _, coll = ns.partition(".")
        if not db or not coll or not count.isdigit():
            sys.exit("mongo_server: --extra wants DB.COLL=COUNT, got %r" % spec)
        State.data.setdefault(db, {})[coll] = make_customers(int(count))
    if args.log:
        State.log = open(args.log, "a")
    State.cluster_time_key = args.cluster_time_key
    with Server((args.host, args.port), Handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
