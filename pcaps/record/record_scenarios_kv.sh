#!/bin/bash
# Record the Redis and Memcached detection scenarios with real servers and
# clients, then move every address onto the outside/inside addresses the
# scenario needs with tcprewrite --pnat (the conventions of record_scenarios.sh):
#
#   pcaps/scenarios/<name>.pcap         the capture
#   pcaps/scenarios/<name>.facts.json   who is who, every step with exact counts
#                                       (keys, items, bytes), tshark's view, and the
#                                       alerts a correct sensor must raise, in words
#
#   sudo pcaps/record/record_scenarios_kv.sh [NAME...]       (default: all)
#
#   redis_key_dump     outside client: SCAN of the whole keyspace with a TYPE and a
#                      GET/HGETALL/LRANGE/SMEMBERS/ZRANGE of every key (600), KEYS *
#   redis_rdb_pull     outside client: redis-cli --rdb
#   redis_flushall     outside client: INFO, DBSIZE, FLUSHALL, SET of a ransom note
#   memcached_dump     outside client: stats items, stats cachedump per slab, one
#                      get of every key (600), flush_all
#   redis_trusted_app  the trusted application server 10.9.9.9 and an inside app
#                      10.0.0.20: ordinary GET/SET/MGET/HGETALL, a modest SCAN
#
# Addresses (tests/scenarios/scrapewatch.conf: home_nets 10.0.0.0/8, trusted
# 10.9.9.9). Inside the namespace the server listens on 0.0.0.0 and is reached
# at 127.0.0.2; clients come from 127.0.0.1 (the default source) or 127.0.0.3
# (python clients with --source). Redis becomes 10.0.0.6, Memcached 10.0.0.7;
# outside clients are documentation addresses (198.51.100.x, 203.0.113.x).
# Same recipe as the other record scripts (lib_netns.sh), snaplen 65535, checked
# that no packet was cut and no loopback address is left.
# Needs what record_redis_clients.sh and record_memcached.sh need (no node).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/scenarios
PY=/usr/bin/python3
SRV=127.0.0.2
A=127.0.0.1
B=127.0.0.3
REDIS_IP=10.0.0.6
MEMCACHED_IP=10.0.0.7
SERVER_PID=
SW_TAG=record_scenarios_kv
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y redis-server redis-tools memcached tshark" redis-server redis-cli memcached tshark
"$PY" -c 'import redis, pymemcache' 2>/dev/null || die "apt-get install -y python3-redis python3-pymemcache"

VERSIONS=$(printf '{"redis-server": "%s", "redis-cli": "%s", "python3-redis": "%s", "memcached": "%s", "python3-pymemcache": "%s", "tcprewrite": "%s", "tshark": "%s"}' \
    "$(redis-server --version | sed -E 's/.* v=([^ ]*).*/\1/')" "$(redis-cli --version | cut -d' ' -f2)" \
    "$("$PY" -c 'import redis; print(redis.__version__)')" "$(memcached -V | cut -d' ' -f2)" \
    "$("$PY" -c 'import pymemcache; print(pymemcache.__version__)')" \
    "$(tcprewrite -V 2>&1 | sed -n 's/^tcprewrite version: \([^ ]*\).*/\1/p')" "$(tshark -v | head -1 | cut -d' ' -f3)")

REDIS_STEPS=("$PY" "$HERE/redis_clients/redis_steps.py" --host "$SRV" --port 6379)
MC_STEPS=("$PY" "$HERE/memcached_clients/memcached_steps.py" --host "$SRV" --port 11211)
CLI=(redis-cli -h "$SRV" -p 6379)

# begin NAME redis|memcached SEED...: server up on 0.0.0.0, seeded (not captured), capture on
begin() {
    NAME=$1; KIND=$2; shift 2
    : >"$WORK/steps.jsonl"
    if [ "$KIND" = redis ]; then
        PORT=6379; PROTO=resp
        SERVER_CMD=(redis-server --port "$PORT" --bind 0.0.0.0 --save '' --appendonly no --protected-mode no)
        start_bg SERVER_PID "${SERVER_CMD[@]}" >"$WORK/$NAME.server.log" 2>&1
        wait_for "redis-server" port_listening "$PORT"
        SEEDED=$(in_ns "${REDIS_STEPS[@]}" seed "$@")
    else
        PORT=11211; PROTO=memcache
        SERVER_CMD=(memcached -u memcache -p "$PORT" -l 0.0.0.0 -m 64)
        start_bg SERVER_PID "${SERVER_CMD[@]}" >"$WORK/$NAME.server.log" 2>&1
        wait_for "memcached" port_listening "$PORT"
        SEEDED=$(in_ns "${MC_STEPS[@]}" seed "$@")
        sleep 2                   # let the LRU maintainer move new items to COLD,
    fi                            # the only LRU that stats cachedump walks
    capture_start "$WORK/$NAME.raw.pcap" "tcp port $PORT"
}

