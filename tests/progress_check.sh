#!/bin/sh
# progress_check.sh - the progress line of offline runs, and offline stats
# events by packet time.
#   tests/progress_check.sh BIN
# The progress line goes to stderr only when it is a terminal (faked with
# script(1) from bsdutils), never with --quiet, and never changes the events.
set -u
BIN=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ok() { echo "ok progress/$1"; }
fail() { echo "FAIL progress/$1: $2"; echo "progress/$1: $2" >&2; }
check() { name=$1; shift; WHY=""; if "$@"; then ok "$name"; else fail "$name" "${WHY:-failed}"; fi; }

# 2426 packets in two files: the line is drawn every 1024 packets at most once a second
FILES="pcaps/es_curl.pcap pcaps/es_python_client.pcap"

# Not a terminal: stderr stays empty, the events are the usual ones.
quiet_without_tty() {
    "$BIN" -r $FILES --json="$TMP/plain.jsonl" 2> "$TMP/err" || { WHY="exit $?"; return 1; }
    [ ! -s "$TMP/err" ] || { WHY="stderr not empty: $(head -c 200 "$TMP/err")"; return 1; }
    [ -s "$TMP/plain.jsonl" ] || { WHY="no events"; return 1; }
}
check quiet_without_tty quiet_without_tty

# Under a terminal: a line with files, bytes of the total, packets/s, events
# and ETA, erased at the end; the events are byte for byte the same.
shown_on_tty() {
    script -qec "$BIN -r $FILES --json=$TMP/tty.jsonl" /dev/null > "$TMP/typescript" 2>&1 \
        || { WHY="exit $?"; return 1; }
    grep -aq 'files [0-9]/2  .* / 2\.8 MB ([0-9]*%)  [0-9]* pkt/s  [0-9]* events  ETA [0-9]*:[0-9][0-9]' \
        "$TMP/typescript" || { WHY="no progress line in: $(head -c 300 "$TMP/typescript" | od -c | head -5)"; return 1; }
    # the last bytes erase the line: carriage return, ESC [ K
    [ "$(tail -c 4 "$TMP/typescript" | od -An -c | tr -d ' \n')" = '\r033[K' ] \
        || { WHY="line not erased at the end"; return 1; }
    cmp -s "$TMP/plain.jsonl" "$TMP/tty.jsonl" || { WHY="events differ with the progress line"; return 1; }
}
if command -v script > /dev/null 2>&1; then
    check shown_on_tty shown_on_tty
else
    echo "skip progress/shown_on_tty: script(1) (bsdutils) is not installed"
fi

# --quiet under a terminal: nothing at all on the terminal.
quiet_flag() {
    script -qec "$BIN --quiet -r $FILES --json=$TMP/q.jsonl" /dev/null > "$TMP/typescript_q" 2>&1 \
        || { WHY="exit $?"; return 1; }
    [ ! -s "$TMP/typescript_q" ] || { WHY="output: $(head -c 200 "$TMP/typescript_q")"; return 1; }
}
if command -v script > /dev/null 2>&1; then
    check quiet_flag quiet_flag
else
    echo "skip progress/quiet_flag: script(1) (bsdutils) is not installed"
fi

# stdin has no size: bytes read, no percentage and no ETA.
stdin_no_total() {
    script -qec "$BIN -r - --json=$TMP/s.jsonl < pcaps/es_python_client.pcap" /dev/null \
        > "$TMP/typescript_s" 2>&1 || { WHY="exit $?"; return 1; }
    grep -aq 'files 0/1  [0-9.]* [KM]*B read  [0-9]* pkt/s  [0-9]* events' "$TMP/typescript_s" \
        || { WHY="no stdin progress line"; return 1; }
    ! grep -aq 'ETA' "$TMP/typescript_s" || { WHY="an ETA without a total"; return 1; }
}
if command -v script > /dev/null 2>&1; then
    check stdin_no_total stdin_no_total
else
    echo "skip progress/stdin_no_total: script(1) (bsdutils) is not installed"
fi

# --stats-interval on files: stats events by packet time, the same for 1
# and 4 workers, and every other event exactly as without it.
# redis_dump.pcap spans 5.1 s of packet time from 21:48:29.8: boundaries
# 30, 31, 32, 33, 34, then the final event.
stats_interval() {
    p=pcaps/redis_dump.pcap
    "$BIN" -w 1 --stats-interval 1 -j -r $p > "$TMP/si1" 2>/dev/null || { WHY="exit $?"; return 1; }
    "$BIN" -w 4 --stats-interval 1 -j -r $p > "$TMP/si4" 2>/dev/null
    "$BIN" -w 4 -j -r $p > "$TMP/nosi" 2>/dev/null
    cmp -s "$TMP/si1" "$TMP/si4" || { WHY="1 and 4 workers differ"; return 1; }
    grep -v '"event_type":"stats"' "$TMP/si4" > "$TMP/si4_events"
    grep -v '"event_type":"stats"' "$TMP/nosi" > "$TMP/nosi_events"
    [ -s "$TMP/nosi_events" ] || { WHY="no events"; return 1; }
    cmp -s "$TMP/si4_events" "$TMP/nosi_events" || { WHY="other events changed"; return 1; }
    got=$(python3 -c '
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if "\"event_type\":\"stats\"" in l]
print(" ".join(e["timestamp"][11:26] + ("F" if e.get("final") else "") + ":%d" % e["stats"]["capture"]["packets"] for e in stats))
' "$TMP/si1")
    case "$got" in
        "21:48:30.000000:"*" 21:48:31.000000:"*" 21:48:32.000000:"*" 21:48:33.000000:"*" 21:48:34.000000:"*" 21:48:34.954481F:1648") ;;
        *) WHY="stats events: $got"; return 1 ;;
    esac
    # packet counts only grow
    python3 -c '
import sys
counts = [int(x.split(":")[-1]) for x in sys.argv[1].split()]
sys.exit(0 if counts == sorted(counts) and counts[0] > 0 else 1)' "$got" || { WHY="counts: $got"; return 1; }
}
check stats_interval stats_interval

stats_interval_usage() {
    "$BIN" --stats-interval 0 -j -r pcaps/redis_dump.pcap > /dev/null 2> "$TMP/err"
    rc=$?
    [ $rc -eq 2 ] && grep -q -- '--stats-interval must be between 1 and 86400' "$TMP/err" \
        || { WHY="exit $rc: $(cat "$TMP/err")"; return 1; }
}
check stats_interval_usage stats_interval_usage
