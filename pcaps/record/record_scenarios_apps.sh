#!/bin/bash
# Record the Solr, Cassandra and CouchDB detection scenarios with real clients
# against the test servers (pcaps/record/solr_server.py and cassandra_server.py,
# written from the documented formats; NOT Solr or Cassandra) and PouchDB
# Server (pouchdb-server --in-memory, CouchDB API), then move every address
# onto the outside/inside addresses the scenario needs with tcprewrite --pnat
# (the conventions of record_scenarios.sh and record_scenarios_kv.sh):
#
#   pcaps/scenarios/<name>.pcap         the capture
#   pcaps/scenarios/<name>.facts.json   who is who, every step with what the
#                                       client received (documents, rows, pages),
#                                       the server's log of every request it
#                                       answered, and the alerts a correct sensor
#                                       must raise, in words
#
#   sudo pcaps/record/record_scenarios_apps.sh [NAME...]       (default: all)
#
#   solr_dump       outside scraper: pysolr cores STATUS + a cursorMark walk of
#                   products (5000 documents, rows 1000); curl: cores STATUS and
#                   collections LIST in XML, customers q=*:*&rows=100000 (1200)
#   solr_app        pysolr application session (4 small searches, an add) from
#                   the trusted 10.9.9.9, then from an outside address
#   cassandra_dump  outside scraper, python3-cassandra (default settings: the
#                   control connection's topology and schema metadata load):
#                   its own keyspace and table listing, then SELECT * FROM
#                   shop.users paged by 500 (6000 rows, 12 pages)
#   cassandra_app   python3-cassandra application session (connect, 5 point
#                   SELECTs by key, one INSERT) from 10.9.9.9, then from outside
#   couchdb_app     nano application session (5 document GETs, a GET+PUT update,
#                   a new document) from 10.9.9.9, then from outside
#
# Parties: inside a private network namespace the server listens on 0.0.0.0
# and is reached at 127.0.0.2 from the default source 127.0.0.1. A scenario with
# two parties is recorded as two captures, each rewritten with its own --pnat
# (127.0.0.1 becomes that party), then concatenated with mergecap -a: the
# server keeps its state between them. Addresses (tests/scenarios/scrapewatch.conf:
# home_nets 10.0.0.0/8, trusted 10.9.9.9): Solr 10.0.0.9, Cassandra 10.0.0.10,
# CouchDB 10.0.0.8; outside parties are documentation addresses.
# Same recipe as the other record scripts (lib_netns.sh), snaplen 65535, checked
# that no packet was cut and no loopback address is left.
#
# Needs root, iproute2, tcpdump, tcprewrite, mergecap and tshark, curl, node
# (nano and pouchdb-server installed by record_couchdb.sh into SW_NPM, default
# /tmp/sw-npm-couch), Debian's python3 with python3-pysolr, python3-cassandra,
# python3-lz4.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/scenarios
PY=/usr/bin/python3
SRV=127.0.0.2
A=127.0.0.1
SW_NPM=${SW_NPM:-/tmp/sw-npm-couch}
TRUSTED=10.9.9.9
SERVER_PID=
SW_TAG=record_scenarios_apps
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y wireshark-common tshark curl nodejs" mergecap tshark curl node
"$PY" -c 'import pysolr, cassandra, lz4' 2>/dev/null \
    || die "apt-get install -y python3-pysolr python3-cassandra python3-lz4"
[ -x "$SW_NPM/node_modules/.bin/pouchdb-server" ] \
    || die "pouchdb-server not in $SW_NPM: run pcaps/record/record_couchdb.sh once (it installs the pinned npm packages)"
export NODE_PATH=$SW_NPM/node_modules

VERSIONS=$(printf '{"python3-pysolr": "%s", "python3-cassandra": "%s", "nano": "%s", "pouchdb-server": "%s", "curl": "%s", "tcprewrite": "%s"}' \
    "$(dpkg-query -W -f='${Version}' python3-pysolr)" "$("$PY" -c 'import cassandra; print(cassandra.__version__)')" \
    "$(node -p "require('$SW_NPM/node_modules/nano/package.json').version")" \
    "$(node -p "require('$SW_NPM/node_modules/pouchdb-server/package.json').version")" \
    "$(curl --version | head -1 | cut -d' ' -f2)" \
    "$(tcprewrite -V 2>&1 | sed -n 's/^tcprewrite version: \([^ ]*\).*/\1/p')")

