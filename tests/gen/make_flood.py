#!/usr/bin/env python3
"""make_flood.py KIND FLOWS OUT [BYTES] - crafted captures that try to make
the sensor hold memory, for the memory budget tests (tests/memory_check.py)
and benchmarks (tests/bench/memory.sh). Every flow completes its handshake,
then the flows take turns sending one 1448-byte segment each, so that all of
them hold their state at once. Nothing is ever answered.

  http_heads    FLOWS clients to :80 each sending BYTES (default 15 KiB) of
                an HTTP request head that never ends
  http_heads_done  the same heads, each ended by its blank line and sent
                whole by one client after the other: every head is
                complete, every connection stays open (never answered)
  mongo_snappy  FLOWS clients to :27017 each announcing an OP_COMPRESSED
                (snappy) message of 15 MiB and sending BYTES (default 1 MiB)
                of its payload
  out_of_order  FLOWS clients to :80 each sending BYTES (default 64 KiB)
                after a hole of one segment: all of it is held by reassembly
  pipeline      one client to :80 pipelining FLOWS requests, no answers
  rule_keys     FLOWS clients from distinct outside addresses (198.18.0.0/15)
                to Elasticsearch :9200, each listing indices and opening a
                scroll, both answered without authentication: a rule state
                entry per source (and per rule) and a cursor per flow

Deterministic: same arguments, same file. (rule_keys flows are answered,
one after the other; the others send round robin, never answered.)"""
import struct
import sys

MSS = 1448
SERVER = bytes([192, 168, 0, 1])
SYN, ACK, PSH = 0x02, 0x10, 0x08


class Writer:
    def __init__(self, path):
        self.out = open(path, "wb")
        self.out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.t_us = 1700000000 * 1000000

    def packet(self, src, sport, dst, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                         64, 6, 0, src, dst)
        frame = b"\0" * 12 + b"\x08\x00" + ip + tcp + payload
        self.t_us += 10
        self.out.write(struct.pack("<IIII", self.t_us // 1000000, self.t_us % 1000000,
                                   len(frame), len(frame)))
        self.out.write(frame)

    def close(self):
        self.out.close()


def client(i):
    return bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]), 40000 + i % 20000


ISN_C, ISN_S = 1000, 5000


def handshakes(w, flows, port):
    for i in range(flows):
        src, sport = client(i)
        w.packet(src, sport, SERVER, port, ISN_C, 0, SYN)
        w.packet(SERVER, port, src, sport, ISN_S, ISN_C + 1, SYN | ACK)
        w.packet(src, sport, SERVER, port, ISN_C + 1, ISN_S + 1, ACK)


def round_robin(w, flows, port, stream, skip_first=False):
    """Sends `stream` (bytes, the same for every flow) from every client in
    turns of one segment; skip_first leaves a hole of the first segment."""
    segments = [stream[o:o + MSS] for o in range(0, len(stream), MSS)]
    for k, seg in enumerate(segments):
        if skip_first and k == 0:
            continue
        for i in range(flows):
            src, sport = client(i)
            w.packet(src, sport, SERVER, port, ISN_C + 1 + k * MSS, ISN_S + 1, ACK | PSH, seg)


def one_by_one(w, flows, port, stream):
    """Sends `stream` whole from each client in turn."""
    segments = [stream[o:o + MSS] for o in range(0, len(stream), MSS)]
    for i in range(flows):
        src, sport = client(i)
        for k, seg in enumerate(segments):
            w.packet(src, sport, SERVER, port, ISN_C + 1 + k * MSS, ISN_S + 1, ACK | PSH, seg)


def http_head(size):
    head = b"GET /search HTTP/1.1\r\nHost: db\r\n"
    line = b"X-Filler: " + b"a" * 60 + b"\r\n"
    while len(head) < size:
        head += line
    return head[:size]


def mongo_snappy(size):
    payload_len = 15 << 20
    header = struct.pack("<iiii", 16 + 9 + payload_len, 1, 0, 2012)
    header += struct.pack("<iiB", 2013, 15 << 20, 1)
    return header + b"\x41" * (size - len(header))


def outside_client(i):
    return bytes([198, 18 + ((i >> 16) & 1), (i >> 8) & 255, i & 255]), 40000 + i % 20000


def http_message(first_line, body=b"", content_type=b"application/json"):
    head = first_line + b"\r\nHost: db\r\n"
    if body:
        head += b"Content-Type: " + content_type + b"\r\n"
    return head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


def rule_keys(w, flows):
    """Each flow: handshake, GET /_cat/indices answered, a scroll search
    answered with a scroll id of its own."""
    port = 9200
    for i in range(flows):
        src, sport = outside_client(i)
        w.packet(src, sport, SERVER, port, ISN_C, 0, SYN)
        w.packet(SERVER, port, src, sport, ISN_S, ISN_C + 1, SYN | ACK)
        w.packet(src, sport, SERVER, port, ISN_C + 1, ISN_S + 1, ACK)
        scroll_id = b"FGluY2x1ZGVfY29udGV4dF91dWlk%08x" % i
        talk = [
            (http_message(b"GET /_cat/indices?format=json HTTP/1.1"),
             http_message(b"HTTP/1.1 200 OK", b'[{"index":"logs-%d","docs.count":"100"}]' % i)),
            (http_message(b"POST /logs-%d/_search?scroll=1m HTTP/1.1" % i, b'{"size":10}'),
             http_message(b"HTTP/1.1 200 OK", b'{"_scroll_id":"' + scroll_id
                          + b'","took":1,"hits":{"total":{"value":100,"relation":"eq"},'
                          b'"hits":[{"_index":"logs","_id":"1","_source":{}}]}}')),
        ]
        seq_c, seq_s = ISN_C + 1, ISN_S + 1
        for request, response in talk:
            w.packet(src, sport, SERVER, port, seq_c, seq_s, ACK | PSH, request)
            seq_c += len(request)
            w.packet(SERVER, port, src, sport, seq_s, seq_c, ACK | PSH, response)
            seq_s += len(response)
        w.packet(src, sport, SERVER, port, seq_c, seq_s, ACK)


def main(kind, flows, path, size=None):
    w = Writer(path)
    if kind == "http_heads":
        handshakes(w, flows, 80)
        round_robin(w, flows, 80, http_head(size or 15 * 1024))
    elif kind == "http_heads_done":
        handshakes(w, flows, 80)
        one_by_one(w, flows, 80, http_head(size or 15 * 1024) + b"\r\n\r\n")
    elif kind == "mongo_snappy":
        handshakes(w, flows, 27017)
        round_robin(w, flows, 27017, mongo_snappy(size or 1 << 20))
    elif kind == "out_of_order":
        handshakes(w, flows, 80)
        round_robin(w, flows, 80, http_head((size or 64 * 1024) + MSS), skip_first=True)
    elif kind == "pipeline":
        handshakes(w, 1, 80)
        request = b"GET /item HTTP/1.1\r\nHost: db\r\n\r\n"
        round_robin(w, 1, 80, request * flows)
    elif kind == "rule_keys":
        rule_keys(w, flows)
    else:
        sys.exit(f"make_flood.py: unknown kind {kind!r}")
    w.close()


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3],
         int(sys.argv[4]) if len(sys.argv) == 5 else None)
