#!/usr/bin/env python3
"""Write the crafted captures under pcaps/crafted/ and their README.

    python3 tests/gen/gen_pcaps.py [OUTDIR]      (default: pcaps/crafted)

Standard library only. The output is deterministic: fixed timestamps from
2024-01-01T00:00:00Z, fixed ISNs, fixed "random" bytes. Running it twice gives
byte-identical files, so the captures can be regenerated and diffed.

Every case is one function `case_<name>()` that returns a Case: the frames,
the link type, and the facts a correct sensor must report. The README table and
expected.json are rendered from those facts, so they cannot drift from the
bytes. A normal case is an HTTP/1.1 exchange between client 10.0.0.1 (port
40000 + n) and server 10.0.0.2:9200 (IPv6: 2001:db8::1 / 2001:db8::2) with a
3-way handshake, one request, one response and a FIN teardown, all with
correct IP and TCP checksums.
"""

import json
import os
import random
import socket
import struct
import sys

BASE_US = 1704067200 * 1000000          # 2024-01-01T00:00:00Z in microseconds

CLIENT4, SERVER4 = "10.0.0.1", "10.0.0.2"
CLIENT6, SERVER6 = "2001:db8::1", "2001:db8::2"
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
SERVER_PORT = 9200
CLIENT_ISN = 0x01000000
SERVER_ISN = 0x02000000

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
ETH_VLAN, ETH_QINQ = 0x8100, 0x88A8
PROTO_ICMP, PROTO_TCP, PROTO_UDP = 1, 6, 17

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW = 0, 1, 101
LINKTYPE_LOOP, LINKTYPE_LINUX_SLL, LINKTYPE_USER0 = 108, 113, 147
LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2 = 228, 229, 276


# ---------------------------------------------------------------- checksums

