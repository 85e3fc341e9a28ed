#!/usr/bin/env python3
"""make_big.py IN OUT MEGABYTES - a large capture for benchmarks: IN repeated
until OUT holds at least MEGABYTES, each copy with its client ports shifted
(so every copy is a new set of flows) and its timestamps moved after the
previous copy. Standard library only; checksums are not fixed (the sensor
does not verify them)."""
import struct
import sys

src, dst, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
magic = data[:4]
endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
linktype = struct.unpack(endian + "I", data[20:24])[0]
if linktype != 1:
    sys.exit(f"{src}: only Ethernet captures are supported (link type {linktype})")
records = []
off = 24
while off + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
    records.append((sec, usec, orig, data[off + 16:off + 16 + incl]))
    off += 16 + incl
span = records[-1][0] - records[0][0] + 1
server_ports = {9200, 9201, 5601, 80, 8080, 27017, 6379, 11211}

def shift_ports(frame, k):
    """Moves the non-server port of TCP/IPv4 frames by k*64 (wrapping): the
    client ports of one copy differ by less than 64, so copies never reuse
    a port within the flow timeouts."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return frame
    ihl = (frame[14] & 0x0F) * 4
    t = 14 + ihl
    sport, dport = struct.unpack(">HH", frame[t:t + 4])
    if dport in server_ports:
        sport = 1024 + (sport + k * 64) % 60000
    elif sport in server_ports:
        dport = 1024 + (dport + k * 64) % 60000
    return frame[:t] + struct.pack(">HH", sport, dport) + frame[t + 4:]

with open(dst, "wb") as out:
    out.write(data[:24])
    written, k = 24, 0
    while written < megabytes * 1_000_000:
        for sec, usec, orig, frame in records:
            f = shift_ports(frame, k)
            out.write(struct.pack(endian + "IIII", sec + k * span, usec, len(f), orig) + f)
            written += 16 + len(f)
        k += 1
print(f"{dst}: {k} copies of {src}, {written / 1e6:.0f} MB")
