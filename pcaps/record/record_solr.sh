#!/bin/bash
# Record real Solr client traffic against pcaps/record/solr_server.py (a small
# test server written from Solr's documented JSON/XML responses; NOT Solr),
# inside a private network namespace, one capture per client:
#
#   pcaps/solr_pysolr.pcap  Debian python3-pysolr: ping, search, a cursorMark
#                           deep-paging dump of products (5000), a filtered
#                           search, core STATUS, an add, a delete by query
#   pcaps/solr_curl.pcap    curl: admin/info/system, cores STATUS, collections
#                           LIST, an XML dump of customers, a CSV page, an XML
#                           cursorMark page, a form-encoded POST select, realtime
#                           get, the Velocity config probe, the wt=velocity
#                           template probe, a DataImportHandler dataConfig probe,
#                           update delete *:*, collections DELETE; and on :8080
#                           (not Solr's port) a /solr/ select and a prefix-less one
#
# and next to each pcaps/solr_<name>.facts.json: every request the server
# answered, with its status and the documents (items) and numFound (total)
# the response carried, plus what the client itself reported.
#
#   sudo pcaps/record/record_solr.sh [OUTDIR]          (default: pcaps/)
#
# Needs root (ip netns), ip, tcpdump, tcprewrite (tcpreplay), curl, Debian's
# python3 with python3-pysolr. Same recipe as record_es.sh, kept
# self-contained (shared netns code is being factored into lib_netns.sh
# elsewhere): loopback MTU 1500 with GSO capped, tcpdump --immediate-mode,
# kernel drops checked, checksums fixed with tcprewrite --fixcsum.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE/..}" && pwd)
NS=sw-rec-solr-$$
WORK=$(mktemp -d /tmp/sw-rec-solr.XXXXXX)
PY=/usr/bin/python3
PORT=8983
OTHER_PORT=8080
URL=http://127.0.0.1:$PORT
SNAPLEN=4096
SERVER_PID=
OTHER_PID=
DUMP_PID=

die() { echo "record_solr: $*" >&2; exit 1; }
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
for tool in ip tcpdump tcprewrite curl "$PY"; do
    command -v "$tool" >/dev/null || die "missing $tool"
done

"$PY" -c 'import pysolr' 2>/dev/null || die "Debian's python3 lacks pysolr (apt-get install -y python3-pysolr)"
PYSOLR_VERSION=$(dpkg-query -W -f='${Version}' python3-pysolr)

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

start_solr() {                    # start_solr PORT LOG: sets LAST_PID
    "${PIN[@]}" ip netns exec "$NS" "$PY" "$HERE/solr_server.py" --port "$1" --log "$2" \
        >"$2.err" 2>&1 &
    LAST_PID=$!
    wait_for "solr_server.py on port $1" port_listening "$1"
}

# ---------------------------------------------------------------- clients

client_pysolr() {
    CMD=("$PY" "$HERE/solr_clients/pysolr_client.py" "$URL")
    in_ns "${CMD[@]}" >"$WORK/$NAME.client.json" 2>"$WORK/$NAME.client.log" \
        || die "pysolr client failed: $(tail -5 "$WORK/$NAME.client.log")"
}

