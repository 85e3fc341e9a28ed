#!/bin/sh
# demo.sh - run the sensor on a bundled real capture and show what it saw.
set -eu
PCAP=${1:-pcaps/http_curl.pcap}
OUT=tests/out/demo.jsonl
mkdir -p tests/out
echo "== ./scrapewatch -c config/scrapewatch.conf -r $PCAP --json=$OUT"
./scrapewatch -c config/scrapewatch.conf -r "$PCAP" --json="$OUT"
python3 - "$OUT" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
ops = [e for e in events if e["event_type"] == "op"]
flows = [e for e in events if e["event_type"] == "flow"]
stats = [e for e in events if e["event_type"] == "stats"][-1]["stats"]
print(f"\n{len(ops)} operations in {len(flows)} database flows:\n")
print(f"{'time (UTC)':<16} {'client':<22} {'server':<22} {'request':<34} {'status':>6} {'resp bytes':>10}  client id")
for e in ops:
    op = e["op"]
    http = op.get("http", {})
    req = f"{http.get('method', op['name'])} {http.get('uri', op['target'])}"
    print(f"{e['timestamp'][11:26]:<16} {e['src_ip']+':'+str(e['src_port']):<22} "
          f"{e['dest_ip']+':'+str(e['dest_port']):<22} {req[:34]:<34} {op['status_code']:>6} "
          f"{op['response_bytes']:>10}  {op.get('client', '-')}"
          + ("  [" + ",".join(op["flags"]) + "]" if op["flags"] else ""))
print("\nflows:")
for e in flows:
    f = e["flow"]
    print(f"  {e['community_id']}  {e['src_ip']}:{e['src_port']} -> {e['dest_ip']}:{e['dest_port']}"
          f"  {f['pkts_toserver']}/{f['pkts_toclient']} pkts  {f['ops']} ops  ended by {f['reason']}")
c = stats["capture"]; r = stats["reassembly"]
print(f"\nstats: {c['packets']} packets, {c['bytes']} bytes, {stats['flows']['created']} flows, "
      f"{r['gaps']} reassembly gaps, {stats['ops']['http']} HTTP ops")
print(f"\nfull events: {sys.argv[1]} (one JSON object per line)")
PY

# --- Redis: the same capture into a redis-server of our own, read back ---
if ! command -v redis-server > /dev/null; then
    echo "(redis-server not installed: the Redis part of the demo is skipped)"
    exit 0
fi
RTMP=$(mktemp -d)
RPID=""
redis_cleanup() {
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
    rm -rf "$RTMP"
}
trap redis_cleanup EXIT INT TERM
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --dir "$RTMP" \
    --logfile "$RTMP/redis.log" > /dev/null 2>&1 &
RPID=$!
i=0
until redis-cli -p "$RPORT" ping > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "redis-server did not start"; exit 1; }
    sleep 0.05
done
# the shipped configuration with the output group changed
sed '/^output = {/,$d' config/scrapewatch.conf > "$RTMP/demo.conf"
echo "output = { redis = { enabled = true; port = $RPORT; }; };" >> "$RTMP/demo.conf"
R="redis-cli -p $RPORT"
echo
echo "== redis-server started on 127.0.0.1:$RPORT; an analyst's consumer group first:"
echo "\$ XGROUP CREATE scrapewatch:events soc \$ MKSTREAM"
$R XGROUP CREATE scrapewatch:events soc '$' MKSTREAM
echo "== ./scrapewatch -c <config with output.redis.enabled, port $RPORT> -r $PCAP"
./scrapewatch -c "$RTMP/demo.conf" -r "$PCAP"
echo "\$ XLEN scrapewatch:events"
$R XLEN scrapewatch:events
echo "\$ XREADGROUP GROUP soc analyst1 COUNT 3 STREAMS scrapewatch:events >   (json field cut here)"
$R --raw XREADGROUP GROUP soc analyst1 COUNT 3 STREAMS scrapewatch:events '>' \
    | awk 'prev == "json" { print "  json " substr($0, 1, 90) "..."; prev = ""; next }
           { prev = $0 } $0 != "json" { print "  " $0 }'
echo "\$ XACK scrapewatch:events soc <those ids>"
IDS=$($R --raw XRANGE scrapewatch:events - + COUNT 3 | grep -E '^[0-9]+-[0-9]+$' | tr '\n' ' ')
# shellcheck disable=SC2086
$R XACK scrapewatch:events soc $IDS
echo "\$ KEYS scrapewatch:counts:*   then HGETALL of the first (per-minute counters, event time)"
KEY=$($R --raw KEYS 'scrapewatch:counts:*' | sort | head -1)
echo "  $KEY"
$R --raw HGETALL "$KEY" | paste - - | sed 's/^/  /'
echo "\$ HMGET scrapewatch:health:scrapewatch last_update capture.packets flows.created last_event_id"
$R --raw HMGET scrapewatch:health:scrapewatch last_update capture.packets flows.created last_event_id \
    | sed 's/^/  /'
echo "(alerts, once rules exist, are also PUBLISHed on scrapewatch:alerts: SUBSCRIBE scrapewatch:alerts)"
