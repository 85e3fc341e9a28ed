#!/usr/bin/env python3
"""make_kv_stream.py KIND OUT [CONNECTIONS] - a benchmark capture of key-value
traffic, written byte by byte (standard library only):

  redis      pipelined RESP requests (batches of 50: GET, MGET of 10 keys,
             HGETALL, SET) on port 6379, each batch answered before the next
  memcached  multi-get text requests ("get k1 ... k20") with VALUE blocks and
             END on port 11211, plus set/STORED

Each connection opens with a handshake, carries 40 batches and closes with
FIN; segments are at most 1448 bytes, as on an Ethernet wire. Values are
filler bytes. Deterministic: the same arguments write the same file."""
import struct
import sys

MSS = 1448
CLIENT, SERVER = bytes([10, 1, 0, 1]), bytes([10, 0, 3, 1])


def resp_cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def bulk(v):
    return b"$%d\r\n%s\r\n" % (len(v), v)


def redis_batch(conn, b):
    req, rep = b"", b""
    for i in range(50):
        k = b"user:%d:%d:%d" % (conn, b, i)
        v = b"v" * (60 + i % 80)
        kind = i % 4
        if kind == 0:
            req += resp_cmd(b"GET", k)
            rep += bulk(v)
        elif kind == 1:
            keys = [k + b":%d" % j for j in range(10)]
            req += resp_cmd(b"MGET", *keys)
            rep += b"*10\r\n" + b"".join(bulk(v) if j % 3 else b"$-1\r\n" for j in range(10))
        elif kind == 2:
            req += resp_cmd(b"HGETALL", k)
            rep += b"*8\r\n" + b"".join(bulk(b"f%d" % j) + bulk(v[:20]) for j in range(4))
        else:
            req += resp_cmd(b"SET", k, v)
            rep += b"+OK\r\n"
    return req, rep


def memcached_batch(conn, b):
    req, rep = b"", b""
    for i in range(10):
        keys = [b"item:%d:%d:%d:%d" % (conn, b, i, j) for j in range(20)]
        req += b"get " + b" ".join(keys) + b"\r\n"
        for j, k in enumerate(keys):
            if j % 4:
                v = b"m" * (100 + j * 7)
                rep += b"VALUE %s 0 %d\r\n%s\r\n" % (k, len(v), v)
        rep += b"END\r\n"
        v = b"s" * 200
        req += b"set %s 0 0 %d\r\n%s\r\n" % (keys[0], len(v), v)
        rep += b"STORED\r\n"
    return req, rep


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.us = 1_700_000_000 * 1_000_000

    def packet(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + tcp
        self.us += 20
        self.f.write(struct.pack("<IIII", self.us // 1_000_000, self.us % 1_000_000,
                                 len(frame), len(frame)) + frame)


def connection(w, conn, port, batch):
    sport = 20000 + conn % 40000
    c, s = 1000, 5000
    w.packet(CLIENT, SERVER, sport, port, c, 0, 0x02)
    w.packet(SERVER, CLIENT, port, sport, s, c + 1, 0x12)
    c, s = c + 1, s + 1
    w.packet(CLIENT, SERVER, sport, port, c, s, 0x10)

    def send(src, dst, a, b, seq, ack, data):
        for off in range(0, len(data), MSS):
            w.packet(src, dst, a, b, seq + off, ack, 0x18, data[off:off + MSS])
        return seq + len(data)

    for b in range(40):
        req, rep = batch(conn, b)
        c = send(CLIENT, SERVER, sport, port, c, s, req)
        s = send(SERVER, CLIENT, port, sport, s, c, rep)
    w.packet(CLIENT, SERVER, sport, port, c, s, 0x11)
    w.packet(SERVER, CLIENT, port, sport, s, c + 1, 0x11)
    w.packet(CLIENT, SERVER, sport, port, c + 1, s + 1, 0x10)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    port, batch = {"redis": (6379, redis_batch), "memcached": (11211, memcached_batch)}[kind]
    w = Writer(out)
    for conn in range(conns):
        connection(w, conn, port, batch)
    w.f.close()


if __name__ == "__main__":
    main()
