#!/usr/bin/env python3
"""bench/live.py - the sensor on a live interface under replayed load, in a
network namespace of its own (veth pair, tests/live/netns.py), with Debian's
tcpreplay. Reports figures; asserts nothing.

  1. the SYN flood (tests/bench/make_syn_flood.py) and a large capture (the
     Elasticsearch scroll dump repeated, tests/bench/make_big.py) replayed
     at top speed (tcpreplay --topspeed): packets sent, seen, and dropped
     by cause (kernel, interface, capture->worker ring, events), and the
     sensor's CPU time during the replay (packets per CPU-second: less
     noisy than the rate tcpreplay reaches on a busy machine);
  2. for each that lost packets, the highest drop-free rate found by a
     short bisection over tcpreplay --pps (up to the top speed reached).

  tests/bench/live.py [BIN] [WORKERS]     (default ./scrapewatch, 2)
Needs root; prints "skip bench/live: why" otherwise."""
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "live"))
import netns  # noqa: E402

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./scrapewatch")
WORKERS = sys.argv[2] if len(sys.argv) > 2 else "2"
OUT = "tests/out/bench/live"
SYN_PACKETS = 200000
SEARCH_STEPS = 5
DROP_KEYS = ["kernel_drops", "interface_drops", "ring_drops"]


def replay(ns, pcap, rate, tag):
    """Runs the sensor while tcpreplay sends pcap at rate ("top" or pps);
    returns (sent, achieved pps, capture counters, events.dropped, the
    sensor's CPU seconds while the replay ran)."""
    out = os.path.join(OUT, tag + ".jsonl")
    err = open(out + ".err", "w")
    p = ns.popen([BIN, "-w", WORKERS, "-i", ns.capture_if, "-j" + out],
                 stdout=subprocess.DEVNULL, stderr=err)
    netns.wait_capturing(out, p)
    time.sleep(1.0)
    cpu0 = netns.cpu_seconds(p.pid)
    speed = ["--topspeed"] if rate == "top" else [f"--pps={rate}"]
    r = ns.run(["tcpreplay", "--preload-pcap", "-i", ns.send_if] + speed + [pcap])
    time.sleep(1.0)
    cpu = netns.cpu_seconds(p.pid) - cpu0
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)
    sent = int(re.search(r"Actual: (\d+) packets", r.stdout).group(1))
    pps = float(re.search(r"([\d.]+) pps", r.stdout).group(1))
    final = [json.loads(line) for line in open(out) if '"event_type":"stats"' in line][-1]
    stats = final["stats"]
    return sent, pps, stats.get("capture", {}), stats.get("events", {}).get("dropped", 0), cpu


def row(label, sent, pps, cap, ev_dropped, cpu):
    drops = [cap.get(k, 0) for k in DROP_KEYS]
    lost = sum(drops) + ev_dropped
    seen = cap.get("packets", 0)
    print(f"{label:<34}{sent:>9}{pps:>10.0f}{seen:>9}"
          + "".join(f"{d:>10}" for d in drops) + f"{ev_dropped:>8}{100.0 * lost / max(sent, 1):>8.1f}%"
          + f"{cpu:>8.2f}{seen / cpu if cpu > 0 else 0:>10.0f}")
    return sum(drops)


def search(ns, label, pcap, tag, top_pps):
    """Bisects --pps between 0 and the top speed reached for the highest
    rate that loses nothing (SEARCH_STEPS runs)."""
    lo, hi = 0, int(top_pps)
    best = 0.0
    for _ in range(SEARCH_STEPS):
        rate = (lo + hi) // 2
        sent, pps, cap, ev, cpu = replay(ns, pcap, rate, f"{tag}_{rate}")
        dropped = row(f"{label}, --pps={rate}", sent, pps, cap, ev, cpu) + ev
        if dropped == 0 and cap.get("packets", 0) >= sent:
            lo, best = rate, max(best, pps)
        else:
            hi = rate
    print(f"  {label}: highest drop-free rate found {best:.0f} packets/s "
          f"(drops at --pps={hi})")


def main():
    if not shutil.which("tcpreplay"):
        print("skip bench/live: tcpreplay not installed (Debian package tcpreplay)")
        return
    os.makedirs(OUT, exist_ok=True)
    syn = os.path.join(OUT, "syn_flood.pcap")
    big = os.path.join(OUT, "es_big.pcap")
    subprocess.run([sys.executable, os.path.join(HERE, "make_syn_flood.py"), str(SYN_PACKETS),
                    "9200", syn], check=True)
    es = "pcaps/es_elasticdump_scroll.pcap"
    if not os.path.exists(es):
        es = "pcaps/http_keepalive.pcap"
    subprocess.run([sys.executable, os.path.join(HERE, "make_big.py"), es, big, "100"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        with netns.Netns() as ns:
            print(f"\nlive capture on a veth ({WORKERS} workers); drops by cause")
            print(f"{'replay':<34}{'sent':>9}{'pps':>10}{'seen':>9}{'kernel':>10}{'iface':>10}"
                  f"{'ring':>10}{'events':>8}{'lost':>9}{'CPU s':>8}{'pkt/CPU-s':>10}")
            loads = [(f"SYN flood {SYN_PACKETS} pkts", syn, "syn"),
                     ("ES scroll dump 100 MB", big, "es")]
            for label, pcap, tag in loads:
                sent, pps, cap, ev, cpu = replay(ns, pcap, "top", tag + "_top")
                if row(label + ", top speed", sent, pps, cap, ev, cpu) + ev == 0:
                    print(f"  {label}: no drop at top speed ({pps:.0f} packets/s)")
                    continue
                search(ns, label, pcap, tag, pps)
    except netns.Unavailable as e:
        print(f"skip bench/live: {e}")


if __name__ == "__main__":
    main()
