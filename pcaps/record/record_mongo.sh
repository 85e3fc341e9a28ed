#!/bin/bash
# Record real MongoDB client traffic against pcaps/record/mongo_server.py (a
# test server written from the wire protocol and BSON specifications: there
# is no MongoDB server package in Debian), inside a private network
# namespace, one capture per client:
#
#   pcaps/mongo_node_driver.pcap  official Node driver (mongo_clients/node_client.js):
#                                 listDatabases, listCollections, find + getMore over
#                                 6000 documents (zlib), a failed (zstd) and a
#                                 successful (snappy) SCRAM-SHA-256 auth, a zstd find
#   pcaps/mongo_pymongo.pcap      Debian python3-pymongo (mongo_clients/python_client.py):
#                                 legacy OP_QUERY isMaster, then OP_MSG
#   pcaps/mongo_nmap.pcap         nmap --script mongodb-info,mongodb-databases
#
# and next to each pcaps/<name>.facts.json: what the client reported (the
# documents it received) and every reply the server sent (request and reply
# ids, command, documents in the reply, ok/code).
#
#   sudo pcaps/record/record_mongo.sh [OUTDIR]          (default: pcaps/)
#
# Needs root (ip netns), ip, tcpdump, tcprewrite (tcpreplay), node + npm,
# nmap, Debian's python3 with python3-pymongo, libzstd1 and libsnappy1v5. The
# npm packages are installed OUTSIDE the repository (default /tmp/sw-npm-mongo,
# override with SW_NPM=DIR) at the versions pinned in mongo_clients/package.json.
# Same recipe as record_es.sh (MTU 1500, GSO capped, tcpdump --immediate-mode,
# drops checked, checksums fixed).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE/..}" && pwd)
NS=sw-rec-mongo-$$
WORK=$(mktemp -d /tmp/sw-rec-mongo.XXXXXX)
SW_NPM=${SW_NPM:-/tmp/sw-npm-mongo}
PY=/usr/bin/python3
PORT=27017
SNAPLEN=4096
SERVER_PID=
DUMP_PID=

die() { echo "record_mongo: $*" >&2; exit 1; }

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
for tool in ip tcpdump tcprewrite node npm nmap "$PY"; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y iproute2 tcpdump tcpreplay nodejs npm nmap python3)"
done
"$PY" -c 'import pymongo' 2>/dev/null || die "Debian's python3 lacks pymongo (apt-get install -y python3-pymongo)"

