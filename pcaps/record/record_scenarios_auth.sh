#!/bin/bash
# Record the login scenarios of issue 14 (points 3 and 4) with real clients:
# redis-cli against redis-server with requirepass, python3-pymongo against
# pcaps/record/mongo_server.py (SCRAM-SHA-256, written from the MongoDB
# specifications; NOT MongoDB), then move every address onto the outside/inside
# addresses the scenario needs with tcprewrite --pnat (the conventions of
# record_scenarios_kv.sh):
#
#   pcaps/scenarios/<name>.pcap         the capture
#   pcaps/scenarios/<name>.facts.json   who is who, every step with what the
#                                       client reported (logins refused and
#                                       their codes, calls made), tshark's view,
#                                       and the alerts a correct sensor must
#                                       raise, in words (auth_facts.py)
#
#   sudo pcaps/record/record_scenarios_auth.sh [NAME...]       (default: all)
#
#   auth_guessing     one outside client guesses passwords: 25 redis-cli
#                     connections with a wrong -a each (WRONGPASS), then 25
#                     pymongo logins as alice with wrong passwords (SCRAM
#                     conversation answered AuthenticationFailed, code 18)
#   auth_app_login    an outside application logs in once to each server with
#                     the right password (redis-cli -a, one connection; pymongo)
#                     and does ordinary work
#   mongo_midstream   an authenticated pymongo application session, the capture
#                     cut (editcap -A) after its handshake and login: what a
#                     sensor started mid-session sees; the server signs its
#                     $clusterTime (access control)
#   mongo_unauth_app  the same application session without credentials against
#                     a server without access control, captured whole
#
# Inside the namespace the servers listen on 0.0.0.0: Redis reached at
# 127.0.0.2, the MongoDB test server at 127.0.0.4, from the default source
# 127.0.0.1. Addresses (tests/scenarios/scrapewatch.conf: home_nets 10.0.0.0/8):
# Redis 10.0.0.6, MongoDB 10.0.0.12; outside clients are documentation
# addresses. Same recipe as the other record scripts (lib_netns.sh, its
# namespace named with this shell's pid), snaplen 65535, checked that no
# packet was cut and no loopback address is left.
#
# Needs root, iproute2, tcpdump, tcprewrite, editcap and tshark (wireshark-common,
# tshark), redis-server and redis-tools, Debian's python3 with python3-pymongo.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/scenarios
PY=/usr/bin/python3
A=127.0.0.1
REDIS_SRV=127.0.0.2
MONGO_SRV=127.0.0.4
REDIS_IP=10.0.0.6
MONGO_IP=10.0.0.12
REDIS_PASSWORD=correct-horse-battery-7
# keyId of the test server's signed $clusterTime: a real member's key id is
# the key's creation time in seconds << 32 (non-zero); any non-zero value will do
CLUSTER_KEY_ID=7291851256373411842
REDIS_PID=
MONGO_PID=
SW_TAG=record_scenarios_auth
# shellcheck source=lib_netns.sh
source "$HERE/lib_netns.sh"
need_tools "apt-get install -y redis-server redis-tools wireshark-common tshark" \
    redis-server redis-cli editcap tshark
"$PY" -c 'import pymongo' 2>/dev/null || die "apt-get install -y python3-pymongo"

VERSIONS=$(printf '{"redis-server": "%s", "redis-cli": "%s", "python3-pymongo": "%s", "mongo_server.py": "pcaps/record/mongo_server.py", "editcap": "%s", "tcprewrite": "%s", "tshark": "%s"}' \
    "$(redis-server --version | sed -E 's/.* v=([^ ]*).*/\1/')" "$(redis-cli --version | cut -d' ' -f2)" \
    "$("$PY" -c 'import pymongo; print(pymongo.version)')" "$(editcap -v | head -1 | cut -d' ' -f3)" \
    "$(tcprewrite -V 2>&1 | sed -n 's/^tcprewrite version: \([^ ]*\).*/\1/p')" "$(tshark -v | head -1 | cut -d' ' -f3)")

CLI=(redis-cli -h "$REDIS_SRV" -p 6379 --no-auth-warning)
MONGO_STEPS=("$PY" "$HERE/mongo_clients/auth_steps.py" "$MONGO_SRV" 27017)
SERVERS=""

redis_up() {
    start_bg REDIS_PID redis-server --port 6379 --bind 0.0.0.0 --save '' --appendonly no \
        --requirepass "$REDIS_PASSWORD" >"$WORK/redis.log" 2>&1
    wait_for "redis-server" port_listening 6379
    SERVERS="$SERVERS redis-server --port 6379 --bind 0.0.0.0 --save '' --appendonly no --requirepass <password>;"
}

