#!/bin/bash
# Record real HTTP captures with curl, inside a private network namespace:
#
#   pcaps/http_curl.pcap       python3 -m http.server (HTTP/1.0: one request per
#                              connection, the server closes after each response)
#   pcaps/http_keepalive.pcap  pcaps/record/http11_server.py (HTTP/1.1 keep-alive,
#                              Content-Length and chunked framing, 401/404 kept open)
#
# and next to each a .txt listing the requests in order with the expected status.
#
#   sudo pcaps/record/record_http.sh [OUTDIR]        (default: pcaps/)
#
# Needs root (ip netns), ip, tcpdump, tcprewrite (tcpreplay), curl, python3.
# Safe to rerun: everything happens in a namespace sw-rec-<pid> and a temp dir
# that the EXIT trap removes; outputs are written to a temp file, then moved.
# Loopback hands packets to tcpdump before the checksum is filled in
# (checksum offload), so the capture goes through `tcprewrite --fixcsum`; its
# segmentation offload is capped (gso_max_size) so segments fit the MTU.
# Timestamps, ports and ISNs are real, so a rerun gives different bytes but the
# same requests and statuses; the checked-in captures are the reference.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE/..}" && pwd)
NS=sw-rec-$$
WORK=$(mktemp -d /tmp/sw-rec.XXXXXX)
PORT=9200
URL=http://127.0.0.1:$PORT
SERVER_PID=
DUMP_PID=

die() { echo "record_http: $*" >&2; exit 1; }

stop_pid() {                      # stop one process we started, by its pid
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
for tool in ip tcpdump tcprewrite curl python3; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y iproute2 tcpdump tcpreplay curl python3)"
done

in_ns() { ip netns exec "$NS" "$@"; }

# A small site: an index, two small JSON documents, and a ~45 KB JSON file whose
# response spans many segments. Content is fixed so reruns serve the same bytes.
make_site() {
    local site=$WORK/site
    mkdir -p "$site/secure"
    printf '<html><body><h1>scrapewatch test site</h1></body></html>\n' >"$site/index.html"
    printf '{"cluster_name":"sw-test","version":{"number":"7.4.0"}}\n' >"$site/small.json"
    printf '{"_index":"tickets","_id":"1","found":true}\n' >"$site/second.json"
    cp "$site/small.json" "$site/secure/small.json"
    python3 - "$site/big.json" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write('{"hits":[\n')
    for i in range(600):
        f.write('{"_id":"%05d","customer":"c%05d","note":"synthetic support ticket %d"},\n' % (i, i, i))
    f.write('{"_id":"end"}]}\n')
EOF
}

wait_for() {                      # wait_for DESCRIPTION COMMAND...: poll up to 5 s
    local what=$1; shift
    for _ in $(seq 50); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    die "timed out waiting for $what"
}

port_listening() { in_ns ss -ltn "sport = :$PORT" | grep -q LISTEN; }

# req EXPECTED DESCRIPTION CURL-ARGS...: run one curl command (one or more
# transfers), check each transfer's status against EXPECTED (space-separated),
# and append a line per transfer to the listing.
REQ_NO=0
CURL_OPTS=(-sS --max-time 10 -w '%{http_code} %{num_connects}\n')   # repeat after --next
req() {
    local expected=$1 what=$2; shift 2
    local got
    got=$(in_ns curl "${CURL_OPTS[@]}" "$@")
    local codes reused
    codes=$(echo "$got" | awk '{print $1}' | xargs)
    [ "$codes" = "$expected" ] || die "$what: expected status $expected, got $codes"
    local i=0
    while read -r code connects; do
        i=$((i + 1))
        REQ_NO=$((REQ_NO + 1))
        if [ "$connects" = 0 ]; then reused="reused connection"; else reused="new connection"; fi
        printf '%2d. %-58s -> %s (%s)\n' "$REQ_NO" "$(echo "$what" | cut -d'|' -f"$i")" \
            "$code" "$reused" >>"$LISTING"
    done <<<"$got"
}

requests_http10() {
    req "200" "GET /big.json (~45 KB, many segments)" -o /dev/null "$URL/big.json"
    req "200 200" "GET /small.json (curl with 2 URLs)|GET /index.html (same curl; HTTP/1.0 closed, so reconnects)" \
        -o /dev/null -o /dev/null "$URL/small.json" "$URL/index.html"
    req "200" "HEAD /small.json" -I -o /dev/null "$URL/small.json"
    req "404" "GET /missing" -o /dev/null "$URL/missing"
    req "501" "POST /tickets/_search with a JSON body (no do_POST)" -o /dev/null \
        -H 'Content-Type: application/json' -d '{"query":{"match_all":{}}}' "$URL/tickets/_search"
    req "200" "GET /small.json with -u user:secret (Authorization Basic)" -o /dev/null \
        -u user:secret "$URL/small.json"
    req "200" "GET /index.html, User-Agent: BinaryEdgeTest/1.0 (custom)" -o /dev/null \
        -A 'BinaryEdgeTest/1.0 (custom)' "$URL/index.html"
}

