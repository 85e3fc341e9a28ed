#!/bin/bash
# Record real Redis clients against a real redis-server 7.0 (Debian) seeded with
# fake data, inside a private network namespace:
#
#   pcaps/redis_dump.pcap     redis-cli --scan (with and without --pattern), KEYS *,
#                             --bigkeys, a python3-redis SCAN + TYPE + GET/HGETALL/...
#                             dump of every key, --pipe mass insert, MONITOR
#   pcaps/redis_rdb.pcap      redis-cli --rdb (REPLCONF rdb-only 1, SYNC, the RDB)
#   pcaps/redis_py.pcap       python3-redis as an application against requirepass:
#                             WRONGPASS, NOAUTH, AUTH, pipeline of 50, scan_iter,
#                             HGETALL, DBSIZE, INFO keyspace
#   pcaps/redis_ioredis.pcap  ioredis: HELLO 3 (which it cannot parse), HGETALL,
#                             SMEMBERS, SUBSCRIBE + PUBLISH, CLIENT REPLY OFF/ON;
#                             redis-cli -3 for RESP3 map and set replies
#   pcaps/redis_nmap.pcap     nmap --script redis-info, nmap -sV, curl HTTP to 6379
#
# and next to each <name>.facts.json: tools and versions, every step with what
# the client reported (keys, values, hits, bytes), and tshark's view (requests
# per connection and per command; malformed packets must be 0).
#
#   sudo pcaps/record/record_redis_clients.sh [NAME...]     (default: all)
#
# Seed (before the capture starts, so not in it): S strings user:NNNN, H hashes
# customer:NNNN, L lists orders:NNNN, T sets tags:NNNN, Z sorted sets
# scores:NNNN, all fake. Same recipe as the other record scripts (lib_netns.sh).
# Needs root, iproute2, tcpdump, tcpreplay, tshark, redis-server, redis-tools,
# python3-redis, nmap, curl, node + npm (ioredis pinned in
# redis_clients/package.json, installed into SW_NPM, default /tmp/sw-npm-kv).
# Timestamps, ports, ISNs and key order (random hash seed) differ per run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)
SW_NPM=${SW_NPM:-/tmp/sw-npm-kv}
PY=/usr/bin/python3
PORT=6379
PASSWORD=s3cret-redis-pass
SERVER_PID=
SW_TAG=record_redis_clients
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y redis-server redis-tools nmap curl tshark nodejs npm" \
    redis-server redis-cli nmap curl tshark node npm
"$PY" -c 'import redis' 2>/dev/null || die "apt-get install -y python3-redis"

npm_install() {                   # npm_install PACKAGE.JSON: pinned deps into SW_NPM
    local pkgs spec ok=1
    pkgs=$(node -p "const d=require('$1').dependencies; Object.keys(d).map(n=>n+'@'+d[n]).join(' ')")
    for spec in $pkgs; do
        [ "$(node -p "try{require('$SW_NPM/node_modules/${spec%@*}/package.json').version}catch(e){''}")" = "${spec##*@}" ] || ok=0
    done
    [ $ok = 1 ] && return 0
    # shellcheck disable=SC2086
    npm install --prefix "$SW_NPM" --no-audit --no-fund $pkgs >&2
}
npm_install "$HERE/redis_clients/package.json"
export NODE_PATH=$SW_NPM/node_modules

CLI=(redis-cli -h 127.0.0.1 -p "$PORT")
STEPS=("$PY" "$HERE/redis_clients/redis_steps.py" --port "$PORT")
VERSIONS=$(printf '{"redis-server": "%s", "redis-cli": "%s", "python3-redis": "%s", "ioredis": "%s", "nmap": "%s", "curl": "%s", "tshark": "%s"}' \
    "$(redis-server --version | sed -E 's/.* v=([^ ]*).*/\1/')" "$(redis-cli --version | cut -d' ' -f2)" \
    "$("$PY" -c 'import redis; print(redis.__version__)')" \
    "$(node -p "require('$SW_NPM/node_modules/ioredis/package.json').version")" \
    "$(nmap -V | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')" "$(curl --version | head -1 | cut -d' ' -f2)" \
    "$(tshark -v | head -1 | cut -d' ' -f3)")

