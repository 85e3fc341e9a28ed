#!/usr/bin/python3
"""cassandra_server.py - a small test server for the Cassandra native protocol.

Written from the native protocol specifications (native_protocol_v4.spec and
native_protocol_v5.spec), not from Cassandra's code, to record real drivers:
there is no Cassandra server package in Debian. It speaks v4 and v5 (v5 with
segment framing, CRC24/CRC32, lz4 segments when STARTUP asks for lz4), v4
frame compression (lz4, snappy if the module is there), optional password
authentication, and serves a fake cluster:

    system.local, system.peers(_v2)     one node, no peers
    system_schema.keyspaces/tables/columns   the keyspace `shop`
    shop.users                          --rows rows (id int, name text, email text),
                                        paged by the request's result_page_size;
                                        WHERE id = N: that one row
    USE, INSERT/UPDATE/DELETE (Void), DROP/CREATE (Schema_change), TRUNCATE (Void)

Each response is logged as one JSON line to --log: stream, opcode, verb,
table, rows sent, whether a paging state was sent or continued.

    cassandra_server.py --port 9042 --log replies.jsonl [--auth user:pass] [--rows N] [--bind ADDR]
"""
import argparse
import hashlib
import json
import re
import socket
import socketserver
import struct
import threading
import zlib

try:
    import lz4.block as lz4block
except ImportError:  # pragma: no cover
    lz4block = None
try:
    import snappy
except ImportError:  # pragma: no cover
    snappy = None

OP = dict(ERROR=0x00, STARTUP=0x01, READY=0x02, AUTHENTICATE=0x03, OPTIONS=0x05,
          SUPPORTED=0x06, QUERY=0x07, RESULT=0x08, PREPARE=0x09, EXECUTE=0x0A,
          REGISTER=0x0B, EVENT=0x0C, BATCH=0x0D, AUTH_CHALLENGE=0x0E,
          AUTH_RESPONSE=0x0F, AUTH_SUCCESS=0x10)
OPNAME = {v: k for k, v in OP.items()}
T_VARCHAR, T_INT, T_UUID, T_INET, T_SET = 0x000D, 0x0009, 0x000C, 0x0010, 0x0022

LOG_LOCK = threading.Lock()


# ---------------------------------------------------------------- encoding
def short(n):
    return struct.pack(">H", n)


def int32(n):
    return struct.pack(">i", n)


def string(s):
    b = s.encode()
    return short(len(b)) + b


def string_list(items):
    return short(len(items)) + b"".join(string(s) for s in items)


def string_multimap(m):
    return short(len(m)) + b"".join(string(k) + string_list(v) for k, v in m.items())


def value(b):
    return int32(-1) if b is None else int32(len(b)) + b


def encode_cell(typ, v):
    if v is None:
        return None
    if typ == T_INT:
        return struct.pack(">i", v)
    if typ == T_UUID:
        return v
    if typ == T_INET:
        return socket.inet_aton(v)
    if isinstance(typ, tuple):      # set<varchar>
        return struct.pack(">i", len(v)) + b"".join(int32(len(x.encode())) + x.encode() for x in v)
    return v.encode()


def type_option(typ):
    if isinstance(typ, tuple):
        return short(T_SET) + short(typ[1])
    return short(typ)


def rows_result(ks, table, columns, rows, paging_state=None):
    """RESULT Rows with a global table spec."""
    flags = 0x0001 | (0x0002 if paging_state is not None else 0)
    out = int32(2) + int32(flags) + int32(len(columns))
    if paging_state is not None:
        out += value(paging_state)
    out += string(ks) + string(table)
    for name, typ in columns:
        out += string(name) + type_option(typ)
    out += int32(len(rows))
    for row in rows:
        for (name, typ), v in zip(columns, row):
            out += value(encode_cell(typ, v))
    return out


def error(code, msg):
    return int32(code) + string(msg)


# ---------------------------------------------------------------- the data
LOCAL_COLS = [("key", T_VARCHAR), ("bootstrapped", T_VARCHAR), ("broadcast_address", T_INET),
              ("cluster_name", T_VARCHAR), ("cql_version", T_VARCHAR), ("data_center", T_VARCHAR),
              ("host_id", T_UUID), ("listen_address", T_INET), ("partitioner", T_VARCHAR),
              ("rack", T_VARCHAR), ("release_version", T_VARCHAR), ("rpc_address", T_INET),
              ("schema_version", T_UUID), ("tokens", ("set", T_VARCHAR))]
