#!/bin/bash
# Record real CouchDB client traffic against PouchDB Server (pouchdb-server
# --in-memory, a CouchDB-compatible server from npm), inside a private network
# namespace, one capture per client:
#
#   pcaps/couchdb_nano.pcap   nano (npm): load 6000 documents, _all_dbs, db info,
#                             _all_docs?include_docs=true dump, a limit/skip page,
#                             _find, _changes?include_docs=true, one doc, keys, DELETE db
#   pcaps/couchdb_curl.pcap   curl: LeakIX-style /, _all_dbs, _membership, _dbs_info;
#                             the db infos; _all_docs?include_docs=true dumps of
#                             customers (6000) and orders (500); _changes normal,
#                             longpoll (since=); _session 401;
#                             DELETE db; and on :8080 (not CouchDB's port) the
#                             banner, nmap's /_stats probe and _all_dbs
#   pcaps/couchdb_nmap.pcap   nmap --script couchdb-databases,couchdb-stats
#   pcaps/couchdb_feeds.pcap  curl --max-time 6 on orders/_changes?feed=continuous
#                             and ?feed=eventsource (include_docs), both
#                             from since=0 (the 100 documents loaded before),
#                             while a second curl adds 40 documents one by one
#                             (one connection each): the continuous feed never
#                             ends, curl cuts it. PouchDB Server has no
#                             eventsource feed: it answers a normal one
#   pcaps/scenarios/couchdb_dump.pcap   detection scenario: an outside client
#                             lists the databases, dumps customers with
#                             _all_docs?include_docs=true and deletes it; a
#                             trusted application reads the same (no alert)
#
# and next to each pcaps/couchdb_<name>.facts.json: what the client received
# (documents, rows, totals, per call, as the client itself reported or as
# counted in the bodies curl wrote).
#
#   sudo pcaps/record/record_couchdb.sh [OUTDIR]          (default: pcaps/)
#   sudo ONLY=couchdb_curl,scenario pcaps/record/record_couchdb.sh   (some only)
#
# Needs root (ip netns), ip, tcpdump, tcprewrite (tcpreplay), curl, nmap,
# node + npm. pouchdb-server and nano are installed OUTSIDE the repository
# (default /tmp/sw-npm-couch, override with SW_NPM=DIR) at the versions pinned
# in couchdb_clients/package.json; node_modules is never written here.
#
# Same recipe as record_es.sh (kept self-contained; the shared netns code is
# being factored into lib_netns.sh elsewhere): loopback MTU 1500 with GSO
# capped, tcpdump --immediate-mode, kernel drops checked, checksums fixed
# with tcprewrite --fixcsum, EXIT trap cleanup. Data are generated from a
# fixed rule, so a rerun serves the same documents.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE/..}" && pwd)
NS=sw-rec-couch-$$
WORK=$(mktemp -d /tmp/sw-rec-couch.XXXXXX)
SW_NPM=${SW_NPM:-/tmp/sw-npm-couch}
PY=/usr/bin/python3
PORT=5984
OTHER_PORT=8080
URL=http://127.0.0.1:$PORT
SNAPLEN=4096
SERVER_PID=
OTHER_PID=
DUMP_PID=

die() { echo "record_couchdb: $*" >&2; exit 1; }

stop_pid() {
    local pid=$1 signal=$2
    [ -n "$pid" ] || return 0
    kill -"$signal" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$DUMP_PID" TERM
    stop_pid "$SERVER_PID" TERM
    stop_pid "$OTHER_PID" TERM
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root (ip netns)"
for tool in ip tcpdump tcprewrite curl nmap node npm "$PY"; do
    command -v "$tool" >/dev/null || die "missing $tool"
done

PKGS=$(node -p "const d=require('$HERE/couchdb_clients/package.json').dependencies; Object.keys(d).map(n=>n+'@'+d[n]).join(' ')")
installed_ok() {
    local spec name ver
    for spec in $PKGS; do
        name=${spec%@*}; ver=${spec##*@}
        [ "$(node -p "try{require('$SW_NPM/node_modules/$name/package.json').version}catch(e){''}")" = "$ver" ] || return 1
    done
}
if ! installed_ok; then
    # shellcheck disable=SC2086
    npm install --prefix "$SW_NPM" --no-audit --no-fund $PKGS >&2
    installed_ok || die "npm install did not give the pinned versions ($PKGS)"
fi
export NODE_PATH=$SW_NPM/node_modules
POUCH_VERSION=$(node -p "require('$SW_NPM/node_modules/pouchdb-server/package.json').version")

PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)
in_ns() { "${PIN[@]}" ip netns exec "$NS" "$@"; }

wait_for() {
    local what=$1; shift
    for _ in $(seq 200); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    die "timed out waiting for $what"
}
port_listening() { in_ns ss -ltn "sport = :$1" | grep -q LISTEN; }

start_pouch() {                   # start_pouch PORT DIR [HOST]: sets LAST_PID
    mkdir -p "$2"
    (cd "$2" && exec "${PIN[@]}" ip netns exec "$NS" "$SW_NPM/node_modules/.bin/pouchdb-server" \
        --in-memory -n -p "$1" -o "${3:-127.0.0.1}" >"$2/server.log" 2>&1) &
    LAST_PID=$!
    wait_for "pouchdb-server on port $1" port_listening "$1"
}

load_db() {                       # load_db URL DB COUNT: documents c00000...
    in_ns curl -sS -f -o /dev/null -X PUT "$1/$2"
    "$PY" - "$3" >"$WORK/load.json" <<'PYEOF'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"docs": [{"_id": "c%05d" % i, "name": "Customer %d" % i,
                            "email": "user%d@example.com" % i, "tier": i % 3,
                            "balance": (i * 7919) % 10000} for i in range(n)]}))
