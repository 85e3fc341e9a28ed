#!/bin/sh
# golden/run.sh - capture in, events out: each case is a directory holding
#   cmd              the sensor's arguments (one line; paths from the repo root)
#   expected.jsonl   the exact standard output (events, --json to stdout)
#   expected.exit    the exit status, when not 0              (optional)
#   expected.stderr  the exact standard error                 (optional)
# Usage: tests/golden/run.sh BIN [--bless]   (--bless rewrites the expected
# files from the current output: review the diff before committing it.)
set -u
BIN=$1
BLESS=${2:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for dir in tests/golden/*/; do
    name=$(basename "$dir")
    [ -f "$dir/cmd" ] || continue
    # shellcheck disable=SC2046
    "$BIN" --json $(cat "$dir/cmd") > "$TMP/out" 2> "$TMP/err"
    rc=$?
    if [ "$BLESS" = --bless ]; then
        cp "$TMP/out" "$dir/expected.jsonl"
        if [ $rc -ne 0 ]; then echo $rc > "$dir/expected.exit"; else rm -f "$dir/expected.exit"; fi
        if [ -s "$TMP/err" ]; then cp "$TMP/err" "$dir/expected.stderr"; else rm -f "$dir/expected.stderr"; fi
        echo "ok golden/$name (blessed)"
        continue
    fi
    want_rc=0
    [ -f "$dir/expected.exit" ] && want_rc=$(cat "$dir/expected.exit")
    why=""
    [ "$rc" -eq "$want_rc" ] || why="exit $rc, expected $want_rc"
    if [ -z "$why" ] && ! cmp -s "$TMP/out" "$dir/expected.jsonl"; then
        why="events differ"
        diff "$dir/expected.jsonl" "$TMP/out" | cut -c1-300 | head -8 >&2
    fi
    if [ -z "$why" ] && [ -f "$dir/expected.stderr" ] && ! cmp -s "$TMP/err" "$dir/expected.stderr"; then
        why="stderr differs"
        diff "$dir/expected.stderr" "$TMP/err" >&2
    fi
    if [ -z "$why" ]; then echo "ok golden/$name"; else echo "FAIL golden/$name: $why"; echo "golden/$name: $why" >&2; fi
done
