#!/usr/bin/env python3
"""flowmem_check.py - what a flow that sends no payload costs, measured the
way a user would: the shipped configuration (config/scrapewatch.conf), one
worker, generated captures of SYN-only flows to the Elasticsearch port
(tests/bench/make_syn_flood.py, written to tests/out, never committed), peak
RSS (the kernel's ru_maxrss, by /usr/bin/time) minus that of the same run on
a capture with no flows. Checked at SMALL and LARGE flows: the cost per flow
at SMALL (everything the flows added, buckets and pool slabs included), and
the slope between the two (what one more flow costs), each within 256 bytes.
The rings between threads are a fixed cost set by the configuration
(touched whole at start, sensor/ring.c), so they are in the no-flow run.
Then LARGE flows with flows.max = 1000: every flow beyond it evicts the
oldest, counted, and memory stays flat. No timing is asserted. Under a
sanitizer build RSS means nothing: that part is skipped, the event and
counter checks still run.
   usage: tests/flowmem_check.py BIN"""
import json
import os
import re
import subprocess
import sys

BIN = sys.argv[1]
OUT = "tests/out/flowmem"
SMALL, LARGE = 20_000, 100_000
PER_FLOW_MAX = 256          # bytes of RSS per payload-less flow
CONSTANT = 4 * 1024 * 1024  # allowed growth of a run capped at 1000 flows
SHIPPED = "config/scrapewatch.conf"


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


def syn_capture(n):
    path = f"{OUT}/syn_{n}.pcap"
    subprocess.run([sys.executable, "tests/bench/make_syn_flood.py", str(n), "9200", path],
                   check=True)
    return path


def lowest_rss(pcap, conf):
    """The lowest peak RSS of two runs (RSS only grows with noise: another
    helper's load, the allocator's timing) and the last run's results."""
    first = run(pcap, conf)
    second = run(pcap, conf)
    return second[:3] + (min(first[3], second[3]),)


def check_events(name, rc, reasons, c, n):
    why = []
    if rc != 0:
        why.append(f"exit {rc}")
    flows = sum(reasons.values())
    if flows != n or c.get("flows.created") != n or c.get("flows.evicted") != 0:
        why.append(f"{flows} flow events, {c.get('flows.created')} created, "
                   f"{c.get('flows.evicted')} evicted; expected {n}, {n}, 0")
    check(name, why)


def main():
    os.makedirs(OUT, exist_ok=True)
    sanitized = "asan" in BIN
    empty = syn_capture(0)
    small, large = syn_capture(SMALL), syn_capture(LARGE)
    evict = f"{OUT}/max_1000.conf"
    with open(SHIPPED) as f:
        shipped = f.read()
    capped = re.sub(r"(flows = \{[^}]*?)max = \d+;", r"\1max = 1000;", shipped)
    if capped == shipped:
        sys.exit(f"{SHIPPED}: no flows.max to change")
    with open(evict, "w") as f:
        f.write(capped)

    rc0, reasons0, _, rss0 = lowest_rss(empty, SHIPPED)
    check("no_flows_run", [f"exit {rc0}, {reasons0}"] if rc0 or reasons0 else [])
    rc, reasons, c, rss_small = lowest_rss(small, SHIPPED)
    check_events("syn_flows_events_small", rc, reasons, c, SMALL)
    rc, reasons, c, rss_large = lowest_rss(large, SHIPPED)
    check_events("syn_flows_events", rc, reasons, c, LARGE)
    per_flow = (rss_small - rss0) / SMALL
    slope = (rss_large - rss_small) / (LARGE - SMALL)
    print(f"# shipped config, 1 worker: peak RSS {rss0 / 2**20:.1f} MiB with no flows, "
          f"{rss_small / 2**20:.1f} MiB with {SMALL}, {rss_large / 2**20:.1f} MiB with "
          f"{LARGE}: {per_flow:.0f} bytes per flow at {SMALL}, slope {slope:.0f} bytes per flow")
    if sanitized:
        print("skip flowmem/syn_flows_rss: RSS means nothing under a sanitizer")
        print("skip flowmem/syn_flows_slope: RSS means nothing under a sanitizer")
    else:
        check("syn_flows_rss", [f"{per_flow:.0f} bytes per flow at {SMALL} flows, more than "
                                f"{PER_FLOW_MAX}"] if per_flow > PER_FLOW_MAX else [])
        check("syn_flows_slope", [f"{slope:.0f} bytes per flow from {SMALL} to {LARGE} "
                                  f"flows, more than {PER_FLOW_MAX}"]
              if slope > PER_FLOW_MAX else [])

    rc, reasons, c, rss_evict = run(large, evict)
    flows = sum(reasons.values())
    why = []
    if rc != 0:
        why.append(f"exit {rc}")
    want = {"evicted": LARGE - 1000, "shutdown": 1000}
    if flows != LARGE or c.get("flows.evicted") != LARGE - 1000 or reasons != want:
        why.append(f"{flows} flow events, {c.get('flows.evicted')} evicted, reasons {reasons}; "
                   f"expected {LARGE}, {LARGE - 1000}, {want}")
    print(f"# flows.max = 1000: peak RSS {rss_evict / 2**20:.1f} MiB")
    check("eviction_counted", why)
    if sanitized:
        print("skip flowmem/eviction_rss: RSS means nothing under a sanitizer")
    else:
        check("eviction_rss", [] if rss_evict - rss0 <= CONSTANT else
              [f"{(rss_evict - rss0) / 2**20:.1f} MiB over a no-flow run, "
               f"more than {CONSTANT / 2**20:.0f} MiB"])


if __name__ == "__main__":
    main()