mongo_up() {                      # mongo_up [KEY-ID]: signed $clusterTime when given
    local key=${1:-0}
    start_bg MONGO_PID "$PY" "$HERE/mongo_server.py" --host 0.0.0.0 --port 27017 \
        --cluster-time-key "$key" --log "$WORK/mongo_server.jsonl" >"$WORK/mongo.log" 2>&1
    wait_for "mongo_server.py" port_listening 27017
    SERVERS="$SERVERS pcaps/record/mongo_server.py --host 0.0.0.0 --port 27017 --cluster-time-key $key;"
}

begin() {                         # begin NAME FILTER
    NAME=$1
    : >"$WORK/steps.jsonl"
    capture_start "$WORK/$NAME.raw.pcap" "$2"
}

servers_down() {
    stop_pid "$REDIS_PID" TERM; REDIS_PID=
    stop_pid "$MONGO_PID" TERM; MONGO_PID=
    SERVERS=""
}

# finish TITLE ACTORS-JSON PNAT EXPECTED-JSON [CUT-EPOCH]
finish() {
    local title=$1 actors=$2 pnat=$3 expected=$4 cut=${5:-} raw cutfacts=()
    capture_stop
    local server=$SERVERS
    servers_down
    raw=$WORK/$NAME.raw.pcap
    if [ -n "$cut" ]; then
        local before after
        before=$(tshark -r "$raw" -T fields -e frame.number | wc -l)
        editcap -A "$cut" "$raw" "$WORK/$NAME.cut.pcap"
        after=$(tshark -r "$WORK/$NAME.cut.pcap" -T fields -e frame.number | wc -l)
        [ "$(tshark -r "$WORK/$NAME.cut.pcap" -Y 'tcp.flags.syn==1' | wc -l)" = 0 ] \
            || die "$NAME: a connection starts after the cut at $cut"
        cutfacts=(--cut "{\"editcap\": \"editcap -A $cut\", \"packets_recorded\": $before, \"packets_dropped\": $((before - after)), \"packets_kept\": $after}")
        raw=$WORK/$NAME.cut.pcap
    fi
    fix_checksums "$raw" "$WORK/$NAME.pcap" --pnat="$pnat"
    check_not_cut "$WORK/$NAME.pcap"
    tcpdump -nn -r "$WORK/$NAME.pcap" 2>/dev/null | grep -q ' 127\.' && die "$NAME: loopback address left after rewriting"
    mkdir -p "$OUT"
    "$PY" "$HERE/auth_facts.py" --name "$NAME" --title "$title" --pcap "$WORK/$NAME.pcap" \
        --server "$server" --steps "$WORK/steps.jsonl" --versions "$VERSIONS" --actors "$actors" \
        --pnat "$pnat" --expected "$expected" "${cutfacts[@]}" --out "$WORK/$NAME.facts.json"
    mv "$WORK/$NAME.pcap" "$WORK/$NAME.facts.json" "$OUT/"
    echo "wrote $OUT/$NAME.pcap ($(stat -c %s "$OUT/$NAME.pcap") bytes) and $NAME.facts.json"
}

step() {                          # step NAME ACTOR-IP TOOL REPORTED CMD...
    local name=$1; STEP_ACTOR=$2; shift 2
    note_step "$name" "$@"
    STEP_ACTOR=
}

sc_auth_guessing() {
    redis_up
    mongo_up "$CLUSTER_KEY_ID"
    begin auth_guessing "tcp port 6379 or tcp port 27017"
    local ip=198.51.100.61 i refused=0 got
    for i in $(seq -w 1 25); do
        got=$(in_ns "${CLI[@]}" -a "guess-$i" PING 2>&1 || true)
        case $got in *WRONGPASS*) refused=$((refused + 1)) ;; esac
    done
    [ "$refused" = 25 ] || die "redis: $refused of 25 wrong passwords refused"
    step redis_guesses "$ip" redis-cli "{\"attempts\": 25, \"refused_wrongpass\": $refused}" \
        redis-cli -a guess-NN PING "(25 connections, NN = 01..25)"
    got=$(in_ns "${MONGO_STEPS[@]}" guess 25)
    [ "$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["refused"])' "$got")" = 25 ] || die "mongo guesses: $got"
    step mongo_guesses "$ip" python3-pymongo "$got" python3 auth_steps.py guess 25
    finish "an outside client guesses passwords: 25 redis-cli connections with a wrong password each (WRONGPASS), then 25 pymongo logins as alice with wrong passwords (SCRAM-SHA-256 answered AuthenticationFailed)" \
        "{\"$A\": [\"$ip\", \"password guesser (outside)\"], \"$REDIS_SRV\": [\"$REDIS_IP\", \"Redis, requirepass\"], \"$MONGO_SRV\": [\"$MONGO_IP\", \"MongoDB test server, SCRAM-SHA-256\"]}" \
        "$A/32:$ip/32,$REDIS_SRV/32:$REDIS_IP/32,$MONGO_SRV/32:$MONGO_IP/32" \
        "[{\"alert\": \"password guessing\", \"meaning\": \"20 refused AUTH (WRONGPASS) from one client to Redis within 10 minutes: one alert for the pair, 20 refused logins as its evidence (the 5 after it are suppressed, short of doubling)\"},
          {\"alert\": \"password guessing\", \"meaning\": \"20 refused SCRAM logins (saslContinue answered code 18) from the same client to MongoDB: one alert for that pair, 20 refused logins\"}]"
}