def inet_checksum(data):
    """RFC 1071 one's-complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def pseudo_header(src, dst, proto, length):
    """The IPv4 or IPv6 pseudo header that TCP and UDP checksums cover."""
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


# ---------------------------------------------------------------- L3 / L4 builders

def ip_bytes(addr):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return socket.inet_pton(family, addr)


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload, options=b""):
    offset_words = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                         ack & 0xFFFFFFFF, offset_words << 4, flags, 64240, 0, 0)
    segment = header + options + payload
    csum = inet_checksum(pseudo_header(src, dst, PROTO_TCP, len(segment)) + segment)
    return segment[:16] + struct.pack("!H", csum) + segment[18:]


def udp_datagram(src, dst, sport, dport, payload):
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    csum = inet_checksum(pseudo_header(src, dst, PROTO_UDP, len(datagram)) + datagram)
    return datagram[:6] + struct.pack("!H", csum or 0xFFFF) + datagram[8:]


def icmp_echo(kind, ident, seqno, payload):
    message = struct.pack("!BBHHH", kind, 0, 0, ident, seqno) + payload
    csum = inet_checksum(message)
    return message[:2] + struct.pack("!H", csum) + message[4:]


def ipv4_packet(src, dst, proto, payload, ident):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF,
                         0x4000, 64, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", inet_checksum(header)) + header[12:]
    return header + payload


def ipv6_hop_or_dest_options(next_header):
    """An 8-byte hop-by-hop or destination-options header holding one PadN option."""
    return struct.pack("!BB", next_header, 0) + bytes([1, 4, 0, 0, 0, 0])


def ipv6_packet(src, dst, proto, payload, with_ext_headers=False):
    """IPv6 packet; with_ext_headers puts hop-by-hop (0) then destination options (60)
    in front of the upper layer, as RFC 8200 orders them."""
    first = proto
    if with_ext_headers:
        payload = ipv6_hop_or_dest_options(60) + ipv6_hop_or_dest_options(proto) + payload
        first = 0
    header = struct.pack("!IHBB16s16s", 0x60000000, len(payload), first, 64, src, dst)
    return header + payload


# ---------------------------------------------------------------- packets and connections

class Packet:
    """One network-layer packet plus what the link framings need to wrap it."""

    def __init__(self, ts_us, ethertype, payload, from_client, eth_dst=None):
        self.ts_us = ts_us
        self.ethertype = ethertype
        self.payload = payload
        self.from_client = from_client
        self.eth_dst = eth_dst          # overrides the peer MAC (ARP broadcast)


class Capture:
    """A clock and the packets written so far, in capture order."""

    def __init__(self, start_us=BASE_US):
        self.now_us = start_us
        self.packets = []
        self.ip_ident = 0x1000

    def tick(self, step_us=1000):
        self.now_us += step_us

    def add_ip(self, src, dst, proto, l4, from_client, ipv6_ext=False):
        if ":" in src:
            packet = ipv6_packet(ip_bytes(src), ip_bytes(dst), proto, l4, ipv6_ext)
            ethertype = ETH_IPV6
        else:
            self.ip_ident += 1
            packet = ipv4_packet(ip_bytes(src), ip_bytes(dst), proto, l4, self.ip_ident)
            ethertype = ETH_IPV4
        self.packets.append(Packet(self.now_us, ethertype, packet, from_client))
        self.tick()


class Conn:
    """One TCP connection. c_send/s_send send at the sender's next sequence number
    and acknowledge everything the peer has sent; send_at sends any bytes at any
    sequence number without moving the state (for out-of-order, retransmissions,
    overlaps). Sequence numbers are kept modulo 2^32."""

    def __init__(self, cap, client_port, client=CLIENT4, server=SERVER4,
                 server_port=SERVER_PORT, client_isn=CLIENT_ISN, server_isn=SERVER_ISN,
                 ipv6_ext=False):
        self.cap = cap
        self.client, self.server = client, server
        self.client_port, self.server_port = client_port, server_port
        self.client_next = client_isn          # next sequence number the client sends
        self.server_next = server_isn
        self.ipv6_ext = ipv6_ext

    def send_at(self, from_client, seq, flags, data=b"", ack=None, options=b""):
        if from_client:
            src, dst, sport, dport = self.client, self.server, self.client_port, self.server_port
            ack = self.server_next if ack is None else ack
        else:
            src, dst, sport, dport = self.server, self.client, self.server_port, self.client_port
            ack = self.client_next if ack is None else ack
        if not flags & ACK:
            ack = 0
        l4 = tcp_segment(ip_bytes(src), ip_bytes(dst), sport, dport, seq, ack, flags,
                         data, options)
        self.cap.add_ip(src, dst, PROTO_TCP, l4, from_client, self.ipv6_ext)

    def c_send(self, data=b"", flags=PSH | ACK, options=b""):
        if not data and flags == PSH | ACK:
            flags = ACK
        self.send_at(True, self.client_next, flags, data, options=options)
        self.client_next = (self.client_next + len(data) + bool(flags & (SYN | FIN))) & 0xFFFFFFFF

    def s_send(self, data=b"", flags=PSH | ACK, options=b""):
        if not data and flags == PSH | ACK:
            flags = ACK
        self.send_at(False, self.server_next, flags, data, options=options)
        self.server_next = (self.server_next + len(data) + bool(flags & (SYN | FIN))) & 0xFFFFFFFF

    def handshake(self):
        mss = struct.pack("!BBH", 2, 4, 1460)
        self.c_send(flags=SYN, options=mss)
        self.s_send(flags=SYN | ACK, options=mss)
        self.c_send(flags=ACK)

    def close(self):
        """Client closes first: FIN/ACK, FIN/ACK, ACK."""
        self.c_send(flags=FIN | ACK)
        self.s_send(flags=FIN | ACK)
        self.c_send(flags=ACK)


def http_request(path, method="GET"):
    return ("%s %s HTTP/1.1\r\nHost: x\r\nUser-Agent: gen/1\r\n\r\n" % (method, path)).encode()


def http_response_head(length, status="200 OK"):
    return ("HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n" % (status, length)).encode()


def case_body(name):
    return ('{"generator":"gen_pcaps","case":"%s"}' % name).encode()


def simple_exchange(cap, name, client_port, ipv6=False, ipv6_ext=False, path=None):
    """The standard case: handshake, GET /<name>, 200 with a small body, teardown.
    Returns the body length."""
    if ipv6:
        conn = Conn(cap, client_port, CLIENT6, SERVER6, ipv6_ext=ipv6_ext)
    else:
        conn = Conn(cap, client_port)
    body = case_body(name)
    conn.handshake()
    conn.c_send(http_request(path or "/" + name))
    conn.s_send()
    conn.s_send(http_response_head(len(body)) + body)
    conn.c_send()
    conn.close()
    return len(body)


# ---------------------------------------------------------------- link-layer framings

def frame_ethernet(pkt):
    src = CLIENT_MAC if pkt.from_client else SERVER_MAC
    dst = pkt.eth_dst or (SERVER_MAC if pkt.from_client else CLIENT_MAC)
    return dst + src + struct.pack("!H", pkt.ethertype) + pkt.payload


def frame_vlan(pkt):
    src = CLIENT_MAC if pkt.from_client else SERVER_MAC
    dst = SERVER_MAC if pkt.from_client else CLIENT_MAC
    return dst + src + struct.pack("!HHH", ETH_VLAN, 100, pkt.ethertype) + pkt.payload


def frame_qinq(pkt):
    src = CLIENT_MAC if pkt.from_client else SERVER_MAC
    dst = SERVER_MAC if pkt.from_client else CLIENT_MAC
    tags = struct.pack("!HHHHH", ETH_QINQ, 200, ETH_VLAN, 100, pkt.ethertype)
    return dst + src + tags + pkt.payload


def frame_sll(pkt):
    """Linux cooked v1, captured on the client: its packets are OUTGOING (4),
    the server's are HOST (0). The address is the sender's MAC."""
    packet_type = 4 if pkt.from_client else 0
    src = CLIENT_MAC if pkt.from_client else SERVER_MAC
    return struct.pack("!HHH8sH", packet_type, 1, 6, src, pkt.ethertype) + pkt.payload


def frame_sll2(pkt):
    """Linux cooked v2: protocol, reserved, ifindex 2, ARPHRD_ETHER, packet type,
    address length, address."""
    packet_type = 4 if pkt.from_client else 0
    src = CLIENT_MAC if pkt.from_client else SERVER_MAC
    return struct.pack("!HHIHBB8s", pkt.ethertype, 0, 2, 1, packet_type, 6, src) + pkt.payload


def frame_raw(pkt):
    return pkt.payload


def frame_null(pkt):
    """BSD loopback: AF_INET (2) in the capturing host's byte order, here little-endian."""
    return struct.pack("<I", 2) + pkt.payload