curl_step() {                     # curl_step EXPECTED-STATUS CURL-ARGS...
    local expected=$1; shift
    local code
    code=$(in_ns curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$@" || true)
    [ "$code" = "$expected" ] || die "curl $*: expected $expected, got $code"
    "$PY" -c 'import json,sys; print(json.dumps({"status": int(sys.argv[1]), "curl": ["curl"] + sys.argv[2:]}))' \
        "$code" "$@" >>"$WORK/$NAME.steps.jsonl"
}

client_curl() {
    local other=http://127.0.0.1:$OTHER_PORT
    local velocity='{"update-queryresponsewriter":{"startup":"lazy","name":"velocity","class":"solr.VelocityResponseWriter","template.base.dir":"","solr.resource.loader.enabled":"true","params.resource.loader.enabled":"true"}}'
    : >"$WORK/$NAME.steps.jsonl"
    curl_step 200 "$URL/solr/admin/info/system?wt=json"
    curl_step 200 "$URL/solr/admin/cores?action=STATUS&wt=json"
    curl_step 200 "$URL/solr/admin/collections?action=LIST&wt=json"
    curl_step 200 "$URL/solr/customers/select?q=*:*&rows=1200&wt=xml"
    curl_step 200 "$URL/solr/products/select?q=*:*&rows=2000&start=1000&wt=csv"
    curl_step 200 "$URL/solr/products/select?q=*:*&rows=500&sort=id+asc&cursorMark=*&wt=xml"
    curl_step 200 -d 'q=*:*&rows=300&wt=json' "$URL/solr/products/select"
    curl_step 200 "$URL/solr/products/get?id=p00007"
    curl_step 200 -H 'Content-Type: application/json' -d "$velocity" "$URL/solr/products/config"
    curl_step 200 "$URL/solr/products/select?q=1&wt=velocity&v.template=custom&v.template.custom=%23set(%24x=1)"
    curl_step 404 "$URL/solr/products/dataimport?command=full-import&debug=true&dataConfig=%3CdataConfig%3E%3C%2FdataConfig%3E"
    curl_step 200 -H 'Content-Type: application/json' -d '{"delete":{"query":"*:*"}}' "$URL/solr/products/update?commit=true"
    curl_step 200 "$URL/solr/admin/collections?action=DELETE&name=customers&wt=json"
    curl_step 200 "$other/solr/products/select?q=*:*&rows=10"
    curl_step 200 "$other/products/select?q=*:*&rows=20"
    CMD=(curl "(15 commands, see steps)")
    "$PY" -c 'import json,sys; print(json.dumps({"client": "curl", "version": sys.argv[1], "steps": [json.loads(l) for l in open(sys.argv[2])]}))' \
        "$(curl --version | head -1 | cut -d' ' -f2)" "$WORK/$NAME.steps.jsonl" >"$WORK/$NAME.client.json"
}

# ---------------------------------------------------------------- facts

write_facts() {                   # write_facts NAME TITLE PCAP OUT
    "$PY" - "$@" "$WORK/$1.client.json" "$WORK/$1.server.jsonl" "$PYSOLR_VERSION" <<'PYEOF'
import json, struct, sys
name, title, pcap, out, client_json, server_log, pysolr_version = sys.argv[1:8]
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
    sys.exit("record_solr: %d packets cut by the snaplen in %s" % (cut, pcap))
client = json.load(open(client_json))
if client.get("client") == "python3-pysolr":
    client["version"] = pysolr_version
    if client["documents_dumped"] != 5000:
        sys.exit("record_solr: pysolr dumped %d documents, expected 5000" % client["documents_dumped"])
requests = [json.loads(l) for l in open(server_log)]
if "steps" in client and len(client["steps"]) != len(requests):
    sys.exit("record_solr: %d curl steps, %d requests" % (len(client["steps"]), len(requests)))
facts = {"capture": name + ".pcap", "title": title,
         "recorded_by": "pcaps/record/record_solr.sh",
         "server": "pcaps/record/solr_server.py (written from Solr's documented JSON/XML "
                   "responses; NOT Solr) on :8983, and on :8080 for the curl capture",
         "packets": packets, "http_requests": len(requests), "client": client,
         "documents_in_responses": sum(r.get("items", 0) for r in requests
                                       if "/select" in r["uri"] or "/get" in r["uri"]),
         "requests": requests}
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
    : >"$WORK/$NAME.server.jsonl"
    start_solr "$PORT" "$WORK/$NAME.server.jsonl"; SERVER_PID=$LAST_PID
    start_solr "$OTHER_PORT" "$WORK/$NAME.server.jsonl"; OTHER_PID=$LAST_PID
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
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes, $(grep -c . "$WORK/$NAME.server.jsonl") requests) and $NAME.facts.json"
}

ip netns add "$NS"
in_ns ip link set lo mtu 1500 up
in_ns ip link set lo gso_max_size 1500 gso_max_segs 1 || die "cannot cap GSO on lo"

record solr_pysolr "python3-pysolr: ping, search, cursorMark dump of products (5000), filtered search, cores STATUS, add, delete by query" \
    client_pysolr
record solr_curl "curl: info/system, cores, collections, XML dump, CSV, XML cursor, form POST, get, Velocity/DIH probes, delete *:*, collection DELETE; :8080" \
    client_curl
