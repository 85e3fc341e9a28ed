#!/usr/bin/env python3
"""Wrap every packet of an Ethernet capture in a tunnel, as a mirror would.

    tests/gen/wrap_tunnels.py IN.pcap OUTDIR [NAME...]

Writes OUTDIR/<name>.pcap for each wrapping below (all of them without
NAME), same timestamps, same packet order, one output packet per input
packet. The input must be a classic pcap of link type Ethernet carrying
IPv4 (the recorded captures in pcaps/ are). Standard library only.

The mirror's own (outer) addresses are fixed, 198.51.100.1 -> 198.51.100.2
(2001:db8:ff::1 -> ::2 for an IPv6 carrier), whichever way the inner packet
goes: a sensor that let them into orientation would get the flows wrong.

  name           encapsulation (outermost first)            tunnel in `flow` events
  plain6         the input with IPv4 turned into IPv6 (no tunnel: the baseline of ip6ip)
  mpls           Ethernet, MPLS labels 1000, 2000, IPv4     mpls 1000
  mpls_pw        Ethernet, MPLS 3000, control word, frame   mpls 3000
  vxlan          IPv4, UDP 4789, VXLAN VNI 123, frame       vxlan 123
  vxlan_vlan     802.1Q 10, IPv4, UDP 4789, VNI 124, frame with 802.1Q 20
                                                            vxlan 124
  geneve         IPv4, UDP 6081, GENEVE VNI 4567 with one 8-byte option, frame
                                                            geneve 4567
  gre            IPv4, GRE (no options), IPv4               gre (no id)
  gre_key_teb    IPv4, GRE checksum+key 77+sequence, TEB frame
                                                            gre 77
  gre6           IPv6, GRE key 78, IPv4                     gre 78
  erspan1        IPv4, GRE 0x88BE without S bit, frame      erspan1 (no id)
  erspan2        IPv4, GRE S 0x88BE, ERSPAN II session 42, frame
                                                            erspan2 42
  erspan3        IPv4, GRE S 0x22EB, ERSPAN III session 300, frame
                                                            erspan3 300
  erspan3_sub    the same with the O bit and its 8-byte platform subheader, session 301
                                                            erspan3 301
  erspan_mixed   even packets erspan1, odd packets erspan2 session 42 (one collector
                 receiving both types)                      erspan1 or erspan2
  ipip           IPv4 protocol 4, IPv4                      ipip
  ipip6          IPv6 next header 4, IPv4                   ipip
  ip6ip          IPv4 protocol 41, the IPv6 packet of plain6
                                                            ip6ip
  nested         IPv4, GRE key 5, IPv4, UDP 4789, VXLAN 9, frame, MPLS 700, IPv4
                                                            gre 5 (3 layers)
  too_deep       IPv4 protocol 4 five times, IPv4 (over the default depth 4)
                                                            none: every packet skipped
"""

import os
import struct
import sys

ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_MPLS, ETH_TEB = 0x0800, 0x86DD, 0x8100, 0x8847, 0x6558
GRE_ERSPAN, GRE_ERSPAN3 = 0x88BE, 0x22EB
GRE_C, GRE_K, GRE_S = 0x8000, 0x2000, 0x1000
OUT_MAC_DST = bytes.fromhex("020000000002")
OUT_MAC_SRC = bytes.fromhex("020000000001")
OUT4_SRC, OUT4_DST = bytes([198, 51, 100, 1]), bytes([198, 51, 100, 2])
OUT6_SRC = bytes.fromhex("20010db800ff" + "00" * 9 + "01")
OUT6_DST = bytes.fromhex("20010db800ff" + "00" * 9 + "02")
INNER6_PREFIX = bytes.fromhex("20010db8" + "00" * 8)  # + the IPv4 address


# ---- pcap ----

def read_pcap(path):
    """-> (link type, [(ts_sec, ts_frac, orig_len, data)], (byte order, header))."""
    with open(path, "rb") as f:
        blob = f.read()
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit("%s: not a classic pcap file" % path)
    linktype = struct.unpack(end + "I", blob[20:24])[0]
    packets, off = [], 24
    while off + 16 <= len(blob):
        sec, frac, cap, orig = struct.unpack(end + "IIII", blob[off:off + 16])
        packets.append((sec, frac, orig, blob[off + 16:off + 16 + cap]))
        off += 16 + cap
    return linktype, packets, (end, blob[:24])


