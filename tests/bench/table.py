#!/usr/bin/env python3
"""table.py CAPTURE NAME [--no-tools] - one benchmark table for one capture:
each run's packets/s and Gbit/s (per wall second), CPU seconds (user+sys of
the child, from wait4's rusage), peak RSS, and its CPU and wall time as
ratios to the bare libpcap read loop (build/pcap_count) on the same file in
the same invocation. Runs: the bare loop, ndpiReader -i, tshark -r -q,
scrapewatch with no decoder and no nDPI (tests/bench/nodecode.conf: what
the pipeline alone costs), then scrapewatch with 1..cores workers (the
scaling curve: wall-time speedup over 1 worker). Fast runs are repeated
(REPS, default 3) and the one with the least CPU is kept; tshark runs once.
--no-tools leaves out ndpiReader and tshark (the flood captures).
Environment: BUILD (default build), REPS, WORKERS (default: the cores)."""
import os
import subprocess
import sys
import time

BUILD = os.environ.get("BUILD", "build")
REPS = int(os.environ.get("REPS", "3"))
CORES = int(os.environ.get("WORKERS", os.cpu_count() or 1))


def run_once(argv):
    """(wall s, cpu s, peak RSS KiB) of one run; output discarded."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    t = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"table.py: {' '.join(argv)} failed ({status})")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def measure(argv, reps):
    return min((run_once(argv) for _ in range(reps)), key=lambda r: r[1])


def main():
    path, name = sys.argv[1], sys.argv[2]
    tools = "--no-tools" not in sys.argv
    out = subprocess.run([f"{BUILD}/pcap_count", path], capture_output=True, text=True,
                         check=True).stdout.split()
    packets, nbytes = int(out[0]), int(out[1])
    runs = [("bare libpcap read loop", [f"{BUILD}/pcap_count", path], REPS)]
    if tools:
        runs.append(("ndpiReader -i FILE -q", ["ndpiReader", "-q", "-i", path], REPS))
        runs.append(("tshark -r FILE -q", ["tshark", "-r", path, "-q"], 1))
    runs.append(("scrapewatch, 1 worker, no decoder, no nDPI",
                 [f"{BUILD}/scrapewatch", "-c", "tests/bench/nodecode.conf", "-w", "1", "-r", path,
                  "--json=/dev/null"], REPS))
    for n in range(1, CORES + 1):
        runs.append((f"scrapewatch, {n} worker{'s' if n > 1 else ''}",
                     [f"{BUILD}/scrapewatch", "-w", str(n), "-r", path, "--json=/dev/null"],
                     REPS))
    print(f"\n### {name}\n")
    print(f"{os.path.basename(path)}: {packets:,} packets, {nbytes / 1e6:,.0f} MB captured; "
          f"best of {REPS} by CPU (tshark: 1 run)\n")
    print("| run | packets/s | Gbit/s | wall s | CPU s | packets/CPU-s | peak RSS MB "
          "| CPU × bare | wall × bare | speedup vs 1 worker |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    base = one = None
    for label, argv, reps in runs:
        wall, cpu, rss = measure(argv, reps)
        base = base or (wall, cpu)
        scaling = label.startswith("scrapewatch") and "no decoder" not in label
        if scaling and one is None:
            one = wall
        speed = f"{one / wall:.2f}" if scaling else ""
        print(f"| {label} | {packets / wall:,.0f} | {nbytes * 8 / wall / 1e9:.2f} | {wall:.2f} "
              f"| {cpu:.2f} | {packets / max(cpu, 1e-3):,.0f} | {rss / 1024:.0f} "
              f"| {cpu / max(base[1], 1e-3):.1f} | {wall / base[0]:.1f} | {speed} |", flush=True)


if __name__ == "__main__":
    main()
