#!/bin/sh
# run.sh - runs every test and prints one closing line "N passed, N failed".
#   tests/run.sh BUILD_DIR
# Each part prints "ok NAME", "FAIL NAME" or "skip NAME: why" lines; this
# script counts them. Run from the repository root.
set -u
BUILD=${1:-build}
OUT=tests/out/$BUILD
mkdir -p "$OUT"
LOG="$OUT/results.txt"
: > "$LOG"

run_part() {   # a command whose stdout has ok/FAIL/skip lines
    name=$1; shift
    "$@" > "$OUT/$name.log" 2> "$OUT/$name.err"
    rc=$?
    cat "$OUT/$name.log" >> "$LOG"
    grep -E '^(FAIL|skip)' "$OUT/$name.log"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$OUT/$name.log"; then
        echo "FAIL $name (exit $rc, see $OUT/$name.err)" | tee -a "$LOG"
    fi
    if grep -q '^FAIL' "$OUT/$name.log"; then
        sed 's/^/    /' "$OUT/$name.err" | head -40
    fi
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_part "$(basename "$t")" "$t"
done
run_part golden tests/golden/run.sh "$BUILD/scrapewatch"
run_part pipeline tests/pipeline.sh "$BUILD/scrapewatch"
run_part crafted tests/crafted_check.py "$BUILD/scrapewatch"
run_part tunnels tests/tunnels_check.py "$BUILD/scrapewatch"
run_part progress tests/progress_check.sh "$BUILD/scrapewatch"
run_part flowmem tests/flowmem_check.py "$BUILD/scrapewatch"
run_part memory tests/memory_check.py "$BUILD/scrapewatch"
run_part es tests/es_check.py "$BUILD/scrapewatch"
run_part mongo tests/mongo_check.py "$BUILD/scrapewatch"
run_part couchdb tests/couchdb_check.py "$BUILD/scrapewatch"
run_part solr tests/solr_check.py "$BUILD/scrapewatch"
run_part cassandra tests/cassandra_check.py "$BUILD/scrapewatch"
run_part memcached tests/memcached_check.py "$BUILD/scrapewatch"
run_part memcached_facts tests/memcached_facts_check.py "$BUILD/scrapewatch"
run_part scenarios tests/scenarios/run.sh "$BUILD/scrapewatch"
run_part schema tests/schema_check.py "$BUILD/scrapewatch"
run_part pcap_position tests/pcap_position_check.py "$BUILD/scrapewatch"
run_part redis_decode tests/redis_check.py "$BUILD/scrapewatch"
run_part redis_facts tests/redis_facts_check.py "$BUILD/scrapewatch"
run_part redis tests/redis/run.sh "$BUILD/scrapewatch"
run_part fleet tests/redis/fleet_check.py "$BUILD/scrapewatch"
run_part deploy tests/deploy_check.sh "$BUILD/scrapewatch"
run_part demo tests/demo_check.sh "$BUILD/scrapewatch"
run_part report tests/report_check.py "$BUILD/scrapewatch"
run_part live tests/live/check.py "$BUILD/scrapewatch"
run_part rdns tests/rdns/check.py "$BUILD/scrapewatch"

passed=$(grep -ac '^ok ' "$LOG")
failed=$(grep -ac '^FAIL' "$LOG")
skipped=$(grep -ac '^skip' "$LOG")
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
