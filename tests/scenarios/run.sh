#!/bin/sh
# scenarios/run.sh - the detection scenarios (issue 4, "Proof"): each recorded
# capture pcaps/scenarios/<name>.pcap (how it was made and what happened in it:
# <name>.facts.json) is replayed through the sensor with the shipped rules and
# tests/scenarios/scrapewatch.conf, and its alert events must be exactly those
# listed in tests/scenarios/<name>.expect, in order (format: check.py). Each
# capture is replayed with 1 and with 4 workers; the alerts must be identical.
#
# Usage: tests/scenarios/run.sh BIN     (from the repository root)
# Prints "ok scenarios/<name>", "FAIL scenarios/<name>: why" (details on
# stderr) or "skip scenarios/<name>: why" lines, like tests/golden/run.sh.
set -u
BIN=$1
CONF=tests/scenarios/scrapewatch.conf
DIR=tests/scenarios
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

names=""
for e in "$DIR"/*.expect; do
    [ -f "$e" ] || continue
    names="$names $(basename "$e" .expect)"
done

skip_all() {
    for n in $names; do echo "skip scenarios/$n: $1"; done
    exit 0
}

"$BIN" -c "$CONF" --test-rules > "$TMP/test_rules" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    if grep -qi -e "unrecognized option" -e "unknown option" -e "invalid option" "$TMP/test_rules"; then
        skip_all "rule engine not built"
    fi
    if [ ! -f rules/scrapewatch.rules ]; then
        skip_all "rules/scrapewatch.rules not written yet"
    fi
    echo "FAIL scenarios/test-rules: $BIN -c $CONF --test-rules exited $rc"
    sed 's/^/    /' "$TMP/test_rules" >&2
    exit 0
fi

for n in $names; do
    pcap=pcaps/scenarios/$n.pcap
    if [ ! -f "$pcap" ]; then
        echo "FAIL scenarios/$n: $pcap missing"
        continue
    fi
    why=""
    for w in 1 4; do
        "$BIN" -c "$CONF" -w $w -r "$pcap" --json > "$TMP/$n.w$w.jsonl" 2> "$TMP/$n.w$w.err"
        rc=$?
        if [ $rc -ne 0 ]; then
            why="exit $rc with $w workers"
            sed 's/^/    /' "$TMP/$n.w$w.err" >&2
            break
        fi
        grep '"event_type":"alert"' "$TMP/$n.w$w.jsonl" > "$TMP/$n.w$w.alerts"
    done
    if [ -z "$why" ] && ! cmp -s "$TMP/$n.w1.alerts" "$TMP/$n.w4.alerts"; then
        why="alerts differ between 1 and 4 workers"
        diff "$TMP/$n.w1.alerts" "$TMP/$n.w4.alerts" | cut -c1-300 | head -8 >&2
    fi
    if [ -z "$why" ] && ! python3 "$DIR/check.py" "$DIR/$n.expect" "$TMP/$n.w1.jsonl" > "$TMP/$n.check"; then
        why="alerts differ from $n.expect"
        sed "s|^|    $n: |" "$TMP/$n.check" >&2
    fi
    if [ -z "$why" ]; then echo "ok scenarios/$n"; else echo "FAIL scenarios/$n: $why"; echo "scenarios/$n: $why" >&2; fi
done