def frame_loop(pkt):
    """OpenBSD loopback: AF_INET (2) always big-endian."""
    return struct.pack(">I", 2) + pkt.payload


# ---------------------------------------------------------------- file writers

def pcap_bytes(linktype, frames, snaplen=65535):
    """Classic pcap, little-endian, microsecond timestamps.
    frames: (ts_us, captured bytes, original length)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    for ts_us, data, orig_len in frames:
        out.append(struct.pack("<IIII", ts_us // 1000000, ts_us % 1000000, len(data), orig_len))
        out.append(data)
    return b"".join(out)


def pad4(data):
    return data + b"\0" * (-len(data) % 4)


def pcapng_block(block_type, body):
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def pcapng_bytes(linktype, frames, snaplen=65535):
    """pcapng: one section header, one interface (microsecond resolution), one
    enhanced packet block per frame."""
    shb = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    options = struct.pack("<HH", 9, 1) + pad4(b"\x06")      # if_tsresol = 10^-6
    options += struct.pack("<HH", 2, 4) + b"eth0"            # if_name
    options += struct.pack("<HH", 0, 0)                      # opt_endofopt
    idb = pcapng_block(1, struct.pack("<HHI", linktype, 0, snaplen) + options)
    out = [shb, idb]
    for ts_us, data, orig_len in frames:
        body = struct.pack("<IIIII", 0, ts_us >> 32, ts_us & 0xFFFFFFFF, len(data), orig_len)
        out.append(pcapng_block(6, body + pad4(data)))
    return b"".join(out)


def frames_of(cap, framing):
    out = []
    for pkt in cap.packets:
        data = framing(pkt)
        out.append((pkt.ts_us, data, len(data)))
    return out


# ---------------------------------------------------------------- cases

class Case:
    """A file to write and the facts a correct sensor reports for it.
    ops: (method, path, status) per HTTP exchange a decoder must produce."""

    def __init__(self, data, linktype, exercises, tcp_flows, ops, notes=""):
        self.data = data
        self.linktype = linktype
        self.exercises = exercises
        self.tcp_flows = tcp_flows
        self.ops = ops
        self.notes = notes


def standard_link_case(name, framing, linktype, exercises, ipv6=False, ipv6_ext=False):
    cap = Capture()
    length = simple_exchange(cap, name, 40000 + CASE_PORT[name], ipv6, ipv6_ext)
    notes = "10 packets; response body %d bytes; no gaps" % length
    return Case(pcap_bytes(linktype, frames_of(cap, framing)), linktype, exercises, 1,
                [("GET", "/" + name, 200)], notes)


def case_link_ethernet():
    return standard_link_case("link_ethernet", frame_ethernet, LINKTYPE_ETHERNET,
                              "Ethernet II, IPv4")


def case_link_vlan():
    return standard_link_case("link_vlan", frame_vlan, LINKTYPE_ETHERNET,
                              "802.1Q tag (VID 100) then IPv4")


def case_link_qinq():
    return standard_link_case("link_qinq", frame_qinq, LINKTYPE_ETHERNET,
                              "QinQ: 0x88a8 outer tag (VID 200), 0x8100 inner tag (VID 100), IPv4")


def case_link_sll():
    return standard_link_case("link_sll", frame_sll, LINKTYPE_LINUX_SLL,
                              "Linux cooked capture v1 (16-byte header)")


def case_link_sll2():
    return standard_link_case("link_sll2", frame_sll2, LINKTYPE_LINUX_SLL2,
                              "Linux cooked capture v2 (20-byte header)")


def case_link_raw():
    return standard_link_case("link_raw", frame_raw, LINKTYPE_RAW,
                              "raw IP, no link header (LINKTYPE_RAW)")


def case_link_null():
    return standard_link_case("link_null", frame_null, LINKTYPE_NULL,
                              "BSD null: 4-byte AF_INET=2 little-endian")


def case_link_loop():
    return standard_link_case("link_loop", frame_loop, LINKTYPE_LOOP,
                              "OpenBSD loop: 4-byte AF_INET=2 big-endian")


def case_link_ipv4():
    return standard_link_case("link_ipv4", frame_raw, LINKTYPE_IPV4, "LINKTYPE_IPV4, no link header")


def case_link_ipv6():
    return standard_link_case("link_ipv6", frame_raw, LINKTYPE_IPV6,
                              "LINKTYPE_IPV6, IPv6 exchange 2001:db8::1 -> 2001:db8::2", ipv6=True)


def case_ipv6_ext():
    return standard_link_case("ipv6_ext", frame_ethernet, LINKTYPE_ETHERNET,
                              "Ethernet + IPv6 with hop-by-hop and destination-options "
                              "headers (8 bytes each) before TCP, on every packet",
                              ipv6=True, ipv6_ext=True)


def case_pcapng():
    cap = Capture()
    length = simple_exchange(cap, "pcapng", 40000 + CASE_PORT["pcapng"])
    notes = ("the link_ethernet exchange (path /pcapng) written as pcapng: SHB, IDB "
             "(Ethernet, if_tsresol=6, if_name eth0), 10 EPBs; response body %d bytes" % length)
    return Case(pcapng_bytes(LINKTYPE_ETHERNET, frames_of(cap, frame_ethernet)),
                LINKTYPE_ETHERNET, "pcapng file format", 1, [("GET", "/pcapng", 200)], notes)


def ethernet_case(cap, exercises, tcp_flows, ops, notes, snaplen=65535):
    return Case(pcap_bytes(LINKTYPE_ETHERNET, frames_of(cap, frame_ethernet), snaplen),
                LINKTYPE_ETHERNET, exercises, tcp_flows, ops, notes)


def case_tcp_out_of_order():
    cap = Capture()
    conn = Conn(cap, 40000 + CASE_PORT["tcp_out_of_order"])
    parts = [b"A" * 100, b"B" * 100, b"C" * 100]
    head = http_response_head(300)
    conn.handshake()
    conn.c_send(http_request("/tcp_out_of_order"))
    conn.s_send(head)
    base = conn.server_next
    for index in (2, 0, 1):
        conn.send_at(False, base + 100 * index, PSH | ACK, parts[index])
    conn.server_next = (base + 300) & 0xFFFFFFFF
    conn.c_send()
    conn.close()
    notes = ("response headers (%d bytes) in order, then the 300-byte body as three "
             "100-byte segments sent in order 3,1,2 (bytes CCC.., AAA.., BBB..); reassembled "
             "body is 100*'A'+100*'B'+100*'C'; no gap, no retransmission" % len(head))
    return ethernet_case(cap, "out-of-order segments in the server direction", 1,
                         [("GET", "/tcp_out_of_order", 200)], notes)


def case_tcp_retransmission():
    cap = Capture()
    conn = Conn(cap, 40000 + CASE_PORT["tcp_retransmission"])
    request = http_request("/tcp_retransmission")
    conn.handshake()
    request_seq = conn.client_next
    conn.c_send(request)
    cap.tick(200000)                                         # RTO: 200 ms later, same bytes
    conn.send_at(True, request_seq, PSH | ACK, request)
    conn.s_send()
    body = b"R" * 200
    first = http_response_head(200) + body[:100]
    conn.s_send(first)
    second_seq = conn.server_next
    conn.s_send(body[100:])
    cap.tick(200000)
    conn.send_at(False, second_seq, PSH | ACK, body[100:])
    conn.c_send()
    conn.close()
    notes = ("request segment (%d bytes) sent twice, 200 ms apart; second response segment "
             "(last 100 body bytes) sent twice; body is 200*'R'; 2 retransmitted segments "
             "(one per direction), no gap; exactly one op, not two" % len(request))
    return ethernet_case(cap, "exact retransmissions in both directions", 1,
                         [("GET", "/tcp_retransmission", 200)], notes)


def overlap_connection(cap, port, path, second_prefix):
    """Body of 200 bytes: segment 1 is body[0:100] = 100*'A'; segment 2 starts at
    body offset 90 and carries 110 bytes: second_prefix (10 bytes) + 100*'B'."""
    conn = Conn(cap, port)
    head = http_response_head(200)
    conn.handshake()
    conn.c_send(http_request(path))
    conn.s_send(head)
    base = conn.server_next
    conn.send_at(False, base, PSH | ACK, b"A" * 100)
    conn.send_at(False, base + 90, PSH | ACK, second_prefix + b"B" * 100)
    conn.server_next = (base + 200) & 0xFFFFFFFF
    conn.c_send()
    conn.close()
    return len(head)


def case_tcp_overlap():
    cap = Capture()
    port = 40000 + CASE_PORT["tcp_overlap"]
    head_len = overlap_connection(cap, port, "/tcp_overlap_same", b"A" * 10)
    overlap_connection(cap, port + 1, "/tcp_overlap_diff", b"X" * 10)
    notes = ("two connections (client ports %d, %d). In each the response headers (%d bytes) "
             "come first, then body segment 1 = body[0:100] = 100*'A', then segment 2 at body "
             "offset 90 with 110 bytes (10 overlapping). /tcp_overlap_same: overlapping bytes "
             "are 'A' as before, body = 100*'A'+100*'B', overlap with identical data. "
             "/tcp_overlap_diff: overlapping bytes are 10*'X'; a FIRST-WINS policy delivers "
             "100*'A'+100*'B' (body offsets 90..99 = 'A', server stream offsets %d..%d), a "
             "last-wins policy would deliver 90*'A'+10*'X'+100*'B'; count one overlap with "
             "different data. Both bodies are 200 bytes so Content-Length framing is intact"
             % (port, port + 1, head_len, head_len + 90, head_len + 99))
    return ethernet_case(cap, "overlapping segments, same and different bytes", 2,
                         [("GET", "/tcp_overlap_same", 200), ("GET", "/tcp_overlap_diff", 200)],
                         notes)


def case_tcp_gap():
    cap = Capture()
    conn = Conn(cap, 40000 + CASE_PORT["tcp_gap"])
    head = http_response_head(300)
    conn.handshake()
    conn.c_send(http_request("/tcp_gap"))
    conn.s_send(head + b"A" * 100)
    conn.server_next = (conn.server_next + 100) & 0xFFFFFFFF  # "B" segment never captured
    conn.s_send(b"C" * 100)
    conn.c_send()                                             # client ACKs past the hole
    body = case_body("tcp_gap/2")
    conn.c_send(http_request("/tcp_gap/2"))
    conn.s_send(http_response_head(len(body)) + body)
    conn.c_send()
    conn.close()
    start = len(head) + 100
    notes = ("server direction misses 100 bytes at stream offsets %d..%d (body offsets "
             "100..199) while the client ACKs past them: one gap of 100 bytes; the first op "
             "is marked partial (response cut by a gap). Content-Length framing lets the "
             "decoder resynchronise: the second exchange on the same connection (/tcp_gap/2, "
             "body %d bytes) decodes completely" % (start, start + 99, len(body)))
    return ethernet_case(cap, "reassembly gap, then recovery on the same connection", 1,
                         [("GET", "/tcp_gap", 200), ("GET", "/tcp_gap/2", 200)], notes)


def case_tcp_wrap():
    cap = Capture()
    client_isn, server_isn = 0xFFFFFFE0, 0xFFFFFF00
    conn = Conn(cap, 40000 + CASE_PORT["tcp_wrap"], client_isn=client_isn, server_isn=server_isn)
    head = http_response_head(400)
    request = http_request("/tcp_wrap")
    conn.handshake()
    conn.c_send(request)
    conn.s_send(head)
    for fill in (b"D", b"E", b"F", b"G"):
        conn.s_send(fill * 100)
    conn.c_send()
    conn.close()
    client_wrap = (1 << 32) - (client_isn + 1)
    server_wrap = (1 << 32) - (server_isn + 1)
    notes = ("client ISN 0x%08X: the %d-byte request crosses 2^32 after %d bytes; "
             "server ISN 0x%08X: the response (%d header bytes + 400 body bytes in 4 segments "
             "of 100, 'D','E','F','G') crosses 2^32 at server stream offset %d; no gap, no "
             "overlap" % (client_isn, len(request), client_wrap, server_isn, len(head),
                          server_wrap))
    return ethernet_case(cap, "sequence numbers wrapping past 2^32 in both directions", 1,
                         [("GET", "/tcp_wrap", 200)], notes)


def case_tcp_midstream():
    cap = Capture()
    port = 40000 + CASE_PORT["tcp_midstream"]
    # Flow 1: capture starts with the client's request data; no handshake seen.
    conn = Conn(cap, port)
    body = case_body("tcp_midstream")
    conn.c_send(http_request("/tcp_midstream"))
    conn.s_send(http_response_head(len(body)) + body)
    conn.c_send()
    conn.close()
    # Flow 2: capture starts with the server's response to a request never seen.
    conn = Conn(cap, port + 1, client_isn=0x03000000, server_isn=0x04000000)
    orphan = case_body("orphan")
    conn.s_send(http_response_head(len(orphan)) + orphan)
    conn.c_send()
    conn.c_send(http_request("/tcp_midstream/2"))
    second = case_body("tcp_midstream/2")
    conn.s_send(http_response_head(len(second)) + second)
    conn.c_send()
    conn.close()
    notes = ("no SYNs at all; orientation from server port 9200. Flow 1 (client port %d) "
             "starts with the request. Flow 2 (client port %d) starts with the server's "
             "packet (a 200 response, body %d bytes, whose request was never captured): "
             "the first packet's sender is still the SERVER, and that orphan response must "
             "not produce an op with an invented request: it yields a response-only op "
             "(no method, no path, status 200) flagged unpaired; its second exchange "
             "/tcp_midstream/2 decodes normally"
             % (port, port + 1, len(orphan)))
    return ethernet_case(cap, "mid-stream pickup, orientation by port", 2,
                         [("GET", "/tcp_midstream", 200), (None, "", 200),
                          ("GET", "/tcp_midstream/2", 200)],
                         notes)


def case_tcp_keepalive_pipeline():
    cap = Capture()
    conn = Conn(cap, 40000 + CASE_PORT["tcp_keepalive_pipeline"])
    paths = ["/tcp_keepalive_pipeline/%d" % i for i in (1, 2, 3)]
    first = case_body("tcp_keepalive_pipeline/1")
    third = b"not found"
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"7\r\n{\"a\":1,\r\n8\r\n\"b\":22}\n\r\n0\r\n\r\n")
    conn.handshake()
    conn.c_send(b"".join(http_request(p) for p in paths))
    conn.s_send(http_response_head(len(first)) + first + chunked)
    conn.s_send(http_response_head(len(third), "404 Not Found") + third)
    conn.c_send()
    conn.close()
    notes = ("3 requests in ONE client segment; responses: #1 Content-Length %d and #2 "
             "chunked (chunks of 7 and 8 bytes, body '{\"a\":1,\"b\":22}\\n' = 15 bytes) "
             "share one segment, #3 is a 404 with Content-Length 9 in its own segment. "
             "Pairing is by order: 200, 200, 404" % len(first))
    return ethernet_case(cap, "HTTP pipelining, keep-alive, chunked framing", 1,
                         [("GET", paths[0], 200), ("GET", paths[1], 200), ("GET", paths[2], 404)],
                         notes)


def case_tcp_rst():
    cap = Capture()
    conn = Conn(cap, 40000 + CASE_PORT["tcp_rst"])
    body = case_body("tcp_rst")
    conn.handshake()
    conn.c_send(http_request("/tcp_rst"))
    conn.s_send(http_response_head(len(body)) + body)
    conn.c_send()
    conn.s_send(flags=RST | ACK)
    notes = ("7 packets; the server sends RST/ACK after the client ACKs the response; no FIN. "
             "The op is complete (body %d bytes); the flow ends on RST, not on timeout"
             % len(body))
    return ethernet_case(cap, "connection reset by the server", 1, [("GET", "/tcp_rst", 200)], notes)


def case_tcp_port_reuse():
    cap = Capture()
    port = 40000 + CASE_PORT["tcp_port_reuse"]
    for path in ("/tcp_port_reuse", "/tcp_port_reuse/2"):
        conn = Conn(cap, port)   # the same client port both times
        body = case_body(path[1:])
        conn.handshake()
        conn.c_send(http_request(path))
        conn.s_send(http_response_head(len(body)) + body)
        conn.c_send()
        conn.close()
    notes = ("two connections one after the other on the same client port %d (port reuse, "
             "as scanners do), well within the closed-flow timeout. The second SYN starts a "
             "new flow: 2 flows, each ended by FIN, each with its own op; nothing of the "
             "second is taken for a retransmission of the first" % port)
    return ethernet_case(cap, "TCP port reuse after close", 2,
                         [("GET", "/tcp_port_reuse", 200), ("GET", "/tcp_port_reuse/2", 200)],
                         notes)


def case_snaplen_cut():
    cap = Capture()
    request = http_request("/snaplen_cut")
    body = case_body("snaplen_cut")
    response = http_response_head(len(body)) + body
    conn = Conn(cap, 40000 + CASE_PORT["snaplen_cut"])
    conn.handshake()
    conn.c_send(request)
    conn.s_send()
    conn.s_send(response)
    conn.c_send()
    conn.close()
    frames = [(ts, data[:96], orig) for ts, data, orig in frames_of(cap, frame_ethernet)]
    room = 96 - 14 - 20 - 20
    notes = ("snaplen 96 in the file header; every frame is cut at 96 bytes, so a data "
             "segment keeps only its first %d payload bytes (incl_len 96 < orig_len). Request: "
             "%d bytes on the wire, %d captured (the request line 'GET /snaplen_cut HTTP/1.1' "
             "survives, the headers end does not); response: %d bytes, %d captured. 2 "
             "truncated packets; the missing %d + %d bytes are gaps, never data. The response "
             "head (status line and Content-Length) fits in the captured bytes, so the op "
             "is GET /snaplen_cut -> 200, flagged partial"
             % (room, len(request), room, len(response), room,
                len(request) - room, len(response) - room))
    return Case(pcap_bytes(LINKTYPE_ETHERNET, frames, 96), LINKTYPE_ETHERNET,
                "snaplen shorter than packets (incl_len < orig_len)", 1,
                [("GET", "/snaplen_cut", 200)], notes)


def case_many_flows():
    """300 connections open at the same time: all handshakes and requests first, then
    all responses and teardowns, so a table of 100 flows must overflow."""
    cap = Capture()
    conns = []
    for i in range(300):
        conn = Conn(cap, 41000 + i, client_isn=CLIENT_ISN + i * 0x10000,
                    server_isn=SERVER_ISN + i * 0x10000)
        mss = struct.pack("!BBH", 2, 4, 1460)
        conn.c_send(flags=SYN, options=mss)
        conn.s_send(flags=SYN | ACK, options=mss)
        conn.c_send(http_request("/many_flows/%d" % i))     # third ACK carries the request
        conns.append(conn)
    for i, conn in enumerate(conns):
        body = b"%016d" % i
        conn.s_send(http_response_head(len(body)) + body, flags=PSH | ACK | FIN)
        conn.c_send(flags=FIN | ACK)
        conn.s_send(flags=ACK)
    notes = ("300 connections, client ports 41000..41299, 6 packets each (SYN, SYN/ACK, "
             "ACK+request, response+FIN, FIN/ACK, ACK). All 300 are opened (900 packets) "
             "before any is answered, so 300 flows are live at once. With the default "
             "limits: 300 flows, 300 ops (GET /many_flows/N -> 200, body 16 bytes). Run "
             "with flows.max = 100 to exercise the flow-table limit: never more than 100 "
             "flows live, the flow-limit counter is non-zero (200 flows refused or "
             "evicted), and the ops actually emitted are at most the flows kept; no crash, "
             "bounded memory")
    ops = [("GET", "/many_flows/%d" % i, 200) for i in range(300)]
    return ethernet_case(cap, "flow-table limit (run with flows.max = 100)", 300, ops, notes)


def case_idle_timeout():
    cap = Capture()
    port = 40000 + CASE_PORT["idle_timeout"]
    conn = Conn(cap, port)
    body = case_body("idle_timeout")
    conn.handshake()
    conn.c_send(http_request("/idle_timeout"))
    conn.s_send(http_response_head(len(body)) + body)
    conn.c_send()
    last_quiet = cap.now_us - 1000
    cap.now_us = last_quiet + 700 * 1000000
    simple_exchange(cap, "idle_timeout/2", port + 1, path="/idle_timeout/2")
    notes = ("flow 1 (client port %d) goes quiet after its exchange, last packet at "
             "2024-01-01T00:00:00.%06dZ, no FIN/RST. 700 s later flow 2 (client port %d) "
             "does a full exchange. With the default idle timeout (600 s) flow 1 ends by "
             "TIMEOUT, noticed when packet time passes 600 s after its last packet (i.e. on "
             "flow 2's first packet), not at end of file; flow 2 ends by FIN"
             % (port, last_quiet - BASE_US, port + 1))
    return ethernet_case(cap, "idle timeout driven by packet time", 2,
                         [("GET", "/idle_timeout", 200), ("GET", "/idle_timeout/2", 200)], notes)


def dns_query(ident, name, response=False):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    flags, answers = (0x8180, 1) if response else (0x0100, 0)
    message = struct.pack("!HHHHHH", ident, flags, 1, answers, 0, 0) + labels + struct.pack("!HH", 1, 1)
    if response:
        message += struct.pack("!HHHIH4s", 0xC00C, 1, 1, 300, 4, ip_bytes("93.184.216.34"))
    return message


def case_udp_and_icmp():
    cap = Capture()
    resolver = "10.0.0.53"
    arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 1, CLIENT_MAC, ip_bytes(CLIENT4),
                      b"\0" * 6, ip_bytes(SERVER4))
    cap.packets.append(Packet(cap.now_us, ETH_ARP, arp + b"\0" * 18, True,
                              eth_dst=b"\xff" * 6))
    cap.tick()
    cap.add_ip(CLIENT4, resolver, PROTO_UDP,
               udp_datagram(ip_bytes(CLIENT4), ip_bytes(resolver), 53000, 53,
                            dns_query(0x1234, "example.com")), True)
    cap.add_ip(resolver, CLIENT4, PROTO_UDP,
               udp_datagram(ip_bytes(resolver), ip_bytes(CLIENT4), 53, 53000,
                            dns_query(0x1234, "example.com", response=True)), False)
    trap = b"GET /udp_not_http HTTP/1.1\r\nHost: x\r\n\r\n"
    cap.add_ip(CLIENT4, SERVER4, PROTO_UDP,
               udp_datagram(ip_bytes(CLIENT4), ip_bytes(SERVER4), 53001, 9200, trap), True)
    ping = bytes(range(32))
    cap.add_ip(CLIENT4, SERVER4, PROTO_ICMP, icmp_echo(8, 1, 1, ping), True)
    cap.add_ip(SERVER4, CLIENT4, PROTO_ICMP, icmp_echo(0, 1, 1, ping), False)
    notes = ("6 frames: 1 ARP request (non-IP), 3 UDP datagrams (DNS query/answer "
             "10.0.0.1:53000 <-> 10.0.0.53:53, and one UDP datagram to 10.0.0.2:9200 carrying "
             "HTTP-looking text that must NOT be decoded), 1 ICMP echo request + 1 reply. "
             "Counted by protocol; 0 TCP flows, 0 ops")
    return ethernet_case(cap, "non-TCP traffic is counted and ignored", 0, [], notes)


def case_corrupt_record():
    cap = Capture()
    conn = Conn(cap, 40000 + CASE_PORT["corrupt_record"])
    conn.handshake()
    good = pcap_bytes(LINKTYPE_ETHERNET, frames_of(cap, frame_ethernet))
    bad = struct.pack("<IIII", BASE_US // 1000000 + 1, 0, 0x7FFFFFFF, 0x7FFFFFFF) + b"\xAB" * 64
    notes = ("valid header and 3 valid packets (the handshake), then a record header with "
             "incl_len = orig_len = 0x7fffffff followed by 64 bytes. The reader reports a "
             "clear error for the bad record (libpcap refuses it as bigger than the maximum "
             "snapshot length), keeps what it read (3 packets, 1 flow, 0 ops), does not try to "
             "allocate 2 GiB, and exits non-zero")
    return Case(good + bad, LINKTYPE_ETHERNET, "corrupt record length", 1, [], notes)


def case_truncated_file():
    cap = Capture()
    simple_exchange(cap, "truncated_file", 40000 + CASE_PORT["truncated_file"])
    data = pcap_bytes(LINKTYPE_ETHERNET, frames_of(cap, frame_ethernet))
    offset = 24
    for ts, frame, orig in frames_of(cap, frame_ethernet)[:4]:
        offset += 16 + len(frame)
    fifth = frames_of(cap, frame_ethernet)[4][1]
    cut = offset + 16 + len(fifth) // 2
    notes = ("the standard 10-packet exchange, file cut at byte %d: in the middle of the "
             "5th packet (the server's ACK of the request). 4 packets are read (handshake + "
             "the request), then a truncated-file error is reported; the request may be "
             "recorded without a response (no 200 seen); no crash" % cut)
    return Case(data[:cut], LINKTYPE_ETHERNET, "file ends inside a packet record", 1,
                [("GET", "/truncated_file", None)], notes)


def case_bad_magic():
    rng = random.Random(20240101)
    data = bytes(rng.randrange(256) for _ in range(64))
    magics = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
              b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a"}
    assert data[:4] not in magics
    return Case(data, None, "not a capture file (64 pseudo-random bytes)", 0, [],
                "open fails with one clear error line naming the file; exit non-zero")


def case_empty_file():
    return Case(b"", None, "0-byte file", 0, [],
                "open fails (or reads 0 packets) with a clear message; no crash")


def case_unknown_linktype():
    cap = Capture()
    simple_exchange(cap, "unknown_linktype", 40000 + CASE_PORT["unknown_linktype"])
    data = pcap_bytes(LINKTYPE_USER0, frames_of(cap, frame_ethernet))
    notes = ("a valid pcap with link type 147 (USER0) holding Ethernet frames: the sensor "
             "refuses the link type with a clear error (or counts all 10 packets as "
             "unsupported link); it must not guess Ethernet. 0 flows, 0 ops")
    return Case(data, LINKTYPE_USER0, "unsupported link type", 0, [], notes)


CASES = [
    "link_ethernet", "link_vlan", "link_qinq", "link_sll", "link_sll2", "link_raw",
    "link_null", "link_loop", "link_ipv4", "link_ipv6", "ipv6_ext", "pcapng",
    "tcp_out_of_order", "tcp_retransmission", "tcp_overlap", "tcp_gap", "tcp_wrap",
    "tcp_midstream", "tcp_keepalive_pipeline", "tcp_rst", "snaplen_cut", "many_flows",
    "idle_timeout", "udp_and_icmp",
    "corrupt_record", "truncated_file", "bad_magic", "empty_file", "unknown_linktype",
    "tcp_port_reuse",
]
# Each case gets its own client port 40000 + 10 * index (+1 for a second flow).
CASE_PORT = {name: 10 * i for i, name in enumerate(CASES)}


# ---------------------------------------------------------------- README and expected.json

def op_text(ops):
    if not ops:
        return "none"
    if len(ops) > 4:
        return "%d ops: %s %s -> %s ... %s %s -> %s" % (
            len(ops), ops[0][0], ops[0][1], ops[0][2], ops[-1][0], ops[-1][1], ops[-1][2])
    return "; ".join("%s %s -> %s" % (m, p, "?" if s is None else s) for m, p, s in ops)


def file_name(name):
    return name + (".pcapng" if name == "pcapng" else ".pcap")


def write_readme(outdir, cases):
    lines = [
        "# Crafted captures",
        "",
        "Generated by `tests/gen/gen_pcaps.py` (python3, standard library only). Do not edit the",
        "files by hand: change the generator and run `python3 tests/gen/gen_pcaps.py`; the",
        "output is deterministic (timestamps from 2024-01-01T00:00:00Z, fixed ISNs), so a",
        "regenerated file is byte-identical unless the generator changed.",
        "",
        "Unless a row says otherwise: client 10.0.0.1 (port 40000 + 10 x case index) talks to",
        "server 10.0.0.2:9200 (IPv6: 2001:db8::1 -> 2001:db8::2), full 3-way handshake,",
        "`GET /<case> HTTP/1.1` with `Host: x` and `User-Agent: gen/1`, a `200 OK` with",
        "Content-Length, client-initiated FIN teardown, correct IP/TCP/UDP/ICMP checksums,",
        "one packet per millisecond. Client ISN 0x01000000, server ISN 0x02000000.",
        "The same facts are in `expected.json` (flows and ops per file, `null` status = none",
        "expected) for scripts.",
        "",
        "| file | link type | packets | exercises | TCP flows | HTTP ops (method path -> status) | expected details |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, case, packets in cases:
        link = "-" if case.linktype is None else str(case.linktype)
        lines.append("| %s | %s | %s | %s | %d | %s | %s |" % (
            file_name(name), link, packets, case.exercises, case.tcp_flows,
            op_text(case.ops), case.notes.replace("|", "\\|")))
    lines += [
        "",
        "Link types: 0 NULL, 1 Ethernet, 101 RAW, 108 LOOP, 113 LINUX_SLL, 147 USER0,",
        "228 IPV4, 229 IPV6, 276 LINUX_SLL2.",
        "",
        "`?` as a status: no response was captured in full, so no status can be claimed.",
        "Broken files (corrupt_record, truncated_file, bad_magic, empty_file, unknown_linktype)",
        "test the reader: one clear error line, defined exit status, no crash, no leak.",
        "",
        "Cross-checking with tshark (`tests/tshark_check.sh`, which decodes port 9200 as HTTP",
        "with `-o tcp.reassemble_out_of_order:TRUE`): tshark agrees with the table except on",
        "tcp_gap (it stalls at the gap and reports no status at all), tcp_midstream (it counts",
        "the orphan response as a third 200) and snaplen_cut (it decodes nothing). Without the",
        "out-of-order option it also misses the responses of tcp_out_of_order and tcp_overlap;",
        "with it, it delivers first-wins bytes for /tcp_overlap_diff, as the table says.",
        "",
    ]
    with open(os.path.join(outdir, "README.md"), "w") as f:
        f.write("\n".join(lines))


def count_packets(case):
    """Records in a classic pcap / pcapng we wrote (for the README only)."""
    data = case.data
    if len(data) < 24 or case.linktype is None:
        return "-"
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        count, offset = 0, 0
        while offset + 8 <= len(data):
            block_type, length = struct.unpack_from("<II", data, offset)
            count += block_type == 6
            offset += length
        return str(count)
    count, offset = 0, 24
    while offset + 16 <= len(data):
        incl = struct.unpack_from("<I", data, offset + 8)[0]
        if offset + 16 + incl > len(data):
            return "%d + 1 bad" % count
        count += 1
        offset += 16 + incl
    return str(count)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "pcaps", "crafted")
    os.makedirs(outdir, exist_ok=True)
    written, expected = [], {}
    for name in CASES:
        case = globals()["case_" + name]()
        with open(os.path.join(outdir, file_name(name)), "wb") as f:
            f.write(case.data)
        written.append((name, case, count_packets(case)))
        expected[file_name(name)] = {
            "linktype": case.linktype,
            "tcp_flows": case.tcp_flows,
            "ops": [{"method": m, "path": p, "status": s} for m, p, s in case.ops],
            "notes": case.notes,
        }
    write_readme(outdir, written)
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d captures to %s" % (len(written), os.path.normpath(outdir)))


if __name__ == "__main__":
    main()