PEER_COLS = [("peer", T_INET), ("data_center", T_VARCHAR), ("host_id", T_UUID),
             ("rack", T_VARCHAR), ("release_version", T_VARCHAR), ("rpc_address", T_INET),
             ("schema_version", T_UUID), ("tokens", ("set", T_VARCHAR))]
HOST_ID = hashlib.md5(b"host").digest()
SCHEMA_ID = hashlib.md5(b"schema").digest()
SCHEMA = {
    "keyspaces": ([("keyspace_name", T_VARCHAR), ("durable_writes", T_VARCHAR)],
                  [["shop", "true"], ["system", "true"], ["system_schema", "true"]]),
    "tables": ([("keyspace_name", T_VARCHAR), ("table_name", T_VARCHAR)],
               [["shop", "users"], ["shop", "orders"]]),
    "columns": ([("keyspace_name", T_VARCHAR), ("table_name", T_VARCHAR),
                 ("column_name", T_VARCHAR), ("type", T_VARCHAR)],
                [["shop", "users", "id", "int"], ["shop", "users", "name", "text"],
                 ["shop", "users", "email", "text"], ["shop", "orders", "id", "int"]]),
}
USER_COLS = [("id", T_INT), ("name", T_VARCHAR), ("email", T_VARCHAR)]


def table_of(cql):
    m = re.search(r"\bfrom\s+([\w\"]+)(?:\s*\.\s*([\w\"]+))?", cql, re.I)
    if not m:
        return None, None
    a, b = m.group(1).strip('"').lower(), (m.group(2) or "").strip('"').lower()
    return (a, b) if b else (None, a)


def by_id(cql):
    """The key of a point read (WHERE id = N), else None."""
    m = re.search(r"\bwhere\s+id\s*=\s*(\d+)", cql, re.I)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- a connection
