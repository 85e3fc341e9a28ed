#!/bin/bash
# Record the scanner, port-sweep and body-target scenarios of issue 14
# (points 5, 6 and 8) with real tools, the conventions of
# record_scenarios_kv.sh (lib_netns.sh, tcprewrite --pnat onto the scenario
# addresses of tests/scenarios/scrapewatch.conf: home_nets 10.0.0.0/8):
#
#   pcaps/scenarios/<name>.pcap, <name>.facts.json
#
#   sudo pcaps/record/record_scenarios_scan.sh [NAME...]       (default: all)
#
#   mongo_nmap_probe     nmap --script mongodb-info,mongodb-databases from
#                        198.51.100.41 against mongo_server.py (10.0.0.8)
#   mongo_status_app     python3-pymongo asking the same commands
#                        (serverStatus, buildInfo, listDatabases) from
#                        198.51.100.42: not nmap
#   es_bulk_msearch      python3-elasticsearch helpers.bulk and msearch, no
#                        index in the path, from 198.51.100.43 against
#                        es_server.py (10.0.0.5)
#   port_sweep           masscan 1.3.2 (Debian) from 203.0.113.50 SYN-scans
#                        10.0.5.0/26 for 9200,27017,6379,11211,5984,9042,8983
#                        (64 of the /24's addresses: 448 SYNs, a capture of
#                        about 100 KB; the whole /24 made 430 KB)
#   port_sweep_nmap      nmap 7.93 -sS from 203.0.113.50, the same ports of
#                        10.0.5.0/28
#   port_sweep_quiet     an outside application (203.0.113.51) with the
#                        Redis password talks to two servers, plus one
#                        connect check (no request) to each
#
# The sweeps need a real link (masscan writes Ethernet frames): a second
# namespace (the scanner's) joined to the first by a veth pair; the first
# answers for every address of 10.0.5.0/24 (a local route), with listeners
# on 9200 and 27017 (scan_clients/listen.py) and redis-server (requirepass)
# on 6379: open ports answer SYN-ACK, the rest RST. Those captures carry
# their final addresses; only checksums are fixed.
# Needs root, iproute2, tcpdump, tcpreplay, nmap, masscan, redis-server,
# redis-tools, netcat-openbsd (nc -z), Debian's python3 with python3-pymongo
# and python3-elasticsearch.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/scenarios
PY=/usr/bin/python3
SRV=127.0.0.2
A=127.0.0.1
SERVER_PID=
LISTEN_PID=
NS2=
SW_TAG=record_scenarios_scan
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y nmap masscan redis-server redis-tools netcat-openbsd tshark" \
    nmap masscan redis-server redis-cli nc tshark
"$PY" -c 'import pymongo, elasticsearch' 2>/dev/null || die "apt-get install -y python3-pymongo python3-elasticsearch"

VERSIONS=$(printf '{"nmap": "%s", "masscan": "%s", "redis-server": "%s", "python3-pymongo": "%s", "python3-elasticsearch": "%s", "tcprewrite": "%s"}' \
    "$(nmap --version | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')" \
    "$(masscan --version 2>&1 | sed -n 's/^Masscan version \([^ ]*\).*/\1/p')" \
    "$(redis-server --version | sed -E 's/.* v=([^ ]*).*/\1/')" \
    "$("$PY" -c 'import pymongo; print(pymongo.version)')" \
    "$("$PY" -c 'import elasticsearch; print(".".join(map(str, elasticsearch.__version__)))')" \
    "$(tcprewrite -V 2>&1 | sed -n 's/^tcprewrite version: \([^ ]*\).*/\1/p')")

