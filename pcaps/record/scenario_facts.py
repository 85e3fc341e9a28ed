#!/usr/bin/env python3
"""Facts of one recorded scenario (used by record_scenarios.sh).

    scenario_facts.py write --name N --title T --pcap P --server S --actors JSON
                      --pnat LIST --steps STEPS.jsonl --requests SERVER.jsonl
                      --versions JSON --out FACTS.json
    scenario_facts.py expect [FACTS.json ...]   rewrite only "expected_alerts"
                                                (from EXPECTED below) in place

Checks the rewritten capture (no packet cut by the snaplen, no loopback
address left, exactly the expected address pairs) and writes: who is who,
every step with its actor's final address, every request the server answered
attributed to the step (and so the address) that sent it, document counts,
and the alerts a correct sensor must raise with the default rules
(tests/scenarios/<name>.expect holds the same with rule ids, for the test).
"""
import argparse
import ipaddress
import json
import os
import struct
import sys

# What a correct sensor must raise with rules/scrapewatch.rules and
# tests/scenarios/scrapewatch.conf (home_nets 10.0.0.0/8, trusted 10.9.9.9/32):
# each rule that fires, with its meaning. The exact sequence, including the
# update alerts emitted as evidence doubles, is tests/scenarios/<name>.expect.
def _a(rule, severity, meaning, **kw):
    return dict(rule=rule, severity=severity, meaning=meaning, **kw)


