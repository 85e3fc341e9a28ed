#!/bin/sh
# bench/run.sh - what `make bench` prints, as markdown (docs/bench.md is one
# run of it): the machine, then one table per capture (tests/bench/table.py:
# packets/s, Gbit/s, CPU, peak RSS, ratios against the bare libpcap read
# loop build/pcap_count, ndpiReader, tshark, scrapewatch on 1..cores
# workers) for the mixed capture (tests/bench/make_mixed.py, MIXED_MB, seed
# 1) and a SYN flood (tests/bench/make_syn_flood.py, FLOOD_FLOWS to :9200);
# then decode throughput, as ratios against reference runs on the same file
# in the same invocation (never a timed assertion), for three workloads: an
# Elasticsearch scroll dump (recorded elasticdump capture), a Redis pipeline
# and a memcached multi-get stream (tests/bench/make_kv_stream.py). Each is
# repeated to MEGABYTES and read by: cat, the sensor with no decoder and no
# nDPI (tests/bench/nodecode.conf), the sensor decoding with 1 and 2
# workers. Then the memory an idle flow costs and the SYN-flood rate (200 k
# and 1 M flows).
#   tests/bench/run.sh [CAPTURE] [MEGABYTES]     (default: all, 200 MB)
# With a CAPTURE, only that one is measured (repeated to MEGABYTES), in the
# decode-throughput form.
#   MIXED_MB=1024 tests/bench/run.sh             the mixed capture at 1 GiB
set -eu
ONLY=${1:-}
MB=${2:-200}
MIXED_MB=${MIXED_MB:-512}
FLOOD_FLOWS=${FLOOD_FLOWS:-200000}
BUILD=${BUILD:-build}
export BUILD
OUT=tests/out/bench
mkdir -p "$OUT"

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

bench() {   # bench NAME SOURCE-CAPTURE
    name=$1 src=$2 big=$OUT/big.pcap
    python3 tests/bench/make_big.py "$src" "$big" "$MB" > /dev/null
    bytes=$(stat -c %s "$big")
    cat "$big" > /dev/null   # warm the page cache
    t_cat=$(best sh -c "cat $big > /dev/null")
    t_raw=$(best ./scrapewatch -c tests/bench/nodecode.conf -w 1 -r "$big" --json=/dev/null)
    t_dec1=$(best ./scrapewatch -w 1 -r "$big" --json=/dev/null)
    t_dec2=$(best ./scrapewatch -w 2 -r "$big" --json=/dev/null)
    ops=$(./scrapewatch -w 1 -r "$big" --json | grep -c '"event_type":"op"' || true)
    python3 - "$bytes" "$t_cat" "$t_raw" "$t_dec1" "$t_dec2" "$ops" "$name" <<'PY'
import sys
size, cat, raw, d1, d2, ops, name = int(sys.argv[1]), *map(float, sys.argv[2:6]), int(sys.argv[6]), sys.argv[7]
mb = size / 1e6
rate = lambda t: mb / t if t > 0 else float("inf")
print(f"\n{name}: {mb:.0f} MB, {ops} ops decoded ({ops / d1 / 1000:.0f} k ops/s on 1 worker)")
print(f"{'run':<34}{'MB/s':>10}{'vs file read':>14}{'vs no-decode':>14}")
for label, t in [("read the file (cat)", cat), ("sensor, no decoder, 1 worker", raw),
                 ("sensor, decoding, 1 worker", d1), ("sensor, decoding, 2 workers", d2)]:
    print(f"{label:<34}{rate(t):>10.0f}{rate(t) / rate(cat):>14.2f}{rate(t) / rate(raw):>14.2f}")
PY
}

if [ -n "$ONLY" ]; then
    bench "$ONLY" "$ONLY"
    exit 0
fi

machine() {
    echo "## Machine"
    echo
    echo '```'
    lscpu | grep -E '^(Model name|Architecture|CPU\(s\)|Thread|Core|Socket|CPU max MHz|L2|L3)' \
        || true
    grep MemTotal /proc/meminfo
    echo "kernel:   $(uname -srm)"
    echo "compiler: $(${CC:-cc} --version | head -1)"
    echo "libpcap:  $(dpkg-query -W -f '${Version}' libpcap0.8 2>/dev/null || echo ?)," \
         "nDPI: $(dpkg-query -W -f '${Version}' libndpi4.2 2>/dev/null || echo ?)," \
         "tshark: $(dpkg-query -W -f '${Version}' tshark 2>/dev/null || echo ?)"
    echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the runs)"
    echo '```'
}

