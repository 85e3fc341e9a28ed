#!/usr/bin/env python3
"""Facts of one recorded Redis or Memcached capture (used by record_redis_clients.sh,
record_memcached.sh and record_scenarios_kv.sh).

    kv_facts.py refresh --pcap P --proto resp|memcache --port PORT --out FACTS.json
                      (recompute only the tshark view of an existing facts file)
    kv_facts.py write --name N --title T --pcap P --proto resp|memcache --port PORT
                      --server TEXT --steps STEPS.jsonl --versions JSON --out FACTS.json
                      [--recorded-by SCRIPT] [--actors JSON --pnat LIST]
                      [--expected JSON] [--extra JSON]

Writes: what was recorded and with which tools, packet and connection counts,
every step (what the client ran and what it reported: items, hits, bytes), and
tshark's own view of the capture (tshark -d tcp.port==PORT,resp / memcache and
udp.port==PORT,memcache): requests per connection and per command, UDP
datagrams, and the count of malformed packets (must be 0: writing fails
otherwise), so that a decoder's ops can be cross-checked against an independent
dissector.

tshark counts what it dissects: a request is one top-level RESP value sent to
the server (for an array, its command is the first bulk string, upper-cased;
anything else is listed as "inline"), or one memcache PDU sent to the server
(text: its command word, with the stats subcommand; binary: "bin:" + the opcode
name). Next to tshark's counts, the requests are also counted by reading the client
bytes directly ("tcp_resp_read_directly", "tcp_memcache_read_directly"): tshark
4.0 miscounts some pipelined requests and skips inline commands. Memcached over
UDP is read directly from the capture instead (tshark 4.0 does not dissect past
the UDP frame header): "udp_memcache_read_directly".
A request that tshark marks "partially decoded, reassembled in the next frame"
is counted once, where it is reassembled. Replies are not counted: tshark 4.0's
RESP dissector does not reassemble a large reply array spread over many segments
(it counts each segment's elements as values), so what each client received is
in the steps instead.
"""
import argparse
import collections
import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET


def tshark_pdml(pcap, proto, port):
    args = ["tshark", "-r", pcap, "-o", "tcp.desegment_tcp_streams:TRUE", "-T", "pdml"]
    if proto == "resp":
        args += ["-d", "tcp.port==%d,resp" % port]
    else:
        args += ["-d", "tcp.port==%d,memcache" % port, "-d", "udp.port==%d,memcache" % port]
    out = subprocess.run(args, check=True, capture_output=True).stdout
    return ET.fromstring(out)


def field_show(node, name):
    for f in node.iter("field"):
        if f.get("name") == name:
            return f.get("show")
    return None


def resp_items(proto):
    """Top-level RESP values in one resp proto node: their command names."""
    names = []
    for f in proto.findall("field"):
        n = f.get("name")
        if f.find(".//field[@name='resp.reassembled_in_next_frame']") is not None:
            continue                  # partial: counted where it is reassembled
        if n == "resp.array":
            first = f.find("field[@name='resp.bulk_string']")
            if first is not None:
                sn = first.get("showname", "")
                names.append(sn.split(": ", 1)[1].upper() if ": " in sn else "?")
            else:
                names.append("array")
        elif n and n.startswith("resp.") and n not in ("resp.fragment", "resp.fragments",
                                                        "resp.reassembled_in_next_frame"):
            names.append("inline")
    return names


def memcache_items(proto):
    """One memcache PDU: its command (text) or opcode (binary)."""
    cmd = field_show(proto, "memcache.command")
    if cmd is not None:
        sub = field_show(proto, "memcache.subcommand")
        return [cmd + " " + sub if sub else cmd]
    op = None
    for f in proto.iter("field"):
        if f.get("name") == "memcache.opcode":
            op = f.get("showname", "").split(": ", 1)[-1].split(" (")[0]
            break
    if op is not None:
        return ["bin:" + op]
    resp = field_show(proto, "memcache.response")
    return [resp] if resp is not None else ["?"]