# ---------------------------------------------------------------- servers

start_server() {                  # start_server solr|cassandra|couchdb
    KIND=$1
    : >"$WORK/server.jsonl"
    case $KIND in
    solr)
        PORT=8983; SERVER_IP=10.0.0.9
        SERVER_TEXT="pcaps/record/solr_server.py (written from Solr's documented JSON/XML responses; NOT Solr): products 5000, customers 1200"
        start_bg SERVER_PID "$PY" "$HERE/solr_server.py" --port $PORT --bind 0.0.0.0 --log "$WORK/server.jsonl" ;;
    cassandra)
        PORT=9042; SERVER_IP=10.0.0.10
        SERVER_TEXT="pcaps/record/cassandra_server.py (written from the native protocol spec; NOT Cassandra): no authentication, shop.users 6000 rows"
        start_bg SERVER_PID "$PY" "$HERE/cassandra_server.py" --port $PORT --bind 0.0.0.0 --rows 6000 --log "$WORK/server.jsonl" ;;
    couchdb)
        PORT=5984; SERVER_IP=10.0.0.8
        SERVER_TEXT="pouchdb-server --in-memory (CouchDB API), no authentication: customers 6000 documents"
        mkdir -p "$WORK/pouch"
        cd "$WORK/pouch"           # pouchdb-server writes log.txt and config.json here
        start_bg SERVER_PID "$SW_NPM/node_modules/.bin/pouchdb-server" --in-memory -n -p $PORT -o 0.0.0.0 \
            >"$WORK/pouch/server.log" 2>&1
        cd - >/dev/null ;;
    esac
    wait_for "$KIND server" port_listening $PORT
    PARTS=()
    : >"$WORK/steps.jsonl"
}

load_couchdb() {                  # customers c00000..c05999, not captured
    in_ns curl -sS -f -o /dev/null -X PUT "http://$SRV:5984/customers"
    "$PY" - 6000 >"$WORK/load.json" <<'PYEOF'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"docs": [{"_id": "c%05d" % i, "name": "Customer %d" % i,
                            "email": "user%d@example.com" % i, "tier": i % 3,
                            "balance": (i * 7919) % 10000} for i in range(n)]}))
PYEOF
    in_ns curl -sS -f -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary @"$WORK/load.json" "http://$SRV:5984/customers/_bulk_docs"
}

# ---------------------------------------------------------------- parts

