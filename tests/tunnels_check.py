#!/usr/bin/env python3
"""Tunnelled mirror traffic decodes exactly as the plain capture does.

    tests/tunnels_check.py BIN

For a recorded Elasticsearch capture and a recorded MongoDB capture, writes
every wrapping of tests/gen/wrap_tunnels.py (VXLAN, GENEVE, GRE, ERSPAN I/II/III,
MPLS, IP-in-IP, IPv6-in-IP, nested, too deep) into tests/out/tunnels/ and runs
`BIN -j -r` on each. Checks, per capture and wrapping:

  ops        the op events equal the plain capture's, field for field (ip6ip
             against plain6, the same capture turned into IPv6, whose ops equal
             the plain ones but for the addresses)
  flows      the flow events equal the plain capture's but for the byte counts
             (they count the tunnel's bytes too) and carry "tunnel" with the
             outermost layer's type and id
  counters   tunnel.<type> counts every packet once per layer it crossed
  too_deep   five IP-in-IP layers give no op and tunnel.too_deep = packets
and, on the VXLAN and nested wrappings, that the `tunnels` configuration
group is obeyed (vxlan_port = 0 turns VXLAN off; max_depth 2 stops the
3-layer nesting, 3 lets it through). With tshark installed, tshark decodes
the same MongoDB PDUs through each tunnel in the first packets of the
wrapped MongoDB capture (mpls_pw with its control word declared), and finds
the VNIs, GRE key and ERSPAN session ids the sensor reports.

Prints "ok tunnels/<capture>/<wrapping>/<check>" or "FAIL ...: why"; exits 1
if any check failed.
"""

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "gen"))
import wrap_tunnels  # noqa: E402

CAPTURES = ("es_curl", "mongo_pymongo")
OUT = os.path.join(ROOT, "tests", "out", "tunnels")

# wrapping -> (layers crossed by every packet: [type], the flow's tunnel)
EXPECT = {
    "mpls": (["mpls"], {"type": "mpls", "id": 1000}),
    "mpls_pw": (["mpls"], {"type": "mpls", "id": 3000}),
    "vxlan": (["vxlan"], {"type": "vxlan", "id": 123}),
    "vxlan_vlan": (["vxlan"], {"type": "vxlan", "id": 124}),
    "geneve": (["geneve"], {"type": "geneve", "id": 4567}),
    "gre": (["gre"], {"type": "gre"}),
    "gre_key_teb": (["gre"], {"type": "gre", "id": 77}),
    "gre6": (["gre"], {"type": "gre", "id": 78}),
    "erspan1": (["erspan1"], {"type": "erspan1"}),
    "erspan2": (["erspan2"], {"type": "erspan2", "id": 42}),
    "erspan3": (["erspan3"], {"type": "erspan3", "id": 300}),
    "erspan3_sub": (["erspan3"], {"type": "erspan3", "id": 301}),
    "erspan_mixed": (None, None),   # checked on its own
    "ipip": (["ipip"], {"type": "ipip"}),
    "ipip6": (["ipip"], {"type": "ipip"}),
    "ip6ip": (["ip6ip"], {"type": "ip6ip"}),
    "nested": (["gre", "vxlan", "mpls"], {"type": "gre", "id": 5}),
}

# wrapping -> (tshark display filter, extra tshark arguments)
TSHARK = {
    "vxlan": ("vxlan.vni == 123", []),
    "geneve": ("geneve.vni == 4567", []),
    "gre_key_teb": ("gre.key == 77", []),
    "erspan1": ("erspan", []),
    "erspan2": ("erspan.spanid == 42", []),
    "erspan3_sub": ("erspan.spanid == 301", []),
    "mpls_pw": ("mpls.label == 3000", ["-d", "mpls.label==3000,pwethcw"]),
    "ip6ip": ("ip.proto == 41", []),
    "nested": ("gre.key == 5 && vxlan.vni == 9 && mpls.label == 700", []),
}
TSHARK_PACKETS = 120

failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print("ok tunnels/%s" % name)
    else:
        failures += 1
        print("FAIL tunnels/%s: %s" % (name, why))


def run(binary, pcap, config=None):
    """-> (ops, flows, final stats) of one run."""
    cmd = [binary, "-j", "-r", pcap]
    if config:
        cmd[1:1] = ["-c", config]
    p = subprocess.run(cmd, capture_output=True, timeout=300, cwd=ROOT)
    events = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    ops = [e for e in events if e["event_type"] == "op"]
    flows = [e for e in events if e["event_type"] == "flow"]
    stats = [e for e in events if e["event_type"] == "stats"]
    return ops, flows, (stats[-1]["stats"] if stats else {})


def flow_core(flow):
    """A flow event without what the tunnel changes (its id, its bytes)."""
    f = dict(flow)
    f.pop("tunnel", None)
    f["flow"] = {k: v for k, v in f["flow"].items() if not k.startswith("bytes_")}
    return f


def without_addresses(events):
    return [{k: v for k, v in e.items()
             if k not in ("src_ip", "dest_ip", "community_id", "flow_id", "pcap_filename")}
            for e in events]


def diff_ops(got, want):
    # the packet's file and number differ with the capture, not the op
    got, want = ([{k: v for k, v in e.items() if k not in ("pcap_filename", "pcap_cnt")}
                  for e in x] for x in (got, want))
    if len(got) != len(want):
        return "%d ops, plain has %d" % (len(got), len(want))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return "op %d differs: %s vs %s" % (i, json.dumps(g)[:300], json.dumps(w)[:300])
    return ""


