#!/bin/bash
# Record real Elasticsearch client traffic against pcaps/record/es_server.py,
# inside a private network namespace, one capture per client:
#
#   pcaps/es_elasticdump_scroll.pcap  elasticdump --limit=1000 (scroll)
#   pcaps/es_elasticdump_pit.pcap     elasticdump --searchAfter=true --pit=true
#   pcaps/es_node_client.pcap         @elastic/elasticsearch (es_clients/node_client.js)
#   pcaps/es_python_client.pcap       Debian python3-elasticsearch (es_clients/python_client.py)
#   pcaps/es_curl.pcap                curl: banner, _cat/indices, size=10000 dump,
#                                     gzip, _doc, DELETE index, 401 then Basic auth,
#                                     Kibana console proxy (:5601), OpenSearch banner (:9201)
#
# and next to each pcaps/es_<name>.facts.json: what the client did and the
# ground truth (documents the client received or wrote, every HTTP request the
# server answered with its status and the number of documents in the answer).
#
#   sudo pcaps/record/record_es.sh [OUTDIR]          (default: pcaps/)
#
# Needs root (ip netns), ip, tcpdump, tcprewrite (tcpreplay), curl, node + npm,
# Debian's python3 with python3-elasticsearch. The npm clients are installed
# OUTSIDE the repository (default /tmp/sw-npm, override with SW_NPM=DIR) at the
# versions pinned in es_clients/package.json; node_modules is never written here.
#
# Same recipe as record_http.sh: loopback MTU 1500 with GSO capped so segments
# are wire-sized, tcpdump --immediate-mode with a 32 MB buffer, kernel drops
# checked, checksums fixed with tcprewrite --fixcsum, EXIT trap cleanup. The
# snaplen is 4096 (every segment fits; the script checks nothing was cut) so
# the ring holds thousands of segments of the 1.3 MB responses.
# Data are generated from a fixed seed, so a rerun serves the same documents;
# timestamps, ports, ISNs and scroll/PIT ids differ.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE/..}" && pwd)
NS=sw-rec-es-$$
WORK=$(mktemp -d /tmp/sw-rec-es.XXXXXX)
SW_NPM=${SW_NPM:-/tmp/sw-npm}
PY=/usr/bin/python3
PORT=9200              # Elasticsearch (es_server.py)
OS_PORT=9201           # OpenSearch mode (curl capture only)
KBN_PORT=5601          # Kibana console proxy (curl capture only)
URL=http://127.0.0.1:$PORT
SNAPLEN=4096
SERVER_PID=
OS_PID=
DUMP_PID=

die() { echo "record_es: $*" >&2; exit 1; }

stop_pid() {                      # stop one process we started, by its pid
    local pid=$1 signal=$2
    [ -n "$pid" ] || return 0
    kill -"$signal" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$DUMP_PID" TERM
    stop_pid "$SERVER_PID" TERM
    stop_pid "$OS_PID" TERM
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root (ip netns)"
for tool in ip tcpdump tcprewrite curl node npm "$PY"; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y iproute2 tcpdump tcpreplay curl nodejs npm python3)"
done
"$PY" -c 'import elasticsearch' 2>/dev/null \
    || die "Debian's python3 lacks the client (apt-get install -y python3-elasticsearch)"

# npm clients at the pinned versions, outside the repository.
PKGS=$(node -p "const d=require('$HERE/es_clients/package.json').dependencies; Object.keys(d).map(n=>n+'@'+d[n]).join(' ')")
installed_ok() {
    local spec name ver
    for spec in $PKGS; do
        name=${spec%@*}; ver=${spec##*@}
        [ "$(node -p "try{require('$SW_NPM/node_modules/$name/package.json').version}catch(e){''}")" = "$ver" ] || return 1
    done
}
if ! installed_ok; then
    echo "record_es: npm install --prefix $SW_NPM $PKGS" >&2
    # shellcheck disable=SC2086
    npm install --prefix "$SW_NPM" --no-audit --no-fund $PKGS >&2
    installed_ok || die "npm install did not give the pinned versions ($PKGS)"
fi
export NODE_PATH=$SW_NPM/node_modules
export PATH=$SW_NPM/node_modules/.bin:$PATH
ELASTICDUMP_VERSION=$(node -p "require('$SW_NPM/node_modules/elasticdump/package.json').version")

# Everything in the namespace runs on one CPU: on a multi-CPU host a server
# thread that migrates mid-burst makes loopback deliver (and tcpdump see) some
# segments swapped, with spurious retransmissions; pinned, the captures are in order.
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)
in_ns() { "${PIN[@]}" ip netns exec "$NS" "$@"; }