# part_begin ACTOR-IP: capture on; what runs until part_end is ACTOR's.
part_begin() {
    PART_IP=$1
    PART_RAW=$WORK/part${#PARTS[@]}.raw.pcap
    PART_FIRST=$(grep -c . "$WORK/server.jsonl" || true)
    capture_start "$PART_RAW" "tcp port $PORT"
}

part_end() {
    capture_stop
    local out=$WORK/part${#PARTS[@]}.pcap
    fix_checksums "$PART_RAW" "$out" --pnat="$A/32:$PART_IP/32,$SRV/32:$SERVER_IP/32"
    PARTS+=("$out")
}

# step ACTOR-IP TOOL REPORTED CMD...: one line in steps.jsonl
step() {
    local ip=$1; shift
    STEP_ACTOR=$ip note_step "${#PARTS[@]}" "$@"
}

curl_step() {                     # curl_step EXPECTED-STATUS KIND CURL-ARGS...
    local expected=$1 kind=$2; shift 2
    local code
    code=$(in_ns curl -sS --max-time 30 -o "$WORK/body" -w '%{http_code}' "$@" || true)
    [ "$code" = "$expected" ] || die "curl $*: expected $expected, got $code"
    step "$PART_IP" curl "$("$PY" "$HERE/solr_clients/solr_body_facts.py" "$kind" "$WORK/body")" curl "$@"
}

# finish TITLE ACTORS-JSON EXPECTED-JSON
finish() {
    local title=$1 actors=$2 expected=$3
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    mergecap -a -F pcap -w "$WORK/$NAME.pcap" "${PARTS[@]}"
    check_not_cut "$WORK/$NAME.pcap"
    tcpdump -nn -r "$WORK/$NAME.pcap" 2>/dev/null | grep -q ' 127\.' && die "$NAME: loopback address left after rewriting"
    "$PY" - "$NAME" "$title" "$WORK/$NAME.pcap" "$SERVER_TEXT" "$SERVER_IP:$PORT" "$VERSIONS" "$actors" \
        "$expected" "$WORK/steps.jsonl" "$WORK/server.jsonl" >"$WORK/$NAME.facts.json" <<'PYEOF'
import json, subprocess, sys
name, title, pcap, server, addr, versions, actors, expected, steps, log = sys.argv[1:11]
packets = int(subprocess.run(["capinfos", "-c", "-M", "-T", pcap], capture_output=True,
                             text=True).stdout.strip().splitlines()[-1].split("\t")[1])
facts = {"capture": "pcaps/scenarios/%s.pcap" % name, "title": title,
         "recorded_by": "pcaps/record/record_scenarios_apps.sh", "server": server,
         "server_address": addr, "versions": json.loads(versions),
         "actors": json.loads(actors), "packets": packets,
         "steps": [json.loads(l) for l in open(steps)],
         "server_log": [json.loads(l) for l in open(log)],
         "expected_alerts": json.loads(expected)}
json.dump(facts, sys.stdout, indent=1)
print()
PYEOF
    mkdir -p "$OUT"
    mv "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json" "$OUT/"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes) and $NAME.facts.json"
}

client_json() {                   # client_json CMD...: run in the namespace, JSON out
    in_ns "$@" 2>"$WORK/client.err" || die "$*: $(tail -5 "$WORK/client.err")"
}

# ---------------------------------------------------------------- scenarios

sc_solr_dump() {
    NAME=solr_dump; start_server solr
    local ip=198.51.100.70 got url=http://$SRV:8983
    part_begin $ip
    got=$(client_json "$PY" "$HERE/solr_clients/pysolr_scenario.py" "$url" dump)
    step $ip python3-pysolr "$got" python3 pysolr_scenario.py URL dump
    curl_step 200 cores_xml "$url/solr/admin/cores?action=STATUS&wt=xml"
    curl_step 200 collections_xml "$url/solr/admin/collections?action=LIST&wt=xml"
    curl_step 200 docs "$url/solr/customers/select?q=*:*&rows=100000&wt=json"
    part_end
    finish "an outside client lists the cores (pysolr, JSON), walks products with cursorMark (5000 documents in 5 pages of 1000 and a last empty page), lists cores and collections in XML, and reads customers whole (q=*:*&rows=100000: 1200 documents)" \
        "{\"$ip\": \"scraper (outside)\", \"$SERVER_IP\": \"Solr test server, no authentication\"}" \
        '[{"alert": "exposed", "meaning": "Solr answered an outside client without authentication"},
          {"alert": "enumeration", "meaning": "cores STATUS from outside (2 cores)"},
          {"alert": "large page", "meaning": "the first cursor page: rows=1000 asked, 1000 returned"},
          {"alert": "bulk read", "meaning": "5000 documents from one outside client in 10 minutes (the 5 full cursor pages); the 1200 customers after it fall in the same suppression hour", "documents": 5000}]'
}

sc_solr_app() {
    NAME=solr_app; start_server solr
    local ip=203.0.113.50 got url=http://$SRV:8983
    part_begin $TRUSTED
    got=$(client_json "$PY" "$HERE/solr_clients/pysolr_scenario.py" "$url" app)
    step $TRUSTED python3-pysolr "$got" python3 pysolr_scenario.py URL app
    part_end
    part_begin $ip
    got=$(client_json "$PY" "$HERE/solr_clients/pysolr_scenario.py" "$url" app)
    step $ip python3-pysolr "$got" python3 pysolr_scenario.py URL app
    part_end
    finish "an application's ordinary session with pysolr (4 searches of 10-20 rows, an add with commit), first from the trusted application server, then from an outside address" \
        "{\"$TRUSTED\": \"trusted application server\", \"$ip\": \"application (outside)\", \"$SERVER_IP\": \"Solr test server, no authentication\"}" \
        '[{"alert": "exposed", "meaning": "the only alert: Solr answered the outside application without authentication. No enumeration, bulk read or destruction alert; nothing for the trusted server"}]'
}