PYEOF
    in_ns curl -sS -f -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary @"$WORK/load.json" "$1/$2/_bulk_docs"
}

# ---------------------------------------------------------------- clients

client_nano() {
    CMD=(node "$HERE/couchdb_clients/nano_client.js" "$URL")
    in_ns "${CMD[@]}" >"$WORK/$NAME.client.json" 2>"$WORK/$NAME.client.log" \
        || die "nano client failed: $(tail -5 "$WORK/$NAME.client.log")"
}

# curl_step KIND EXPECTED-STATUS CURL-ARGS...: one request; its body counted
# by couch_body_facts.py KIND; status checked now.
curl_step() {
    local kind=$1 expected=$2; shift 2
    local code body=$WORK/body
    code=$(in_ns curl -sS -o "$body" -w '%{http_code}' "$@" || true)
    [ "$code" = "$expected" ] || die "curl $*: expected $expected, got $code"
    "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); d.update({"status": int(sys.argv[2]), "curl": ["curl"] + sys.argv[3:]}); print(json.dumps(d))' \
        "$("$PY" "$HERE/couch_body_facts.py" "$kind" "$body")" "$code" "$@" >>"$WORK/$NAME.steps.jsonl"
}

client_curl() {
    local other=http://127.0.0.1:$OTHER_PORT
    : >"$WORK/$NAME.steps.jsonl"
    curl_step none 200 "$URL/"
    curl_step list 200 "$URL/_all_dbs"
    curl_step none 200 "$URL/_membership"
    curl_step none 404 "$URL/_dbs_info"
    curl_step db 200 "$URL/customers"
    curl_step db 200 "$URL/orders"
    curl_step rows 200 "$URL/customers/_all_docs?include_docs=true"
    curl_step rows 200 "$URL/orders/_all_docs?include_docs=true&limit=200&skip=100"
    curl_step results 200 "$URL/orders/_changes?include_docs=true"
    curl_step results 200 "$URL/orders/_changes?feed=longpoll&since=450"
    curl_step none 401 -X POST -H 'Content-Type: application/json' \
        -d '{"name":"admin","password":"admin"}' "$URL/_session"
    curl_step none 200 -X DELETE "$URL/orders"
    curl_step none 200 "$other/"
    curl_step none 200 "$other/_stats"
    curl_step list 200 "$other/_all_dbs"
    CMD=(curl "(15 commands, see steps)")
    "$PY" -c 'import json,sys; print(json.dumps({"client": "curl", "version": sys.argv[1], "steps": [json.loads(l) for l in open(sys.argv[2])]}))' \
        "$(curl --version | head -1 | cut -d' ' -f2)" "$WORK/$NAME.steps.jsonl" >"$WORK/$NAME.client.json"
}

# Two endless feeds read by curl for 6 s while 40 documents are added.
client_feeds() {
    : >"$WORK/$NAME.steps.jsonl"
    local feed pids=() i
    for feed in continuous eventsource; do
        in_ns curl -sS --max-time 6 -o "$WORK/feed.$feed" \
            "$URL/orders/_changes?feed=$feed&include_docs=true&since=0" 2>"$WORK/feed.$feed.err" &
        pids+=($!)
    done
    sleep 1
    for i in $(seq 0 39); do
        in_ns curl -sS -f -o /dev/null -X PUT -H 'Content-Type: application/json' \
            -d "{\"item\":$i,\"qty\":$((i % 7 + 1))}" "$URL/orders/n$(printf %05d "$i")"
        sleep 0.05
    done
    for i in "${pids[@]}"; do wait "$i" || true; done     # curl exits 28 at --max-time
    for feed in continuous eventsource; do
        "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); d.update({"curl": sys.argv[2:]}); print(json.dumps(d))' \
            "$("$PY" "$HERE/couch_body_facts.py" "$([ $feed = continuous ] && echo lines || echo events)" "$WORK/feed.$feed")" \
            curl -sS --max-time 6 "$URL/orders/_changes?feed=$feed&include_docs=true&since=0" >>"$WORK/$NAME.steps.jsonl"
    done
    CMD=(curl "(2 feeds and 40 PUTs, see steps)")
    "$PY" -c 'import json,sys; print(json.dumps({"client": "curl", "version": sys.argv[1], "documents_added": 40, "loaded_before": 100, "steps": [json.loads(l) for l in open(sys.argv[2])]}))' \
        "$(curl --version | head -1 | cut -d' ' -f2)" "$WORK/$NAME.steps.jsonl" >"$WORK/$NAME.client.json"
}