# begin NAME [SERVER-ARGS...]: server up, seeded (S H L T Z from SEED), capture on
begin() {
    NAME=$1; shift
    SERVER_ARGS=(redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no "$@")
    : >"$WORK/steps.jsonl"
    start_bg SERVER_PID "${SERVER_ARGS[@]}" >"$WORK/$NAME.server.log" 2>&1
    wait_for "redis-server on $PORT" port_listening "$PORT"
    SEEDED=$(in_ns "${STEPS[@]}" ${AUTH:+--password "$AUTH"} seed $SEED)
    capture_start "$WORK/$NAME.raw.pcap" "tcp port $PORT"
}

# finish TITLE [EXTRA-JSON] [KV_FACTS-OPTIONS...]
finish() {
    local title=$1 extra=${2:-"{}"}
    local opts=("${@:3}")
    capture_stop
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    fix_checksums "$WORK/$NAME.raw.pcap" "$WORK/$NAME.pcap"
    check_not_cut "$WORK/$NAME.pcap"
    if declare -F "after_$NAME" >/dev/null; then "after_$NAME" "$WORK/$NAME.pcap"; fi
    extra=$("$PY" -c 'import json,sys; e=json.loads(sys.argv[1]); e["seeded_before_capture"]=json.loads(sys.argv[2]); print(json.dumps(e))' "$extra" "$SEEDED")
    "$PY" "$HERE/kv_facts.py" write --name "$NAME" --title "$title" --pcap "$WORK/$NAME.pcap" \
        --proto resp --port "$PORT" --server "${SERVER_ARGS[*]}" --recorded-by pcaps/record/record_redis_clients.sh \
        --steps "$WORK/steps.jsonl" --versions "$VERSIONS" --extra "$extra" "${opts[@]}" --out "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json" "$OUT/"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes) and $NAME.facts.json"
}

lines() { grep -c . "$1" || true; }

rec_redis_dump() {
    SEED="150 100 30 15 5"
    begin redis_dump
    local keys=300 n
    in_ns "${CLI[@]}" --scan >"$WORK/scan.out"
    n=$(sort -u "$WORK/scan.out" | grep -c .); [ "$n" = $keys ] || die "--scan: $n keys"
    note_step scan redis-cli "{\"keys_printed\": $(lines "$WORK/scan.out"), \"distinct\": $n}" redis-cli --scan
    in_ns "${CLI[@]}" --scan --pattern 'customer:*' >"$WORK/scan.out"
    n=$(sort -u "$WORK/scan.out" | grep -c .); [ "$n" = 100 ] || die "--scan --pattern: $n keys"
    note_step scan_pattern redis-cli "{\"keys_printed\": $(lines "$WORK/scan.out"), \"distinct\": $n}" redis-cli --scan --pattern 'customer:*'
    in_ns "${CLI[@]}" KEYS '*' >"$WORK/keys.out"
    n=$(lines "$WORK/keys.out"); [ "$n" = $keys ] || die "KEYS *: $n keys"
    note_step keys_all redis-cli "{\"keys\": $n}" redis-cli KEYS '*'
    in_ns "${CLI[@]}" --bigkeys >"$WORK/big.out"
    note_step bigkeys redis-cli "$("$PY" -c 'import json,sys; print(json.dumps([l.strip() for l in open(sys.argv[1]) if l.startswith(("Biggest", "Sampled")) or " keys with " in l]))' "$WORK/big.out")" redis-cli --bigkeys
    local dumped
    dumped=$(in_ns "${STEPS[@]}" dump)
    note_step dump python3-redis "$dumped" python3 redis_steps.py dump
    # --pipe: 200 SET commands in RESP, one connection; redis-cli appends an ECHO
    # of a random 20-byte marker and waits for its echo to know it is done
    "$PY" -c 'import sys
for i in range(1, 201):
    k, v = b"bulk:%04d" % i, b"mass-inserted value %d" % i
    sys.stdout.buffer.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))' >"$WORK/pipe.in"
    in_ns "${CLI[@]}" --pipe <"$WORK/pipe.in" >"$WORK/pipe.out" 2>&1
    grep -q "errors: 0, replies: 200" "$WORK/pipe.out" || die "--pipe: $(cat "$WORK/pipe.out")"
    note_step pipe redis-cli "$(tail -1 "$WORK/pipe.out")" redis-cli --pipe '<' "200 SET bulk:NNNN commands in RESP ($(stat -c %s "$WORK/pipe.in") bytes)"
    # MONITOR in the background while another client issues 5 commands
    local mon_pid
    start_bg mon_pid redis-cli -h 127.0.0.1 -p "$PORT" MONITOR >"$WORK/monitor.out"
    sleep 0.5
    for c in "SET monitored:1 hello" "GET monitored:1" "INCR counter:1" "DEL monitored:1" "PING"; do
        # shellcheck disable=SC2086
        in_ns "${CLI[@]}" $c >/dev/null
    done
    sleep 0.5
    stop_pid "$mon_pid" TERM
    n=$(lines "$WORK/monitor.out")
    note_step monitor redis-cli "{\"monitor_lines\": $n, \"first\": \"OK\", \"commands_issued_meanwhile\": 5, \"each_on_its_own_connection\": true}" \
        redis-cli MONITOR "(stopped with SIGTERM after SET, GET, INCR, DEL, PING from 5 other redis-cli runs)"
    finish "redis-cli --scan, --scan --pattern, KEYS *, --bigkeys; python3-redis key-by-key dump of 300 keys; --pipe of 200 SET; MONITOR"
}