def write_pcap(path, fmt, packets):
    end, raw_header = fmt
    with open(path, "wb") as f:
        f.write(raw_header[:16])
        # snaplen raised so that nothing wrapped is ever marked cut
        f.write(struct.pack(end + "I", 262144))
        f.write(raw_header[20:24])
        for sec, frac, orig_extra, data in packets:
            f.write(struct.pack(end + "IIII", sec, frac, len(data), len(data) + orig_extra))
            f.write(data)


# ---- headers ----

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(ethertype, payload, vlan=None, dst=OUT_MAC_DST, src=OUT_MAC_SRC):
    tag = struct.pack("!HH", ETH_VLAN, vlan) if vlan is not None else b""
    return dst + src + tag + struct.pack("!H", ethertype) + payload


def ipv4(proto, payload, ident, src=OUT4_SRC, dst=OUT4_DST):
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0,
                       64, proto, 0, src, dst)
    head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
    return head + payload


def ipv6(next_header, payload, src=OUT6_SRC, dst=OUT6_DST):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64,
                       src, dst) + payload


def udp4(sport, dport, payload):
    # checksum 0: allowed over IPv4, and what VXLAN senders use
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def gre(proto, payload, key=None, seq=None, csum=False):
    flags = (GRE_C if csum else 0) | (GRE_K if key is not None else 0) | \
            (GRE_S if seq is not None else 0)
    opts = b""
    if key is not None:
        opts += struct.pack("!I", key)
    if seq is not None:
        opts += struct.pack("!I", seq & 0xFFFFFFFF)
    if csum:
        blank = struct.pack("!HHHH", flags, proto, 0, 0) + opts + payload
        return struct.pack("!HHHH", flags, proto, checksum(blank), 0) + opts + payload
    return struct.pack("!HH", flags, proto) + opts + payload


def mpls(labels, payload):
    out = b""
    for i, label in enumerate(labels):
        bottom = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", label << 12 | bottom << 8 | 64)
    return out + payload


def vxlan(vni, frame):
    return struct.pack("!BBHI", 0x08, 0, 0, vni << 8) + frame


def geneve(vni, proto, payload):
    # one option: class 0x0103, type 0x80, 4 bytes of data (length 1 word)
    option = struct.pack("!HBB", 0x0103, 0x80, 1) + b"\x00\x00\x00\x2a"
    head = struct.pack("!BBHI", len(option) // 4, 0, proto, vni << 8)
    return head + option + payload


def erspan2(session, index, frame):
    # version 1, VLAN 0 | COS 0, En 0, T 0, session | reserved 0, index
    return struct.pack("!HHI", 1 << 12, session & 0x3FF, index & 0xFFFFF) + frame


def erspan3(session, timestamp, frame, subheader=False):
    word0 = struct.pack("!HH", 2 << 12, session & 0x3FF)
    # SGT 0 | P 0, FT 0 (Ethernet), HW ID 1, D 0, Gra 3 (IEEE 1588), O
    low = 0 << 15 | 0 << 10 | 1 << 4 | 0 << 3 | 3 << 1 | (1 if subheader else 0)
    head = word0 + struct.pack("!IHH", timestamp & 0xFFFFFFFF, 0, low)
    if subheader:
        # platform id 3: port index and the upper timestamp bits
        head += struct.pack("!II", 3 << 26 | 7, timestamp >> 32 & 0xFFFFFFFF)
    return head + frame


def outer4(proto, payload, i):
    return eth(ETH_IPV4, ipv4(proto, payload, i))


# ---- inner packet ----

def ipv4_to_ipv6(ip):
    """The IPv4 packet as IPv6: addresses 2001:db8::<v4>, TCP/UDP checksum fixed."""
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    proto, src4, dst4 = ip[9], ip[12:16], ip[16:20]
    payload = bytearray(ip[ihl:total])
    src, dst = INNER6_PREFIX + src4, INNER6_PREFIX + dst4
    sum_off = {6: 16, 17: 6}.get(proto)
    if sum_off is not None and len(payload) >= sum_off + 2:
        payload[sum_off:sum_off + 2] = b"\0\0"
        pseudo = src + dst + struct.pack("!IxxxB", len(payload), proto)
        payload[sum_off:sum_off + 2] = struct.pack("!H", checksum(pseudo + bytes(payload)))
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, ip[8], src, dst) + \
        bytes(payload)


def split(frame):
    """-> (Ethernet header without its type, IP packet) of an untagged IPv4 frame."""
    if struct.unpack("!H", frame[12:14])[0] != ETH_IPV4:
        raise SystemExit("input packet is not untagged Ethernet IPv4")
    return frame[:12], frame[14:]