client_nmap() {
    CMD=(nmap -n -Pn -sT -p "$PORT" --script couchdb-databases,couchdb-stats 127.0.0.1)
    in_ns "${CMD[@]}" >"$WORK/$NAME.client.log" 2>&1 || die "nmap failed"
    "$PY" - "$WORK/$NAME.client.log" "$(nmap --version | head -1)" "${CMD[*]}" >"$WORK/$NAME.client.json" <<'PYEOF'
import json, sys
log, version, cmd = sys.argv[1:4]
text = open(log).read()
print(json.dumps({"client": "nmap", "version": version, "command": cmd,
                  "scripts_reported": [s for s in ("couchdb-databases", "couchdb-stats") if s in text],
                  "output": text.splitlines()[4:-1]}))
PYEOF
}

# The scenario: loopback addresses stand for parties, rewritten after:
# 127.0.0.1 the scraper (outside), 127.0.0.3 the trusted application,
# 127.0.0.2 the CouchDB server.
SCENARIO_PNAT=127.0.0.1/32:198.51.100.60/32,127.0.0.3/32:10.9.9.9/32,127.0.0.2/32:10.0.0.8/32

client_scenario() {
    local srv=http://127.0.0.2:$PORT
    : >"$WORK/$NAME.steps.jsonl"
    # the trusted application: the same reads, no credentials
    curl_step none 200 --interface 127.0.0.3 "$srv/_all_dbs"
    curl_step rows 200 --interface 127.0.0.3 "$srv/customers/_all_docs?include_docs=true"
    sleep 1
    # the scraper
    curl_step none 200 --interface 127.0.0.1 "$srv/"
    curl_step list 200 --interface 127.0.0.1 "$srv/_all_dbs"
    curl_step db 200 --interface 127.0.0.1 "$srv/customers"
    curl_step rows 200 --interface 127.0.0.1 "$srv/customers/_all_docs?include_docs=true"
    curl_step none 200 --interface 127.0.0.1 -X DELETE "$srv/customers"
    CMD=(curl "(7 commands, see steps)")
    "$PY" -c 'import json,sys; print(json.dumps({"client": "curl", "version": sys.argv[1], "steps": [json.loads(l) for l in open(sys.argv[2])], "pnat": sys.argv[3]}))' \
        "$(curl --version | head -1 | cut -d' ' -f2)" "$WORK/$NAME.steps.jsonl" "$SCENARIO_PNAT" >"$WORK/$NAME.client.json"
}

record_scenario() {               # the detection scenario, rewritten to its addresses
    NAME=couchdb_dump
    local raw=$WORK/$NAME.raw.pcap
    start_pouch "$PORT" "$WORK/srv-$NAME" 0.0.0.0; SERVER_PID=$LAST_PID
    load_db "http://127.0.0.2:$PORT" customers 6000
    "${PIN[@]}" ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i lo -s "$SNAPLEN" -U -Z root \
        -w "$raw" "tcp port $PORT" 2>"$WORK/$NAME.tcpdump.log" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$WORK/$NAME.tcpdump.log"
    client_scenario
    sleep 1
    stop_pid "$DUMP_PID" TERM; DUMP_PID=
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    grep -q "^0 packets dropped by kernel" "$WORK/$NAME.tcpdump.log" \
        || die "tcpdump dropped packets: $(cat "$WORK/$NAME.tcpdump.log")"
    tcprewrite --pnat="$SCENARIO_PNAT" --fixcsum --infile="$raw" --outfile="$WORK/$NAME.pcap" 2>&1 \
        | { grep -v -e 'was captured using a snaplen' -e '^Warning in tcprewrite' || true; } >&2
    write_facts "$NAME" "scenario: 10.9.9.9 (trusted app) reads customers; 198.51.100.60 lists, dumps 6000 with _all_docs?include_docs=true, deletes the database" \
        "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json"
    mkdir -p "$OUT/scenarios"
    mv "$WORK/$NAME.pcap" "$OUT/scenarios/$NAME.pcap"
    mv "$WORK/$NAME.facts.json" "$OUT/scenarios/$NAME.facts.json"
    echo "wrote $OUT/scenarios/$NAME.pcap and $NAME.facts.json"
}