EXPOSED = "database answered an outside client without authentication (exposed), keyed by server"
EXPECTED = {
    "crawler_unauth": [
        _a(1001, "high", "known internet scanner indexed a database that answered without "
           "authentication: this server is now indexed", organisation="Censys", alerts=2),
        _a(2001, "medium", EXPOSED, alerts=2),
        _a(4001, "info", "outside client listed the indices (_cat/indices)", alerts=1),
    ],
    "crawler_401": [
        _a(1002, "low", "known internet scanner probed a database and was denied (401): lower "
           "severity than 1001; no exposure alert", organisation="Censys", alerts=2),
    ],
    "nmap_sv": [
        _a(2001, "medium", EXPOSED + " (nmap -sV probes, no User-Agent)", alerts=3),
        _a(1003, "high", "scanner tool (User-Agent 'Nmap Scripting Engine', address in no scanner "
           "list) read a database without authentication", alerts=2),
    ],
    "elasticdump_scroll": [
        _a(2001, "medium", EXPOSED, alerts=4),
        _a(3001, "high", "elasticdump read Elasticsearch from outside (tool fingerprint)", alerts=3),
        _a(5003, "medium", "large page: 1000 documents in one request", alerts=1),
        _a(5001, "high", "bulk read: 5,000 documents within 10 minutes (fires on the 5th page)",
           documents=5000, alerts=1),
        _a(5101, "high", "whole dataset read (issue 14): the scroll read 6000 of hits.total 6000, "
           "once for the chain", documents=6000, alerts=1),
        _a(5001, "high", "closing update (issue 14): the dump ended at 6000 documents", documents=6000,
           final=True, alerts=1),
    ],
    "page_dump": [
        _a(2001, "medium", EXPOSED, alerts=1),
        _a(5001, "high", "bulk read: 6000 documents in one size=10000 q=*:* page", documents=6000, alerts=1),
        _a(5003, "medium", "large page: 6000 documents in one request", documents=6000, alerts=1),
    ],
    "chain_wipe": [
        _a(2001, "medium", EXPOSED, alerts=5),
        _a(4001, "info", "listing: _cat/indices, _mapping", alerts=2),
        _a(3001, "high", "elasticdump tool fingerprint", alerts=3),
        _a(5003, "medium", "large page (elasticdump's first page of 1000)", alerts=1),
        _a(5001, "high", "bulk read: 5,000 documents", documents=5000, alerts=1),
        _a(5101, "high", "whole dataset read (issue 14): the scroll read 6000 of hits.total 6000, "
           "once for the chain", documents=6000, alerts=1),
        _a(5001, "high", "closing update (issue 14): the dump ended at 6000 documents", documents=6000,
           final=True, alerts=1),
        _a(7001, "high", "index dropped by an outside client (tickets, then logs-2024)", alerts=2),
        _a(8001, "critical", "campaign: enumerate -> dump -> drop by the same client and server", alerts=1),
        _a(7004, "critical", "ransom note index read_me created and written", alerts=2),
    ],
    "trusted_client": [],
    "authenticated_reads": [
        _a(5111, "medium", "authenticated whole dataset read from outside (issue 14): each "
           "helpers.scan walk, tickets 6000/6000 and logs-2024 1500/1500", alerts=2),
    ],
    "sweep": [
        _a(2001, "medium", EXPOSED + ": one alert for each of the 20 servers", alerts=20),
        _a(6001, "medium", "horizontal sweep: one source touched 10 servers (then 20: update)",
           alerts=2),
    ],
    "seed_story": [
        _a(2001, "medium", EXPOSED + ": first answered 203.0.113.10 (then updates)", alerts=5),
        _a(1001, "high", "BinaryEdge indexed this server (needs a BinaryEdge range in "
           "rules/lists/scanners.cidr)", organisation="BinaryEdge", alerts=2),
        _a(4001, "info", "BinaryEdge listed the indices", alerts=1),
        _a(3001, "high", "elasticdump from 198.51.100.200", alerts=3),
        _a(5003, "medium", "large page (first elasticdump page)", alerts=1),
        _a(5001, "high", "bulk scroll dump by 198.51.100.200: 5,000 documents when it fires",
           documents=5000, alerts=1),
        _a(8002, "critical", "exposed database indexed by a crawler was then bulk-read (keyed by "
           "server, crawler and dumper differ)", alerts=1),
        _a(5101, "high", "whole dataset read (issue 14): the scroll read 6000 of hits.total 6000, "
           "once for the chain", documents=6000, alerts=1),
        _a(5001, "high", "closing update (issue 14): the dump ended at 6000 documents", documents=6000,
           final=True, alerts=1),
    ],
}


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        ts, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append((ts, frac, caplen, wirelen, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return linktype, out


def ip_pairs(linktype, packets):
    """Distinct (client, server) address pairs; the server side is port 9200."""
    pairs = {}
    for _, _, _, _, pkt in packets:
        if linktype == 1:
            pkt = pkt[14:]
        elif linktype == 113:
            pkt = pkt[16:]
        if len(pkt) < 20 or pkt[0] >> 4 != 4:
            continue
        ihl = (pkt[0] & 15) * 4
        src, dst = str(ipaddress.ip_address(pkt[12:16])), str(ipaddress.ip_address(pkt[16:20]))
        sport, dport = struct.unpack(">HH", pkt[ihl:ihl + 4])
        key = (src, dst) if dport == 9200 else (dst, src)
        pairs[key] = pairs.get(key, 0) + 1
    return pairs


def map_addr(addr, actors):
    """A loopback stand-in -> the address it became (CIDR maps keep the host part)."""
    if addr in actors:
        return actors[addr][0]
    a = ipaddress.ip_address(addr)
    for k, (v, _) in actors.items():
        if "/" in k and a in ipaddress.ip_network(k):
            net, new = ipaddress.ip_network(k), ipaddress.ip_network(v)
            return str(new.network_address + (int(a) - int(net.network_address)))
    return addr


def write(args):
    actors = json.loads(args.actors)
    linktype, packets = read_pcap(args.pcap)
    cut = sum(1 for p in packets if p[2] < p[3])
    if cut:
        sys.exit("scenario_facts: %d packets cut by the snaplen" % cut)
    pairs = ip_pairs(linktype, packets)
    for c, s in pairs:
        if c.startswith("127.") or s.startswith("127."):
            sys.exit("scenario_facts: loopback address left after rewriting: %s -> %s" % (c, s))
    requests = [json.loads(l) for l in open(args.requests) if l.strip()]
    steps = [json.loads(l) for l in open(args.steps) if l.strip()]
    for r in requests:
        r.pop("response_body_bytes", None)
    out_steps = []
    for st in steps:
        if st["kind"] == "pause":
            out_steps.append({"pause": st["check"]})
            continue
        client = map_addr(st["actor"], actors)
        # the server address: from the URL of the step (sweep) or the one server
        reqs = requests[st["first"]:st["last"]]
        server = None
        for word in st["command"]:
            if word.startswith("http://127.") or "=http://127." in word:
                host = word.split("http://", 1)[1].split(":", 1)[0]
                server = map_addr(host, actors)
        for r in reqs:
            r["client_ip"] = client
            if server:
                r["server_ip"] = server
        cmd = [w.replace("http://127.0.0.2:", "http://%s:" % map_addr("127.0.0.2", actors))
               for w in st["command"]]
        out_steps.append({"check": st["check"], "client_ip": client, "tool": st["kind"],
                          "reported": st["status"], "command": cmd,
                          "requests": [st["first"], st["last"]]})
    unattributed = [i for i, r in enumerate(requests) if "client_ip" not in r]
    if unattributed:
        sys.exit("scenario_facts: requests %s not attributed to a step" % unattributed)

    docs = {}
    for r in requests:
        if r.get("items") and r["method"] != "DELETE" and "_cat" not in r["uri"]:
            docs[r["client_ip"]] = docs.get(r["client_ip"], 0) + r["items"]
    facts = {
        "capture": "pcaps/scenarios/%s.pcap" % args.name,
        "title": args.title,
        "recorded_by": "pcaps/record/record_scenarios.sh",
        "server": {"es_server": "pcaps/record/es_server.py (Elasticsearch 8.11.0, security off: "
                                "answers everyone, Warning 299 header)",
                   "es_secured": "pcaps/record/es_secured.py (Elasticsearch 8.11.0, security on: "
                                 "401 without Basic elastic:changeme)"}[args.server],
        "tools": json.loads(args.versions),
        "rewritten_by": "tcprewrite --pnat=%s --fixcsum" % args.pnat,
        "addresses": {v[0]: v[1] for v in actors.values()},
        "packets": len(packets),
        "connections_by_address_pair": [{"client": c, "server": s, "packets": n}
                                        for (c, s), n in sorted(pairs.items())],
        "http_requests": len(requests),
        "documents_returned_by_client": docs,
        "steps": out_steps,
        "requests": requests,
        "expected_alerts": EXPECTED[args.name],
    }
    with open(args.out, "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")


def expect(paths):
    for p in paths:
        facts = json.load(open(p))
        name = os.path.basename(p)[:-len(".facts.json")]
        facts["expected_alerts"] = EXPECTED[name]
        with open(p, "w") as f:
            json.dump(facts, f, indent=1)
            f.write("\n")
        print("updated", p)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    for opt in ("name", "title", "pcap", "server", "actors", "pnat", "steps", "requests",
                "versions", "out"):
        w.add_argument("--" + opt, required=True)
    e = sub.add_parser("expect")
    e.add_argument("facts", nargs="*")
    args = ap.parse_args()
    if args.cmd == "write":
        write(args)
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        expect(args.facts or sorted(
            os.path.join(here, "..", "scenarios", f)
            for f in os.listdir(os.path.join(here, "..", "scenarios")) if f.endswith(".facts.json")))


if __name__ == "__main__":
    main()