# finish TITLE ACTORS-JSON PNAT EXPECTED-JSON
finish() {
    local title=$1 actors=$2 pnat=$3 expected=$4
    capture_stop
    stop_pid "$SERVER_PID" TERM; SERVER_PID=
    fix_checksums "$WORK/$NAME.raw.pcap" "$WORK/$NAME.pcap" --pnat="$pnat"
    check_not_cut "$WORK/$NAME.pcap"
    tcpdump -nn -r "$WORK/$NAME.pcap" 2>/dev/null | grep -q ' 127\.' && die "$NAME: loopback address left after rewriting"
    mkdir -p "$OUT"
    "$PY" "$HERE/kv_facts.py" write --name "$NAME" --capture "pcaps/scenarios/$NAME.pcap" --title "$title" \
        --pcap "$WORK/$NAME.pcap" --proto "$PROTO" --port "$PORT" --server "${SERVER_CMD[*]}" \
        --recorded-by pcaps/record/record_scenarios_kv.sh --steps "$WORK/steps.jsonl" --versions "$VERSIONS" \
        --actors "$actors" --pnat "$pnat" --expected "$expected" \
        --extra "{\"seeded_before_capture\": $SEEDED}" --out "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json" "$OUT/"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes) and $NAME.facts.json"
}

step() {                          # step NAME ACTOR-IP TOOL REPORTED CMD...
    local name=$1; STEP_ACTOR=$2; shift 2
    note_step "$name" "$@"
    STEP_ACTOR=
}

EXPOSED_REDIS='{"alert": "exposed", "meaning": "Redis answered an outside client without authentication (exposed), keyed by server"}'

