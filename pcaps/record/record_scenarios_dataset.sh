#!/bin/bash
# Record the whole-dataset scenarios (issue 14, points 1 and 2) with real
# clients against the test servers (record/es_server.py, es_secured.py,
# mongo_server.py; written from the documented protocols, NOT Elasticsearch
# or MongoDB), then move every address onto the outside/inside address the
# scenario needs with tcprewrite --pnat (the conventions of
# record_scenarios.sh):
#
#   pcaps/scenarios/<name>.pcap         the capture
#   pcaps/scenarios/<name>.facts.json   who is who, every step with what the
#                                       client received, the server's log of
#                                       every request it answered, and the
#                                       alerts a correct sensor must raise
#
#   pcaps/record/record_scenarios_dataset.sh [NAME...]      (default: all; root)
#
#   whole_index_scan      python3-elasticsearch helpers.scan over `archive`
#                         (2,500 documents) 500 at a time, no credentials, from
#                         outside: no absolute threshold is crossed (2,500 < 5,000
#                         documents, 5 continuation pages < 10, 500 < 1,000 a page)
#   partial_scroll_app    the same client, same index: an application's scroll
#                         that reads 2 pages (1,000 of 2,500) and clears it
#   offset_walk           the same client pages through archive by offset:
#                         from=0, 500, ... 2000, size=500, no cursor
#   offset_app            an application's 2 pages by offset (from=0, 500)
#   mongo_whole_collection  pymongo iterates shop.archive (2,500) in batches of
#                         500 (find + 4 getMore, the last with cursor id 0)
#   mongo_limited_app     pymongo find().limit(1000).batch_size(500): the cursor
#                         ends at the limit, not at the end of the collection
#   authenticated_dump    helpers.scan over `archive` with HTTP Basic credentials
#                         (security on) from outside
#   authenticated_dump_trusted  the same from the trusted application server
#
# Parties: inside a private network namespace the server listens on 0.0.0.0
# and is reached at 127.0.0.2 from 127.0.0.1; tcprewrite --pnat then maps
# 127.0.0.2 to the server's address (ES 10.0.0.5, MongoDB 10.0.0.7) and
# 127.0.0.1 to the party (tests/scenarios/scrapewatch.conf: home_nets
# 10.0.0.0/8, trusted 10.9.9.9). The namespace is sw-rec-<tag>-<pid>.
# Recipe of lib_netns.sh: loopback MTU 1500, GSO capped, tcpdump
# --immediate-mode -B 32768, drops and snaplen cuts checked, everything
# pinned to one CPU.
#
# Needs root, iproute2, tcpdump, tcprewrite (tcpreplay), tshark, and Debian's
# python3 with python3-elasticsearch and python3-pymongo.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/scenarios
PY=/usr/bin/python3
SRV=127.0.0.2
A=127.0.0.1
ES_PORT=9200
MONGO_PORT=27017
ES_IP=10.0.0.5
MONGO_IP=10.0.0.7
TRUSTED=10.9.9.9
SERVER_PID=
SW_TAG=record_scenarios_dataset
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y tshark" tshark
"$PY" -c 'import elasticsearch, pymongo' 2>/dev/null \
    || die "Debian's python3 lacks the clients (apt-get install -y python3-elasticsearch python3-pymongo)"
ES_VERSION=$("$PY" -c 'import elasticsearch; print(elasticsearch.__versionstr__)')
PYMONGO_VERSION=$("$PY" -c 'import pymongo; print(pymongo.version)')

# ---------------------------------------------------------------- clients
# Each prints one JSON object: what the client itself received.