sc_auth_app_login() {
    redis_up
    mongo_up "$CLUSTER_KEY_ID"
    begin auth_app_login "tcp port 6379 or tcp port 27017"
    local ip=203.0.113.63 out got
    out=$(printf 'SET session:42 alice\nGET session:42\nINCR visits\nEXPIRE session:42 600\nGET session:42\n' \
        | in_ns "${CLI[@]}" -a "$REDIS_PASSWORD")
    [ "$(printf '%s\n' "$out" | head -1)" = OK ] || die "redis app: $out"
    step redis_app "$ip" redis-cli "{\"replies\": $(printf '%s\n' "$out" | "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')}" \
        redis-cli -a "<password>" "(SET, GET, INCR, EXPIRE, GET on one connection)"
    got=$(in_ns "${MONGO_STEPS[@]}" app --password s3cret --rounds 2 --pause 0.5)
    step mongo_app "$ip" python3-pymongo "$got" python3 auth_steps.py app --password "<password>" --rounds 2 --pause 0.5
    finish "an outside application logs in once to each server with the right password and does ordinary work: redis-cli -a (SET, GET, INCR, EXPIRE, GET on one connection); pymongo as alice (listCollections, two finds, an insert, twice)" \
        "{\"$A\": [\"$ip\", \"application (outside, logs in)\"], \"$REDIS_SRV\": [\"$REDIS_IP\", \"Redis, requirepass\"], \"$MONGO_SRV\": [\"$MONGO_IP\", \"MongoDB test server, SCRAM-SHA-256\"]}" \
        "$A/32:$ip/32,$REDIS_SRV/32:$REDIS_IP/32,$MONGO_SRV/32:$MONGO_IP/32" \
        "[]"
}

sc_mongo_midstream() {
    mongo_up "$CLUSTER_KEY_ID"
    begin mongo_midstream "tcp port 27017"
    local ip=203.0.113.64 got work_at
    got=$(in_ns "${MONGO_STEPS[@]}" app --password s3cret --rounds 3 --pause 2)
    work_at=$("$PY" -c 'import json,sys; print("%.6f" % (json.loads(sys.argv[1])["work_at"] - 0.5))' "$got")
    step mongo_app "$ip" python3-pymongo "$got" python3 auth_steps.py app --password "<password>" --rounds 3 --pause 2
    finish "an authenticated pymongo application session (login as alice, then 3 rounds of listCollections, two finds, an insert) cut 0.5 s before its first round, after both connections' handshakes and the login: a sensor started mid-session" \
        "{\"$A\": [\"$ip\", \"application (outside, logged in before the capture starts)\"], \"$MONGO_SRV\": [\"$MONGO_IP\", \"MongoDB test server, SCRAM-SHA-256, signed \$clusterTime\"]}" \
        "$A/32:$ip/32,$MONGO_SRV/32:$MONGO_IP/32" \
        "[]" "$work_at"
}

sc_mongo_unauth_app() {
    mongo_up
    begin mongo_unauth_app "tcp port 27017"
    local ip=203.0.113.65 got
    got=$(in_ns "${MONGO_STEPS[@]}" app --rounds 3 --pause 2)
    step mongo_app "$ip" python3-pymongo "$got" python3 auth_steps.py app --rounds 3 --pause 2
    finish "the same application session without credentials (3 rounds of listCollections, two finds, an insert on shop), captured whole: the server answers an outside client that never logged in" \
        "{\"$A\": [\"$ip\", \"application (outside, no login)\"], \"$MONGO_SRV\": [\"$MONGO_IP\", \"MongoDB test server, no access control\"]}" \
        "$A/32:$ip/32,$MONGO_SRV/32:$MONGO_IP/32" \
        "[{\"alert\": \"exposed\", \"meaning\": \"MongoDB answered a data command (listCollections, find) to an outside client on a connection seen from its start with no login\"},
          {\"alert\": \"enumeration\", \"meaning\": \"listCollections of shop from outside without authentication\"}]"
}

ALL=(auth_guessing auth_app_login mongo_midstream mongo_unauth_app)
ns_setup
cd "$WORK"
for name in "${@:-${ALL[@]}}"; do
    declare -F "sc_$name" >/dev/null || die "unknown scenario $name (known: ${ALL[*]})"
    "sc_$name"
done
