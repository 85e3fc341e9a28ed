#!/bin/sh
# golden/run.sh - capture in, events out: each case is a directory holding
#   cmd               the sensor's arguments (one line; paths from the repo root)
#   expected.jsonl    the standard output (events, --json to stdout), exact
#                     except for stats events: those are kept as their envelope
#                     only (timestamp, sensor, event_type, final), without the
#                     "stats" counters object, so that adding or renaming a
#                     counter changes no golden file
#   expected.counters named counter facts, checked against the LAST stats
#                     event of the output; one "dotted.name value" a line, e.g.
#                         reassembly.gaps 1
#                         flows.created 3
#                     ("#" starts a comment). Only the listed counters are
#                     checked; one named but absent from the output fails
#                     ("counter X missing").                    (optional)
#   expected.exit     the exit status, when not 0              (optional)
#   expected.stderr   the exact standard error                 (optional)
# Both the output and expected.jsonl go through "stats.py reduce" before the
# comparison: stats lines lose their counters, every other line is compared
# byte for byte. The last line, golden/stats_independent, checks that a stats
# event with an extra counter still matches its case.
# Usage: tests/golden/run.sh BIN [--bless]   (--bless rewrites expected.jsonl
# in the reduced form, expected.counters with every non-zero counter of the
# last stats event, expected.exit and expected.stderr from the current
# output: review the diff before committing it; see README.md.)
set -u
BIN=$1
BLESS=${2:-}
HERE=tests/golden
STATS="python3 $HERE/stats.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for dir in "$HERE"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    [ -f "$dir/cmd" ] || continue
    # shellcheck disable=SC2046
    "$BIN" --json $(cat "$dir/cmd") > "$TMP/out" 2> "$TMP/err"
    rc=$?
    $STATS reduce "$TMP/out" > "$TMP/out.reduced" || { echo "FAIL golden/$name: stats.py reduce"; continue; }
    if [ "$BLESS" = --bless ]; then
        cp "$TMP/out.reduced" "$dir/expected.jsonl"
        $STATS counters "$TMP/out" > "$TMP/counters"
        if [ -s "$TMP/counters" ]; then cp "$TMP/counters" "$dir/expected.counters"; else rm -f "$dir/expected.counters"; fi
        if [ $rc -ne 0 ]; then echo $rc > "$dir/expected.exit"; else rm -f "$dir/expected.exit"; fi
        if [ -s "$TMP/err" ]; then cp "$TMP/err" "$dir/expected.stderr"; else rm -f "$dir/expected.stderr"; fi
        echo "ok golden/$name (blessed)"
        continue
    fi
    want_rc=0
    [ -f "$dir/expected.exit" ] && want_rc=$(cat "$dir/expected.exit")
    why=""
    [ "$rc" -eq "$want_rc" ] || why="exit $rc, expected $want_rc"
    if [ -z "$why" ]; then
        $STATS reduce "$dir/expected.jsonl" > "$TMP/want.reduced"
        if ! cmp -s "$TMP/out.reduced" "$TMP/want.reduced"; then
            why="events differ"
            diff "$TMP/want.reduced" "$TMP/out.reduced" | cut -c1-300 | head -8 >&2
        fi
    fi
    if [ -z "$why" ] && [ -f "$dir/expected.counters" ] &&
       ! $STATS check "$TMP/out" "$dir/expected.counters" > "$TMP/counters.why"; then
        why=$(head -3 "$TMP/counters.why" | paste -sd ';' -)
        cat "$TMP/counters.why" >&2
    fi
    if [ -z "$why" ] && [ -f "$dir/expected.stderr" ] && ! cmp -s "$TMP/err" "$dir/expected.stderr"; then
        why="stderr differs"
        diff "$dir/expected.stderr" "$TMP/err" >&2
    fi
    if [ -z "$why" ]; then echo "ok golden/$name"; else echo "FAIL golden/$name: $why"; echo "golden/$name: $why" >&2; fi
done
[ "$BLESS" = --bless ] && exit 0

# stats_independent: tcp_gap's output with a made-up counter (in a group and
# as a new group) still matches its expected.jsonl and expected.counters.
dir=$HERE/tcp_gap
why=""
# shellcheck disable=SC2046
"$BIN" --json $(cat "$dir/cmd") > "$TMP/out" 2> /dev/null
$STATS inject "$TMP/out" > "$TMP/injected"
$STATS reduce "$TMP/injected" > "$TMP/injected.reduced"
$STATS reduce "$dir/expected.jsonl" > "$TMP/want.reduced"
if cmp -s "$TMP/out" "$TMP/injected" || ! grep -q made_up_counter "$TMP/injected"; then
    why="no counter injected"
elif ! cmp -s "$TMP/injected.reduced" "$TMP/want.reduced"; then
    why="events differ with an extra counter"
elif ! $STATS check "$TMP/injected" "$dir/expected.counters" >&2; then
    why="counters differ with an extra counter"
fi
if [ -z "$why" ]; then echo "ok golden/stats_independent"; else echo "FAIL golden/stats_independent: $why"; echo "golden/stats_independent: $why" >&2; fi