# facts NAME TITLE ACTORS-JSON EXPECTED-JSON: pcaps/scenarios/NAME.facts.json
facts() {
    "$PY" - "$1" "$2" "$3" "$4" "$VERSIONS" "$WORK/steps.jsonl" "$OUT/$1.pcap" <<'PYEOF'
import json, subprocess, sys
name, title, actors, expected, versions, steps, pcap = sys.argv[1:]
packets = subprocess.run(["tcpdump", "-nn", "-r", pcap], capture_output=True, text=True).stdout.count("\n")
facts = {"capture": "pcaps/scenarios/%s.pcap" % name, "title": title,
         "recorded_by": "pcaps/record/record_scenarios_scan.sh", "tools": json.loads(versions),
         "packets": packets, "actors": json.loads(actors),
         "steps": [json.loads(l) for l in open(steps)], "expected_alerts": json.loads(expected)}
json.dump(facts, open(pcap[:-5] + ".facts.json", "w"), indent=1)
PYEOF
}

# loopback scenarios: begin NAME PORT SERVER-CMD...; finish NAME PNAT
begin() {
    NAME=$1; local port=$2; shift 2
    : >"$WORK/steps.jsonl"
    start_bg SERVER_PID "$@" >"$WORK/$NAME.server.log" 2>&1
    wait_for "server on $port" port_listening "$port"
    capture_start "$WORK/$NAME.raw.pcap" "tcp port $port"
}

finish() {
    local name=$1 pnat=$2
    capture_stop
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    fix_checksums "$WORK/$name.raw.pcap" "$WORK/$name.pcap" --pnat="$pnat"
    check_not_cut "$WORK/$name.pcap"
    tcpdump -nn -r "$WORK/$name.pcap" 2>/dev/null | grep -q ' 127\.' && die "$name: loopback address left"
    mkdir -p "$OUT"
    mv "$WORK/$name.pcap" "$OUT/"
}

sc_mongo_nmap_probe() {
    begin mongo_nmap_probe 27017 "$PY" "$HERE/mongo_server.py" --bind 0.0.0.0 --port 27017
    in_ns nmap -Pn -n -p 27017 --script mongodb-info,mongodb-databases "$SRV" >"$WORK/nmap.log" 2>&1
    grep -q "mongodb-databases" "$WORK/nmap.log" || die "nmap's scripts did not run: $(cat "$WORK/nmap.log")"
    STEP_ACTOR=198.51.100.41 note_step nmap nmap "$(grep '^|' "$WORK/nmap.log" | head -40)" \
        nmap -Pn -n -p 27017 --script mongodb-info,mongodb-databases 10.0.0.8
    finish mongo_nmap_probe "$A/32:198.51.100.41/32,$SRV/32:10.0.0.8/32"
    facts mongo_nmap_probe "nmap's MongoDB scripts from outside: OP_QUERY listDatabases, serverStatus, buildinfo (responseTo -1, ids 12346...)" \
        '{"198.51.100.41": "nmap 7.93 (outside, in no scanner list)", "10.0.0.8": "mongo_server.py, no access control"}' \
        '[{"alert": "scanner tool read", "rule": 1003, "meaning": "nmap named by its wire shape (client Nmap NSE mongodb-databases), listDatabases answered without authentication"},
          {"alert": "scanner probe", "rule": 1005, "meaning": "probe flag: nmap NSE request shape; tool Nmap Scripting Engine"},
          {"alert": "exposed", "rule": 2001},
          {"alert": "legacy OP_QUERY", "rule": 3003}]'
}

sc_mongo_status_app() {
    begin mongo_status_app 27017 "$PY" "$HERE/mongo_server.py" --bind 0.0.0.0 --port 27017
    local got
    got=$(in_ns "$PY" "$HERE/scan_clients/pymongo_status.py" "$SRV" 27017)
    STEP_ACTOR=198.51.100.42 note_step status_page python3-pymongo "$got" python3 pymongo_status.py 10.0.0.8 27017
    finish mongo_status_app "$A/32:198.51.100.42/32,$SRV/32:10.0.0.8/32"
    facts mongo_status_app "python3-pymongo asks serverStatus, buildInfo, listDatabases (OP_MSG) from outside: the server is exposed, but this is no scanner" \
        '{"198.51.100.42": "application status page (outside)", "10.0.0.8": "mongo_server.py, no access control"}' \
        '[{"alert": "exposed", "rule": 2001, "meaning": "an outside client read an unauthenticated MongoDB"}]'
}

