#!/bin/sh
# deploy_check.sh - the sensor as a service sees it: paths resolved from the
# configuration file and the binary, not the current directory; the file
# checks of --test-config; --json appending and reopening on SIGHUP; the man
# pages; make install into a staging directory.
#   tests/deploy_check.sh BUILD/scrapewatch
# Prints ok/FAIL/skip lines (tests/run.sh counts them). Run from the
# repository root.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD=$(dirname "$1")
ROOT=$(pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

result() {   # name, "" for ok or why not
    if [ -z "$2" ]; then echo "ok deploy/$1"; else echo "FAIL deploy/$1: $2"; fi
}

# Without -c, from another directory: the built-in rules of this tree.
no_config_elsewhere() {
    out=$(cd /tmp && "$BIN" --test-config 2>&1) || { echo "exit $?: $out"; return; }
    echo "$out" | grep -qx "rules: [1-9][0-9]* from $ROOT/rules/scrapewatch.rules" \
        || { echo "rules not from the tree: $out"; return; }
    echo "$out" | grep -qx "lists: $ROOT/rules/lists" || echo "lists not from the tree: $out"
}

# A configuration read from elsewhere, by a relative name: its relative
# rule and lists paths are taken from its directory.
relative_config_elsewhere() {
    mkdir -p "$TMP/site/r/l"
    cp rules/scrapewatch.rules "$TMP/site/r/x.rules"
    cp rules/lists/* "$TMP/site/r/l/"
    printf 'detect = { rules = "r/x.rules"; lists = "r/l"; };\noutput = { json = "ev.jsonl"; };\n' \
        > "$TMP/site/s.conf"
    out=$(cd "$TMP" && "$BIN" -c site/s.conf --test-config 2>&1) || { echo "exit $?: $out"; return; }
    echo "$out" | grep -qx "rules: [1-9][0-9]* from $TMP/site/r/x.rules" \
        || { echo "rules: $out"; return; }
    echo "$out" | grep -qx "events: JSON lines appended to $TMP/site/ev.jsonl (SIGHUP reopens it)" \
        || { echo "events: $out"; return; }
    (cd / && "$BIN" -c "$TMP/site/s.conf" -r "$ROOT/pcaps/redis_dump.pcap") \
        || { echo "run from /: exit $?"; return; }
    grep -q '"event_type":"op"' "$TMP/site/ev.jsonl" || echo "no ops in $TMP/site/ev.jsonl"
}

# A rule file that does not exist is an error naming it, at start and in
# --test-config; rules = "" is no rules.
missing_rules() {
    printf 'detect = { rules = "nosuch.rules"; };\n' > "$TMP/m.conf"
    "$BIN" -c "$TMP/m.conf" -r pcaps/crafted/ipv6_ext.pcap > /dev/null 2> "$TMP/m.err"
    rc=$?
    [ $rc -eq 2 ] || { echo "run: exit $rc, want 2"; return; }
    grep -qx "scrapewatch: $TMP/nosuch.rules: cannot read rules: No such file or directory" \
        "$TMP/m.err" || { echo "run: $(cat "$TMP/m.err")"; return; }
    "$BIN" -c "$TMP/m.conf" --test-config > /dev/null 2> "$TMP/m.err"
    rc=$?
    [ $rc -eq 2 ] || { echo "--test-config: exit $rc, want 2"; return; }
    grep -q "rule file '$TMP/nosuch.rules' cannot be read: No such file or directory (as " \
        "$TMP/m.err" || { echo "--test-config: $(cat "$TMP/m.err")"; return; }
    printf 'detect = { rules = ""; };\n' > "$TMP/n.conf"
    out=$("$BIN" -c "$TMP/n.conf" --test-config 2>&1) || { echo "rules = \"\": exit $?"; return; }
    echo "$out" | grep -qx 'rules: 0 from (none)' || echo "rules = \"\": $out"
}

# One line per problem, all of them, then exit 2.
test_config_problems() {
    printf 'detect = { lists = "nolists"; };\noutput = { json = "/nonexistent/x/ev.jsonl"; };\n' \
        > "$TMP/p.conf"
    "$BIN" -c "$TMP/p.conf" --test-config > /dev/null 2> "$TMP/p.err"
    rc=$?
    [ $rc -eq 2 ] || { echo "exit $rc, want 2"; return; }
    grep -q "^scrapewatch: lists directory '$TMP/nolists' does not exist (as " "$TMP/p.err" \
        || { echo "lists: $(cat "$TMP/p.err")"; return; }
    grep -q "^scrapewatch: JSON lines file '/nonexistent/x/ev.jsonl' cannot be created: directory '/nonexistent/x': No such file or directory (as " \
        "$TMP/p.err" || { echo "json: $(cat "$TMP/p.err")"; return; }
    grep -qx "scrapewatch: $TMP/p.conf: [0-9]* problems" "$TMP/p.err" || echo "no summary: $(cat "$TMP/p.err")"
}

# As root with sensor.user: the files are checked as that user.
test_config_as_user() {
    if [ "$(id -u)" -ne 0 ] || ! id nobody > /dev/null 2>&1; then
        echo "SKIP needs root and the user nobody"; return
    fi
    mkdir -p "$TMP/private"
    chmod 700 "$TMP/private"
    printf 'sensor = { user = "nobody"; };\noutput = { json = "%s/private/ev.jsonl"; };\n' \
        "$TMP" > "$TMP/u.conf"
    chmod 755 "$TMP"
    "$BIN" -c "$TMP/u.conf" --test-config > /dev/null 2> "$TMP/u.err"
    rc=$?
    [ $rc -eq 2 ] || { echo "exit $rc, want 2"; return; }
    grep -q "^scrapewatch: JSON lines file '$TMP/private/ev.jsonl' cannot be opened: Permission denied (as user nobody)$" \
        "$TMP/u.err" || echo "$(cat "$TMP/u.err")"
}

# --json appends: two runs, twice the events.
json_appends() {
    "$BIN" -r pcaps/crafted/many_flows.pcap --json="$TMP/a.jsonl" 2> /dev/null || { echo "exit $?"; return; }
    one=$(wc -l < "$TMP/a.jsonl")
    "$BIN" -r pcaps/crafted/many_flows.pcap --json="$TMP/a.jsonl" 2> /dev/null || { echo "exit $?"; return; }
    two=$(wc -l < "$TMP/a.jsonl")
    [ "$one" -gt 0 ] && [ "$two" -eq $((one * 2)) ] || echo "$one then $two lines"
}

# logrotate: the file is renamed while the sensor reads a capture from a
# slow pipe, SIGHUP; events before it are in the old file, the rest in the
# new one, none lost or doubled.
sighup_reopen() {
    pcap=pcaps/redis_dump.pcap
    # from standard input too, as below (events name their file: "-")
    "$BIN" -r - < $pcap > "$TMP/ref.jsonl" 2> /dev/null || { echo "reference: exit $?"; return; }
    mkfifo "$TMP/fifo"
    python3 - "$pcap" > "$TMP/fifo" <<'EOF' &
import struct, sys, time
data = open(sys.argv[1], "rb").read()
pos, records = 24, []
while pos + 16 <= len(data):
    records.append(pos)
    pos += 16 + struct.unpack("<I", data[pos + 8:pos + 12])[0]
cut = records[len(records) // 2]
sys.stdout.buffer.write(data[:cut]); sys.stdout.buffer.flush()
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 3)
sys.stdout.buffer.write(data[cut:]); sys.stdout.buffer.flush()
EOF
    feeder=$!
    "$BIN" -r - --json="$TMP/ev.jsonl" < "$TMP/fifo" 2> "$TMP/hup.err" &
    pid=$!
    i=0
    while [ ! -s "$TMP/ev.jsonl" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    mv "$TMP/ev.jsonl" "$TMP/ev.jsonl.1"
    kill -HUP $pid
    wait $pid
    rc=$?
    wait $feeder
    [ $rc -eq 0 ] || { echo "exit $rc: $(cat "$TMP/hup.err")"; return; }
    [ -s "$TMP/ev.jsonl" ] || { echo "nothing in the new file"; return; }
    cat "$TMP/ev.jsonl.1" "$TMP/ev.jsonl" | cmp -s - "$TMP/ref.jsonl" \
        || echo "old ($(wc -l < "$TMP/ev.jsonl.1")) + new ($(wc -l < "$TMP/ev.jsonl")) lines differ from the $(wc -l < "$TMP/ref.jsonl") of a plain run"
}

# A live sensor says what it opened, as whom, with how many rules, and
# where events go; the JSON file is opened before privileges are dropped.
startup_lines() {
    if [ "$(id -u)" -ne 0 ] || ! id nobody > /dev/null 2>&1; then
        echo "SKIP needs root (live capture on lo) and the user nobody"; return
    fi
    mkdir -p "$TMP/rootonly"
    chmod 700 "$TMP/rootonly"
    printf 'sensor = { user = "nobody"; };\n' > "$TMP/live.conf"
    "$BIN" -c "$TMP/live.conf" -i lo --json="$TMP/rootonly/ev.jsonl" 2> "$TMP/live.err" &
    pid=$!
    i=0
    while ! grep -q "running as" "$TMP/live.err" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9))'
    sleep 1
    kill -TERM $pid
    wait $pid
    rc=$?
    [ $rc -eq 0 ] || { echo "exit $rc: $(cat "$TMP/live.err")"; return; }
    for want in "scrapewatch: capturing on lo (promiscuous, buffer 64 MiB, snaplen 65535)" \
                "scrapewatch: configuration $TMP/live.conf" \
                "scrapewatch: [1-9][0-9]* rules from $ROOT/rules/scrapewatch.rules" \
                "scrapewatch: events: JSON lines appended to $TMP/rootonly/ev.jsonl (SIGHUP reopens it)" \
                "scrapewatch: running as user nobody" \
                "scrapewatch: lo: first packet: link type 1 (EN10MB)"; do
        grep -qx "$want" "$TMP/live.err" || { echo "no line '$want' in: $(cat "$TMP/live.err")"; return; }
    done
    [ -s "$TMP/rootonly/ev.jsonl" ] || echo "no events in the file opened as root"
}

# The man pages render without a groff warning.
man_pages() {
    if ! command -v man > /dev/null; then echo "SKIP man is not installed"; return; fi
    for page in scrapewatch.8 scrapewatch.conf.5 scrapewatch-rules.5 scrapewatch-report.1; do
        python3 docs/mkman.py "docs/$page.md" config/scrapewatch.conf > "$TMP/$page" \
            || { echo "mkman.py $page failed"; return; }
        warn=$(MANWIDTH=80 man --warnings -l -E UTF-8 "$TMP/$page" 2>&1 > "$TMP/$page.txt")
        [ -z "$warn" ] || { echo "$page: $warn"; return; }
        grep -q "SEE ALSO" "$TMP/$page.txt" || { echo "$page: no SEE ALSO"; return; }
    done
    grep -q "detect.rules" "$TMP/scrapewatch.conf.5.txt" || echo "conf(5) lacks the keys"
}

# make install into a staging directory: the files where the issue says,
# an existing configuration kept, and the staged binary looks for its rules
# in the installed places, not here.
make_install() {
    make --no-print-directory -s BUILD="$BUILD" DESTDIR="$TMP/root" install > "$TMP/i.log" 2>&1 \
        || { echo "make install: $(tail -3 "$TMP/i.log")"; return; }
    for f in usr/local/sbin/scrapewatch etc/scrapewatch/scrapewatch.conf \
             usr/local/share/scrapewatch/scrapewatch.rules \
             usr/local/share/scrapewatch/lists/scanners.cidr \
             usr/local/share/man/man8/scrapewatch.8 usr/local/share/man/man5/scrapewatch.conf.5 \
             usr/local/share/man/man5/scrapewatch-rules.5 \
             usr/local/bin/scrapewatch-report usr/local/share/man/man1/scrapewatch-report.1 \
             usr/local/lib/systemd/system/scrapewatch.service \
             usr/local/lib/sysusers.d/scrapewatch.conf etc/logrotate.d/scrapewatch \
             etc/default/scrapewatch; do
        [ -f "$TMP/root/$f" ] || { echo "no $f"; return; }
    done
    grep -qx 'ExecStart=/usr/local/sbin/scrapewatch -c /etc/scrapewatch/scrapewatch.conf --json=/var/log/scrapewatch/events.jsonl $OPTIONS' \
        "$TMP/root/usr/local/lib/systemd/system/scrapewatch.service" || { echo "unit ExecStart"; return; }
    echo "# local" >> "$TMP/root/etc/scrapewatch/scrapewatch.conf"
    make --no-print-directory -s BUILD="$BUILD" DESTDIR="$TMP/root" install > "$TMP/i.log" 2>&1 \
        || { echo "second make install: $(tail -3 "$TMP/i.log")"; return; }
    tail -1 "$TMP/root/etc/scrapewatch/scrapewatch.conf" | grep -qx "# local" \
        || { echo "the configuration was overwritten"; return; }
    if [ ! -e /usr/local/share/scrapewatch ] && [ ! -e /etc/scrapewatch ]; then
        "$TMP/root/usr/local/sbin/scrapewatch" --test-config > /dev/null 2> "$TMP/i.err"
        grep -q "rule file '/usr/local/share/scrapewatch/scrapewatch.rules' cannot be read" \
            "$TMP/i.err" || echo "staged binary: $(cat "$TMP/i.err")"
    fi
}

for t in no_config_elsewhere relative_config_elsewhere missing_rules test_config_problems \
         test_config_as_user json_appends sighup_reopen startup_lines man_pages make_install; do
    why=$($t)
    case "$why" in
    SKIP*) echo "skip deploy/$t: ${why#SKIP }" ;;
    *) result $t "$why" ;;
    esac
done