def check_wrapping(binary, cap, name, base, packets, path):
    layers, tunnel = EXPECT[name]
    ops, flows, stats = run(binary, path)
    why = diff_ops(ops, base[0])
    report("%s/%s/ops" % (cap, name), not why, why)
    print("%s %s ops=%d plain=%d" % (cap, name, len(ops), len(base[0])), file=sys.stderr)
    core_ok = [flow_core(f) for f in flows] == [flow_core(f) for f in base[1]]
    report("%s/%s/flows" % (cap, name), core_ok and len(flows) > 0,
           "%d flow events differ from the plain capture's %d" % (len(flows), len(base[1])))
    bad = [f.get("tunnel") for f in flows if f.get("tunnel") != tunnel]
    report("%s/%s/flow_tunnel" % (cap, name), not bad,
           "expected %s, got %s" % (tunnel, bad[:3]))
    counts = stats.get("tunnel", {})
    want = {t: 0 for t in counts}
    for t in layers:
        want[t] += packets
    report("%s/%s/counters" % (cap, name), counts == want,
           "tunnel counters %s, expected %s" % (counts, want))


def check_mixed(binary, cap, base, packets, path):
    ops, flows, stats = run(binary, path)
    why = diff_ops(ops, base[0])
    report("%s/erspan_mixed/ops" % cap, not why, why)
    print("%s erspan_mixed ops=%d plain=%d" % (cap, len(ops), len(base[0])), file=sys.stderr)
    allowed = ({"type": "erspan1"}, {"type": "erspan2", "id": 42})
    bad = [f.get("tunnel") for f in flows if f.get("tunnel") not in allowed]
    report("%s/erspan_mixed/flow_tunnel" % cap, not bad and flows, "got %s" % bad[:3])
    counts = stats.get("tunnel", {})
    got = (counts.get("erspan1"), counts.get("erspan2"))
    want = ((packets + 1) // 2, packets // 2)
    report("%s/erspan_mixed/counters" % cap, got == want,
           "erspan1, erspan2 = %s, expected %s" % (got, want))


def check_too_deep(binary, cap, packets, path):
    ops, _, stats = run(binary, path)
    counts = stats.get("tunnel", {})
    ok = not ops and counts.get("too_deep") == packets and counts.get("ipip") == 4 * packets
    report("%s/too_deep/skipped" % cap, ok,
           "%d ops, too_deep %s, ipip %s (packets %d)" % (len(ops), counts.get("too_deep"),
                                                      counts.get("ipip"), packets))


def check_config(binary, cap, base, packets, outdir):
    cases = (("vxlan", "tunnels = { vxlan_port = 0; };", 0),
             ("nested", "tunnels = { max_depth = 2; };", 0),
             ("nested", "tunnels = { max_depth = 3; };", len(base[0])))
    for i, (name, text, want_ops) in enumerate(cases):
        conf = os.path.join(outdir, "tunnels%d.conf" % i)
        with open(conf, "w") as f:
            f.write(text + "\n")
        ops, _, stats = run(binary, os.path.join(outdir, name + ".pcap"), conf)
        report("%s/config/%s" % (cap, text.replace(" ", "")), len(ops) == want_ops,
               "%d ops, expected %d (tunnel counters %s)" % (len(ops), want_ops,
                                                            stats.get("tunnel")))


def tshark_count(path, display, extra):
    # this tshark takes port 27017 for TLS unless told
    p = subprocess.run(["tshark", "-n", "-r", path, "-c", str(TSHARK_PACKETS),
                        "-d", "tcp.port==27017,mongo"] + extra +
                       ["-Y", display, "-T", "fields", "-e", "frame.number"],
                       capture_output=True, timeout=300)
    return len(p.stdout.split())


def check_tshark(cap, plain, outdir):
    if cap != "mongo_pymongo":
        return
    if not shutil.which("tshark"):
        print("skip tunnels/tshark: tshark is not installed")
        return
    want = tshark_count(plain, "mongo", [])
    for name, (display, extra) in TSHARK.items():
        got = tshark_count(os.path.join(outdir, name + ".pcap"),
                           "mongo && " + display, extra)
        report("%s/%s/tshark" % (cap, name), got == want and want > 0,
               "tshark finds %d MongoDB PDUs with %s, %d in the plain capture"
               % (got, display, want))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    binary = os.path.abspath(argv[1])
    for cap in CAPTURES:
        plain = os.path.join(ROOT, "pcaps", cap + ".pcap")
        outdir = os.path.join(OUT, cap)
        if os.path.isdir(outdir):
            shutil.rmtree(outdir)
        wrap_tunnels.wrap_file(plain, outdir, list(wrap_tunnels.WRAPPINGS))
        packets = len(wrap_tunnels.read_pcap(plain)[1])
        base = run(binary, plain)
        base6 = run(binary, os.path.join(outdir, "plain6.pcap"))
        report("%s/plain6/ops" % cap, base[0] and
               without_addresses(base6[0]) == without_addresses(base[0]),
               "the IPv6 version has %d ops, the plain capture %d"
               % (len(base6[0]), len(base[0])))
        for name in EXPECT:
            path = os.path.join(outdir, name + ".pcap")
            if name == "erspan_mixed":
                check_mixed(binary, cap, base, packets, path)
            else:
                check_wrapping(binary, cap, name, base6 if name == "ip6ip" else base,
                               packets, path)
        check_too_deep(binary, cap, packets, os.path.join(outdir, "too_deep.pcap"))
        check_config(binary, cap, base, packets, outdir)
        check_tshark(cap, plain, outdir)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
