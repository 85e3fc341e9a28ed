#!/usr/bin/env python3
"""make_syn_flood.py N PORT OUT - a pcap of N SYN-only packets from N
distinct sources to 192.168.0.1:PORT, one per millisecond: the scan weather
every exposed database gets, for measuring what an idle flow costs."""
import struct
import sys


def main(n, port, path):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
            tcp = struct.pack("!HHIIBBHHH", 40000 + i % 20000, port, 1000, 0, 5 << 4, 0x02,
                              65535, 0, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src,
                             bytes([192, 168, 0, 1]))
            frame = b"\0" * 12 + b"\x08\x00" + ip + tcp
            out.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000,
                                  len(frame), len(frame)) + frame)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