sc_es_bulk_msearch() {
    begin es_bulk_msearch 9200 "$PY" "$HERE/es_server.py" --bind 0.0.0.0 --port 9200
    local got
    got=$(in_ns "$PY" "$HERE/scan_clients/es_bulk_msearch.py" "http://$SRV:9200")
    STEP_ACTOR=198.51.100.43 note_step bulk_msearch python3-elasticsearch "$got" python3 es_bulk_msearch.py http://10.0.0.5:9200
    finish es_bulk_msearch "$A/32:198.51.100.43/32,$SRV/32:10.0.0.5/32"
    facts es_bulk_msearch "python3-elasticsearch: helpers.bulk (orders x6, invoices x3, delete sessions/s1) and msearch (tickets; orders,invoices) with no index in the path" \
        '{"198.51.100.43": "python client (outside)", "10.0.0.5": "es_server.py, no authentication"}' \
        '[{"alert": "exposed", "rule": 2001}]'
}

# ---- sweeps: two namespaces joined by a veth pair
sweep_setup() {
    [ -n "$NS2" ] && return 0
    NS2=sw-rec-scan2-$$
    trap 'ip netns del "$NS2" 2>/dev/null || true; ns_cleanup' EXIT
    ip netns add "$NS2"
    ip link add "sws$$" type veth peer name "swt$$"
    ip link set "sws$$" netns "$NS2"
    ip link set "swt$$" netns "$NS"
    in_ns ip addr add 10.0.5.254/24 dev "swt$$"
    in_ns ip link set "swt$$" up
    in_ns ip route add local 10.0.5.0/24 dev lo table local
    in_ns ip route add 203.0.113.0/24 dev "swt$$"
    ip netns exec "$NS2" ip link set lo up
    # .51 first: the primary address, the one redis-cli connects from
    ip netns exec "$NS2" ip addr add 203.0.113.51/24 dev "sws$$"
    ip netns exec "$NS2" ip addr add 203.0.113.50/24 dev "sws$$"
    ip netns exec "$NS2" ip link set "sws$$" up
    ip netns exec "$NS2" ip route add 10.0.5.0/24 dev "sws$$"
    ip netns exec "$NS2" ethtool -K "sws$$" tso off gso off gro off >/dev/null 2>&1 || true
    in_ns ethtool -K "swt$$" tso off gso off gro off >/dev/null 2>&1 || true
    start_bg LISTEN_PID "$PY" "$HERE/scan_clients/listen.py" 9200 27017
    start_bg SERVER_PID redis-server --port 6379 --bind 0.0.0.0 --save '' --appendonly no \
        --requirepass sw-app-secret >"$WORK/redis.log" 2>&1
    wait_for "listeners" port_listening 27017
    wait_for "redis-server" port_listening 6379
}

sweep_capture() {
    NAME=$1
    : >"$WORK/steps.jsonl"
    local log=$WORK/$NAME.raw.pcap.tcpdump.log
    DUMP_LOG=$log
    "${PIN[@]}" ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i "swt$$" -s 65535 -U -Z root \
        -w "$WORK/$NAME.raw.pcap" tcp 2>"$log" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$log"
}

sweep_finish() {
    local name=$1
    capture_stop
    fix_checksums "$WORK/$name.raw.pcap" "$WORK/$name.pcap"
    check_not_cut "$WORK/$name.pcap"
    mkdir -p "$OUT"
    mv "$WORK/$name.pcap" "$OUT/"
}

PORTS=9200,27017,6379,11211,5984,9042,8983