def payload_head(l4node, l4):
    """The first bytes of a segment's or datagram's payload, escaped (for scanners)."""
    for f in l4node.iter("field"):
        if f.get("name") in ("tcp.payload", "data.data", "data") and f.get("value"):
            raw = bytes.fromhex(f.get("value"))[:HEAD_BYTES]
            return raw.decode("latin-1").encode("unicode_escape").decode("ascii")
    return None


HEAD_BYTES = 72


def udp_datagrams(pcap):
    """(src port, dst port, payload) of every UDP/IPv4 datagram, read directly."""
    data = open(pcap, "rb").read()
    endian = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + caplen][14:]          # Ethernet (loopback capture)
        off += 16 + caplen
        if len(pkt) >= 20 and pkt[0] >> 4 == 4 and pkt[9] == 17:
            ihl = (pkt[0] & 15) * 4
            sport, dport = struct.unpack(">HH", pkt[ihl:ihl + 4])
            out.append((sport, dport, pkt[ihl + 8:]))
    return out


def tcp_client_streams(pcap, port):
    """Client-to-server bytes of every TCP/IPv4 connection to port, in sequence
    order (a segment seen twice counts once), keyed by client port."""
    data = open(pcap, "rb").read()
    endian = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, segs = 24, collections.OrderedDict()
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + caplen][14:]
        off += 16 + caplen
        if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 6:
            continue
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack(">H", pkt[2:4])[0]
        sport, dport, seq = struct.unpack(">HHI", pkt[ihl:ihl + 8])
        doff = (pkt[ihl + 12] >> 4) * 4
        payload = pkt[ihl + doff:total]
        if dport == port and payload:
            segs.setdefault(sport, {})[seq] = payload
    return {p: b"".join(s[k] for k in sorted(s)) for p, s in segs.items()}


MEMCACHE_STORAGE = {b"set", b"add", b"replace", b"append", b"prepend", b"cas"}
MEMCACHE_OPCODES = {0x00: "Get", 0x01: "Set", 0x02: "Add", 0x03: "Replace", 0x04: "Delete",
                    0x05: "Increment", 0x06: "Decrement", 0x07: "Quit", 0x08: "Flush",
                    0x09: "GetQ", 0x0a: "No-op", 0x0b: "Version", 0x0c: "GetK", 0x0d: "GetKQ",
                    0x10: "Stat", 0x20: "SASL list mechs", 0x21: "SASL auth", 0x22: "SASL step"}


def memcache_requests(stream):
    """Requests in one client stream: text lines (a storage command's data block
    skipped by its byte count) and binary frames (24-byte header + body)."""
    out, i = [], 0
    while i < len(stream):
        if stream[i] == 0x80:
            if i + 24 > len(stream):
                break
            body = struct.unpack(">I", stream[i + 8:i + 12])[0]
            out.append("bin:" + MEMCACHE_OPCODES.get(stream[i + 1], "0x%02x" % stream[i + 1]))
            i += 24 + body
            continue
        end = stream.find(b"\r\n", i)
        if end < 0:
            break
        words = stream[i:end].split()
        i = end + 2
        if not words:
            continue
        name = words[0].decode("latin-1")
        if words[0] == b"stats" and len(words) > 1:
            name += " " + words[1].decode("latin-1")
        out.append(name)
        if words[0] in MEMCACHE_STORAGE and len(words) >= 5 and words[4].isdigit():
            i += int(words[4]) + 2
    return out


def memcache_tcp_view(pcap, port):
    """Memcached requests per TCP connection, parsed here from the client bytes:
    tshark 4.0's memcache dissector shows only the first text command of a
    segment (10 pipelined sets count as one), so this count is the exact one."""
    out = []
    for client_port, stream in tcp_client_streams(pcap, port).items():
        names = memcache_requests(stream)
        out.append(dict(client_port=client_port, client_bytes=len(stream), requests=len(names),
                        requests_by_command=dict(sorted(collections.Counter(names).items()))))
    return out