sc_cassandra_dump() {
    NAME=cassandra_dump; start_server cassandra
    local ip=198.51.100.71 got
    part_begin $ip
    got=$(client_json "$PY" "$HERE/cassandra_clients/scenario_client.py" $SRV 9042 dump)
    step $ip python3-cassandra "$got" python3 scenario_client.py HOST 9042 dump
    part_end
    finish "an outside client connects with python3-cassandra (default settings), lists keyspaces and tables with its own queries, and reads shop.users whole (SELECT * FROM shop.users, fetch_size 500: 6000 rows in 12 pages)" \
        "{\"$ip\": \"scraper (outside)\", \"$SERVER_IP\": \"Cassandra test server, no authentication\"}" \
        '[{"alert": "exposed", "meaning": "Cassandra answered an outside client without authentication"},
          {"alert": "enumeration", "meaning": "the client'"'"'s own SELECT on system_schema.keyspaces and system_schema.tables, on a pool connection (not the control connection)"},
          {"alert": "cursor dump", "meaning": "paging_state chain: 11 continuing pages, 6000 rows"},
          {"alert": "bulk read", "meaning": "6000 rows from one outside client in 10 minutes", "documents": 6000}]'
}

sc_cassandra_app() {
    NAME=cassandra_app; start_server cassandra
    local ip=203.0.113.51 got
    part_begin $TRUSTED
    got=$(client_json "$PY" "$HERE/cassandra_clients/scenario_client.py" $SRV 9042 app)
    step $TRUSTED python3-cassandra "$got" python3 scenario_client.py HOST 9042 app
    part_end
    part_begin $ip
    got=$(client_json "$PY" "$HERE/cassandra_clients/scenario_client.py" $SRV 9042 app)
    step $ip python3-cassandra "$got" python3 scenario_client.py HOST 9042 app
    part_end
    finish "an application's ordinary python3-cassandra session (default settings: the control connection reads system.local, system.peers_v2 and 12 schema tables; then 5 point SELECTs by key and an INSERT), first from the trusted application server, then from an outside address" \
        "{\"$TRUSTED\": \"trusted application server\", \"$ip\": \"application (outside)\", \"$SERVER_IP\": \"Cassandra test server, no authentication\"}" \
        '[{"alert": "exposed", "meaning": "the only alert: Cassandra answered the outside application without authentication. The driver'"'"'s connect-time reads (topology, schema metadata load on the control connection) raise no enumeration alert (4001/4003); 5 rows read raise no bulk read"}]'
}

sc_couchdb_app() {
    NAME=couchdb_app; start_server couchdb
    load_couchdb
    local ip=203.0.113.52 got url=http://$SRV:5984
    part_begin $TRUSTED
    got=$(client_json node "$HERE/couchdb_clients/nano_app.js" "$url" c09001)
    step $TRUSTED nano "$got" node nano_app.js URL c09001
    part_end
    part_begin $ip
    got=$(client_json node "$HERE/couchdb_clients/nano_app.js" "$url" c09002)
    step $ip nano "$got" node nano_app.js URL c09002
    part_end
    finish "an application's ordinary nano session (5 document GETs, a GET + PUT update, a new document), first from the trusted application server, then from an outside address" \
        "{\"$TRUSTED\": \"trusted application server\", \"$ip\": \"application (outside)\", \"$SERVER_IP\": \"PouchDB Server (CouchDB API), no authentication\"}" \
        '[{"alert": "exposed", "meaning": "the only alert: CouchDB answered the outside application without authentication. No enumeration, bulk read or destruction alert; nothing for the trusted server"}]'
}

ALL=(solr_dump solr_app cassandra_dump cassandra_app couchdb_app)
ns_setup
for name in "${@:-${ALL[@]}}"; do
    declare -F "sc_$name" >/dev/null || die "unknown scenario $name (known: ${ALL[*]})"
    "sc_$name"
done
