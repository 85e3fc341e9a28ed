#!/bin/bash
# Record real Cassandra driver traffic against pcaps/record/cassandra_server.py
# (a test server written from the native protocol v4/v5 specifications: there
# is no Cassandra server package in Debian), inside a private network
# namespace, one capture per client and protocol version:
#
#   pcaps/cassandra_python_v4.pcap  Debian python3-cassandra, protocol v4, lz4 frames
#   pcaps/cassandra_python_v5.pcap  the same client, protocol v5: segments, lz4
#   pcaps/cassandra_node_driver.pcap DataStax Node driver (cassandra-driver), protocol v4
#                                   (it does not speak v5), uncompressed
#
# Each session: a login with a wrong password (Bad credentials), a login, the
# system_schema enumeration (keyspaces, tables, columns), a paged full-table
# read of shop.users (3000 rows, pages of 500), TRUNCATE shop.orders and DROP
# TABLE shop.users. Next to each capture, pcaps/<name>.facts.json: what the
# client received and every response the server sent.
#
#   sudo pcaps/record/record_cassandra.sh [OUTDIR]          (default: pcaps/)
#
# Needs root (ip netns), ip, tcpdump, tcprewrite (tcpreplay), Debian's python3
# with python3-cassandra and python3-lz4, node + npm. The npm package is
# installed OUTSIDE the repository (default /tmp/sw-npm-cassandra, override
# with SW_NPM=DIR) at the version pinned in cassandra_clients/package.json. Same recipe as record_mongo.sh (lo
# MTU 1500, GSO capped, tcpdump --immediate-mode, drops checked, checksums
# fixed), kept self-contained here.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE/..}" && pwd)
NS=sw-rec-cassandra-$$
WORK=$(mktemp -d /tmp/sw-rec-cassandra.XXXXXX)
PY=/usr/bin/python3
SW_NPM=${SW_NPM:-/tmp/sw-npm-cassandra}
PORT=9042
SNAPLEN=65535
SERVER_PID=
DUMP_PID=

die() { echo "record_cassandra: $*" >&2; exit 1; }

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
for tool in ip tcpdump tcprewrite node npm "$PY"; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y iproute2 tcpdump tcpreplay python3)"
done
"$PY" -c 'import cassandra, lz4' 2>/dev/null || die "Debian's python3 lacks the driver or lz4 (apt-get install -y python3-cassandra python3-lz4)"

PKGS=$(node -p "const d=require('$HERE/cassandra_clients/package.json').dependencies; Object.keys(d).map(n=>n+'@'+d[n]).join(' ')")
installed_ok() {
    local spec name ver
    for spec in $PKGS; do
        name=${spec%@*}; ver=${spec##*@}
        [ "$(node -p "try{require('$SW_NPM/node_modules/$name/package.json').version}catch(e){''}")" = "$ver" ] || return 1
    done
}
if ! installed_ok; then
    echo "record_cassandra: npm install --prefix $SW_NPM $PKGS" >&2
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

client_python() {
    in_ns "$PY" "$HERE/cassandra_clients/python_client.py" 127.0.0.1 "$PORT" "$VERSION" \
        >"$WORK/$NAME.client.json" 2>"$WORK/$NAME.client.log" \
        || die "python client failed: $(tail -5 "$WORK/$NAME.client.log")"
}

client_node() {
    in_ns node "$HERE/cassandra_clients/node_client.js" 127.0.0.1 "$PORT" \
        >"$WORK/$NAME.client.json" 2>"$WORK/$NAME.client.log" \
        || die "node client failed: $(tail -5 "$WORK/$NAME.client.log")"
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
    sys.exit("record_cassandra: %d packets cut by the snaplen in %s" % (cut, pcap))
responses = [json.loads(l) for l in open(server_log)]
client = json.load(open(client_json))
facts = {"capture": name + ".pcap", "title": title, "recorded_by": "pcaps/record/record_cassandra.sh",
         "server": "pcaps/record/cassandra_server.py (a test server written from the native protocol spec)",
         "packets": packets, "client": client, "responses": responses}
sent = {}
for r in responses:
    if r.get("rows") is not None:
        sent[r["table"]] = sent.get(r["table"], 0) + r["rows"]
facts["rows_in_responses"] = sent
received = {c["table"]: c["rows"] for c in client["calls"] if c["call"] == "select"}
facts["rows_received"] = received
for t, n in received.items():
    if sent.get(t) != n:
        sys.exit("record_cassandra: %s: client received %d rows, server sent %s" % (t, n, sent.get(t)))
with open(out, "w") as f:
    json.dump(facts, f, indent=1)
    f.write("\n")
PYEOF
}

record() {                        # record NAME TITLE CLIENT-FUNCTION
    NAME=$1
    local title=$2 client=$3 raw=$WORK/$1.raw.pcap
    : >"$WORK/$NAME.server.jsonl"
    "${PIN[@]}" ip netns exec "$NS" "$PY" "$HERE/cassandra_server.py" --port "$PORT" \
        --log "$WORK/$NAME.server.jsonl" --auth scraper:secret --rows 3000 >"$WORK/$NAME.server.log" 2>&1 &
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
    [ ! -s "$WORK/$NAME.server.log" ] || echo "record_cassandra: server said: $(cat "$WORK/$NAME.server.log")" >&2
    tcprewrite --fixcsum --infile="$raw" --outfile="$WORK/$NAME.pcap" 2>&1 \
        | { grep -v -e 'was captured using a snaplen' -e '^Warning in tcprewrite' || true; } >&2
    write_facts "$NAME" "$title" "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$OUT/$NAME.pcap"
    mv "$WORK/$NAME.facts.json" "$OUT/$NAME.facts.json"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes, $(grep -c . "$WORK/$NAME.server.jsonl") responses) and $NAME.facts.json"
}

ip netns add "$NS"
in_ns ip link set lo mtu 1500 up
in_ns ip link set lo gso_max_size 1500 gso_max_segs 1 || die "cannot cap GSO on lo"

VERSION=4 record cassandra_python_v4 "python3-cassandra, protocol v4 (lz4 frames): bad login, login, system_schema, paged read of 3000 rows, TRUNCATE, DROP TABLE" client_python
VERSION=5 record cassandra_python_v5 "python3-cassandra, protocol v5 (segments, lz4): bad login, login, system_schema, paged read of 3000 rows, TRUNCATE, DROP TABLE" client_python
record cassandra_node_driver "cassandra-driver 4.10.0 (node), protocol v4: bad login, login, system_schema, paged read of 3000 rows, TRUNCATE, DROP TABLE" client_node
