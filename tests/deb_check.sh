#!/bin/sh
# deb_check.sh - the Debian package, as CI checks it: built from a copy of
# the tree with dpkg-buildpackage, installed into this machine, run from
# the installed files, then purged. Needs root and debhelper
# and lintian (tests/deps.sh deb); CI runs it after make test (.ci/run).
#   tests/deb_check.sh
# Prints ok/FAIL/skip lines and "N passed, N failed"; exit 1 on a failure.
# Run from the repository root.
set -u
ROOT=$(pwd)
TMP=$(mktemp -d)
LOG=$TMP/results
: > "$LOG"
trap 'rm -rf "$TMP"' EXIT

result() {   # name, "" for ok or why not
    if [ -z "$2" ]; then echo "ok deb/$1"; else echo "FAIL deb/$1: $2"; fi | tee -a "$LOG"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "skip deb/all: needs root (installs the package)"
    exit 0
fi
if ! command -v dh > /dev/null || ! command -v dpkg-buildpackage > /dev/null; then
    echo "FAIL deb/all: debhelper or dpkg-dev missing (tests/deps.sh deb)"
    exit 1
fi
if dpkg-query -W -f='${Status}' scrapewatch 2> /dev/null | grep -q "install ok installed"; then
    echo "skip deb/all: a scrapewatch package is installed already; not touching it"
    exit 0
fi

# A copy of the tree without build output: dpkg-buildpackage writes its
# results into the parent directory.
build() {
    mkdir -p "$TMP/src"
    tar -c --exclude='./build*' --exclude=./tests/out --exclude=./.git --exclude=./scrapewatch . \
        | tar -x -C "$TMP/src" || { echo "copying the tree failed"; return; }
    (cd "$TMP/src" && dpkg-buildpackage -us -uc -b > "$TMP/build.log" 2>&1) \
        || { echo "dpkg-buildpackage failed: $(tail -5 "$TMP/build.log" | tr '\n' ' ')"; return; }
    ls "$TMP"/scrapewatch_*_*.deb > /dev/null 2>&1 || echo "no .deb"
}

install_deb() {
    deb=$(ls "$TMP"/scrapewatch_*_*.deb)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" > "$TMP/install.log" 2>&1 \
        || { echo "install failed: $(tail -5 "$TMP/install.log" | tr '\n' ' ')"; return; }
    for f in /usr/sbin/scrapewatch /etc/scrapewatch/scrapewatch.conf \
             /usr/share/scrapewatch/scrapewatch.rules /usr/share/scrapewatch/lists/scanners.cidr \
             /lib/systemd/system/scrapewatch.service /etc/logrotate.d/scrapewatch \
             /usr/share/man/man8/scrapewatch.8.gz /usr/share/man/man5/scrapewatch.conf.5.gz \
             /usr/share/man/man5/scrapewatch-rules.5.gz; do
        [ -f "$f" ] || { echo "no $f"; return; }
    done
    getent passwd scrapewatch > /dev/null || echo "no user scrapewatch"
}

# Debian's lintian finds nothing in the package, not even at the info
# level, beyond the overrides justified in debian/scrapewatch.lintian-overrides.
lintian_clean() {
    if ! command -v lintian > /dev/null; then echo "lintian missing (tests/deps.sh deb)"; return; fi
    out=$(lintian -I "$TMP"/scrapewatch_*_*.deb 2>&1 | grep -v "running with root privileges")
    [ -z "$out" ] || echo "$out" | tr '\n' ' '
}

# The packaged service, as the unit starts it (its ExecStart, as its user),
# with no interface named: it refuses in one line that says where to name
# one, with exit status 2, which the unit does not restart.
service_refuses_without_interface() {
    unit=/lib/systemd/system/scrapewatch.service
    cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed 's/ \$OPTIONS$//')
    grep -qx "RestartPreventExitStatus=2" "$unit" || { echo "no RestartPreventExitStatus=2"; return; }
    install -d -o scrapewatch -g scrapewatch -m 750 "$TMP/svc"
    chmod 755 "$TMP"
    # shellcheck disable=SC2086
    (cd / && setpriv --reuid scrapewatch --regid scrapewatch --init-groups \
        $(echo "$cmd" | sed "s|/var/log/scrapewatch/|$TMP/svc/|") > /dev/null 2> "$TMP/svc.err")
    rc=$?
    [ $rc -eq 2 ] || { echo "exit $rc: $(cat "$TMP/svc.err")"; return; }
    [ "$(wc -l < "$TMP/svc.err")" -eq 1 ] && grep -qx "scrapewatch: no input: give -r FILE... or -i IFACE, or set capture.interfaces in /etc/scrapewatch/scrapewatch.conf" "$TMP/svc.err" \
        || echo "stderr: $(cat "$TMP/svc.err")"
}