class Conn(socketserver.BaseRequestHandler):
    def setup(self):
        self.buf = b""
        self.version = 4
        self.segments = False
        self.lz4 = False
        self.compression = None
        self.keyspace = None
        self.authed = self.server.auth is None
        self.dropped = set()

    # ---- bytes
    def read(self, n):
        while len(self.buf) < n:
            chunk = self.request.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_segment(self):
        hl = 5 if self.lz4 else 3
        head = self.read(hl + 3)
        v = int.from_bytes(head[:hl], "little")
        if crc24(head[:hl]) != int.from_bytes(head[hl:], "little"):
            raise EOFError("bad segment header CRC")
        plen = v & 0x1FFFF
        ulen = (v >> 17) & 0x1FFFF if self.lz4 else 0
        payload = self.read(plen)
        if crc32(payload) != int.from_bytes(self.read(4), "little"):
            raise EOFError("bad segment payload CRC")
        if ulen:
            payload = lz4block.decompress(payload, uncompressed_size=ulen)
        return payload

    def frames(self):
        """Yields (header, body) from the client, framed or in segments."""
        pending = b""
        while True:
            if not self.segments:
                h = self.read(9)
                body = self.read(struct.unpack(">I", h[5:9])[0])
                yield h, body
                continue
            pending += self.read_segment()
            while len(pending) >= 9 and len(pending) >= 9 + struct.unpack(">I", pending[5:9])[0]:
                n = 9 + struct.unpack(">I", pending[5:9])[0]
                yield pending[:9], pending[9:n]
                pending = pending[n:]

    def send(self, version, stream, opcode, body, log=None):
        flags = 0
        if not self.segments and self.compression and opcode != OP["READY"] and body:
            body = compress(self.compression, body)
            flags |= 0x01
        frame = struct.pack(">BBhBI", 0x80 | version, flags, stream, opcode, len(body)) + body
        self.request.sendall(self.wrap(frame) if self.segments else frame)
        if log is not None:
            log.update(stream=stream, response=OPNAME[opcode], version=version)
            self.server.write_log(log)

    def wrap(self, frame):
        out = b""
        parts = [frame[i:i + 131071] for i in range(0, len(frame), 131071)] or [b""]
        for p in parts:
            self_contained = len(parts) == 1
            data, ulen = p, 0
            if self.lz4 and p:
                c = lz4block.compress(p, store_size=False)
                if len(c) < len(p):
                    data, ulen = c, len(p)
            v = len(data) | ((ulen << 17) if self.lz4 else 0)
            if self_contained:
                v |= 1 << (34 if self.lz4 else 17)
            hl = 5 if self.lz4 else 3
            hb = v.to_bytes(hl, "little")
            out += hb + crc24(hb).to_bytes(3, "little") + data + crc32(data).to_bytes(4, "little")
        return out

    # ---- messages
    def handle(self):
        try:
            for h, body in self.frames():
                version, flags, stream, opcode = h[0] & 0x7F, h[1], struct.unpack(">h", h[2:4])[0], h[4]
                if flags & 0x01 and not self.segments and self.compression:
                    body = decompress(self.compression, body)
                if version not in (3, 4, 5):
                    self.send(4, stream, OP["ERROR"], error(0x000A, "Invalid or unsupported protocol version (%d)" % version),
                              {"verb": "protocol_error"})
                    continue
                self.message(version, stream, opcode, body)
        except (EOFError, ConnectionError):
            return

    def message(self, version, stream, opcode, body):
        if opcode == OP["OPTIONS"]:
            sup = {"CQL_VERSION": ["3.4.5"], "COMPRESSION": ["lz4"] + (["snappy"] if snappy else []),
                   "PROTOCOL_VERSIONS": ["3/v3", "4/v4", "5/v5"]}
            self.send(version, stream, OP["SUPPORTED"], string_multimap(sup), {"verb": "OPTIONS"})
        elif opcode == OP["STARTUP"]:
            opts = read_string_map(body)
            self.version = version
            self.compression = opts.get("COMPRESSION")
            if self.server.auth:
                self.send(version, stream, OP["AUTHENTICATE"],
                          string("org.apache.cassandra.auth.PasswordAuthenticator"), {"verb": "STARTUP"})
            else:
                self.send(version, stream, OP["READY"], b"", {"verb": "STARTUP"})
            if version >= 5:
                self.segments = True
                self.lz4 = self.compression == "lz4"
                self.compression = None
        elif opcode == OP["AUTH_RESPONSE"]:
            n = struct.unpack(">i", body[:4])[0]
            token = body[4:4 + n].split(b"\0")
            user, pw = (token[1].decode(), token[2].decode()) if len(token) == 3 else ("", "")
            if self.server.auth == (user, pw):
                self.authed = True
                self.send(version, stream, OP["AUTH_SUCCESS"], value(None), {"verb": "AUTH_RESPONSE", "ok": True})
            else:
                self.send(version, stream, OP["ERROR"],
                          error(0x0100, "Provided username and/or password are incorrect"),
                          {"verb": "AUTH_RESPONSE", "ok": False, "code": 0x0100})
        elif opcode == OP["REGISTER"]:
            self.send(version, stream, OP["READY"], b"", {"verb": "REGISTER"})
        elif opcode == OP["QUERY"]:
            n = struct.unpack(">i", body[:4])[0]
            cql = body[4:4 + n].decode()
            page_size, paging = query_params(body[4 + n:], version)
            self.query(version, stream, cql, page_size, paging)
        else:
            self.send(version, stream, OP["ERROR"], error(0x000A, "not supported by this test server"),
                      {"verb": OPNAME.get(opcode, "?"), "ok": False, "code": 0x000A})

    def query(self, version, stream, cql, page_size, paging):
        verb = cql.strip().split()[0].upper() if cql.strip() else ""
        log = {"verb": verb, "cql": cql[:120]}
        if not self.authed:
            self.send(version, stream, OP["ERROR"], error(0x2100, "not logged in"), dict(log, ok=False, code=0x2100))
            return
        if verb == "USE":
            self.keyspace = cql.split()[1].strip('";').lower()
            self.send(version, stream, OP["RESULT"], int32(3) + string(self.keyspace), dict(log, ok=True))
        elif verb == "SELECT":
            self.select(version, stream, cql, page_size, paging, log)
        elif verb in ("DROP", "CREATE", "ALTER"):
            words = cql.split()
            target = words[-1].strip(";").lower().split(".")
            ks, name = (target[0], target[1]) if len(target) == 2 else (self.keyspace or "shop", target[0])
            self.dropped.add(name)
            body = int32(5) + string("DROPPED" if verb == "DROP" else "CREATED") + string("TABLE") + string(ks) + string(name)
            self.send(version, stream, OP["RESULT"], body, dict(log, ok=True, table="%s.%s" % (ks, name)))
        else:  # INSERT, UPDATE, DELETE, TRUNCATE, BATCH
            self.send(version, stream, OP["RESULT"], int32(1), dict(log, ok=True))

    def select(self, version, stream, cql, page_size, paging, log):
        ks, table = table_of(cql)
        ks = ks or self.keyspace
        log["table"] = "%s.%s" % (ks, table)
        if ks == "system" and table == "local":
            row = ["local", "COMPLETED", "127.0.0.1", "Test Cluster", "3.4.5", "datacenter1", HOST_ID,
                   "127.0.0.1", "org.apache.cassandra.dht.Murmur3Partitioner", "rack1", "4.1.3",
                   "127.0.0.1", SCHEMA_ID, ["0"]]
            self.send(version, stream, OP["RESULT"], rows_result("system", "local", LOCAL_COLS, [row]),
                      dict(log, ok=True, rows=1))
        elif ks == "system" and table in ("peers", "peers_v2"):
            self.send(version, stream, OP["RESULT"], rows_result("system", table, PEER_COLS, []),
                      dict(log, ok=True, rows=0))
        elif ks == "system_schema" and table in SCHEMA:
            cols, rows = SCHEMA[table]
            self.send(version, stream, OP["RESULT"], rows_result(ks, table, cols, rows),
                      dict(log, ok=True, rows=len(rows)))
        elif ks == "system_schema":
            self.send(version, stream, OP["RESULT"],
                      rows_result(ks, table, [("keyspace_name", T_VARCHAR)], []), dict(log, ok=True, rows=0))
        elif ks == "shop" and table == "users" and table not in self.dropped and by_id(cql) is not None:
            i = by_id(cql)
            rows = [[i, "user%d" % i, "user%d@example.org" % i]] if 0 <= i < self.server.rows else []
            self.send(version, stream, OP["RESULT"], rows_result("shop", "users", USER_COLS, rows),
                      dict(log, ok=True, rows=len(rows)))
        elif ks == "shop" and table == "users" and table not in self.dropped:
            start = int(paging.decode().split(":")[1]) if paging else 0
            size = page_size if page_size and page_size > 0 else 5000
            end = min(start + size, self.server.rows)
            rows = [[i, "user%d" % i, "user%d@example.org" % i] for i in range(start, end)]
            nxt = ("offset:%d" % end).encode() if end < self.server.rows else None
            self.send(version, stream, OP["RESULT"], rows_result("shop", "users", USER_COLS, rows, nxt),
                      dict(log, ok=True, rows=len(rows), paging_out=nxt is not None,
                           continues=paging is not None, page_size=page_size))
        else:
            self.send(version, stream, OP["ERROR"], error(0x2200, "unconfigured table %s" % table),
                      dict(log, ok=False, code=0x2200))


