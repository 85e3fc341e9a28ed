#!/usr/bin/env python3
"""rdns/dns_server.py - a tiny authoritative DNS responder over UDP (RFC 1035
section 4), for tests/rdns/check.py: it answers PTR and A questions from a
zone given on the command line and logs every question, so a test can see
exactly what the sensor asked. Written for the test; not a general server.

    dns_server.py ADDR PORT LOG [--silent] RECORD...
    RECORD: ptr:1.2.3.4=name.example | a:name.example=1.2.3.4

--silent receives and logs questions but never answers (a dead resolver).
Names not in the zone get NXDOMAIN; a known name asked for another type gets
an empty NOERROR answer."""
import socket
import struct
import sys


def reverse_name(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    """(id, rd flag, qname, qtype, end of question) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount != 1:
        return None
    pos, labels = 12, []
    while pos < len(msg):
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0 or pos + 1 + n > len(msg):
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    if pos + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return qid, flags & 0x0100, ".".join(labels).lower(), qtype, pos + 4


def answer(msg, zone):
    q = parse_question(msg)
    if not q:
        return None
    qid, rd, qname, qtype, end = q
    records = [r for r in zone if r[0] == qname]
    rcode = 0 if records else 3
    answers = b""
    count = 0
    for name, rtype, rdata in records:
        if rtype != qtype:
            continue
        answers += struct.pack("!HHHIH", 0xC00C, rtype, 1, 60, len(rdata)) + rdata
        count += 1
    flags = 0x8000 | 0x0400 | rd | 0x0080 | rcode   # QR, AA, RD copied, RA
    header = struct.pack("!HHHHHH", qid, flags, 1, count, 0, 0)
    return header + msg[12:end] + answers


def main():
    addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    silent = "--silent" in sys.argv[4:]
    zone = []
    for rec in sys.argv[4:]:
        if rec.startswith("ptr:"):
            ip, name = rec[4:].split("=")
            zone.append((reverse_name(ip), 12, encode_name(name)))
        elif rec.startswith("a:"):
            name, ip = rec[2:].split("=")
            zone.append((name.lower().rstrip("."), 1, socket.inet_aton(ip)))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    with open(log, "a", buffering=1) as out:
        out.write("ready\n")
        while True:
            msg, peer = s.recvfrom(4096)
            q = parse_question(msg)
            if q:
                out.write("%s %d\n" % (q[2], q[3]))
            if not silent:
                reply = answer(msg, zone)
                if reply:
                    s.sendto(reply, peer)


if __name__ == "__main__":
    main()
