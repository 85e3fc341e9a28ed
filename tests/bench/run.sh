#!/bin/sh
# bench/run.sh - decode throughput, as ratios against reference runs on the
# same file in the same invocation (never a timed assertion), for three
# workloads: an Elasticsearch scroll dump (recorded elasticdump capture), a
# Redis pipeline and a memcached multi-get stream (tests/bench/
# make_kv_stream.py). Each is repeated to MEGABYTES and read by: cat, the
# sensor with no decoder and no nDPI (tests/bench/nodecode.conf), the sensor
# decoding with 1 and 2 workers. Then the memory an idle flow costs.
#   tests/bench/run.sh [CAPTURE] [MEGABYTES]     (default: the three, 200 MB)
# With a CAPTURE, only that one is measured (repeated to MEGABYTES).
set -eu
ONLY=${1:-}
MB=${2:-200}
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
ES=pcaps/http_keepalive.pcap
[ -f pcaps/es_elasticdump_scroll.pcap ] && ES=pcaps/es_elasticdump_scroll.pcap
bench "Elasticsearch scroll dump ($ES)" "$ES"
python3 tests/bench/make_kv_stream.py redis "$OUT/redis_pipeline.pcap"
bench "Redis pipeline (GET, MGET x10, HGETALL, SET; 50 per batch)" "$OUT/redis_pipeline.pcap"
python3 tests/bench/make_kv_stream.py memcached "$OUT/memcached_multiget.pcap"
bench "Memcached multi-get stream (get of 20 keys, 75% hits)" "$OUT/memcached_multiget.pcap"

# What an idle flow costs: peak RSS of 20,000 SYN-only flows to a decoder's
# port, against the same run on a capture with one flow (a reference in the
# same invocation, not an absolute figure).
SYN=$OUT/syn_flood.pcap
python3 tests/bench/make_syn_flood.py 20000 9200 "$SYN"
rss() { /usr/bin/time -f %M "$@" --json=/dev/null 2>&1 >/dev/null | tail -1; }
r_one=$(rss ./scrapewatch -w 1 -r pcaps/crafted/tcp_gap.pcap)
r_syn=$(rss ./scrapewatch -w 1 -r "$SYN")
echo
echo "SYN-only flows to :9200: $(( (r_syn - r_one) * 1024 / 20000 )) bytes per flow above a one-flow run"
