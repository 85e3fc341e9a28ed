#!/usr/bin/python3
"""Memcached client steps for the record scripts.

    memcached_steps.py [--host H] [--port P] [--source ADDR] STEP [ARGS]

Each step prints one JSON object: what the client itself got back. --source
binds the client's sockets to ADDR (a loopback stand-in for a party in the
scenarios).

Steps:
  seed SMALL MEDIUM LARGE  item:NNNN (60-byte values), blob:NNNN (600 bytes),
                           big:NNNN (4000 bytes): three slab classes; fake data
  pymemcache               the memcached_pymemcache capture (Debian's python3-pymemcache)
  udp N                    one crafted UDP "stats" request, then one multi-get of
                           big:0001..big:N, each with the 8-byte UDP frame header
                           (request id, sequence, datagram count, reserved);
                           reports the datagrams and bytes of each reply
  dump                     the memcached_dump scenario, text protocol over a plain
                           socket: stats items, stats cachedump SLAB 0 for every slab,
                           one get of every key listed, flush_all
"""
import argparse
import json
import socket
import struct
import sys
import time


def bind_source(addr):
    base = socket.socket

    class Bound(base):
        def connect(self, address):
            self.bind((addr, 0))
            return super().connect(address)
    socket.socket = Bound


def value(prefix, i, size):
    head = ("%s-%04d:" % (prefix, i)).encode()
    return head + b"x" * (size - len(head))


def seed(c, small, medium, large):
    items = {}
    for i in range(1, small + 1):
        items["item:%04d" % i] = value("item", i, 60)
    for i in range(1, medium + 1):
        items["blob:%04d" % i] = value("blob", i, 600)
    for i in range(1, large + 1):
        items["big:%04d" % i] = value("big", i, 4000)
    failed = c.set_many(items, noreply=False)
    return {"items": len(items) - len(failed), "small_60B": small, "medium_600B": medium,
            "large_4000B": large, "value_bytes": sum(map(len, items.values()))}


def pymemcache_steps(c):
    out = []
    batch = {"user:%02d" % i: ("profile %02d" % i).encode() for i in range(1, 11)}
    failed = c.set_many(batch, noreply=False)
    out.append({"call": "set_many 10 (noreply=False: one set per key, pipelined)", "failed": len(failed)})
    keys = list(batch) + ["nouser:%02d" % i for i in range(1, 6)]
    got = c.get_many(keys)
    out.append({"call": "get_many 15 keys (one get command)", "hits": len(got), "misses": len(keys) - len(got)})
    v, cas = c.gets("user:01")
    out.append({"call": "gets user:01", "hit": v is not None})
    out.append({"call": "cas user:01 with its token", "result": c.cas("user:01", b"profile 01 v2", cas, noreply=False)})
    out.append({"call": "cas user:01 with the stale token", "result": c.cas("user:01", b"profile 01 v3", cas, noreply=False)})
    c.set("counter", b"10", noreply=False)
    out.append({"call": "incr counter 5", "result": c.incr("counter", 5, noreply=False)})
    out.append({"call": "incr nocounter 1", "result": c.incr("nocounter", 1, noreply=False)})
    out.append({"call": "delete user:10", "result": c.delete("user:10", noreply=False)})
    out.append({"call": "delete user:10 again", "result": c.delete("user:10", noreply=False)})
    s = c.stats()
    out.append({"call": "stats", "stat_lines": len(s), "curr_items": s.get(b"curr_items")})
    s = c.stats("items")
    out.append({"call": "stats items", "stat_lines": len(s)})
    s = c.stats("slabs")
    out.append({"call": "stats slabs", "stat_lines": len(s)})
    out.append({"call": "set fire:and-forget noreply", "result": c.set("fire:and-forget", b"x", noreply=True)})
    out.append({"call": "get fire:and-forget", "hit": c.get("fire:and-forget") is not None})
    return {"calls": out}


def udp_request(sock, req_id, payload):
    """Send one request with the UDP frame header; gather its reply datagrams
    until 0.5 s pass without one. memcached 1.6 frames each response object
    (each VALUE of a multi-get) on its own: sequence numbers restart at 0 and
    the header's datagram count is per object, not per reply."""
    sock.sendto(struct.pack(">HHHH", req_id, 0, 1, 0) + payload, (ARGS.host, ARGS.port))
    dgrams = size = restarts = 0
    totals = set()
    sock.settimeout(0.5)
    while True:
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        rid, seq, count, _ = struct.unpack(">HHHH", data[:8])
        if rid != req_id:
            continue
        dgrams += 1; size += len(data); totals.add(count); restarts += seq == 0
    return {"request_id": req_id, "datagrams": dgrams, "bytes_with_headers": size,
            "datagrams_with_sequence_0": restarts, "datagram_counts_in_headers": sorted(totals),
            "request_bytes_with_header": 8 + len(payload)}


def udp_steps(n):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out = {"stats": udp_request(sock, 0x1234, b"stats\r\n")}
    keys = " ".join("big:%04d" % i for i in range(1, n + 1)).encode()
    out["get_%d_big" % n] = udp_request(sock, 0x1235, b"get " + keys + b"\r\n")
    r = out["get_%d_big" % n]
    r["amplification"] = round(r["bytes_with_headers"] / r["request_bytes_with_header"], 1)
    return out


class Text:
    """A bare text-protocol connection: send a line, read to a terminator."""
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port))
        self.buf = b""

    def call(self, line, end=b"END\r\n"):
        self.s.sendall(line)
        while not (self.buf.endswith(end) or self.buf.endswith(b"ERROR\r\n")):
            chunk = self.s.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out


def dump(host, port):
    t = Text(host, port)
    items = t.call(b"stats items\r\n")
    slabs = sorted({int(l.split(b":")[1]) for l in items.split(b"\r\n") if l.startswith(b"STAT items:")})
    keys = []
    for s in slabs:
        lines = t.call(b"stats cachedump %d 0\r\n" % s).split(b"\r\n")
        keys += [l.split(b" ")[1] for l in lines if l.startswith(b"ITEM ")]
    reply = t.call(b"get " + b" ".join(keys) + b"\r\n")
    values = reply.count(b"\r\nVALUE ") + reply.startswith(b"VALUE ")
    flushed = t.call(b"flush_all\r\n", end=b"OK\r\n")
    return {"slabs": slabs, "cachedump_calls": len(slabs), "keys_listed": len(keys),
            "get_keys": len(keys), "get_line_bytes": len(b"get " + b" ".join(keys) + b"\r\n"),
            "values_received": values, "reply_bytes": len(reply),
            "flush_all": flushed.decode().strip()}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=11211)
    ap.add_argument("--source")
    ap.add_argument("step")
    ap.add_argument("args", nargs="*", type=int)
    a = ARGS = ap.parse_args()
    if a.source:
        bind_source(a.source)
    from pymemcache.client.base import Client
    import pymemcache
    if a.step == "seed":
        out = seed(Client((a.host, a.port)), *a.args)
    elif a.step == "pymemcache":
        c = Client((a.host, a.port), default_noreply=False)
        out = pymemcache_steps(c)
        c.close()
        out["client"] = "python3-pymemcache " + pymemcache.__version__
    elif a.step == "udp":
        out = udp_steps(*a.args)
        out["client"] = "python3 socket (crafted UDP frames)"
    elif a.step == "dump":
        out = dump(a.host, a.port)
        out["client"] = "python3 socket (text protocol)"
    else:
        sys.exit("unknown step " + a.step)
    print(json.dumps(out, default=lambda b: b.decode() if isinstance(b, bytes) else str(b)))


if __name__ == "__main__":
    main()
