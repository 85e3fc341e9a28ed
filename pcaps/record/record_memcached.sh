#!/bin/bash
# Record real Memcached clients against a real memcached 1.6 (Debian) seeded with
# fake items in three slab classes, inside a private network namespace:
#
#   pcaps/memcached_tools.pcap       libmemcached-tools: memcdump, memccat of 100
#                                    keys, memcstat, memcflush (flush_all) last
#   pcaps/memcached_pymemcache.pcap  python3-pymemcache: set_many, get_many (hits and
#                                    misses), gets/cas, incr, delete, stats, stats
#                                    items/slabs, a noreply set
#   pcaps/memcached_memjs.pcap       memjs (binary protocol): set/get/delete/increment/
#                                    stats/flush; then a memcached -S (SASL) server:
#                                    SASL PLAIN success and failure
#   pcaps/memcached_nmap.pcap        nmap --script memcached-info over TCP and over UDP
#                                    (-sU), and crafted UDP requests with the 8-byte
#                                    frame header: stats, and a multi-get of 10 large
#                                    items whose reply spans many datagrams
#
# and next to each <name>.facts.json (steps with what each client reported,
# tshark's view: requests per connection and per command, malformed = 0).
#
#   sudo pcaps/record/record_memcached.sh [NAME...]      (default: all)
#
# Server: memcached -u memcache -p 11211 -U 11211 -l 127.0.0.1 -m 64 (Debian's
# memcached has UDP off by default; -U turns it on). Seed, before the capture:
# 200 item:NNNN of 60 bytes, 80 blob:NNNN of 600 bytes, 20 big:NNNN of 4000
# bytes. Same recipe as the other record scripts (lib_netns.sh).
# Needs root, iproute2, tcpdump, tcpreplay, tshark, memcached, libmemcached-tools,
# python3-pymemcache, sasl2-bin (saslpasswd2), nmap, node + npm (memjs pinned in
# memcached_clients/package.json, installed into SW_NPM, default /tmp/sw-npm-kv).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)
SW_NPM=${SW_NPM:-/tmp/sw-npm-kv}
PY=/usr/bin/python3
PORT=11211
SASL_USER=appuser
SASL_PASSWORD=app-secret-pw
SERVER_PID=
SW_TAG=record_memcached
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y memcached libmemcached-tools sasl2-bin nmap tshark nodejs npm" \
    memcached memcdump memccat memcstat memcflush saslpasswd2 nmap tshark node npm
"$PY" -c 'import pymemcache' 2>/dev/null || die "apt-get install -y python3-pymemcache"

PKGS=$(node -p "const d=require('$HERE/memcached_clients/package.json').dependencies; Object.keys(d).map(n=>n+'@'+d[n]).join(' ')")
for spec in $PKGS; do
    [ "$(node -p "try{require('$SW_NPM/node_modules/${spec%@*}/package.json').version}catch(e){''}")" = "${spec##*@}" ] \
        || npm install --prefix "$SW_NPM" --no-audit --no-fund "$spec" >&2
done
export NODE_PATH=$SW_NPM/node_modules

STEPS=("$PY" "$HERE/memcached_clients/memcached_steps.py" --port "$PORT")
SERVERS=--servers=127.0.0.1:$PORT
VERSIONS=$(printf '{"memcached": "%s", "libmemcached-tools": "%s", "python3-pymemcache": "%s", "memjs": "%s", "nmap": "%s", "tshark": "%s"}' \
    "$(memcached -V | cut -d' ' -f2)" "$(dpkg-query -W -f '${Version}' libmemcached-tools)" \
    "$("$PY" -c 'import pymemcache; print(pymemcache.__version__)')" \
    "$(node -p "require('$SW_NPM/node_modules/memjs/package.json').version")" \
    "$(nmap -V | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')" "$(tshark -v | head -1 | cut -d' ' -f3)")

SERVER_CMD=(memcached -u memcache -p "$PORT" -U "$PORT" -l 127.0.0.1 -m 64)

server_start() {                  # server_start [EXTRA-ARGS...]
    start_bg SERVER_PID "${SERVER_CMD[@]}" "$@" >>"$WORK/$NAME.server.log" 2>&1
    wait_for "memcached on $PORT" port_listening "$PORT"
}

# begin NAME: server up, seeded (SEED: small medium large), capture on
begin() {
    NAME=$1
    : >"$WORK/steps.jsonl"
    server_start
    SEEDED=$(in_ns "${STEPS[@]}" seed $SEED)
    capture_start "$WORK/$NAME.raw.pcap" "port $PORT"
}

finish() {                        # finish TITLE [KV_FACTS-OPTIONS...]
    local title=$1; shift
    capture_stop
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    fix_checksums "$WORK/$NAME.raw.pcap" "$WORK/$NAME.pcap"
    check_not_cut "$WORK/$NAME.pcap"
    "$PY" "$HERE/kv_facts.py" write --name "$NAME" --title "$title" --pcap "$WORK/$NAME.pcap" \
        --proto memcache --port "$PORT" --server "${SERVER_CMD[*]}" --recorded-by pcaps/record/record_memcached.sh \
        --steps "$WORK/steps.jsonl" --versions "$VERSIONS" --extra "{\"seeded_before_capture\": $SEEDED}" \
        "$@" --out "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json" "$OUT/"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes) and $NAME.facts.json"
}