# ---------------------------------------------------------------- facts

write_facts() {                   # write_facts NAME TITLE PCAP OUT
    "$PY" - "$@" "$WORK/$1.client.json" "$POUCH_VERSION" <<'PYEOF'
import json, struct, sys
name, title, pcap, out, client_json, pouch = sys.argv[1:7]
with open(pcap, "rb") as f:
    data = f.read()
endian = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, packets, cut = 24, 0, 0
while off + 16 <= len(data):
    _, _, caplen, wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
    packets += 1
    cut += caplen < wirelen
    off += 16 + caplen
if cut:
    sys.exit("record_couchdb: %d packets cut by the snaplen in %s" % (cut, pcap))
client = json.load(open(client_json))
facts = {"capture": name + ".pcap", "title": title,
         "recorded_by": "pcaps/record/record_couchdb.sh",
         "server": "pouchdb-server %s --in-memory (CouchDB-compatible) on :5984, and on :8080 "
                   "for the curl capture" % pouch,
         "packets": packets, "client": client}
calls = client.get("calls") or client.get("steps") or []
facts["http_requests"] = len(calls) if "calls" in client or "steps" in client else None
facts["documents_received"] = sum(c.get("items", 0) for c in calls
                                  if c.get("call") not in ("_bulk_docs", "_all_dbs")
                                  and "_all_dbs" not in " ".join(c.get("curl", [])))
with open(out, "w") as f:
    json.dump(facts, f, indent=1)
    f.write("\n")
PYEOF
}

# ---------------------------------------------------------------- record

record() {                        # record NAME TITLE CLIENT-FUNCTION
    NAME=$1
    local title=$2 client=$3 raw=$WORK/$1.raw.pcap
    local filter="tcp port $PORT or tcp port $OTHER_PORT"
    start_pouch "$PORT" "$WORK/srv-$NAME"; SERVER_PID=$LAST_PID
    start_pouch "$OTHER_PORT" "$WORK/srv-$NAME-other"; OTHER_PID=$LAST_PID
    if [ "$NAME" = couchdb_feeds ]; then
        load_db "$URL" orders 100
    fi
    if [ "$NAME" = couchdb_curl ]; then
        load_db "$URL" customers 6000
        load_db "$URL" orders 500
        load_db "http://127.0.0.1:$OTHER_PORT" inventory 50
    fi
    "${PIN[@]}" ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i lo -s "$SNAPLEN" -U -Z root \
        -w "$raw" "$filter" 2>"$WORK/$NAME.tcpdump.log" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$WORK/$NAME.tcpdump.log"
    "$client"
    sleep 1
    stop_pid "$DUMP_PID" TERM; DUMP_PID=
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    stop_pid "$OTHER_PID" TERM; OTHER_PID=
    grep -q "^0 packets dropped by kernel" "$WORK/$NAME.tcpdump.log" \
        || die "tcpdump dropped packets: $(cat "$WORK/$NAME.tcpdump.log")"
    tcprewrite --fixcsum --infile="$raw" --outfile="$WORK/$NAME.pcap" 2>&1 \
        | { grep -v -e 'was captured using a snaplen' -e '^Warning in tcprewrite' || true; } >&2
    write_facts "$NAME" "$title" "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$OUT/$NAME.pcap"
    mv "$WORK/$NAME.facts.json" "$OUT/$NAME.facts.json"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes) and $NAME.facts.json"
}

ip netns add "$NS"
in_ns ip link set lo mtu 1500 up
in_ns ip link set lo gso_max_size 1500 gso_max_segs 1 || die "cannot cap GSO on lo"

# ONLY=NAME,...: just those (couchdb_nano, couchdb_curl, couchdb_nmap, couchdb_feeds, scenario)
wanted() { [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$1,"* ]]; }
wanted couchdb_nano && record couchdb_nano "nano: load 6000 docs, _all_dbs, db info, _all_docs include_docs dump, page, _find, _changes, doc, keys, DELETE" \
    client_nano
wanted couchdb_curl && record couchdb_curl "curl: LeakIX-style _all_dbs/_membership/_dbs_info, _all_docs dumps, _changes feeds, _session 401, DELETE; :8080 banner and _stats" \
    client_curl
wanted couchdb_nmap && record couchdb_nmap "nmap couchdb-databases and couchdb-stats" client_nmap
wanted couchdb_feeds && record couchdb_feeds "curl: endless _changes feeds (continuous, eventsource) cut by --max-time while 40 documents are added" \
    client_feeds
wanted scenario && record_scenario
exit 0
