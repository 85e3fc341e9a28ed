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
