#!/bin/bash
# Record a real Redis capture, redis-cli talking to redis-server, inside a
# private network namespace:
#
#   pcaps/redis_cli.pcap  redis-cli sessions against
#                         redis-server --port 6379 --bind 127.0.0.1 --save ''
#                         --appendonly no --protected-mode no
#
# and next to it pcaps/redis_cli.txt listing the commands in capture order,
# with their connection and the reply (RESP type and value).
#
#   sudo pcaps/record/record_redis.sh [OUTDIR]        (default: pcaps/)
#
# Needs root (ip netns), ip, ss, tcpdump, tcprewrite (tcpreplay), redis-server
# and redis-cli (redis-server, redis-tools).
# Same recipe as record_http.sh (shared helpers in lib_netns.sh): everything happens in a namespace
# sw-rec-record_redis-<pid> and a temp dir that the EXIT trap removes; loopback MTU 1500
# with GSO capped so segments are wire-sized; tcpdump --immediate-mode, kernel
# drops checked; checksums fixed with `tcprewrite --fixcsum`. Timestamps,
# ports and ISNs are real, so a rerun gives different bytes but the same
# commands and replies (KEYS, SCAN and --scan list the keys in an order that
# changes from run to run: the server's hash seed is random).
#
# redis-cli reading commands from stdin (not a terminal) runs its interactive
# loop on one connection, and that loop first sends COMMAND DOCS to build its
# help: the reply (the documentation of every command, ~170 KB with 7.0) is
# the bulk of the capture. It is real redis-cli behaviour and is kept.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE/..}" && pwd)
PORT=6379
SERVER_PID=
SW_TAG=record_redis
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y redis-server redis-tools" redis-server redis-cli

# --no-raw: redis-cli marks the reply types ((integer), (nil), (error), quotes
# for bulk strings, "N) " for array elements) even though stdout is not a tty.
# It changes nothing on the wire.
CLI=(redis-cli -h 127.0.0.1 -p "$PORT" --no-raw)

CMD_NO=0
CONN_NO=0
listing() {                       # listing COMMAND REPLY: one line per command
    CMD_NO=$((CMD_NO + 1))
    printf '%2d. [conn %d] %-52s -> %s\n' "$CMD_NO" "$CONN_NO" "$1" "$2" >>"$LISTING"
}

# Canonical form of redis-cli --no-raw output: one element per line (the
# "N) " array prefixes and their indentation dropped, CR dropped), and each
# run of key names (what KEYS, SCAN and --scan return, in hash order) sorted.
canon() {
    tr -d '\r' | sed -E 's/^ *([0-9]+\) +)*//' | awk '
        function flush() { if (n) { close("LC_ALL=C sort"); n = 0 } }
        /^"?(ticket:[12]|customer:1)"?$/ { if (!n++) fflush(); print | "LC_ALL=C sort"; next }
        { flush(); print }
        END { flush() }'
}

check() {                         # check WHAT EXPECTED GOT (canonical forms)
    [ "$2" = "$3" ] || die "$1: unexpected reply
--- expected
$2
--- got
$3"
}