sc_redis_key_dump() {
    begin redis_key_dump redis 350 200 30 15 5
    local ip=198.51.100.31 got n
    got=$(in_ns "${REDIS_STEPS[@]}" dump_pipelined)
    [ "$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["keys_dumped"])' "$got")" = 600 ] || die "dump: $got"
    step dump "$ip" python3-redis "$got" python3 redis_steps.py dump_pipelined
    in_ns "${CLI[@]}" KEYS '*' >"$WORK/keys.out"
    n=$(grep -c . "$WORK/keys.out"); [ "$n" = 600 ] || die "KEYS *: $n"
    step keys_all "$ip" redis-cli "{\"keys\": $n}" redis-cli KEYS '*'
    finish "an outside client SCANs the whole keyspace (600 keys) and reads every key (TYPE + GET/HGETALL/LRANGE/SMEMBERS/ZRANGE, pipelined per SCAN batch), then runs KEYS *" \
        "{\"$A\": [\"$ip\", \"scraper (outside)\"], \"$SRV\": [\"$REDIS_IP\", \"Redis, no AUTH\"]}" \
        "$A/32:$ip/32,$SRV/32:$REDIS_IP/32" \
        "[$EXPOSED_REDIS,
          {\"alert\": \"enumeration\", \"meaning\": \"full SCAN of the keyspace from outside: the SCAN cursor chain went from 0 back to 0 (SCAN COUNT 100 calls: see the dump step; 600 keys listed)\"},
          {\"alert\": \"bulk read\", \"meaning\": \"one outside client read 600 keys (350 GET, 200 HGETALL, 30 LRANGE, 15 SMEMBERS, 5 ZRANGE): crosses a 500-key bulk-read threshold\", \"keys\": 600},
          {\"alert\": \"enumeration\", \"meaning\": \"KEYS * from outside (600 names in one reply)\"}]"
}

sc_redis_rdb_pull() {
    begin redis_rdb_pull redis 150 100 30 15 5
    local ip=198.51.100.32
    in_ns "${CLI[@]}" --rdb "$WORK/dump.rdb" >"$WORK/rdb.out" 2>&1 || die "--rdb: $(cat "$WORK/rdb.out")"
    step rdb "$ip" redis-cli "{\"rdb_bytes\": $(stat -c %s "$WORK/dump.rdb"), \"dbsize_before\": 300, \"said\": $("$PY" -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().strip()))' "$WORK/rdb.out")}" \
        redis-cli --rdb FILE
    finish "an outside client pulls the whole dataset with redis-cli --rdb (REPLCONF capa eof, REPLCONF rdb-only 1, SYNC; RDB of 300 keys)" \
        "{\"$A\": [\"$ip\", \"scraper (outside)\"], \"$SRV\": [\"$REDIS_IP\", \"Redis, no AUTH\"]}" \
        "$A/32:$ip/32,$SRV/32:$REDIS_IP/32" \
        "[$EXPOSED_REDIS,
          {\"alert\": \"rdb pull\", \"meaning\": \"replication/RDB pull from outside (SYNC after REPLCONF rdb-only 1): a full dump of the 300 keys in one transfer\"}]"
}

sc_redis_flushall() {
    begin redis_flushall redis 150 100 30 15 5
    local ip=203.0.113.77 out
    out=$(in_ns "${CLI[@]}" INFO | grep -c .)
    step info "$ip" redis-cli "{\"lines\": $out}" redis-cli INFO
    out=$(in_ns "${CLI[@]}" DBSIZE)
    [ "$out" = 300 ] || die "DBSIZE $out"
    step dbsize "$ip" redis-cli "{\"keys\": $out}" redis-cli DBSIZE
    out=$(in_ns "${CLI[@]}" FLUSHALL)
    step flushall "$ip" redis-cli "\"$out\"" redis-cli FLUSHALL
    local note="All your data is backed up. You must pay 0.05 BTC to 1Kz6v4B5CawcnCXYZ1ffQg4mGyeDd7QM7e to recover it. After paying email recover@example.com with your server IP."
    out=$(in_ns "${CLI[@]}" SET READ_ME_TO_RECOVER_YOUR_DATA "$note")
    step ransom_note "$ip" redis-cli "\"$out\"" redis-cli SET READ_ME_TO_RECOVER_YOUR_DATA "<ransom note text, ${#note} bytes>"
    out=$(in_ns "${CLI[@]}" DBSIZE)
    step dbsize_after "$ip" redis-cli "{\"keys\": $out}" redis-cli DBSIZE
    finish "ransom pattern from outside: INFO, DBSIZE (300), FLUSHALL, SET READ_ME_TO_RECOVER_YOUR_DATA, DBSIZE (1); one redis-cli connection per command" \
        "{\"$A\": [\"$ip\", \"attacker (outside)\"], \"$SRV\": [\"$REDIS_IP\", \"Redis, no AUTH\"]}" \
        "$A/32:$ip/32,$SRV/32:$REDIS_IP/32" \
        "[$EXPOSED_REDIS,
          {\"alert\": \"flush\", \"meaning\": \"FLUSHALL from outside: the 300 keys are wiped\"},
          {\"alert\": \"ransom note\", \"meaning\": \"key READ_ME_TO_RECOVER_YOUR_DATA written from outside right after the flush (rules/lists/ransom.patterns: read_me, _to_recover_, recover_your_data)\"},
          {\"alert\": \"campaign\", \"meaning\": \"recon (INFO, DBSIZE) -> wipe (FLUSHALL) -> ransom note by the same client against the same server\"}]"
}

sc_memcached_dump() {
    begin memcached_dump memcached 520 70 10
    local ip=198.51.100.33 got
    got=$(in_ns "${MC_STEPS[@]}" dump)
    [ "$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["keys_listed"], d["values_received"])' "$got")" = "600 600" ] \
        || die "memcached dump: $got"
    step dump "$ip" python3 "$got" python3 memcached_steps.py dump
    finish "an outside client lists every key (stats items, stats cachedump per slab), reads all 600 in one multi-get, then flush_all" \
        "{\"$A\": [\"$ip\", \"scraper (outside)\"], \"$SRV\": [\"$MEMCACHED_IP\", \"Memcached, no SASL\"]}" \
        "$A/32:$ip/32,$SRV/32:$MEMCACHED_IP/32" \
        "[{\"alert\": \"exposed\", \"meaning\": \"Memcached answered an outside client (no authentication), keyed by server\"},
          {\"alert\": \"enumeration\", \"meaning\": \"stats items + stats cachedump of every slab from outside: the full key list (600 names)\"},
          {\"alert\": \"bulk read\", \"meaning\": \"one get of 600 keys from outside, 600 values returned: crosses a 500-key bulk-read threshold\", \"keys\": 600},
          {\"alert\": \"flush\", \"meaning\": \"flush_all from outside after the dump\"},
          {\"alert\": \"campaign\", \"meaning\": \"enumerate -> dump -> wipe by the same client against the same server\"}]"
}

sc_redis_trusted_app() {
    begin redis_trusted_app redis 150 100 30 15 5
    local got
    got=$(in_ns "${REDIS_STEPS[@]}" trusted)
    step app 10.9.9.9 python3-redis "$got" python3 redis_steps.py trusted
    got=$(in_ns "${REDIS_STEPS[@]}" --source "$B" trusted)
    step app 10.0.0.20 python3-redis "$got" python3 redis_steps.py --source 127.0.0.3 trusted
    finish "the trusted application server 10.9.9.9 and an inside application 10.0.0.20 do ordinary traffic: 20 GET, 10 SET EX, MGET of 20, 10 HGETALL, SCAN 0 MATCH session:* COUNT 50" \
        "{\"$A\": [\"10.9.9.9\", \"trusted application server (inside, trusted_clients)\"], \"$B\": [\"10.0.0.20\", \"application server (inside)\"], \"$SRV\": [\"$REDIS_IP\", \"Redis, no AUTH\"]}" \
        "$A/32:10.9.9.9/32,$B/32:10.0.0.20/32,$SRV/32:$REDIS_IP/32" \
        "[]"
}

ALL=(redis_key_dump redis_rdb_pull redis_flushall memcached_dump redis_trusted_app)
ns_setup
cd "$WORK"
for name in "${@:-${ALL[@]}}"; do
    declare -F "sc_$name" >/dev/null || die "unknown scenario $name (known: ${ALL[*]})"
    "sc_$name"
done