rec_redis_rdb() {
    SEED="150 100 30 15 5"
    begin redis_rdb
    in_ns "${CLI[@]}" --rdb "$WORK/dump.rdb" >"$WORK/rdb.out" 2>&1 || die "--rdb: $(cat "$WORK/rdb.out")"
    local info
    info=$("$PY" - "$WORK/dump.rdb" <<'EOF'
import json, sys
data = open(sys.argv[1], "rb").read()
def length(b, i):            # RDB length encoding: value, next offset
    t = b[i] >> 6
    if t == 0: return b[i] & 63, i + 1
    if t == 1: return ((b[i] & 63) << 8) | b[i + 1], i + 2
    if t == 2 and b[i] == 0x80: return int.from_bytes(b[i + 1:i + 5], "big"), i + 5
    raise ValueError("length type")
i = data.index(b"\xfe\x00")                   # SELECTDB 0
assert data[i + 2] == 0xfb                    # RESIZEDB
keys, j = length(data, i + 3)
expires, _ = length(data, j)
print(json.dumps({"rdb_bytes": len(data), "magic": data[:9].decode(), "resizedb_keys": keys, "resizedb_expires": expires}))
EOF
)
    note_step rdb redis-cli "$info" redis-cli --rdb FILE "(redis-cli said: $(tr '\n' ' ' <"$WORK/rdb.out"))"
    finish "redis-cli --rdb against a server seeded with 300 keys: REPLCONF capa eof, REPLCONF rdb-only 1, SYNC (inline), then the RDB payload" \
        "{}" --heads --client-payloads
}