sc_port_sweep() {
    sweep_setup
    sweep_capture port_sweep
    local mac
    mac=$(in_ns cat "/sys/class/net/swt$$/address")
    ip netns exec "$NS2" masscan 10.0.5.0/26 -p"$PORTS" --rate 2000 --wait 2 -e "sws$$" \
        --adapter-ip 203.0.113.50 --router-mac "$mac" >"$WORK/masscan.log" 2>&1 || die "masscan: $(cat "$WORK/masscan.log")"
    local open
    open=$(grep -c "^Discovered open port" "$WORK/masscan.log" || true)
    [ "$open" -gt 0 ] || die "masscan found nothing: $(cat "$WORK/masscan.log")"
    STEP_ACTOR=203.0.113.50 note_step masscan masscan "{\"open_ports_reported\": $open}" \
        masscan 10.0.5.0/26 -p"$PORTS" --rate 2000 --wait 2 -e veth --adapter-ip 203.0.113.50 --router-mac MAC
    sweep_finish port_sweep
    facts port_sweep "masscan SYN-scans the database ports of 64 protected addresses (open: 9200, 27017, 6379 everywhere; the rest RST)" \
        '{"203.0.113.50": "masscan 1.3.2 (outside)", "10.0.5.0/24": "protected servers"}' \
        '[{"alert": "sweep of protected servers", "rule": 6101, "meaning": "payload-less flows to database ports of >= 8 servers in 10 minutes; tool masscan from its SYN shape (ip id = dst ^ dport ^ seq, window 1024); one alert for the source"},
          {"alert": "ports of one server", "rule": 6102, "meaning": ">= 4 database ports of one server without a request; one alert for the source"}]'
}

sc_port_sweep_nmap() {
    sweep_setup
    sweep_capture port_sweep_nmap
    ip netns exec "$NS2" nmap -sS -Pn -n -e "sws$$" -S 203.0.113.50 --max-retries 0 \
        -p "$PORTS" 10.0.5.0/28 >"$WORK/nmap_sS.log" 2>&1 || die "nmap -sS: $(cat "$WORK/nmap_sS.log")"
    local open
    open=$(grep -c "/tcp *open" "$WORK/nmap_sS.log" || true)
    [ "$open" -gt 0 ] || die "nmap -sS found nothing: $(cat "$WORK/nmap_sS.log")"
    STEP_ACTOR=203.0.113.50 note_step nmap_sS nmap "{\"open_ports_reported\": $open}" \
        nmap -sS -Pn -n -e veth -S 203.0.113.50 --max-retries 0 -p "$PORTS" 10.0.5.0/28
    sweep_finish port_sweep_nmap
    facts port_sweep_nmap "nmap -sS SYN-scans the database ports of 16 protected addresses" \
        '{"203.0.113.50": "nmap 7.93 -sS (outside)", "10.0.5.0/28": "protected servers"}' \
        '[{"alert": "sweep of protected servers", "rule": 6101, "meaning": "as with masscan; nmap -sS has no fixed SYN shape, so no tool"},
          {"alert": "ports of one server", "rule": 6102}]'
}

sc_port_sweep_quiet() {
    sweep_setup
    sweep_capture port_sweep_quiet
    local s out
    for s in 10.0.5.6 10.0.5.7; do
        out=$(ip netns exec "$NS2" redis-cli -h "$s" -p 6379 -a sw-app-secret --no-auth-warning SET "app:last" "$s")
        out=$(ip netns exec "$NS2" redis-cli -h "$s" -p 6379 -a sw-app-secret --no-auth-warning GET "app:last")
        STEP_ACTOR=203.0.113.51 note_step "app_$s" redis-cli "\"$out\"" redis-cli -h "$s" -a PASSWORD SET/GET app:last
        ip netns exec "$NS2" nc -z -w 2 -s 203.0.113.51 "$s" 6379 || die "nc -z $s"
        STEP_ACTOR=203.0.113.51 note_step "check_$s" nc '"open"' nc -z "$s" 6379
    done
    sweep_finish port_sweep_quiet
    facts port_sweep_quiet "an outside application with the Redis password (AUTH) uses two servers, and a connect check (no request) hits each" \
        '{"203.0.113.51": "application (outside, authenticated)", "10.0.5.6": "Redis, requirepass", "10.0.5.7": "Redis, requirepass"}' \
        '[]'
}

ALL=(mongo_nmap_probe mongo_status_app es_bulk_msearch port_sweep port_sweep_nmap port_sweep_quiet)
ns_setup
cd "$WORK"
for name in "${@:-${ALL[@]}}"; do
    declare -F "sc_$name" >/dev/null || die "unknown scenario $name (known: ${ALL[*]})"
    "sc_$name"
    echo "wrote $OUT/$name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes)"
done