# es_client MODE USER PASSWORD: MODE scan (helpers.scan, size 500),
# partial (search ?scroll + one scroll + clear_scroll, size 500), or
# offsetN (N searches from=0, 500, ... size=500, no cursor).
es_client() {
    in_ns "$PY" - "http://$SRV:$ES_PORT" "$ES_IP:$ES_PORT" "$@" <<'EOF'
import json, sys, warnings
from elasticsearch import Elasticsearch, helpers
warnings.simplefilter("ignore")
url, host, mode, user, pw = sys.argv[1:6]
kw = {"http_auth": (user, pw)} if user else {}
es = Elasticsearch([url], http_compress=True, headers={"Host": host}, **kw)
query = {"query": {"match_all": {}}}
if mode == "scan":
    n = sum(1 for _ in helpers.scan(es, index="archive", size=500, query=query))
    print(json.dumps({"documents": n, "call": "helpers.scan(index=archive, size=500)"}))
elif mode.startswith("offset"):
    pages = []
    for i in range(int(mode[len("offset"):])):
        r = es.search(index="archive", from_=500 * i, size=500, body=query)
        pages.append(len(r["hits"]["hits"]))
    print(json.dumps({"documents": sum(pages), "pages": pages,
                      "total": r["hits"]["total"]["value"],
                      "call": "search(from_=500*i, size=500) x %d" % len(pages)}))
else:
    r = es.search(index="archive", scroll="1m", size=500, body=query)
    pages = [len(r["hits"]["hits"])]
    r = es.scroll(scroll_id=r["_scroll_id"], scroll="1m")
    pages.append(len(r["hits"]["hits"]))
    es.clear_scroll(scroll_id=r["_scroll_id"])
    print(json.dumps({"documents": sum(pages), "pages": pages,
                      "total": r["hits"]["total"]["value"],
                      "call": "search(scroll=1m, size=500) + scroll + clear_scroll"}))
EOF
}

# mongo_client MODE: whole (find, batch_size 500, iterated to the end) or
# limited (find().limit(1000).batch_size(500)).
mongo_client() {
    in_ns "$PY" - "$SRV" "$MONGO_PORT" "$@" <<'EOF'
import json, sys
import pymongo
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = pymongo.MongoClient(host, port, appname="orders-sync", serverSelectionTimeoutMS=5000)
coll = c.shop.archive
if mode == "whole":
    n = sum(1 for _ in coll.find({}, batch_size=500))
    call = "find({}, batch_size=500), iterated to the end"
else:
    n = sum(1 for _ in coll.find({}).limit(1000).batch_size(500))
    call = "find({}).limit(1000).batch_size(500)"
c.close()
print(json.dumps({"documents": n, "call": call}))
EOF
}

# ---------------------------------------------------------------- record
# record NAME SERVER-KIND PARTY-IP TITLE EXPECTED-JSON CLIENT ARGS...
record() {
    local name=$1 kind=$2 party=$3 title=$4 expected=$5; shift 5
    local port server_ip got
    : >"$WORK/server.jsonl"
    : >"$WORK/steps.jsonl"
    case $kind in
        es) port=$ES_PORT; server_ip=$ES_IP
            start_bg SERVER_PID "$PY" "$HERE/es_server.py" --port "$port" --bind 0.0.0.0 \
                --extra-index archive=2500 --log "$WORK/server.jsonl" ;;
        es_secured) port=$ES_PORT; server_ip=$ES_IP
            start_bg SERVER_PID "$PY" "$HERE/es_secured.py" --port "$port" --bind 0.0.0.0 \
                --extra-index archive=2500 --log "$WORK/server.jsonl" ;;
        mongo) port=$MONGO_PORT; server_ip=$MONGO_IP
            start_bg SERVER_PID "$PY" "$HERE/mongo_server.py" --port "$port" --bind 0.0.0.0 \
                --extra shop.archive=2500 --log "$WORK/server.jsonl" ;;
        *) die "unknown server kind $kind" ;;
    esac
    wait_for "the server on port $port" port_listening "$port"
    capture_start "$WORK/raw.pcap" "tcp port $port"
    got=$("$@") || die "$name: client failed"
    STEP_ACTOR=$party note_step "$name" "$1" "$got" "$@"
    capture_stop
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    fix_checksums "$WORK/raw.pcap" "$WORK/$name.pcap" \
        --pnat="$A/32:$party/32,$SRV/32:$server_ip/32"
    check_not_cut "$WORK/$name.pcap"
    if tshark -r "$WORK/$name.pcap" -T fields -e ip.src -e ip.dst 2>/dev/null | grep -q '127\.'; then
        die "$name: a loopback address is left after rewriting"
    fi
    "$PY" - "$name" "$title" "$party" "$server_ip" "$kind" "$expected" \
        "$WORK/steps.jsonl" "$WORK/server.jsonl" \
        "{\"python3-elasticsearch\": \"$ES_VERSION\", \"python3-pymongo\": \"$PYMONGO_VERSION\"}" \
        >"$WORK/$name.facts.json" <<'EOF'