wait_for() {                      # wait_for DESCRIPTION COMMAND...: poll up to 10 s
    local what=$1; shift
    for _ in $(seq 100); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    die "timed out waiting for $what"
}

port_listening() { in_ns ss -ltn "sport = :$1" | grep -q LISTEN; }

# ---------------------------------------------------------------- clients
# Each function runs the client inside the namespace and leaves what the
# client itself reports in $WORK/$NAME.client.json.

client_elasticdump_scroll() {
    local out=$WORK/dump/tickets.json
    mkdir -p "$WORK/dump"; rm -f "$out"
    CMD=(elasticdump --input="$URL/tickets" --output="$out" --type=data --limit=1000)
    in_ns "${CMD[@]}" >"$WORK/$NAME.client.log" 2>&1 || die "elasticdump failed: $(tail -5 "$WORK/$NAME.client.log")"
    dump_facts "$out"
}

client_elasticdump_pit() {
    local out=$WORK/dump/tickets.json
    mkdir -p "$WORK/dump"; rm -f "$out"
    CMD=(elasticdump --input="$URL/tickets" --output="$out" --type=data --limit=1000
         --searchAfter=true --pit=true)
    in_ns "${CMD[@]}" >"$WORK/$NAME.client.log" 2>&1 || die "elasticdump failed: $(tail -5 "$WORK/$NAME.client.log")"
    dump_facts "$out"
}

dump_facts() {                    # what elasticdump wrote: lines, distinct _id
    local out=$1
    "$PY" - "$out" "$ELASTICDUMP_VERSION" "${CMD[*]}" >"$WORK/$NAME.client.json" <<'EOF'
import json, sys
path, version, cmd = sys.argv[1:4]
lines = open(path).read().splitlines()
ids = {json.loads(l)["_id"] for l in lines}
print(json.dumps({"client": "elasticdump", "version": version,
                  "command": cmd.replace(path, "/tmp/x/tickets.json"),
                  "documents_written": len(lines), "distinct_ids": len(ids)}))
EOF
}

client_node() {
    CMD=(node "$HERE/es_clients/node_client.js" "$URL")
    in_ns "${CMD[@]}" >"$WORK/$NAME.client.json" 2>"$WORK/$NAME.client.log" \
        || die "node client failed: $(tail -5 "$WORK/$NAME.client.log")"
}

client_python() {
    CMD=("$PY" "$HERE/es_clients/python_client.py" "$URL")
    in_ns "${CMD[@]}" >"$WORK/$NAME.client.json" 2>"$WORK/$NAME.client.log" \
        || die "python client failed: $(tail -5 "$WORK/$NAME.client.log")"
}

