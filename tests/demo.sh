#!/bin/sh
# demo.sh - run the sensor on a bundled real capture and show what it saw.
set -eu
PCAPS=${*:-pcaps/es_curl.pcap pcaps/es_elasticdump_scroll.pcap}
OUT=tests/out/demo.jsonl
mkdir -p tests/out
echo "== ./scrapewatch -c config/scrapewatch.conf -r $PCAPS --json=$OUT"
# shellcheck disable=SC2086
./scrapewatch -c config/scrapewatch.conf -r $PCAPS --json="$OUT"
python3 - "$OUT" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
ops = [e for e in events if e["event_type"] == "op"]
flows = [e for e in events if e["event_type"] == "flow"]
stats = [e for e in events if e["event_type"] == "stats"][-1]["stats"]
print(f"\n{len(ops)} database operations in {len(flows)} flows:\n")
print(f"{'time (UTC)':<15} {'client -> server':<30} {'app':<13} {'operation':<22} {'class':<9} "
      f"{'target':<12} {'st':>3} {'docs':>6} {'total':>6}  chain / flags")
for e in ops:
    op = e["op"]
    ch = op.get("chain") or e.get("chain")
    chain = f"chain {ch['id'][:8]} page {ch['ops']}, {ch['items']} docs" if ch else ""
    flags = ",".join(f for f in op["flags"] if f != "security_off")
    peer = f"{e['src_ip']}:{e['src_port']} -> :{e['dest_port']}"
    print(f"{e['timestamp'][11:26]:<15} {peer:<30} {op['app']:<13} {op['name'][:22]:<22} "
          f"{op['class']:<9} {op['target'][:12]:<12} {op['status_code']:>3} "
          f"{op.get('items', ''):>6} {op.get('total', ''):>6}  {chain} {flags}")
open_ops = sum(1 for e in ops if e["op"]["authenticated"] == "no" and e["op"]["status"] == "ok")
sec_off = sum(1 for e in ops if "security_off" in e["op"]["flags"])
print(f"\n{open_ops} operations answered without credentials; {sec_off} from servers that say "
      f"their security features are off")
c = stats["capture"]; r = stats["reassembly"]
print(f"stats: {c['packets']} packets, {c['bytes']} bytes, {stats['flows']['created']} flows, "
      f"{r['gaps']} reassembly gaps, ops by app {stats['ops']}")
print(f"full events: {sys.argv[1]} (one JSON object per line)")
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
echo "== ./scrapewatch -c <config with output.redis.enabled, port $RPORT> -r $PCAPS"
# shellcheck disable=SC2086
./scrapewatch -c "$RTMP/demo.conf" -r $PCAPS
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
