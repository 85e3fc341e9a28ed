#!/bin/sh
# fuzz/run.sh SECONDS TARGET... - runs each libFuzzer target for SECONDS with a
# corpus under tests/out/fuzz/<target> (kept between runs, never committed).
# Prints "ok fuzz/<target>" or "FAIL fuzz/<target>" and the usual closing line.
set -u
secs=$1; shift
passed=0; failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    corpus=tests/out/fuzz/$name
    mkdir -p "$corpus"
    if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="tests/out/fuzz/$name-" "$corpus" > "tests/out/fuzz/$name.log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "tests/out/fuzz/$name.log" | grep -o '[0-9]*$')
        echo "ok fuzz/$name ($runs runs in ${secs}s)"; passed=$((passed + 1))
    else
        echo "FAIL fuzz/$name (see tests/out/fuzz/$name.log)"; failed=$((failed + 1))
        grep -A5 'ERROR\|SUMMARY' "tests/out/fuzz/$name.log" | head -20
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
