#!/usr/bin/env python3
"""flowmem_check.py - what a flow that sends no payload costs. A generated
capture of N SYN-only flows (tests/bench/make_syn_flood.py, to the
Elasticsearch port, written to tests/out, never committed) is read with the
shipped defaults but small queues (so that the queues' fixed size does not
blur the figure); the peak RSS growth over a one-flow run, per flow, must
stay within 256 bytes plus a small constant. Then the same capture with
flows.max = 1000: every flow beyond it evicts the oldest, counted, and
memory stays flat. RSS is the kernel's ru_maxrss of the child (no timing
is asserted). Under a sanitizer build RSS means nothing: that part is
skipped, the event and counter checks still run.
   usage: tests/flowmem_check.py BIN"""
import json
import os
import re
import subprocess
import sys

BIN = sys.argv[1]
OUT = "tests/out/flowmem"
N = 100_000
PER_FLOW_MAX = 256          # bytes of RSS per payload-less flow
CONSTANT = 4 * 1024 * 1024  # buckets, pool slabs, allocator slack
QUEUES = "capture = { ring_kb = 256; };\nevents = { queue = 64; };\n"


def run(pcap, conf):
    """Exit status, flow events by reason, the final counters and the peak
    RSS in bytes (measured by /usr/bin/time, whose own size is small, not
    by a fork of this script, which would count its memory)."""
    with open(f"{OUT}/events.jsonl", "w") as out:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, "-c", conf, "-w", "1",
                               "-r", pcap, "-j"], stdout=out, stderr=subprocess.PIPE,
                              text=True)
    rss = int(proc.stderr.split()[-1]) * 1024
    reasons, stats = {}, None
    for line in open(f"{OUT}/events.jsonl"):
        if '"event_type":"flow"' in line:
            reason = re.search(r'"end_reason":"(\w+)"', line).group(1)
            reasons[reason] = reasons.get(reason, 0) + 1
        elif '"event_type":"stats"' in line:
            stats = json.loads(line)["stats"]
    counts = {f"{g}.{k}": v for g, kv in (stats or {}).items() for k, v in kv.items()}
    return proc.returncode, reasons, counts, rss


def check(name, why):
    print(f"FAIL flowmem/{name}: {'; '.join(why)}" if why else f"ok flowmem/{name}")


def main():
    os.makedirs(OUT, exist_ok=True)
    sanitized = "asan" in BIN
    flood, one = f"{OUT}/syn_{N}.pcap", f"{OUT}/syn_1.pcap"
    for n, path in ((N, flood), (1, one)):
        subprocess.run([sys.executable, "tests/bench/make_syn_flood.py", str(n), "9200", path],
                       check=True)
    small = f"{OUT}/small_queues.conf"
    with open(small, "w") as f:
        f.write(QUEUES)
    evict = f"{OUT}/max_1000.conf"
    with open(evict, "w") as f:
        f.write(QUEUES + "flows = { max = 1000; };\n")

    rc1, _, _, rss1 = run(one, small)
    rc, reasons, c, rss = run(flood, small)
    flows = sum(reasons.values())
    why = []
    if rc != 0 or rc1 != 0:
        why.append(f"exit {rc} / {rc1}")
    if flows != N or c.get("flows.created") != N or c.get("flows.evicted") != 0:
        why.append(f"{flows} flow events, {c.get('flows.created')} created, "
                   f"{c.get('flows.evicted')} evicted; expected {N}, {N}, 0")
    per_flow = (rss - rss1) / N
    print(f"# {N} SYN-only flows: peak RSS {rss / 2**20:.1f} MiB, one flow "
          f"{rss1 / 2**20:.1f} MiB: {per_flow:.0f} bytes per flow")
    check("syn_flows_events", why)
    if sanitized:
        print("skip flowmem/syn_flows_rss: RSS means nothing under a sanitizer")
    else:
        over = rss - rss1 - (N * PER_FLOW_MAX + CONSTANT)
        check("syn_flows_rss", [f"{per_flow:.0f} bytes per flow; {over} bytes over "
                                f"{PER_FLOW_MAX} per flow + {CONSTANT}"] if over > 0 else [])

    rc, reasons, c, rss_evict = run(flood, evict)
    flows = sum(reasons.values())
    why = []
    if rc != 0:
        why.append(f"exit {rc}")
    want = {"evicted": N - 1000, "shutdown": 1000}
    if flows != N or c.get("flows.evicted") != N - 1000 or reasons != want:
        why.append(f"{flows} flow events, {c.get('flows.evicted')} evicted, reasons {reasons}; "
                   f"expected {N}, {N - 1000}, {want}")
    print(f"# flows.max = 1000: peak RSS {rss_evict / 2**20:.1f} MiB")
    check("eviction_counted", why)
    if sanitized:
        print("skip flowmem/eviction_rss: RSS means nothing under a sanitizer")
    else:
        check("eviction_rss", [] if rss_evict - rss1 <= CONSTANT else
              [f"{(rss_evict - rss1) / 2**20:.1f} MiB over a one-flow run, "
               f"more than {CONSTANT / 2**20:.0f} MiB"])


if __name__ == "__main__":
    main()
