#!/bin/sh
# bench/run.sh - decode throughput of a large dump, as ratios against
# reference runs on the same file in the same invocation (never a timed
# assertion). Prints MB/s for: reading the file (cat), the sensor with no
# decoder, the sensor decoding (1 and 2 workers).
#   tests/bench/run.sh [CAPTURE] [MEGABYTES]
set -eu
SRC=${1:-}
MB=${2:-200}
if [ -z "$SRC" ]; then
    SRC=pcaps/http_keepalive.pcap
    for c in pcaps/es_elasticdump_scroll.pcap; do [ -f "$c" ] && SRC=$c; done
fi
mkdir -p tests/out/bench
BIG=tests/out/bench/big.pcap
python3 tests/bench/make_big.py "$SRC" "$BIG" "$MB"
BYTES=$(stat -c %s "$BIG")
cat "$BIG" > /dev/null   # warm the page cache
best() {   # best wall time of 3 runs of a command, in seconds
    python3 - "$@" <<'PY'
import subprocess, sys, time
times = []
for _ in range(3):
    t = time.monotonic()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.monotonic() - t)
print(f"{min(times):.3f}")
PY
}
t_cat=$(best sh -c "cat $BIG > /dev/null")
t_raw=$(best ./scrapewatch -c tests/bench/nodecode.conf -w 1 -r "$BIG" --json=/dev/null)
t_dec1=$(best ./scrapewatch -w 1 -r "$BIG" --json=/dev/null)
t_dec2=$(best ./scrapewatch -w 2 -r "$BIG" --json=/dev/null)
OPS=$(./scrapewatch -w 1 -r "$BIG" --json | grep -c '"event_type":"op"')
python3 - "$BYTES" "$t_cat" "$t_raw" "$t_dec1" "$t_dec2" "$OPS" "$SRC" <<'PY'
import sys
size, cat, raw, d1, d2, ops, src = int(sys.argv[1]), *map(float, sys.argv[2:6]), int(sys.argv[6]), sys.argv[7]
mb = size / 1e6
rate = lambda t: mb / t if t > 0 else float("inf")
print(f"capture: {src} repeated to {mb:.0f} MB ({ops} ops decoded)")
print(f"{'run':<34}{'MB/s':>10}{'vs file read':>14}{'vs no-decode':>14}")
for name, t in [("read the file (cat)", cat), ("sensor, no decoder, 1 worker", raw),
                ("sensor, decoding, 1 worker", d1), ("sensor, decoding, 2 workers", d2)]:
    print(f"{name:<34}{rate(t):>10.0f}{rate(t) / rate(cat):>14.2f}{rate(t) / rate(raw):>14.2f}")
PY

# What an idle flow costs: peak RSS of 20,000 SYN-only flows to a decoder's
# port, against the same run on a capture with one flow (a reference in the
# same invocation, not an absolute figure).
SYN=tests/out/bench/syn_flood.pcap
python3 tests/bench/make_syn_flood.py 20000 9200 "$SYN"
rss() { /usr/bin/time -f %M "$@" --json=/dev/null 2>&1 >/dev/null | tail -1; }
r_one=$(rss ./scrapewatch -w 1 -r pcaps/crafted/tcp_gap.pcap)
r_syn=$(rss ./scrapewatch -w 1 -r "$SYN")
echo "SYN-only flows to :9200: $(( (r_syn - r_one) * 1024 / 20000 )) bytes per flow above a one-flow run"
