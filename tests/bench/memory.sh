#!/bin/sh
# memory.sh BIN - the full-scale memory floods (20 k flows of
# never-ending HTTP heads, 2 k MongoDB flows holding snappy payloads, 20 k
# flows holding out-of-order data, 100 k pipelined requests), generated into
# tests/out/flood (several GB), run with 1 worker under the built-in
# defaults and under a 256 MiB budget: peak RSS, the budget's peak and the
# shedding counters, reported, not asserted. Run from the repository root.
set -eu
BIN=${1:-./scrapewatch}
echo "# defaults (memory.budget_mb = 1024)"
nice python3 tests/memory_check.py "$BIN" --full
echo "# tests/bench/memory256.conf (memory.budget_mb = 256)"
nice python3 tests/memory_check.py "$BIN" --full tests/bench/memory256.conf