commands() {
    local got

    # 1. one short connection
    CONN_NO=$((CONN_NO + 1))
    got=$(in_ns "${CLI[@]}" PING | canon)
    check "PING" "PONG" "$got"
    listing "PING" "simple string PONG"

    # 2. one connection, commands read from stdin (redis-cli's interactive
    # loop, not a terminal): it sends COMMAND DOCS first, then each command
    # after the previous reply.
    CONN_NO=$((CONN_NO + 1))
    got=$(in_ns "${CLI[@]}" <<'EOF' | tee "$WORK/session.out" | canon
SET ticket:1 "synthetic support ticket one"
SET ticket:2 "synthetic two"
HSET customer:1 name "c00001" plan "gold"
GET ticket:1
MGET ticket:1 ticket:2 missing
HGETALL customer:1
KEYS *
SCAN 0 COUNT 10
DBSIZE
INFO keyspace
GET nosuchkey
EOF
)
    check "stdin session" 'OK
OK
(integer) 2
"synthetic support ticket one"
"synthetic support ticket one"
"synthetic two"
(nil)
"name"
"c00001"
"plan"
"gold"
"customer:1"
"ticket:1"
"ticket:2"
"0"
"customer:1"
"ticket:1"
"ticket:2"
(integer) 3
# Keyspace
db0:keys=3,expires=0,avg_ttl=0
(nil)' "$got"
    # KEYS and SCAN list the keys in hash order (random seed): note it as seen
    local keys
    keys=($(tr -d '\r' <"$WORK/session.out" | grep -oE '"(ticket:[12]|customer:1)"' | tr -d '"'))
    [ "${#keys[@]}" = 6 ] || die "stdin session: expected 6 key names in KEYS and SCAN, got ${keys[*]}"
    listing "COMMAND DOCS (sent by redis-cli itself, help init)" "array (RESP2 flattened map: every command's docs, many segments)"
    listing 'SET ticket:1 "synthetic support ticket one"' "simple string OK"
    listing 'SET ticket:2 "synthetic two"' "simple string OK"
    listing 'HSET customer:1 name "c00001" plan "gold"' "integer 2"
    listing "GET ticket:1" 'bulk string "synthetic support ticket one"'
    listing "MGET ticket:1 ticket:2 missing" "array of 3: bulk, bulk, null bulk"
    listing "HGETALL customer:1" "array of 4 bulk: name c00001 plan gold"
    listing "KEYS *" "array of 3 bulk: ${keys[*]:0:3}"
    listing "SCAN 0 COUNT 10" "array of 2: bulk \"0\", array of 3 bulk: ${keys[*]:3:3}"
    listing "DBSIZE" "integer 3"
    listing "INFO keyspace" 'bulk string "# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\n"'
    listing "GET nosuchkey" "null bulk string"

    # 3. --scan: SCAN with MATCH until the cursor returns to 0, one connection
    CONN_NO=$((CONN_NO + 1))
    got=$(in_ns "${CLI[@]}" --scan --pattern 'ticket:*' | tee "$WORK/scan.out" | canon)
    check "--scan" '"ticket:1"
"ticket:2"' "$got"
    listing "SCAN 0 MATCH ticket:* (redis-cli --scan --pattern 'ticket:*')" "array of 2: bulk \"0\", array of 2 bulk: $(tr -d '"' <"$WORK/scan.out" | xargs)"

    # 4. AUTH on a server without a password: error reply (redis-cli 7.0 still exits 0)
    CONN_NO=$((CONN_NO + 1))
    got=$(in_ns "${CLI[@]}" AUTH wrongpass | canon) || true
    check "AUTH" "(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?" "$got"
    listing "AUTH wrongpass" "error ERR AUTH <password> called without any password configured ..."

    # 5.
    CONN_NO=$((CONN_NO + 1))
    got=$(in_ns "${CLI[@]}" FLUSHALL | canon)
    check "FLUSHALL" "OK" "$got"
    listing "FLUSHALL" "simple string OK"
}

# record NAME TITLE COMMANDS-FUNCTION SERVER-COMMAND...
record() {
    local name=$1 title=$2 commands=$3; shift 3
    local raw=$WORK/$name.raw.pcap
    LISTING=$WORK/$name.txt
    CMD_NO=0
    CONN_NO=0

    # The cwd is the temp dir (--save '': nothing is written anyway).
    start_bg SERVER_PID "$@" >"$WORK/$name.server.log" 2>&1
    wait_for "the server on port $PORT" port_listening "$PORT"
    # -s 65535 and -B 32768: the COMMAND DOCS reply is a ~170 KB burst.
    capture_start "$raw" "tcp port $PORT"

    {
        echo "# $name.pcap - $title"
        echo "# Recorded by pcaps/record/record_redis.sh: redis-cli $(redis-cli --version | cut -d' ' -f2)," \
             "redis-server $(redis-server --version | sed -E 's/.* v=([^ ]*).*/\1/')"
        echo "# -> 127.0.0.1:$PORT inside a private netns (lo: MTU 1500, GSO capped), tcpdump -s 65535,"
        echo "# checksums fixed with tcprewrite --fixcsum. Commands in capture order, [conn N] = Nth TCP"
        echo "# connection, reply as RESP2 type and value:"
    } >"$LISTING"
    "$commands"

    capture_stop
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    fix_checksums "$raw" "$WORK/$name.pcap"
    local syns
    syns=$(tcpdump -nn -r "$WORK/$name.pcap" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l)
    [ "$syns" = "$CONN_NO" ] || die "expected $CONN_NO connections in the capture, found $syns SYNs"
    echo "# $CMD_NO commands on $CONN_NO connections, $(tcpdump -r "$WORK/$name.pcap" 2>/dev/null | wc -l) packets" >>"$LISTING"
    mv "$WORK/$name.pcap" "$OUT/$name.pcap"
    mv "$LISTING" "$OUT/$name.txt"
    echo "wrote $OUT/$name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes) and $name.txt"
}

ns_setup
cd "$WORK"
record redis_cli \
    "redis-cli sessions against redis-server (PING; a stdin session of 11 commands on one connection; --scan; AUTH error; FLUSHALL)" \
    commands redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no
