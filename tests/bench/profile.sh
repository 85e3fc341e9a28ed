#!/bin/sh
# bench/profile.sh - where one scrapewatch run spends its CPU: perf record
# (call graphs by DWARF unwinding) of 1 worker on CAPTURE, then each
# thread's share of the samples and its top symbols. Threads are told apart
# by what they run: the capture thread (main: pcap reading, dispatch),
# the worker (decoders), the detection thread (rules), the output thread
# (JSON). Needs perf (Debian linux-perf).
#   tests/bench/profile.sh CAPTURE [TOP]      (data kept in tests/out/bench/perf.data)
set -eu
CAP=$1
TOP=${2:-12}
BUILD=${BUILD:-build}
OUT=tests/out/bench
mkdir -p "$OUT"
command -v perf > /dev/null || { echo "profile: perf not installed"; exit 0; }
perf record -q -F 999 --call-graph dwarf,8192 -o "$OUT/perf.data" \
    "$BUILD/scrapewatch" -w 1 -r "$CAP" --json=/dev/null > /dev/null 2>&1
perf report -i "$OUT/perf.data" --no-children --sort pid,sym --stdio -g none 2>/dev/null \
    | grep -E '^ +[0-9]' > "$OUT/perf.pidsym"
echo "(perf samples at 999 Hz: one sample is about 1 ms of CPU)"
perf report -i "$OUT/perf.data" --no-children --sort pid -n --stdio -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | while read -r share samples tid; do
    echo "thread $tid: $share of the samples ($samples); top symbols (share of all samples):"
    grep -F " $tid " "$OUT/perf.pidsym" | head -n "$TOP" | sed 's/^ */    /'
done