# What the server sent on the wire for SYNC, read back from the capture: +OK
# twice (the REPLCONFs), newlines while the fork writes the RDB, then the RDB
# framed as "$EOF:<40-byte marker>\r\n" ... marker (redis-cli offered capa eof).
after_redis_rdb() {
    local wire
    wire=$(tshark -r "$1" -Y "tcp.srcport==$PORT && tcp.len>0" -T fields -e tcp.payload 2>/dev/null | "$PY" -c '
import json, sys
data = bytes.fromhex("".join(l.strip() for l in sys.stdin))
i = 0
oks = 0
while data.startswith(b"+OK\r\n", i):
    oks += 1; i += 5
nl = 0
while data[i:i + 1] == b"\n":
    nl += 1; i += 1
assert data.startswith(b"$EOF:", i), data[i:i + 20]
marker = data[i + 5:i + 45]
body = data[i + 47:]
assert body.endswith(marker)
print(json.dumps({"server_bytes": len(data), "simple_string_OK": oks, "keepalive_newlines": nl,
                  "rdb_framing": "$EOF:<40-byte marker>\\r\\n, RDB, marker",
                  "rdb_bytes_between_markers": len(body) - 40}))')
    note_step rdb_on_the_wire tshark "$wire" tshark -r redis_rdb.pcap "(server payload, parsed)"
}

rec_redis_py() {
    SEED="150 100 30 15 5"
    AUTH=$PASSWORD begin redis_py --requirepass "$PASSWORD"
    local got
    got=$(in_ns "${STEPS[@]}" --password "$PASSWORD" app)
    note_step app python3-redis "$got" python3 redis_steps.py --password PASSWORD app
    AUTH=
    finish "python3-redis against a server with requirepass: WRONGPASS, NOAUTH, AUTH, pipeline of 50, scan_iter(count=100), HGETALL, DBSIZE, INFO keyspace"
}

rec_redis_ioredis() {
    SEED="150 100 30 15 5"
    begin redis_ioredis
    local got n
    got=$(in_ns node "$HERE/redis_clients/ioredis_client.js" "$PORT")
    note_step ioredis ioredis "$got" node ioredis_client.js
    n=$(in_ns "${CLI[@]}" -3 HGETALL customer:0001 | grep -c .)
    note_step resp3_hgetall redis-cli "{\"lines_printed\": $n, \"note\": \"redis-cli -3 sends HELLO 3 first; HGETALL then answers a RESP3 map of 4 fields\"}" redis-cli -3 HGETALL customer:0001
    n=$(in_ns "${CLI[@]}" -3 SMEMBERS tags:0001 | grep -c .)
    note_step resp3_smembers redis-cli "{\"lines_printed\": $n, \"note\": \"RESP3 set of 3 members\"}" redis-cli -3 SMEMBERS tags:0001
    finish "ioredis: HELLO 3 (rejected by its RESP2 parser, connection dropped), HGETALL, SMEMBERS, SUBSCRIBE + 3 PUBLISH, CLIENT REPLY OFF/ON; redis-cli -3 HGETALL and SMEMBERS (RESP3 map and set)"
}

rec_redis_nmap() {
    SEED="20 5 0 0 0"
    begin redis_nmap
    in_ns nmap -Pn -n -p "$PORT" --script redis-info 127.0.0.1 >"$WORK/nmap1.out" 2>&1
    note_step nmap_redis_info nmap "$("$PY" -c 'import json,sys; print(json.dumps([l.rstrip() for l in open(sys.argv[1]) if l.startswith(("|", "6379"))]))' "$WORK/nmap1.out")" \
        nmap -Pn -n -p "$PORT" --script redis-info 127.0.0.1
    in_ns nmap -Pn -n -sV -p "$PORT" 127.0.0.1 >"$WORK/nmap2.out" 2>&1
    note_step nmap_sV nmap "$(grep "^$PORT" "$WORK/nmap2.out" | sed 's/  */ /g')" nmap -Pn -n -sV -p "$PORT" 127.0.0.1
    local rc=0
    in_ns curl -sS -m 2 "http://127.0.0.1:$PORT/" >"$WORK/curl.out" 2>&1 || rc=$?
    note_step curl_http curl "{\"exit_code\": $rc, \"said\": $("$PY" -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().strip()))' "$WORK/curl.out")}" curl -m 2 "http://127.0.0.1:$PORT/"
    grep -q "Possible SECURITY ATTACK" "$WORK/redis_nmap.server.log" \
        && note_step server_log redis-server "$(grep -m1 "Possible SECURITY ATTACK" "$WORK/redis_nmap.server.log" | sed 's/^[0-9]*:M [^*#]*[*#] //')" "(redis-server log)"
    finish "nmap --script redis-info, nmap -sV, and curl sending HTTP to the Redis port" "{}" --heads --client-payloads
}

ALL=(redis_dump redis_rdb redis_py redis_ioredis redis_nmap)
ns_setup
cd "$WORK"
AUTH=
for name in "${@:-${ALL[@]}}"; do
    declare -F "rec_$name" >/dev/null || die "unknown capture $name (known: ${ALL[*]})"
    "rec_$name"
done