PKGS=$(node -p "const d=require('$HERE/mongo_clients/package.json').dependencies; Object.keys(d).map(n=>n+'@'+d[n]).join(' ')")
installed_ok() {
    local spec name ver
    for spec in $PKGS; do
        name=${spec%@*}; ver=${spec##*@}
        [ "$(node -p "try{require('$SW_NPM/node_modules/$name/package.json').version}catch(e){''}")" = "$ver" ] || return 1
    done
}
if ! installed_ok; then
    echo "record_mongo: npm install --prefix $SW_NPM $PKGS" >&2
    # shellcheck disable=SC2086
    npm install --prefix "$SW_NPM" --no-audit --no-fund $PKGS >&2
    installed_ok || die "npm install did not give the pinned versions ($PKGS)"
fi
export NODE_PATH=$SW_NPM/node_modules

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

client_node() {
    in_ns node "$HERE/mongo_clients/node_client.js" "127.0.0.1:$PORT" >"$WORK/$NAME.client.json" \
        2>"$WORK/$NAME.client.log" || die "node client failed: $(tail -5 "$WORK/$NAME.client.log")"
}

client_pymongo() {
    in_ns "$PY" "$HERE/mongo_clients/python_client.py" 127.0.0.1 "$PORT" >"$WORK/$NAME.client.json" \
        2>"$WORK/$NAME.client.log" || die "pymongo client failed: $(tail -5 "$WORK/$NAME.client.log")"
}

client_nmap() {
    in_ns nmap -Pn -n -p "$PORT" --script mongodb-info,mongodb-databases 127.0.0.1 \
        >"$WORK/$NAME.client.log" 2>&1 || die "nmap failed: $(tail -5 "$WORK/$NAME.client.log")"
    grep -q "mongodb-databases" "$WORK/$NAME.client.log" || die "nmap's scripts did not run: $(cat "$WORK/$NAME.client.log")"
    "$PY" - "$WORK/$NAME.client.log" >"$WORK/$NAME.client.json" <<'PYEOF'
import json, re, sys
text = open(sys.argv[1]).read()
version = re.search(r"Nmap (\d+\.\d+)", text)
print(json.dumps({"client": "nmap", "version": version.group(1) if version else "",
                  "command": "nmap -Pn -n -p 27017 --script mongodb-info,mongodb-databases 127.0.0.1",
                  "output": text.splitlines()}))
PYEOF
}

write_facts() {                   # write_facts NAME TITLE PCAP FACTS
    "$PY" - "$1" "$2" "$3" "$WORK/$1.server.jsonl" "$WORK/$1.client.json" "$4" <<'PYEOF'
import json, struct, sys
name, title, pcap, server_log, client_json, out = sys.argv[1:7]
data = open(pcap, "rb").read()
endian = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, packets, cut = 24, 0, 0
while off + 16 <= len(data):
    _, _, caplen, wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
    packets += 1
    cut += caplen < wirelen
    off += 16 + caplen
if cut:
    sys.exit("record_mongo: %d packets cut by the snaplen in %s" % (cut, pcap))
replies = [json.loads(l) for l in open(server_log)]
client = json.load(open(client_json))
facts = {"capture": name + ".pcap", "title": title, "recorded_by": "pcaps/record/record_mongo.sh",
         "server": "pcaps/record/mongo_server.py (answers as MongoDB 6.0.0, maxWireVersion 17)",
         "packets": packets, "client": client, "replies": replies}
facts["documents_in_replies"] = {}
for r in replies:
    if r["command"] in ("find", "getMore") and r.get("documents") is not None and r.get("ok"):
        ns = "%s.%s" % (r["db"], r["collection"])
        facts["documents_in_replies"][ns] = facts["documents_in_replies"].get(ns, 0) + r["documents"]
received = {}
for c in client.get("calls", []):
    if c["call"] == "find":
        received[c["ns"]] = received.get(c["ns"], 0) + c["documents"]
facts["documents_received"] = received
for ns, n in received.items():
    if facts["documents_in_replies"].get(ns) != n:
        sys.exit("record_mongo: %s: client received %d documents, server sent %s"
                 % (ns, n, facts["documents_in_replies"].get(ns)))
with open(out, "w") as f:
    json.dump(facts, f, indent=1)
    f.write("\n")
PYEOF
}

record() {                        # record NAME TITLE CLIENT-FUNCTION
    NAME=$1
    local title=$2 client=$3 raw=$WORK/$1.raw.pcap
    : >"$WORK/$NAME.server.jsonl"
    "${PIN[@]}" ip netns exec "$NS" "$PY" "$HERE/mongo_server.py" --port "$PORT" \
        --log "$WORK/$NAME.server.jsonl" >"$WORK/$NAME.server.log" 2>&1 &
    SERVER_PID=$!
    wait_for "the server on port $PORT" port_listening "$PORT"
    "${PIN[@]}" ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i lo -s "$SNAPLEN" -U -Z root \
        -w "$raw" "tcp port $PORT" 2>"$WORK/$NAME.tcpdump.log" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$WORK/$NAME.tcpdump.log"
    "$client"
    sleep 1
    stop_pid "$DUMP_PID" TERM; DUMP_PID=
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    grep -q "^0 packets dropped by kernel" "$WORK/$NAME.tcpdump.log" \
        || die "tcpdump dropped packets: $(cat "$WORK/$NAME.tcpdump.log")"
    [ ! -s "$WORK/$NAME.server.log" ] || echo "record_mongo: server said: $(cat "$WORK/$NAME.server.log")" >&2
    tcprewrite --fixcsum --infile="$raw" --outfile="$WORK/$NAME.pcap" 2>&1 \
        | { grep -v -e 'was captured using a snaplen' -e '^Warning in tcprewrite' || true; } >&2
    write_facts "$NAME" "$title" "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$OUT/$NAME.pcap"
    mv "$WORK/$NAME.facts.json" "$OUT/$NAME.facts.json"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes, $(grep -c . "$WORK/$NAME.server.jsonl") replies) and $NAME.facts.json"
}

ip netns add "$NS"
in_ns ip link set lo mtu 1500 up
in_ns ip link set lo gso_max_size 1500 gso_max_segs 1 || die "cannot cap GSO on lo"

record mongo_node_driver "Node mongodb driver: listDatabases, listCollections, find+getMore 6000 docs (zlib), SCRAM-SHA-256 failure (zstd) and success (snappy), zstd find" client_node
record mongo_pymongo "python3-pymongo (Debian): legacy OP_QUERY isMaster, listDatabases, listCollections, find+getMore" client_pymongo
record mongo_nmap "nmap --script mongodb-info,mongodb-databases" client_nmap