def resp_requests(stream):
    """Requests in one client stream: RESP arrays of bulk strings (named by their
    first element, upper-cased) and inline commands ("inline:" + first word)."""
    out, i, n = [], 0, len(stream)
    while i < n:
        end = stream.find(b"\n", i)
        if end < 0:
            out.append("incomplete")
            break
        line = stream[i:end].rstrip(b"\r")
        i = end + 1
        if not line.startswith(b"*"):
            if line.strip():
                out.append("inline:" + line.split()[0].decode("latin-1").upper())
            continue
        name = None
        for _ in range(int(line[1:]) if line[1:].lstrip(b"-").isdigit() else 0):
            end = stream.find(b"\r\n", i)
            if end < 0 or stream[i:i + 1] != b"$":
                i = n
                break
            size = int(stream[i + 1:end])
            if name is None:
                name = stream[end + 2:end + 2 + size].decode("latin-1").upper()
            i = end + 2 + size + 2
        out.append(name if i <= n and name is not None else "incomplete")
    return out


def resp_tcp_view(pcap, port):
    """RESP requests per TCP connection, parsed here from the client bytes: an
    exact count next to tshark's (tshark 4.0 miscounts a few pipelined
    requests that straddle segments)."""
    out = []
    for client_port, stream in tcp_client_streams(pcap, port).items():
        names = resp_requests(stream)
        out.append(dict(client_port=client_port, client_bytes=len(stream), requests=len(names),
                        requests_by_command=dict(sorted(collections.Counter(names).items()))))
    return out


def memcache_udp_view(pcap, port):
    """Memcached over UDP, read here: tshark 4.0 shows these datagrams as an empty
    "Memcache Protocol" tree (it does not skip the 8-byte frame header). Per client
    port: requests by command word, reply datagrams and bytes, request ids."""
    conns = collections.OrderedDict()
    for sport, dport, pl in udp_datagrams(pcap):
        to_server = dport == port
        client = sport if to_server else dport
        c = conns.setdefault(client, dict(client_port=client, requests_by_command=collections.Counter(),
                                          request_ids=[], reply_datagrams=0, reply_bytes=0,
                                          request_bytes=0))
        if len(pl) < 8:
            continue
        rid, seq, count, _ = struct.unpack(">HHHH", pl[:8])
        if to_server:
            c["requests_by_command"][pl[8:].split(b" ")[0].split(b"\r")[0].decode("latin-1")] += 1
            c["request_ids"].append(rid)
            c["request_bytes"] += len(pl)
        else:
            c["reply_datagrams"] += 1
            c["reply_bytes"] += len(pl)
    out = []
    for c in conns.values():
        c["requests_by_command"] = dict(c["requests_by_command"])
        out.append(c)
    return out


def tshark_view(pcap, proto, port, heads=False, payloads=False):
    root = tshark_pdml(pcap, proto, port)
    conns = collections.OrderedDict()
    malformed = packets = 0
    udp_dgrams = collections.Counter()
    udp_bytes = collections.Counter()
    for pkt in root.findall("packet"):
        packets += 1
        protos = {p.get("name"): p for p in pkt.findall("proto")}
        if "_ws.malformed" in protos or pkt.find(".//field[@name='_ws.malformed']") is not None:
            malformed += 1
        ip = protos.get("ip") or protos.get("ipv6")
        src = field_show(ip, "ip.src") or field_show(ip, "ipv6.src")
        dst = field_show(ip, "ip.dst") or field_show(ip, "ipv6.dst")
        l4 = "tcp" if "tcp" in protos else "udp"
        t = protos[l4]
        sport, dport = int(field_show(t, l4 + ".srcport")), int(field_show(t, l4 + ".dstport"))
        to_server = dport == port
        client = "%s:%d" % ((src, sport) if to_server else (dst, dport))
        key = (l4, client)
        if key not in conns:
            conns[key] = dict(transport=l4, client=client, packets=0, requests=0,
                              requests_by_command=collections.Counter())
        c = conns[key]
        c["packets"] += 1
        if payloads and to_server:
            h = payload_head(pkt, l4)
            if h is not None:
                c.setdefault("client_payloads", []).append(h)
        if heads:
            side = "first_request_bytes" if to_server else "first_reply_bytes"
            if side not in c:
                h = payload_head(pkt, l4)
                if h is not None:
                    c[side] = h
        if l4 == "udp":
            udp_dgrams["to_server" if to_server else "to_client"] += 1
            udp_bytes["to_server" if to_server else "to_client"] += int(field_show(t, "udp.length")) - 8
        for p in pkt.findall("proto"):
            if l4 == "udp" or p.get("name") != proto:
                continue
            names = resp_items(p) if proto == "resp" else memcache_items(p)
            if to_server:
                c["requests"] += len(names)
                c["requests_by_command"].update(names)
    by_command = collections.Counter()
    out = []
    for i, c in enumerate(conns.values(), 1):
        by_command.update(c["requests_by_command"])
        c["requests_by_command"] = dict(sorted(c["requests_by_command"].items()))
        out.append(dict(conn=i, **c))
    view = dict(packets=packets, malformed_packets=malformed,
                tcp_connections=sum(1 for c in out if c["transport"] == "tcp"),
                requests=sum(c["requests"] for c in out),
                requests_by_command=dict(sorted(by_command.items())),
                connections=out)
    if proto == "memcache":
        view["tcp_memcache_read_directly"] = memcache_tcp_view(pcap, port)
    else:
        view["tcp_resp_read_directly"] = resp_tcp_view(pcap, port)
    if udp_dgrams:
        view["udp_datagrams"] = dict(udp_dgrams)
        view["udp_payload_bytes"] = dict(udp_bytes)
        view["udp_memcache_read_directly"] = memcache_udp_view(pcap, port)
    return view