# No -c, from /: the installed configuration, rules and lists.
installed_test_config() {
    out=$(cd / && scrapewatch --test-config 2>&1) || { echo "exit $?: $out"; return; }
    echo "$out" | grep -qx "configuration OK: /etc/scrapewatch/scrapewatch.conf" \
        || { echo "configuration: $out"; return; }
    echo "$out" | grep -qx "rules: [1-9][0-9]* from /usr/share/scrapewatch/scrapewatch.rules" \
        || { echo "rules: $out"; return; }
    echo "$out" | grep -qx "lists: /etc/scrapewatch/lists:/usr/share/scrapewatch/lists" \
        || echo "lists: $out"
}

# As the service's user, with the service's command line (its log
# directory made as systemd's LogsDirectory= would).
as_service_user() {
    install -d -o scrapewatch -g scrapewatch -m 750 "$TMP/log"
    chmod 755 "$TMP"
    out=$(cd / && setpriv --reuid scrapewatch --regid scrapewatch --init-groups \
          scrapewatch -c /etc/scrapewatch/scrapewatch.conf --json="$TMP/log/events.jsonl" \
          --test-config 2>&1) || { echo "exit $?: $out"; return; }
    echo "$out" | grep -qx "events: JSON lines appended to $TMP/log/events.jsonl (SIGHUP reopens it)" \
        || echo "events: $out"
}

# A rule file in /etc/scrapewatch overrides the shipped one.
etc_overrides() {
    printf 'rules = ( { id = 1; name = "local"; severity = "low"; match = { class = [ "destroy" ]; }; } );\n' \
        > /etc/scrapewatch/scrapewatch.rules
    out=$(cd / && scrapewatch --test-config 2>&1)
    rc=$?
    rm -f /etc/scrapewatch/scrapewatch.rules
    [ $rc -eq 0 ] || { echo "exit $rc: $out"; return; }
    echo "$out" | grep -qx "rules: 1 from /etc/scrapewatch/scrapewatch.rules" || echo "$out"
}

# The installed sensor on a capture, from /: alerts from the installed rules.
installed_run() {
    n=$(cd / && scrapewatch -r "$ROOT/pcaps/scenarios/chain_wipe.pcap" 2> "$TMP/run.err" \
        | tee "$TMP/run.jsonl" | grep -c '"event_type":"alert"')
    [ "$n" -gt 0 ] || { echo "no alerts: $(cat "$TMP/run.err")"; return; }
    # the installed report tool (Debian's python3) makes its incident page
    page=$(cd / && scrapewatch-report -o "$TMP/report" "$TMP/run.jsonl" 2>&1) \
        || { echo "scrapewatch-report: $page"; return; }
    grep -q 'data-stage="wiped"' "$page" || echo "report $page: no wiped stage"
}

man_pages() {
    if ! command -v man > /dev/null; then echo "SKIP man is not installed"; return; fi
    for page in scrapewatch.8 scrapewatch.conf.5 scrapewatch-rules.5 scrapewatch-report.1; do
        f=/usr/share/man/man${page##*.}/$page.gz
        warn=$(MANWIDTH=80 man --warnings -l -E UTF-8 "$f" 2>&1 > /dev/null)
        [ -z "$warn" ] || { echo "$page: $warn"; return; }
    done
}

unit_file() {
    if ! command -v systemd-analyze > /dev/null; then echo "SKIP no systemd-analyze"; return; fi
    out=$(systemd-analyze verify /lib/systemd/system/scrapewatch.service 2>&1 \
          | grep -v -e "Failed to connect" -e "Command line" -e "^$")
    [ -z "$out" ] || echo "$out"
}

purge() {
    dpkg --purge scrapewatch > "$TMP/purge.log" 2>&1 || { echo "$(tail -3 "$TMP/purge.log")"; return; }
    for f in /usr/sbin/scrapewatch /usr/bin/scrapewatch-report /etc/scrapewatch /usr/share/scrapewatch \
             /lib/systemd/system/scrapewatch.service; do
        [ ! -e "$f" ] || { echo "$f left behind"; return; }
    done
}

why=$(build)
result build "$why"
if [ -z "$why" ]; then
    result lintian_clean "$(lintian_clean)"
    why=$(install_deb)
    result install "$why"
    if [ -z "$why" ]; then
        for t in installed_test_config as_service_user etc_overrides installed_run man_pages \
                 unit_file service_refuses_without_interface; do
            why=$($t)
            case "$why" in
            SKIP*) echo "skip deb/$t: ${why#SKIP }" ;;
            *) result $t "$why" ;;
            esac
        done
    fi
    result purge "$(purge)"
fi
passed=$(grep -c '^ok ' "$LOG")
failed=$(grep -c '^FAIL' "$LOG")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