machine
MIXED=$OUT/mixed_${MIXED_MB}MB.pcap
[ -f "$MIXED" ] || python3 tests/bench/make_mixed.py "$MIXED" "$MIXED_MB" 1 > /dev/null
cat "$MIXED" > /dev/null   # warm the page cache
python3 tests/bench/table.py "$MIXED" \
    "Mixed capture (tests/bench/make_mixed.py $MIXED_MB MB, seed 1)"
FLOOD=$OUT/syn_flood_${FLOOD_FLOWS}.pcap
[ -f "$FLOOD" ] || python3 tests/bench/make_syn_flood.py "$FLOOD_FLOWS" 9200 "$FLOOD"
python3 tests/bench/table.py "$FLOOD" \
    "SYN flood ($FLOOD_FLOWS SYN-only flows to :9200, shipped config)" --no-tools
echo
echo "## Decode throughput by workload"
echo
echo '```'
ES=pcaps/http_keepalive.pcap
[ -f pcaps/es_elasticdump_scroll.pcap ] && ES=pcaps/es_elasticdump_scroll.pcap
bench "Elasticsearch scroll dump ($ES)" "$ES"
python3 tests/bench/make_kv_stream.py redis "$OUT/redis_pipeline.pcap"
bench "Redis pipeline (GET, MGET x10, HGETALL, SET; 50 per batch)" "$OUT/redis_pipeline.pcap"
python3 tests/bench/make_kv_stream.py memcached "$OUT/memcached_multiget.pcap"
bench "Memcached multi-get stream (get of 20 keys, 75% hits)" "$OUT/memcached_multiget.pcap"

# What an idle flow costs, and how fast SYN-only flows are taken: peak RSS
# of 200,000 SYN-only flows to a decoder's port, against the same run on a
# capture with one flow (a reference in the same invocation, not an
# absolute figure), and packets per CPU-second (user + system, all threads,
# the flow events' JSON included). Then 1,000,000 such flows with
# flows.max = 2,000,000: peak RSS of the flow state.
SYN=$OUT/syn_flood.pcap
SYN1M=$OUT/syn_flood_1m.pcap
python3 tests/bench/make_syn_flood.py 200000 9200 "$SYN"
python3 tests/bench/make_syn_flood.py 1000000 9200 "$SYN1M"
# Small queues for the RSS figures, so that the queues' fixed size does not
# count as per-flow memory; no idle timeout within the 1,000 s of the 1 M
# capture, so that all its flows are alive at the end.
printf 'capture = { ring_kb = 256; };\nevents = { queue = 64; };\n' > "$OUT/small_queues.conf"
cp "$OUT/small_queues.conf" "$OUT/flows_2m.conf"
printf 'flows = { max = 2000000; idle_timeout = 3600; };\n' >> "$OUT/flows_2m.conf"
usage() { /usr/bin/time -f '%M %U %S' "$@" --json=/dev/null 2>&1 >/dev/null | tail -1; }
one=$(usage ./scrapewatch -c "$OUT/small_queues.conf" -w 1 -r pcaps/crafted/tcp_gap.pcap)
small=$(usage ./scrapewatch -c "$OUT/small_queues.conf" -w 1 -r "$SYN")
syn=$(usage ./scrapewatch -w 1 -r "$SYN")
big=$(usage ./scrapewatch -c "$OUT/flows_2m.conf" -w 1 -r "$SYN1M")
python3 - "$one" "$small" "$syn" "$big" <<'PY'
import sys
(r1, _, _), (rs, _, _), (r, u, s), (rb, ub, sb) = (map(float, a.split()) for a in sys.argv[1:5])
print()
print(f"SYN-only flows to :9200: {(rs - r1) * 1024 / 200000:.0f} bytes per flow above a one-flow run "
      f"(small queues; {(r - r1) * 1024 / 200000:.0f} with the shipped ones)")
print(f"SYN flood, 200,000 packets, 1 worker: {u + s:.2f} CPU-s, "
      f"{200000 / (u + s) / 1000:.0f} k packets per CPU-second")
print(f"SYN flood, 1,000,000 flows, flows.max = 2,000,000: peak RSS {rb / 1024:.0f} MiB "
      f"({(rb - r1) * 1024 / 1e6:.0f} bytes per flow above a one-flow run), {ub + sb:.2f} CPU-s, "
      f"{1e6 / (ub + sb) / 1000:.0f} k packets per CPU-second")
PY
echo '```'