def write(a):
    steps = [json.loads(l) for l in open(a.steps) if l.strip()]
    view = tshark_view(a.pcap, a.proto, a.port, a.heads, a.client_payloads)
    if view["malformed_packets"]:
        sys.exit("kv_facts: tshark reports %d malformed packets in %s" % (view["malformed_packets"], a.pcap))
    facts = collections.OrderedDict()
    facts["capture"] = a.capture or a.name + ".pcap"
    facts["title"] = a.title
    facts["recorded_by"] = a.recorded_by
    facts["server"] = a.server
    facts["tools"] = json.loads(a.versions)
    if a.actors:
        actors = json.loads(a.actors)
        facts["rewritten_by"] = "tcprewrite --pnat=%s --fixcsum" % a.pnat
        facts["addresses"] = {v[0]: v[1] for v in actors.values()}
    facts["packets"] = view["packets"]
    facts["bytes"] = len(open(a.pcap, "rb").read())
    facts["tcp_connections"] = view["tcp_connections"]
    if a.extra:
        facts.update(json.loads(a.extra))
    facts["steps"] = steps
    facts["tshark"] = view
    if a.expected:
        facts["expected_alerts"] = json.loads(a.expected)
    with open(a.out, "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["write", "view", "refresh"])
    ap.add_argument("--name")
    ap.add_argument("--capture")
    ap.add_argument("--title", default="")
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--proto", choices=["resp", "memcache"], required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--server", default="")
    ap.add_argument("--steps")
    ap.add_argument("--versions", default="{}")
    ap.add_argument("--recorded-by", default="")
    ap.add_argument("--actors")
    ap.add_argument("--pnat")
    ap.add_argument("--expected")
    ap.add_argument("--extra")
    ap.add_argument("--out")
    ap.add_argument("--client-payloads", action="store_true",
                    help="add every client payload (first %d bytes each), per connection" % HEAD_BYTES)
    ap.add_argument("--heads", action="store_true",
                    help="add the first %d payload bytes each side sent, per connection" % HEAD_BYTES)
    a = ap.parse_args()
    if a.cmd == "refresh":          # recompute the "tshark" view of an existing facts file
        facts = json.load(open(a.out), object_pairs_hook=collections.OrderedDict)
        old = facts["tshark"]
        facts["tshark"] = tshark_view(a.pcap, a.proto, a.port,
                                      any("first_request_bytes" in c for c in old["connections"]),
                                      any("client_payloads" in c for c in old["connections"]))
        with open(a.out, "w") as f:
            json.dump(facts, f, indent=1)
            f.write("\n")
    elif a.cmd == "view":
        json.dump(tshark_view(a.pcap, a.proto, a.port, a.heads, a.client_payloads), sys.stdout, indent=1)
        print()
    else:
        write(a)


if __name__ == "__main__":
    main()