import json, sys
name, title, party, server, kind, expected, steps, log, versions = sys.argv[1:10]
requests = [json.loads(l) for l in open(log) if l.strip()]
print(json.dumps({
    "name": name, "title": title,
    "actors": {party: "client", server: {"es": "Elasticsearch test server, security off",
                                          "es_secured": "Elasticsearch test server, security on",
                                          "mongo": "MongoDB test server"}[kind]},
    "versions": json.loads(versions),
    "steps": [json.loads(l) for l in open(steps) if l.strip()],
    "requests": requests,
    "expected_alerts": json.loads(expected),
}, indent=1))
EOF
    mkdir -p "$OUT"
    mv "$WORK/$name.pcap" "$OUT/$name.pcap"
    mv "$WORK/$name.facts.json" "$OUT/$name.facts.json"
    echo "wrote $OUT/$name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes, $(grep -c . "$WORK/server.jsonl") requests): $got"
}

EXPOSED='{"rule": 2001, "meaning": "database answered an outside client without authentication (exposed)"}'

sc_whole_index_scan() {
    record whole_index_scan es 198.51.100.81 \
        "python3-elasticsearch helpers.scan over archive (2,500 documents) 500 at a time from outside, no credentials" \
        "[$EXPOSED, {\"rule\": 5101, \"meaning\": \"whole dataset read: 2500 of hits.total 2500, once for the scroll chain\"}]" \
        es_client scan "" ""
}

sc_partial_scroll_app() {
    record partial_scroll_app es 198.51.100.82 \
        "an application's scroll from outside reads 2 pages (1,000 of 2,500) of archive and clears it" \
        "[$EXPOSED]" \
        es_client partial "" ""
}

sc_offset_walk() {
    record offset_walk es 198.51.100.86 \
        "python3-elasticsearch pages through archive (2,500) by offset: 5 searches from=0..2000 size=500, no cursor, from outside" \
        "[$EXPOSED, {\"rule\": 5101, \"meaning\": \"whole dataset read: the offset walk reached hits.total 2500\"}]" \
        es_client offset5 "" ""
}

sc_offset_app() {
    record offset_app es 198.51.100.87 \
        "an application shows 2 pages of archive by offset (from=0 and 500, size=500) from outside" \
        "[$EXPOSED]" \
        es_client offset2 "" ""
}

sc_mongo_whole_collection() {
    record mongo_whole_collection mongo 198.51.100.83 \
        "pymongo iterates shop.archive (2,500 documents) in batches of 500 from outside: find + 4 getMore, the last cursor id 0" \
        "[$EXPOSED, {\"rule\": 5101, \"meaning\": \"whole dataset read: the getMore chain ran to cursor id 0 (2500 documents)\"}]" \
        mongo_client whole
}

sc_mongo_limited_app() {
    record mongo_limited_app mongo 198.51.100.84 \
        "pymongo find().limit(1000).batch_size(500) on shop.archive from outside: the cursor ends at the limit" \
        "[$EXPOSED]" \
        mongo_client limited
}

sc_authenticated_dump() {
    record authenticated_dump es_secured 198.51.100.85 \
        "helpers.scan over archive (2,500) with HTTP Basic credentials from an outside address that is no trusted client" \
        "[{\"rule\": 5111, \"meaning\": \"authenticated whole dataset read from outside: 2500 of 2500\"}]" \
        es_client scan elastic changeme
}

sc_authenticated_dump_trusted() {
    record authenticated_dump_trusted es_secured "$TRUSTED" \
        "the same authenticated helpers.scan from the trusted application server 10.9.9.9" \
        "[]" \
        es_client scan elastic changeme
}

ALL=(whole_index_scan partial_scroll_app offset_walk offset_app mongo_whole_collection mongo_limited_app
     authenticated_dump authenticated_dump_trusted)

ns_setup
for name in "${@:-${ALL[@]}}"; do
    declare -F "sc_$name" >/dev/null || die "unknown scenario $name (known: ${ALL[*]})"
    "sc_$name"
done