# curl_step CHECK EXPECTED-STATUS CURL-ARGS...: one curl command = one request;
# the status is checked now, the step is listed for the facts.
curl_step() {
    local check=$1 expected=$2; shift 2
    local code
    code=$(in_ns curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$@")
    [ "$code" = "$expected" ] || die "curl $*: expected $expected, got $code"
    "$PY" -c 'import json,sys; print(json.dumps({"check": sys.argv[1] or None, "status": int(sys.argv[2]), "curl": ["curl"] + sys.argv[3:]}))' \
        "$check" "$code" "$@" >>"$WORK/$NAME.steps.jsonl"
}

client_curl() {
    local os_url=http://127.0.0.1:$OS_PORT kbn=http://127.0.0.1:$KBN_PORT
    : >"$WORK/$NAME.steps.jsonl"
    curl_step banner 200 "$URL/"
    curl_step cat_indices_text 200 "$URL/_cat/indices?v"
    curl_step cat_indices_json 200 "$URL/_cat/indices?format=json"
    curl_step search_all 200 "$URL/tickets/_search?size=10000&q=*:*"
    curl_step gzip 200 --compressed "$URL/logs-2024/_search?size=1000"
    curl_step count 200 "$URL/tickets/_count"
    curl_step mapping 200 "$URL/tickets/_mapping"
    curl_step get_doc 200 "$URL/tickets/_doc/1"
    curl_step delete_index 200 -X DELETE "$URL/logs-2024"
    curl_step denied 401 "$URL/secure/_search"
    curl_step authenticated 200 -u elastic:changeme "$URL/secure/_search"
    curl_step kibana 200 -X POST -H 'kbn-xsrf: true' -H 'Content-Type: application/json' \
        -d '{"query":{"match_all":{}}}' "$kbn/api/console/proxy?path=%2Ftickets%2F_search%3Fsize%3D5&method=GET"
    curl_step opensearch_banner 200 "$os_url/"
    CMD=(curl "(13 commands, see steps)")
    "$PY" -c 'import json,sys; print(json.dumps({"client": "curl", "version": sys.argv[1], "steps": [json.loads(l) for l in open(sys.argv[2])]}))' \
        "$(curl --version | head -1 | cut -d' ' -f2)" "$WORK/$NAME.steps.jsonl" >"$WORK/$NAME.client.json"
}

# ---------------------------------------------------------------- facts

write_facts() {                   # write_facts NAME TITLE PCAP FACTS
    "$PY" - "$1" "$2" "$3" "$WORK/$1.server.jsonl" "$WORK/$1.client.json" "$4" <<'EOF'
import json, struct, sys

name, title, pcap, server_log, client_json, out = sys.argv[1:7]

# the capture: packets, none cut by the snaplen
with open(pcap, "rb") as f:
    data = f.read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, packets, cut = 24, 0, 0
while off + 16 <= len(data):
    _, _, caplen, wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
    packets += 1
    cut += caplen < wirelen
    off += 16 + caplen
if cut:
    sys.exit("record_es: %d packets cut by the snaplen in %s" % (cut, pcap))

requests = [json.loads(l) for l in open(server_log)]
client = json.load(open(client_json))
for r in requests:
    r.pop("response_body_bytes", None)

facts = {
    "capture": name + ".pcap",
    "title": title,
    "recorded_by": "pcaps/record/record_es.sh",
    "server": "pcaps/record/es_server.py (answers as Elasticsearch 8.11.0; :9201 as OpenSearch 2.11.0; "
              ":5601 as Kibana's console proxy)",
    "packets": packets,
    "http_requests": len(requests),
    "client": {k: v for k, v in client.items() if k not in ("calls", "steps")},
}
doc_ops = [r for r in requests if r["method"] != "DELETE" and r["port"] != 5601 and
           ("_search" in r["uri"] and "point_in_time" not in r["uri"])]
facts["documents_in_search_responses"] = sum(r.get("items", 0) for r in doc_ops)

if name.startswith("es_elasticdump"):
    facts["documents_written"] = client["documents_written"]
    facts["distinct_ids_written"] = client["distinct_ids"]
    if client["documents_written"] != 6000 or client["distinct_ids"] != 6000:
        sys.exit("record_es: elasticdump wrote %d documents (%d distinct), expected 6000"
                 % (client["documents_written"], client["distinct_ids"]))
    if facts["documents_in_search_responses"] != 6000:
        sys.exit("record_es: server sent %d documents, expected 6000" % facts["documents_in_search_responses"])
elif "calls" in client:
    facts["calls"] = client["calls"]
    facts["documents_received"] = sum(c.get("documents", 0) for c in client["calls"])
    if facts["documents_received"] != facts["documents_in_search_responses"]:
        sys.exit("record_es: client received %d documents, server sent %d"
                 % (facts["documents_received"], facts["documents_in_search_responses"]))
elif "steps" in client:
    steps = client["steps"]
    if len(steps) != len(requests):
        sys.exit("record_es: %d curl steps but %d requests" % (len(steps), len(requests)))
    facts["steps"] = []
    for step, req in zip(steps, requests):
        if step["status"] != req["status"]:
            sys.exit("record_es: curl step %s: status %d, server logged %d"
                     % (step["check"], step["status"], req["status"]))
        facts["steps"].append(dict(step, request=req))

facts["requests"] = requests
with open(out, "w") as f:
    json.dump(facts, f, indent=1)
    f.write("\n")
EOF
}

# ---------------------------------------------------------------- record

# record NAME TITLE CLIENT-FUNCTION [curl]
record() {
    NAME=$1
    local title=$2 client=$3 extra=${4:-}
    local raw=$WORK/$NAME.raw.pcap filter="tcp port $PORT"
    : >"$WORK/$NAME.server.jsonl"

    # taskset and ip netns exec both exec, so $! is the server's own pid
    "${PIN[@]}" ip netns exec "$NS" "$PY" "$HERE/es_server.py" --port "$PORT" --log "$WORK/$NAME.server.jsonl" \
        ${extra:+--kibana $KBN_PORT} >"$WORK/$NAME.server.log" 2>&1 &
    SERVER_PID=$!
    wait_for "the server on port $PORT" port_listening "$PORT"
    if [ -n "$extra" ]; then
        "${PIN[@]}" ip netns exec "$NS" "$PY" "$HERE/es_server.py" --opensearch --port "$OS_PORT" \
            --log "$WORK/$NAME.server.jsonl" >"$WORK/$NAME.os.log" 2>&1 &
        OS_PID=$!
        wait_for "the OpenSearch-mode server on port $OS_PORT" port_listening "$OS_PORT"
        wait_for "the Kibana proxy on port $KBN_PORT" port_listening "$KBN_PORT"
        filter="tcp port $PORT or tcp port $OS_PORT or tcp port $KBN_PORT"
    fi

    # --immediate-mode: otherwise packets arrive in blocks and the last ones are
    # lost when tcpdump stops. -B 32768 KiB with a 4096-byte snaplen: room for
    # ~8000 segments, far more than the largest burst.
    "${PIN[@]}" ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i lo -s "$SNAPLEN" -U -Z root \
        -w "$raw" "$filter" 2>"$WORK/$NAME.tcpdump.log" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$WORK/$NAME.tcpdump.log"

    "$client"

    sleep 1                       # let the last FIN/ACKs reach tcpdump
    stop_pid "$DUMP_PID" TERM; DUMP_PID=
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    stop_pid "$OS_PID" TERM; OS_PID=
    grep -q "^0 packets dropped by kernel" "$WORK/$NAME.tcpdump.log" \
        || die "tcpdump dropped packets: $(cat "$WORK/$NAME.tcpdump.log")"

    # (tcprewrite warns that a 4096 snaplen "may" truncate: write_facts checks it did not)
    tcprewrite --fixcsum --infile="$raw" --outfile="$WORK/$NAME.pcap" 2>&1 \
        | { grep -v -e 'was captured using a snaplen' -e '^Warning in tcprewrite' || true; } >&2
    write_facts "$NAME" "$title" "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$OUT/$NAME.pcap"
    mv "$WORK/$NAME.facts.json" "$OUT/$NAME.facts.json"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes, $(grep -c . "$WORK/$NAME.server.jsonl") requests) and $NAME.facts.json"
}

ip netns add "$NS"
in_ns ip link set lo mtu 1500 up
# Loopback does segmentation offload: cap it so every segment is at most one MSS.
in_ns ip link set lo gso_max_size 1500 gso_max_segs 1 \
    || die "cannot cap GSO on lo (iproute2/kernel too old?)"

record es_elasticdump_scroll "elasticdump $ELASTICDUMP_VERSION --limit=1000: scroll dump of tickets (6000 documents)" \
    client_elasticdump_scroll
record es_elasticdump_pit "elasticdump $ELASTICDUMP_VERSION --searchAfter=true --pit=true: PIT + search_after dump of tickets" \
    client_elasticdump_pit
record es_node_client "@elastic/elasticsearch: info, cat.indices, search, scrollSearch over logs-2024, count, 404" \
    client_node
record es_python_client "python3-elasticsearch (Debian): info, search, helpers.scan over tickets, scroll + clear_scroll" \
    client_python
record es_curl "curl: banner, _cat/indices, size=10000 dump, gzip, _doc, DELETE index, 401/Basic, Kibana proxy, OpenSearch banner" \
    client_curl curl
