#!/usr/bin/env python3
"""Writes the broken capture files the capture tests read.

    python3 tests/data/make_fixtures.py [directory]   (default: this script's)

corrupt.pcap    a good global header, then a record header claiming a packet
                of 2 GB: libpcap must refuse it, not allocate it.
truncated.pcap  two packets, the file cut in the middle of the second one,
                as when tcpdump is killed mid-write.
badlink.pcap    link type 147 (USER0), which the sensor does not decode.
"""
import os
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_USER0 = 147


def global_header(linktype, snaplen=65535):
    # magic, version 2.4, thiszone, sigfigs, snaplen, linktype (little-endian)
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def record(ts_sec, ts_usec, data, wire_len=None):
    if wire_len is None:
        wire_len = len(data)
    return struct.pack("<IIII", ts_sec, ts_usec, len(data), wire_len) + data


def ethernet_ipv4_tcp(sport, dport, payload):
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    total = 20 + 20 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0x4000, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, 0x18,
                      65535, 0, 0)
    return eth + ip + tcp + payload


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    request = b"GET / HTTP/1.1\r\nHost: es\r\n\r\n"
    packet = ethernet_ipv4_tcp(40000, 9200, request)

    corrupt = global_header(LINKTYPE_ETHERNET)
    corrupt += struct.pack("<IIII", 1577836800, 0, 0x7FFFFFFF, 0x7FFFFFFF)
    corrupt += packet  # whatever follows, the length above is a lie

    whole = global_header(LINKTYPE_ETHERNET)
    whole += record(1577836800, 1, packet)
    second = record(1577836800, 2, packet)
    truncated = whole + second[: 16 + len(packet) // 2]

    badlink = global_header(LINKTYPE_USER0) + record(1577836800, 0, packet)

    for name, data in (("corrupt.pcap", corrupt),
                       ("truncated.pcap", truncated),
                       ("badlink.pcap", badlink)):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