requests_http11() {
    req "200" "GET /big.json (~45 KB, Content-Length, many segments)" -o /dev/null "$URL/big.json"
    req "200 200 404 200" "GET /small.json|GET /second.json|GET /missing (404 keeps the connection)|GET /_chunked (chunked)" \
        -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
        "$URL/small.json" "$URL/second.json" "$URL/missing" "$URL/_chunked"
    req "200 200" "HEAD /small.json (Content-Length, no body)|GET /small.json on the same connection" \
        -I -o /dev/null "$URL/small.json" --next "${CURL_OPTS[@]}" -o /dev/null "$URL/small.json"
    req "200" "POST /tickets/_search with a JSON body" -o /dev/null \
        -H 'Content-Type: application/json' -d '{"query":{"match_all":{}}}' "$URL/tickets/_search"
    req "401" "GET /secure/small.json without credentials" -o /dev/null "$URL/secure/small.json"
    req "200" "GET /secure/small.json with -u user:secret (Basic)" -o /dev/null \
        -u user:secret "$URL/secure/small.json"
    req "200" "GET /index.html, User-Agent: BinaryEdgeTest/1.0 (custom)" -o /dev/null \
        -A 'BinaryEdgeTest/1.0 (custom)' "$URL/index.html"
}

# record NAME TITLE REQUESTS-FUNCTION SERVER-COMMAND...
record() {
    local name=$1 title=$2 requests=$3; shift 3
    local raw=$WORK/$name.raw.pcap
    LISTING=$WORK/$name.txt
    REQ_NO=0

    # Started with ip netns exec directly (not through the in_ns function, which
    # would fork a subshell) so that $! is the server's own pid: ip execs into it.
    ip netns exec "$NS" "$@" >"$WORK/$name.server.log" 2>&1 &
    SERVER_PID=$!
    wait_for "the server on port $PORT" port_listening

    # --immediate-mode: without it libpcap hands packets over in blocks (up to 1 s
    # late) and the last ones are lost when tcpdump is stopped. -B 32768 (KiB):
    # in immediate mode each ring slot holds a full 65535-byte snapshot, and the
    # default 2 MB ring overflows on the 50 KB burst.
    ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i lo -s 65535 -U -Z root -w "$raw" "tcp port $PORT" 2>"$WORK/$name.tcpdump.log" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$WORK/$name.tcpdump.log"

    {
        echo "# $name.pcap - $title"
        echo "# Recorded by pcaps/record/record_http.sh: curl $(curl --version | head -1 | cut -d' ' -f2)"
        echo "# -> 127.0.0.1:$PORT inside a private netns (lo: MTU 1500, GSO capped), tcpdump -s 65535,"
        echo "# checksums fixed with tcprewrite --fixcsum. Requests in capture order:"
    } >"$LISTING"
    "$requests"

    sleep 1                       # let the last FIN/ACKs reach tcpdump
    stop_pid "$DUMP_PID" TERM; DUMP_PID=     # tcpdump flushes and closes on TERM
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    grep -q "^0 packets dropped by kernel" "$WORK/$name.tcpdump.log" \
        || die "tcpdump dropped packets: $(cat "$WORK/$name.tcpdump.log")"

    tcprewrite --fixcsum --infile="$raw" --outfile="$WORK/$name.pcap"
    echo "# $(grep -c '^ *[0-9]*\. ' "$LISTING") HTTP requests, $(tcpdump -r "$WORK/$name.pcap" 2>/dev/null | wc -l) packets" >>"$LISTING"
    mv "$WORK/$name.pcap" "$OUT/$name.pcap"
    mv "$LISTING" "$OUT/$name.txt"
    echo "wrote $OUT/$name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes) and $name.txt"
}

ip netns add "$NS"
in_ns ip link set lo mtu 1500 up
# Loopback does segmentation offload: without a GSO cap tcpdump sees 16-64 KB
# "segments" despite the 1500 MTU. Cap GSO so every segment is at most one MSS,
# as on a real wire.
in_ns ip link set lo gso_max_size 1500 gso_max_segs 1 \
    || die "cannot cap GSO on lo (iproute2/kernel too old?)"
make_site

record http_curl \
    "python3 -m http.server (HTTP/1.0: every response ends at connection close; curl's 2-URL command opens 2 connections)" \
    requests_http10 python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/site"

record http_keepalive \
    "pcaps/record/http11_server.py (HTTP/1.1 keep-alive, Content-Length and chunked framing)" \
    requests_http11 python3 "$HERE/http11_server.py" "$WORK/site" "$PORT" 127.0.0.1