json_of() { "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read()))'; }

rec_memcached_tools() {
    SEED="200 80 20"
    begin memcached_tools
    local n keys
    in_ns memcdump "$SERVERS" >"$WORK/dump.out"
    n=$(sort -u "$WORK/dump.out" | grep -c .)
    [ "$n" = 300 ] || die "memcdump printed $n keys"
    note_step memcdump memcdump "{\"keys_printed\": $(grep -c . "$WORK/dump.out"), \"distinct\": $n}" memcdump "$SERVERS"
    keys=$(printf 'item:%04d ' $(seq 1 60); printf 'blob:%04d ' $(seq 1 30); printf 'big:%04d ' $(seq 1 10))
    # shellcheck disable=SC2086
    in_ns memccat "$SERVERS" $keys >"$WORK/cat.out"
    note_step memccat memccat "{\"keys_asked\": 100, \"values_printed\": $(grep -c . "$WORK/cat.out"), \"bytes_printed\": $(stat -c %s "$WORK/cat.out"), \"value_bytes_expected\": $((60 * 60 + 30 * 600 + 10 * 4000))}" \
        memccat "$SERVERS" "item:0001..0060 blob:0001..0030 big:0001..0010 (100 keys)"
    in_ns memcstat "$SERVERS" >"$WORK/stat.out"
    note_step memcstat memcstat "{\"lines_printed\": $(grep -c . "$WORK/stat.out"), \"curr_items\": \"$(awk '/curr_items/ {print $2}' "$WORK/stat.out")\"}" memcstat "$SERVERS"
    in_ns memcflush "$SERVERS" >"$WORK/flush.out" 2>&1
    note_step memcflush memcflush "{\"exit_code\": 0, \"said\": $(json_of <"$WORK/flush.out")}" memcflush "$SERVERS"
    finish "libmemcached-tools: memcdump (300 keys), memccat of 100 keys, memcstat, memcflush"
}

rec_memcached_pymemcache() {
    SEED="200 80 20"
    begin memcached_pymemcache
    local got
    got=$(in_ns "${STEPS[@]}" pymemcache)
    note_step pymemcache python3-pymemcache "$got" python3 memcached_steps.py pymemcache
    finish "python3-pymemcache: set_many, get_many with hits and misses, gets/cas (ok and stale), incr, delete, stats, stats items/slabs, a noreply set"
}

rec_memcached_memjs() {
    SEED="20 5 2"
    begin memcached_memjs
    local got
    got=$(in_ns node "$HERE/memcached_clients/memjs_client.js" plain "$PORT")
    note_step memjs memjs "$got" node memjs_client.js plain "$PORT"
    # the same port, now a SASL-only server (memcached -S: binary protocol only)
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    mkdir -p "$WORK/sasl"
    chmod o+x "$WORK"
    printf 'mech_list: plain\nsasldb_path: %s\n' "$WORK/sasl/sasldb2" >"$WORK/sasl/memcached.conf"
    echo -n "$SASL_PASSWORD" | saslpasswd2 -p -a memcached -c -f "$WORK/sasl/sasldb2" "$SASL_USER"
    chmod 755 "$WORK/sasl"; chmod 644 "$WORK/sasl/sasldb2"
    # "Cannot enable UDP while using binary SASL authentication": no -U here
    start_bg SERVER_PID env SASL_CONF_PATH="$WORK/sasl" memcached -u memcache -p "$PORT" -l 127.0.0.1 -m 64 -S \
        >>"$WORK/$NAME.server.log" 2>&1
    wait_for "memcached -S on $PORT" port_listening "$PORT"
    got=$(in_ns node "$HERE/memcached_clients/memjs_client.js" sasl "$PORT" "$SASL_USER" "$SASL_PASSWORD")
    note_step memjs_sasl memjs "$got" node memjs_client.js sasl "$PORT" "$SASL_USER" PASSWORD
    SERVER_CMD+=("(then memcached -u memcache -p $PORT -l 127.0.0.1 -m 64 -S, SASL PLAIN from a sasldb; -S refuses -U)")
    finish "memjs (binary protocol): set, get hit and miss, increment, delete, stats, flush; then memcached -S: SASL PLAIN with the good and a wrong password"
    SERVER_CMD=(memcached -u memcache -p "$PORT" -U "$PORT" -l 127.0.0.1 -m 64)
}

rec_memcached_nmap() {
    SEED="20 5 20"
    begin memcached_nmap
    in_ns nmap -Pn -n -p "$PORT" --script memcached-info 127.0.0.1 >"$WORK/nmap1.out" 2>&1
    note_step nmap_tcp nmap "$("$PY" -c 'import json,sys; print(json.dumps([l.rstrip() for l in open(sys.argv[1]) if l.startswith(("|", "11211"))]))' "$WORK/nmap1.out")" \
        nmap -Pn -n -p "$PORT" --script memcached-info 127.0.0.1
    in_ns nmap -Pn -n -sU -p "$PORT" --script memcached-info 127.0.0.1 >"$WORK/nmap2.out" 2>&1
    note_step nmap_udp nmap "$("$PY" -c 'import json,sys; print(json.dumps([l.rstrip() for l in open(sys.argv[1]) if l.startswith(("|", "11211"))]))' "$WORK/nmap2.out")" \
        nmap -Pn -n -sU -p "$PORT" --script memcached-info 127.0.0.1
    local got
    got=$(in_ns "${STEPS[@]}" udp 10)
    note_step udp_crafted python3 "$got" python3 memcached_steps.py udp 10
    finish "nmap memcached-info over TCP and UDP; crafted UDP stats and a 10-item multi-get of 4000-byte values (reply in many datagrams: amplification)" \
        --heads --client-payloads
}

ALL=(memcached_tools memcached_pymemcache memcached_memjs memcached_nmap)
ns_setup
cd "$WORK"
for name in "${@:-${ALL[@]}}"; do
    declare -F "rec_$name" >/dev/null || die "unknown capture $name (known: ${ALL[*]})"
    "rec_$name"
done