def read_string_map(body):
    n, off, out = struct.unpack(">H", body[:2])[0], 2, {}
    for _ in range(n):
        kl = struct.unpack(">H", body[off:off + 2])[0]
        k = body[off + 2:off + 2 + kl].decode()
        off += 2 + kl
        vl = struct.unpack(">H", body[off:off + 2])[0]
        out[k] = body[off + 2:off + 2 + vl].decode()
        off += 2 + vl
    return out


def query_params(b, version):
    """(result_page_size, paging_state) of QUERY parameters."""
    off = 2
    if version >= 5:
        flags = struct.unpack(">I", b[off:off + 4])[0]
        off += 4
    else:
        flags = b[off]
        off += 1
    if flags & 0x01:
        n = struct.unpack(">H", b[off:off + 2])[0]
        off += 2
        for _ in range(n):
            if flags & 0x40:
                off += 2 + struct.unpack(">H", b[off:off + 2])[0]
            ln = struct.unpack(">i", b[off:off + 4])[0]
            off += 4 + max(ln, 0)
    page_size = paging = None
    if flags & 0x04:
        page_size = struct.unpack(">i", b[off:off + 4])[0]
        off += 4
    if flags & 0x08:
        ln = struct.unpack(">i", b[off:off + 4])[0]
        paging = b[off + 4:off + 4 + ln]
    return page_size, paging


def compress(algo, body):
    if algo == "lz4":
        return struct.pack(">I", len(body)) + lz4block.compress(body, store_size=False)
    return snappy.compress(body)


def decompress(algo, body):
    if algo == "lz4":
        return lz4block.decompress(body[4:], uncompressed_size=struct.unpack(">I", body[:4])[0])
    return snappy.decompress(body)


def crc24(data):
    crc = 0x875060
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1974F0B
    return crc & 0xFFFFFF


def crc32(data):
    return zlib.crc32(data, zlib.crc32(b"\xfa\x2d\x55\xca")) & 0xFFFFFFFF


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def write_log(self, entry):
        with LOG_LOCK:
            with open(self.log, "a") as f:
                f.write(json.dumps(entry) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--log", required=True)
    ap.add_argument("--auth", default=None, help="user:password")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--bind", default="127.0.0.1")
    a = ap.parse_args()
    srv = Server((a.bind, a.port), Conn)
    srv.log = a.log
    srv.auth = tuple(a.auth.split(":", 1)) if a.auth else None
    srv.rows = a.rows
    srv.serve_forever()


if __name__ == "__main__":
    main()