def tag_inner(frame, vlan):
    return frame[:12] + struct.pack("!HH", ETH_VLAN, vlan) + frame[12:]


# ---- the wrappings: (frame, index) -> new frame ----

def w_plain6(frame, i):
    macs, ip = split(frame)
    return macs + struct.pack("!H", ETH_IPV6) + ipv4_to_ipv6(ip)


def w_nested(frame, i):
    _, ip = split(frame)
    inner_frame = eth(ETH_MPLS, mpls([700], ip), dst=frame[:6], src=frame[6:12])
    vx = ipv4(17, udp4(40000 + i % 1000, 4789, vxlan(9, inner_frame)), i,
              src=bytes([10, 9, 0, 1]), dst=bytes([10, 9, 0, 2]))
    return outer4(47, gre(ETH_IPV4, vx, key=5), i)


def w_too_deep(frame, i):
    _, ip = split(frame)
    for level in range(5):
        ip = ipv4(4, ip, i, src=bytes([10, 8, level, 1]), dst=bytes([10, 8, level, 2]))
    return eth(ETH_IPV4, ip)


WRAPPINGS = {
    "plain6": w_plain6,
    "mpls": lambda f, i: eth(ETH_MPLS, mpls([1000, 2000], split(f)[1])),
    "mpls_pw": lambda f, i: eth(ETH_MPLS, mpls([3000], b"\0\0\0\0" + f)),
    "vxlan": lambda f, i: outer4(17, udp4(49152 + i % 1000, 4789, vxlan(123, f)), i),
    "vxlan_vlan": lambda f, i: eth(ETH_IPV4, ipv4(17, udp4(49152 + i % 1000, 4789,
                                                          vxlan(124, tag_inner(f, 20))), i),
                                   vlan=10),
    "geneve": lambda f, i: outer4(17, udp4(49152 + i % 1000, 6081,
                                           geneve(4567, ETH_TEB, f)), i),
    "gre": lambda f, i: outer4(47, gre(ETH_IPV4, split(f)[1]), i),
    "gre_key_teb": lambda f, i: outer4(47, gre(ETH_TEB, f, key=77, seq=i, csum=True), i),
    "gre6": lambda f, i: eth(ETH_IPV6, ipv6(47, gre(ETH_IPV4, split(f)[1], key=78))),
    "erspan1": lambda f, i: outer4(47, gre(GRE_ERSPAN, f), i),
    "erspan2": lambda f, i: outer4(47, gre(GRE_ERSPAN, erspan2(42, 5, f), seq=i), i),
    "erspan3": lambda f, i: outer4(47, gre(GRE_ERSPAN3, erspan3(300, i * 1000, f), seq=i), i),
    "erspan3_sub": lambda f, i: outer4(47, gre(GRE_ERSPAN3,
                                               erspan3(301, i * 1000, f, subheader=True),
                                               seq=i), i),
    "erspan_mixed": lambda f, i: outer4(47, gre(GRE_ERSPAN, f) if i % 2 == 0 else
                                        gre(GRE_ERSPAN, erspan2(42, 5, f), seq=i), i),
    "ipip": lambda f, i: outer4(4, split(f)[1], i),
    "ipip6": lambda f, i: eth(ETH_IPV6, ipv6(4, split(f)[1])),
    "ip6ip": lambda f, i: outer4(41, ipv4_to_ipv6(split(f)[1]), i),
    "nested": w_nested,
    "too_deep": w_too_deep,
}


def wrap_file(src, outdir, names):
    linktype, packets, fmt = read_pcap(src)
    if linktype != 1:
        raise SystemExit("%s: link type %d, not Ethernet" % (src, linktype))
    os.makedirs(outdir, exist_ok=True)
    for name in names:
        fn = WRAPPINGS[name]
        out = []
        for i, (sec, frac, orig, data) in enumerate(packets):
            if len(data) < orig:
                raise SystemExit("%s: packet %d was cut by the snap length" % (src, i))
            out.append((sec, frac, 0, fn(data, i)))
        write_pcap(os.path.join(outdir, name + ".pcap"), fmt, out)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    names = argv[3:] or list(WRAPPINGS)
    unknown = [n for n in names if n not in WRAPPINGS]
    if unknown:
        sys.stderr.write("unknown wrapping: %s\n" % ", ".join(unknown))
        return 2
    wrap_file(argv[1], argv[2], names)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
